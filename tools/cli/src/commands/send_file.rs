//! `send --file`: many events through the batch route, 100 (and at most ~1.5 MiB) per request,
//! with a progress bar and a summary; Ctrl-C stops after the batch in flight.

use serde::Serialize;
use serde_json::Value;

use super::{Ctx, read_path};
use crate::args::SendArgs;
use crate::exit::{CliError, CliResult};
use crate::model::BatchResult;
use crate::output::{pairs, table, warn};
use crate::progress::{Interrupt, bar};

/// The batch route takes at most 100 events and a 2 MiB body.
pub const MAX_BATCH_EVENTS: usize = 100;
pub const MAX_BATCH_BYTES: usize = 1_536 * 1024;

/// The events of a file: a JSON array, or JSON lines (blank lines skipped). Each must be an
/// object with a string `event_type` and a `payload`; errors name the line or index.
pub fn parse_events(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let events: Vec<(String, Value)> = if trimmed.starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(trimmed)
            .map_err(|e| format!("not a JSON array of events: {e}"))?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("item {}", i + 1), v))
            .collect()
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            out.push((format!("line {}", i + 1), v));
        }
        out
    };
    if events.is_empty() {
        return Err("no events in the file".into());
    }
    events
        .into_iter()
        .map(|(place, v)| {
            let ok =
                v.get("event_type").is_some_and(Value::is_string) && v.get("payload").is_some();
            if ok {
                Ok(v)
            } else {
                Err(format!(
                    "{place}: an event needs a string `event_type` and a `payload`"
                ))
            }
        })
        .collect()
}

/// Splits events into batches of at most `max_events` and about `max_bytes` of JSON each
/// (an event larger than `max_bytes` goes alone; the API judges it).
pub fn batches(
    events: &[Value],
    max_events: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, e) in events.iter().enumerate() {
        let size = e.to_string().len() + 1;
        if i > start && (i - start >= max_events || bytes + size > max_bytes) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        out.push(start..events.len());
    }
    out
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub sent: usize,
    pub accepted: usize,
    pub repeated: usize,
    pub refused: usize,
    pub unavailable: usize,
    pub interrupted: bool,
    pub errors: Vec<Value>,
}

impl Summary {
    fn add(&mut self, first: usize, results: &[BatchResult]) {
        for (i, r) in results.iter().enumerate() {
            match r.status {
                202 => self.accepted += 1,
                200 => self.repeated += 1,
                s => {
                    if s >= 500 {
                        self.unavailable += 1
                    } else {
                        self.refused += 1
                    }
                    self.errors.push(
                        serde_json::json!({"index": first + i, "status": s, "error": r.error}),
                    );
                }
            }
        }
        self.sent += results.len();
    }
}

pub async fn run(ctx: &Ctx, args: SendArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let path = args
        .file
        .ok_or_else(|| CliError::usage("--file is required"))?;
    let text = String::from_utf8(read_path(&path)?)
        .map_err(|_| CliError::usage("the file is not UTF-8"))?;
    let events =
        parse_events(&text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let interrupt = Interrupt::listen();
    let progress = bar(events.len() as u64, "sending events");
    let mut summary = Summary {
        total: events.len(),
        ..Summary::default()
    };
    for range in batches(&events, MAX_BATCH_EVENTS, MAX_BATCH_BYTES) {
        if interrupt.fired() {
            summary.interrupted = true;
            break;
        }
        let first = range.start;
        let result = api.send_batch(&tenant, &events[range]).await;
        match result {
            Ok(r) => summary.add(first, &r.results),
            Err(e) => {
                progress.abandon();
                report(ctx, &summary)?;
                return Err(CliError::failed(format!(
                    "stopped at event {first} (index from 0): {e}"
                )));
            }
        }
        progress.set_position(summary.sent as u64);
    }
    crate::progress::finish(&progress);
    report(ctx, &summary)?;
    if summary.interrupted {
        return Err(CliError::Interrupted(format!(
            "interrupted: {} of {} events sent; the rest were not sent",
            summary.sent, summary.total
        )));
    }
    if summary.refused + summary.unavailable > 0 {
        return Err(CliError::failed(format!(
            "{} of {} events were not accepted (503s can be sent again with their ids)",
            summary.refused + summary.unavailable,
            summary.total
        )));
    }
    Ok(())
}

fn report(ctx: &Ctx, s: &Summary) -> CliResult {
    ctx.out.show(s, |s| {
        let head = pairs(vec![
            ("events", s.total.to_string()),
            ("sent", s.sent.to_string()),
            ("accepted (202)", s.accepted.to_string()),
            ("repeated id (200)", s.repeated.to_string()),
            ("refused (4xx)", s.refused.to_string()),
            ("not queued (5xx)", s.unavailable.to_string()),
        ]);
        if s.errors.is_empty() {
            return head;
        }
        if s.errors.len() > 20 {
            warn(&format!(
                "{} errors; the first 20 are shown (all with --output json)",
                s.errors.len()
            ));
        }
        let rows = s
            .errors
            .iter()
            .take(20)
            .map(|e| {
                let err = &e["error"];
                vec![
                    e["index"].to_string(),
                    e["status"].to_string(),
                    crate::output::field_of(err, "code"),
                    crate::output::field_of(err, "message"),
                    crate::output::field_of(err, "field"),
                ]
            })
            .collect();
        format!(
            "{head}\n{}",
            table(&["index", "status", "code", "message", "field"], rows)
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_lines_and_arrays_parse_with_places_in_errors() {
        let lines = "{\"event_type\":\"a.b\",\"payload\":{}}\n\n{\"event_type\":\"c\",\"payload\":{\"x\":1},\"id\":\"k\"}\n";
        assert_eq!(parse_events(lines).unwrap().len(), 2);
        let array = "  [{\"event_type\":\"a\",\"payload\":{}}]";
        assert_eq!(parse_events(array).unwrap().len(), 1);
        assert_eq!(
            parse_events("{\"event_type\":\"a\",\"payload\":{}}\nnope")
                .unwrap_err()
                .split(':')
                .next(),
            Some("line 2")
        );
        assert!(
            parse_events("[{\"payload\":{}}]")
                .unwrap_err()
                .starts_with("item 1")
        );
        assert!(parse_events("\n").is_err());
    }

    #[test]
    fn batches_hold_at_most_100_events_and_the_byte_budget() {
        let events: Vec<Value> = (0..250)
            .map(|i| serde_json::json!({"event_type": "a", "payload": {"i": i}}))
            .collect();
        let b = batches(&events, 100, usize::MAX);
        assert_eq!(b, vec![0..100, 100..200, 200..250]);
        let size = events[0].to_string().len() + 1;
        let b = batches(&events[..10], 100, size * 3);
        assert_eq!(
            b.iter().map(|r| r.len()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
        let big = vec![serde_json::json!({"event_type": "a", "payload": "x".repeat(100)})];
        assert_eq!(batches(&big, 100, 10), vec![0..1]);
    }

    #[test]
    fn the_summary_counts_each_status() {
        let results: Vec<BatchResult> = serde_json::from_value(serde_json::json!([
            {"status": 202, "event": {"id": "evt_1", "event_type": "a", "deliveries": []}},
            {"status": 200, "event": {"id": "evt_1", "event_type": "a", "deliveries": []}},
            {"status": 422, "error": {"code": "invalid_field", "message": "bad", "field": "event_type"}},
            {"status": 503, "error": {"code": "unavailable", "message": "later"}}
        ])).unwrap();
        let mut s = Summary::default();
        s.add(100, &results);
        assert_eq!(
            (s.sent, s.accepted, s.repeated, s.refused, s.unavailable),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(s.errors[0]["index"], 102);
    }
}
