//! The reconciler's decision, pure: what to do with a pending delivery the stale index named.
//! A pending delivery carries a *reconcile mark* (the sort key of the sparse reconcile index):
//! when it was last known to have a message behind it. The mark is set when the delivery is
//! written pending and is not touched by attempts, so it costs no write per attempt; the
//! reconciler moves it when it finds the delivery healthy but waiting (so it is not read again
//! before it is due) or when it re-enqueues it.

use crate::domain::clock::EpochMillis;
use crate::domain::model::{DeliveryRecord, DeliveryStatus};

/// What the reconciler does with one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not pending any more, or a worker holds a live lease: nothing to do.
    Leave,
    /// Pending and waiting for a due time not yet stale: move the mark there, so the delivery
    /// is not read again before then.
    MoveMark(EpochMillis),
    /// Due for longer than the stale age with no live lease: its message is presumed lost.
    /// Move the mark to now (only one concurrent reconciler wins that write), then enqueue.
    Requeue,
}

/// Judges `d`, whose mark is `mark`, at `now`, where a delivery due for more than `stale_after`
/// ms is presumed to have lost its message.
pub fn judge(
    d: &DeliveryRecord,
    mark: EpochMillis,
    now: EpochMillis,
    stale_after: EpochMillis,
) -> Verdict {
    if d.status != DeliveryStatus::Pending || d.lease_until.is_some_and(|l| l >= now) {
        return Verdict::Leave;
    }
    let due = d.next_attempt_at.unwrap_or(d.updated_at);
    if due <= now - stale_after {
        Verdict::Requeue
    } else if due > mark {
        Verdict::MoveMark(due)
    } else {
        Verdict::Leave
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fanout::new_delivery;
    use crate::domain::model::EventRecord;

    const MIN: i64 = 60_000;

    fn pending(updated_at: EpochMillis, next: Option<EpochMillis>) -> DeliveryRecord {
        let event = EventRecord {
            id: "evt_1".into(),
            tenant_id: "t".into(),
            event_type: "a.b".into(),
            payload: "{}".into(),
            metadata: None,
            idempotency_key: None,
            created_at: 1,
        };
        DeliveryRecord {
            updated_at,
            next_attempt_at: next,
            ..new_delivery(&event, Some("ep".into()), "https://x".into(), 1)
        }
    }

    #[test]
    fn verdicts() {
        let now = 1_000 * MIN;
        let stale = 15 * MIN;
        // Written 20 min ago, never attempted, no lease: its message is lost.
        let lost = pending(now - 20 * MIN, None);
        assert_eq!(judge(&lost, now - 20 * MIN, now, stale), Verdict::Requeue);
        // Retry due 20 min ago: lost too.
        let late = pending(now - 60 * MIN, Some(now - 20 * MIN));
        assert_eq!(judge(&late, now - 60 * MIN, now, stale), Verdict::Requeue);
        // A live lease: a worker is on it.
        let leased = DeliveryRecord {
            lease_until: Some(now + 1),
            ..lost.clone()
        };
        assert_eq!(judge(&leased, now - 20 * MIN, now, stale), Verdict::Leave);
        // An expired lease does not protect it.
        let expired = DeliveryRecord {
            lease_until: Some(now - 1),
            ..lost.clone()
        };
        assert_eq!(
            judge(&expired, now - 20 * MIN, now, stale),
            Verdict::Requeue
        );
        // Waiting for a retry in 2 h: move the mark there.
        let waiting = pending(now - 60 * MIN, Some(now + 120 * MIN));
        assert_eq!(
            judge(&waiting, now - 60 * MIN, now, stale),
            Verdict::MoveMark(now + 120 * MIN)
        );
        // Due 5 min ago, mark already there: not stale yet, nothing to write.
        let recent = pending(now - 5 * MIN, None);
        assert_eq!(judge(&recent, now - 5 * MIN, now, stale), Verdict::Leave);
        for status in [DeliveryStatus::Delivered, DeliveryStatus::Failed] {
            let done = DeliveryRecord {
                status,
                ..lost.clone()
            };
            assert_eq!(judge(&done, 0, now, stale), Verdict::Leave);
        }
    }
}
