//! A delivery log record as an item: short attribute names, nothing stored twice (the tenant
//! and endpoint are in the pk, the delivery id and record number in the sk, the event id in the
//! delivery id, the attempt number and URL in the state), and cut to fit one write unit, so a
//! record costs 1 WRU however long the receiver's answer was.

use crate::domain::attempt::Outcome;
use crate::domain::ids::parse_delivery_id;
use crate::domain::log::LogRecord;
use crate::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use crate::ports::store::StoreError;

use super::item::{Item, n, s};
use super::keys;

/// The size a record item is cut to (DynamoDB bills writes per started 1,024 bytes; the
/// margin covers the estimate of number sizes).
pub const RECORD_MAX_BYTES: usize = 1_000;

/// The item of `record`.
pub fn record_item(record: &LogRecord) -> Item {
    let d = &record.state;
    let key = keys::log_record(&d.tenant_id, d.endpoint_id.as_deref(), &d.id, d.seq);
    let mut item = key.item();
    item.insert("et".into(), s(&d.event_type));
    item.insert("u".into(), s(&d.url));
    item.insert("st".into(), s(d.status.as_str()));
    item.insert("n".into(), n(d.attempt_count));
    item.insert("c".into(), n(d.created_at));
    item.insert("t".into(), n(d.updated_at));
    let mut put = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            item.insert(name.into(), s(v));
        }
    };
    put("le", d.last_error.clone());
    if d.retry_base > 0 {
        item.insert("rb".into(), n(d.retry_base));
    }
    if let Some(at) = d.next_attempt_at {
        item.insert("na".into(), n(at));
    }
    if let Some(at) = d.restarted_at {
        item.insert("ra".into(), n(at));
    }
    if let Some(a) = &record.attempt {
        item.insert("ai".into(), s(&a.id));
        item.insert("as".into(), n(a.started_at));
        item.insert("ad".into(), n(a.duration_ms));
        item.insert("ao".into(), s(outcome_name(a.outcome)));
        if let Some(code) = a.status_code {
            item.insert("ac".into(), n(code));
        }
        if let Some(e) = &a.error {
            item.insert("ae".into(), s(e));
        }
        if let Some(x) = &a.response_excerpt {
            item.insert("ax".into(), s(x));
        }
        if a.manual {
            item.insert(
                "am".into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            );
        }
    }
    fit(&mut item);
    item
}

/// Cuts the response excerpt, then the attempt's error text, until the item fits
/// [`RECORD_MAX_BYTES`]. The delivery's `last_error` is never cut: jobs and resumed intakes
/// select deliveries by it (a record with a very long URL then costs a second write unit).
fn fit(item: &mut Item) {
    for name in ["ax", "ae"] {
        let size = item_size(item);
        if size <= RECORD_MAX_BYTES {
            return;
        }
        if let Some(aws_sdk_dynamodb::types::AttributeValue::S(text)) = item.get_mut(name) {
            let keep = text.len().saturating_sub(size - RECORD_MAX_BYTES);
            let mut end = keep;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
    }
}

/// An upper bound of an item's billed size: attribute names plus values (a number counted
/// as its decimal text, which is at least its stored size).
pub fn item_size(item: &Item) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    item.iter()
        .map(|(name, v)| {
            name.len()
                + match v {
                    V::S(t) | V::N(t) => t.len(),
                    V::Bool(_) | V::Null(_) => 1,
                    V::B(b) => b.as_ref().len(),
                    _ => 64,
                }
        })
        .sum()
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Delivered => "delivered",
        Outcome::HttpError => "http_error",
        Outcome::Timeout => "timeout",
        Outcome::NetworkError => "network_error",
        Outcome::Blocked => "blocked",
    }
}

fn parse_outcome(name: &str) -> Option<Outcome> {
    [
        Outcome::Delivered,
        Outcome::HttpError,
        Outcome::Timeout,
        Outcome::NetworkError,
        Outcome::Blocked,
    ]
    .into_iter()
    .find(|o| outcome_name(*o) == name)
}

/// A record item read back.
pub fn from_record_item(item: &Item) -> Result<LogRecord, StoreError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let num = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("log record: {what}"));
    let pk = text("pk").ok_or_else(|| corrupt("pk"))?;
    let sk = text("sk").ok_or_else(|| corrupt("sk"))?;
    let mut parts = pk.splitn(4, '#');
    let (Some("DLV"), Some(tenant), Some(endpoint)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(corrupt("pk"));
    };
    let (delivery_id, seq) = keys::parse_log_sk(&sk).ok_or_else(|| corrupt("sk"))?;
    let (event_id, _) = parse_delivery_id(delivery_id).ok_or_else(|| corrupt("delivery id"))?;
    let count = |name: &str| num(name).and_then(|v| u32::try_from(v).ok());
    let state = DeliveryRecord {
        id: delivery_id.to_owned(),
        tenant_id: tenant.to_owned(),
        event_id,
        event_type: text("et").ok_or_else(|| corrupt("et"))?,
        endpoint_id: (endpoint != keys::NO_ENDPOINT).then(|| endpoint.to_owned()),
        url: text("u").unwrap_or_default(),
        status: text("st")
            .and_then(|st| DeliveryStatus::parse(&st))
            .ok_or_else(|| corrupt("st"))?,
        attempt_count: count("n").ok_or_else(|| corrupt("n"))?,
        retry_base: count("rb").unwrap_or(0),
        next_attempt_at: num("na"),
        last_error: text("le"),
        seq,
        restarted_at: num("ra"),
        created_at: num("c").ok_or_else(|| corrupt("c"))?,
        updated_at: num("t").ok_or_else(|| corrupt("t"))?,
    };
    let attempt = match text("ai") {
        None => None,
        Some(id) => Some(AttemptRecord {
            id,
            delivery_id: state.id.clone(),
            number: state.attempt_count,
            url: state.url.clone(),
            started_at: num("as").ok_or_else(|| corrupt("as"))?,
            duration_ms: num("ad").and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
            status_code: num("ac").and_then(|v| u16::try_from(v).ok()),
            outcome: text("ao")
                .and_then(|o| parse_outcome(&o))
                .ok_or_else(|| corrupt("ao"))?,
            error: text("ae"),
            response_excerpt: text("ax"),
            manual: item
                .get("am")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }),
    };
    Ok(LogRecord { state, attempt })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::ids::{IdKind, delivery_id};

    fn record(excerpt: usize) -> LogRecord {
        let evt = IdKind::Event.generate();
        let id = delivery_id(&evt, 4).unwrap();
        let state = DeliveryRecord {
            id: id.clone(),
            tenant_id: "acme".into(),
            event_id: evt,
            event_type: "job.completed".into(),
            endpoint_id: Some("ep_01JABCDEFGHJKMNPQRSTVWXYZ0".into()),
            url: "https://hooks.example.com/webhooks/incoming".into(),
            status: DeliveryStatus::Pending,
            attempt_count: 3,
            retry_base: 1,
            next_attempt_at: Some(1_800_000_000_000),
            last_error: Some("receiver answered HTTP 503".into()),
            seq: 4,
            restarted_at: None,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_100_000,
        };
        let attempt = AttemptRecord {
            id: IdKind::Attempt.generate(),
            delivery_id: id,
            number: 3,
            url: state.url.clone(),
            started_at: 1_700_000_099_000,
            duration_ms: 1_000,
            status_code: Some(503),
            outcome: Outcome::HttpError,
            error: Some("receiver answered HTTP 503".into()),
            response_excerpt: Some("é".repeat(excerpt)),
            manual: true,
        };
        LogRecord {
            state,
            attempt: Some(attempt),
        }
    }

    #[test]
    fn a_record_round_trips() {
        let r = record(20);
        assert_eq!(from_record_item(&record_item(&r)).unwrap(), r);
        let one_off = LogRecord {
            state: DeliveryRecord {
                endpoint_id: None,
                ..r.state.clone()
            },
            attempt: None,
        };
        let item = record_item(&one_off);
        assert!(item.get("pk").unwrap().as_s().unwrap().contains("#-#"));
        assert_eq!(from_record_item(&item).unwrap(), one_off);
    }

    #[test]
    fn a_long_answer_is_cut_so_the_record_is_one_write_unit() {
        let r = record(1_000); // 2,000 bytes of excerpt
        let item = record_item(&r);
        assert!(item_size(&item) <= RECORD_MAX_BYTES, "{}", item_size(&item));
        let back = from_record_item(&item).unwrap();
        let excerpt = back.attempt.unwrap().response_excerpt.unwrap();
        assert!(
            excerpt.len() > 300,
            "as much as fits is kept: {}",
            excerpt.len()
        );
        assert!(
            r.attempt
                .unwrap()
                .response_excerpt
                .unwrap()
                .starts_with(&excerpt)
        );
    }
}
