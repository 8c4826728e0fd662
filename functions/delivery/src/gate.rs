//! The gate: whether a received message may lead to an attempt now, from the stored delivery
//! alone. Pure. A message can arrive more than once (SQS is at-least-once, an ingest retry can
//! send a second copy, a long wait is chained over several receives): the delivery record
//! decides, never the message.

use shared::domain::clock::EpochMillis;
use shared::domain::model::{DeliveryMessage, DeliveryRecord, DeliveryStatus};

use crate::schedule;

/// What the gate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The delivery is final (a duplicate or late copy): acknowledge without an attempt.
    Final,
    /// Not due yet (a scheduled retry, or a wait chained past SQS's 12 h): hide this long.
    NotYetDue(u32),
    /// Attempt now.
    Go,
}

/// Looks at the delivery as stored at `now`. A manual message (one attempt outside the
/// schedule) passes whatever the status and the schedule say.
pub fn gate(delivery: &DeliveryRecord, message: &DeliveryMessage, now: EpochMillis) -> Gate {
    let manual = message.manual;
    if delivery.status != DeliveryStatus::Pending && !manual {
        return Gate::Final;
    }
    if let Some(wait) = delivery
        .next_attempt_at
        .filter(|_| !manual)
        .and_then(|due| schedule::not_yet_due(due, now))
    {
        return Gate::NotYetDue(wait);
    }
    Gate::Go
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::value::RawValue;
    use shared::domain::fanout::new_delivery;
    use shared::domain::model::EventRecord;

    use super::*;

    const NOW: EpochMillis = 1_800_000_000_000;

    fn delivery(f: impl FnOnce(&mut DeliveryRecord)) -> DeliveryRecord {
        let event = EventRecord {
            id: shared::domain::ids::IdKind::Event.generate(),
            tenant_id: "acme".into(),
            event_type: "a.b".into(),
            payload: "{}".into(),
            metadata: None,
            idempotency_key: None,
            created_at: 0,
            endpoint_ids: vec![],
            webhook_url: Some("https://example.com/".into()),
        };
        let mut d = new_delivery(&event, 0, None, "https://example.com/".into(), 0);
        f(&mut d);
        d
    }

    fn message(manual: bool) -> DeliveryMessage {
        DeliveryMessage {
            v: DeliveryMessage::VERSION,
            tenant_id: "acme".into(),
            delivery_id: "dlv_1".into(),
            event_id: "evt_1".into(),
            event_type: "a.b".into(),
            payload: RawValue::from_string("{}".into()).unwrap(),
            manual,
            endpoint_id: None,
            url: Some("https://example.com/".into()),
            initial: false,
        }
    }

    #[test]
    fn table() {
        use DeliveryStatus::{Delivered, Failed};
        let hours = |h: i64| h * 3_600_000;
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Box<dyn Fn(&mut DeliveryRecord)>, bool, Gate)> = vec![
            ("fresh", Box::new(|_| {}), false, Gate::Go),
            (
                "delivered",
                Box::new(|d| d.status = Delivered),
                false,
                Gate::Final,
            ),
            (
                "failed",
                Box::new(|d| d.status = Failed),
                false,
                Gate::Final,
            ),
            (
                "manual on failed",
                Box::new(|d| d.status = Failed),
                true,
                Gate::Go,
            ),
            (
                "manual on delivered",
                Box::new(|d| d.status = Delivered),
                true,
                Gate::Go,
            ),
            (
                "due in 10 s",
                Box::new(|d| d.next_attempt_at = Some(NOW + 10_000)),
                false,
                Gate::NotYetDue(10),
            ),
            (
                "due in 20 h: hidden for all of it (the queue caps, the gate chains)",
                Box::new(|d| d.next_attempt_at = Some(NOW + hours(20))),
                false,
                Gate::NotYetDue(72_000),
            ),
            (
                "due within the tolerance",
                Box::new(|d| d.next_attempt_at = Some(NOW + 400)),
                false,
                Gate::Go,
            ),
            (
                "overdue",
                Box::new(|d| d.next_attempt_at = Some(NOW - 1)),
                false,
                Gate::Go,
            ),
            (
                "manual ignores the schedule",
                Box::new(|d| d.next_attempt_at = Some(NOW + hours(1))),
                true,
                Gate::Go,
            ),
        ];
        for (name, edit, manual, expected) in cases {
            assert_eq!(
                gate(&delivery(edit), &message(manual), NOW),
                expected,
                "{name}"
            );
        }
    }
}
