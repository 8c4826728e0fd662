//! Source records through the same intake as the batch route: each record mapped to its
//! tenant's event, each tenant's events submitted together (same validation, limits,
//! idempotency), and each record given its fate. A record that can never be accepted as it is
//! goes to the rejected-events queue with its reason; one that failed for a passing reason
//! (table or queue unavailable, the same `id` in progress) is retried by its source.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

use shared::domain::clock::{now_millis, rfc3339};
use shared::ports::OutgoingMessage;

use super::records::SourceRecord;
use crate::error::ApiError;
use crate::service::batch::{self, BatchOutcome, MAX_EVENTS};
use crate::state::AppState;

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// Accepted now or earlier (a redelivered record is a repeat of its idempotency key).
    Accepted,
    /// Kept in the rejected-events queue with this reason (API.md's error object).
    Rejected(serde_json::Value),
    /// To be retried by the source.
    Retry,
}

/// Whether an error is about the record itself (it will fail the same way again).
fn is_final(e: &ApiError) -> bool {
    let status = e.status().as_u16();
    (400..500).contains(&status) && status != 409 && status != 429
}

fn fate_of(result: Result<(), ApiError>) -> Fate {
    match result {
        Ok(()) => Fate::Accepted,
        Err(e) if is_final(&e) => Fate::Rejected(e.body()["error"].clone()),
        Err(e) => {
            tracing::warn!(code = e.code(), "a source record will be retried");
            Fate::Retry
        }
    }
}

/// Maps and submits every record; the fates are in the records' order (rejections not yet
/// kept: see [`keep_rejections`]).
pub async fn submit(state: &AppState, records: &[SourceRecord]) -> Vec<Fate> {
    let mut fates = vec![Fate::Retry; records.len()];
    let mut by_tenant: BTreeMap<String, Vec<(usize, Box<RawValue>)>> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        match record.map(&state.config.sources) {
            Ok(m) => by_tenant.entry(m.tenant_id).or_default().push((i, m.event)),
            Err(e) => fates[i] = fate_of(Err(e)),
        }
    }
    let strict = match state.strict().await {
        Ok(strict) => strict,
        Err(_) => return fates, // the catalog is unreadable: everything is retried
    };
    let (store, queue) = (&*state.store, &*state.queue);
    for (tenant_id, events) in by_tenant {
        for chunk in events.chunks(MAX_EVENTS) {
            let raw: Vec<Box<RawValue>> = chunk.iter().map(|(_, e)| e.clone()).collect();
            let outcomes =
                batch::submit_all(store, queue, &state.config, &strict, &tenant_id, raw).await;
            match outcomes {
                Ok(outcomes) => {
                    for ((i, _), outcome) in chunk.iter().zip(outcomes) {
                        fates[*i] = fate_of(match outcome {
                            BatchOutcome::Accepted(_) | BatchOutcome::Repeat(_) => Ok(()),
                            BatchOutcome::Failed(e) => Err(e),
                        });
                    }
                }
                Err(e) => {
                    for (i, _) in chunk {
                        fates[*i] = fate_of(Err(e.clone()));
                    }
                }
            }
        }
    }
    fates
}

/// A rejection as the rejected-events queue keeps it.
#[derive(Serialize)]
struct Kept<'a> {
    #[serde(flatten)]
    record: SourceRecord,
    reason: &'a serde_json::Value,
    rejected_at: String,
    /// The record was cut to fit a message (then it is shown, not re-submitted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

/// The most a kept rejection may take: the queue's 1 MiB message limit, with room to spare.
pub const MAX_KEPT_BYTES: usize = 1_000_000;

/// A rejection's message body: the record whole, or cut (at a character boundary) so that the
/// message fits; a too-large record is exactly the kind of rejection that must still be kept.
fn kept_body(record: &SourceRecord, reason: &serde_json::Value, now: &str) -> Option<String> {
    let body = |text: &str, truncated: bool| {
        let mut record = record.clone();
        record.text = text.to_owned();
        serde_json::to_string(&Kept {
            record,
            reason,
            rejected_at: now.to_owned(),
            truncated,
        })
        .ok()
    };
    let whole = body(&record.text, false)?;
    if whole.len() <= MAX_KEPT_BYTES {
        return Some(whole);
    }
    let mut cut = record.text.len() * MAX_KEPT_BYTES / whole.len();
    loop {
        while !record.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let candidate = body(&record.text[..cut], true)?;
        if candidate.len() <= MAX_KEPT_BYTES {
            return Some(candidate);
        }
        cut = cut * 9 / 10;
    }
}

/// Puts the rejected records in the rejected-events queue. Those that could not be kept (no
/// queue configured, or it is unavailable) become retries: nothing is dropped.
pub async fn keep_rejections(state: &AppState, records: &[SourceRecord], fates: &mut [Fate]) {
    let rejected: Vec<usize> = (0..records.len())
        .filter(|i| matches!(fates[*i], Fate::Rejected(_)))
        .collect();
    if rejected.is_empty() {
        return;
    }
    let now = rfc3339(now_millis());
    let messages: Vec<OutgoingMessage> = rejected
        .iter()
        .filter_map(|&i| {
            let Fate::Rejected(reason) = &fates[i] else {
                return None;
            };
            kept_body(&records[i], reason, &now).map(|body| OutgoingMessage {
                id: i.to_string(),
                body,
            })
        })
        .collect();
    let kept = match &state.rejections {
        Some(queue) => queue.reject(&messages).await.map_err(|e| e.to_string()),
        None => Err("no rejected-events queue is configured (REJECTED_QUEUE_URL)".to_owned()),
    };
    match kept {
        Ok(()) => {
            for &i in &rejected {
                if let Fate::Rejected(reason) = &fates[i] {
                    tracing::warn!(source = records[i].source.name(), message_id = %records[i].message_id, code = %reason["code"], field = %reason["field"], "source event rejected");
                }
            }
            metric(records[rejected[0]].source.name(), rejected.len());
        }
        Err(e) => {
            tracing::error!(error = %e, count = rejected.len(), "rejected events could not be kept; the source retries them");
            for &i in &rejected {
                fates[i] = Fate::Retry;
            }
        }
    }
}

/// One CloudWatch embedded-metric line: `Hookrelay/RejectedEvents` by function and source
/// (the template's alarm watches it).
fn metric(source: &str, count: usize) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let line = serde_json::json!({
        "_aws": {
            "Timestamp": now_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Hookrelay",
                "Dimensions": [["FunctionName"], ["FunctionName", "Source"]],
                "Metrics": [{"Name": "RejectedEvents", "Unit": "Count"}]
            }]
        },
        "FunctionName": function,
        "Source": source,
        "RejectedEvents": count,
    });
    println!("{line}");
}
