//! A delivery's log, pure: each attempt, restart or failure is one record holding the
//! delivery's state after it, so the latest record is the delivery and one write moves it on.
//! The functions here say what that state is; both stores use them.

use crate::domain::clock::EpochMillis;
use crate::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};

/// The state a delivery moves to after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<EpochMillis>,
    pub last_error: Option<String>,
}

/// One record of a delivery's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The delivery as it stands after this record; `state.seq` is the record's number.
    pub state: DeliveryRecord,
    /// The attempt this record is, if it is one.
    pub attempt: Option<AttemptRecord>,
}

/// The record of `attempt` made on `before`, moving it as `update` says. A manual attempt
/// takes no place in the schedule (the schedule's base moves with it).
pub fn after_attempt(
    before: &DeliveryRecord,
    attempt: &AttemptRecord,
    update: &DeliveryUpdate,
) -> LogRecord {
    let ended = attempt.started_at + i64::try_from(attempt.duration_ms).unwrap_or(0);
    let state = DeliveryRecord {
        url: attempt.url.clone(),
        status: update.status,
        attempt_count: attempt.number,
        retry_base: before.retry_base + u32::from(attempt.manual),
        next_attempt_at: update.next_attempt_at,
        last_error: update.last_error.clone(),
        seq: before.seq + 1,
        restarted_at: None,
        updated_at: ended,
        ..before.clone()
    };
    LogRecord {
        state,
        attempt: Some(attempt.clone()),
    }
}

/// The record restarting failed `before` at `now`: pending, its schedule from the start.
pub fn after_restart(before: &DeliveryRecord, now: EpochMillis) -> Option<LogRecord> {
    (before.status == DeliveryStatus::Failed).then(|| LogRecord {
        state: DeliveryRecord {
            status: DeliveryStatus::Pending,
            retry_base: before.attempt_count,
            next_attempt_at: None,
            last_error: None,
            seq: before.seq + 1,
            restarted_at: Some(now),
            updated_at: now,
            ..before.clone()
        },
        attempt: None,
    })
}

/// The record ending pending `before` at `now` without an attempt, for `reason`.
pub fn after_failure(before: &DeliveryRecord, reason: &str, now: EpochMillis) -> Option<LogRecord> {
    (before.status == DeliveryStatus::Pending).then(|| LogRecord {
        state: DeliveryRecord {
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
            last_error: Some(reason.to_owned()),
            seq: before.seq + 1,
            restarted_at: None,
            updated_at: now,
            ..before.clone()
        },
        attempt: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::attempt::Outcome;

    fn pending() -> DeliveryRecord {
        DeliveryRecord {
            id: "dlv_1".into(),
            tenant_id: "t".into(),
            event_id: "evt_1".into(),
            event_type: "a.b".into(),
            endpoint_id: Some("ep_1".into()),
            url: String::new(),
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            retry_base: 0,
            next_attempt_at: None,
            last_error: None,
            seq: 0,
            restarted_at: None,
            created_at: 10,
            updated_at: 10,
        }
    }

    fn attempt(number: u32, manual: bool) -> AttemptRecord {
        AttemptRecord {
            id: format!("att_{number}"),
            delivery_id: "dlv_1".into(),
            number,
            url: "https://r.example/".into(),
            started_at: 100,
            duration_ms: 7,
            status_code: Some(500),
            outcome: Outcome::HttpError,
            error: None,
            response_excerpt: None,
            manual,
        }
    }

    #[test]
    fn an_attempt_record_numbers_itself_and_moves_the_state() {
        let update = DeliveryUpdate {
            status: DeliveryStatus::Pending,
            next_attempt_at: Some(5_000),
            last_error: Some("HTTP 500".into()),
        };
        let r = after_attempt(&pending(), &attempt(1, false), &update);
        assert_eq!(r.state.seq, 1);
        assert_eq!(r.state.attempt_count, 1);
        assert_eq!(r.state.retry_base, 0);
        assert_eq!(r.state.url, "https://r.example/");
        assert_eq!(r.state.next_attempt_at, Some(5_000));
        assert_eq!(r.state.updated_at, 107);
        assert_eq!(r.state.created_at, 10);
        let m = after_attempt(&r.state, &attempt(2, true), &update);
        assert_eq!(
            (m.state.seq, m.state.attempt_count, m.state.retry_base),
            (2, 2, 1)
        );
    }

    #[test]
    fn restart_only_failed_and_fail_only_pending() {
        let p = pending();
        assert!(after_restart(&p, 50).is_none());
        let failed = after_failure(&p, "gone", 20).unwrap().state;
        assert_eq!((failed.status, failed.seq), (DeliveryStatus::Failed, 1));
        assert_eq!(failed.last_error.as_deref(), Some("gone"));
        assert!(after_failure(&failed, "again", 30).is_none());
        let again = after_restart(&failed, 50).unwrap().state;
        assert_eq!(again.status, DeliveryStatus::Pending);
        assert_eq!(
            (again.seq, again.restarted_at, again.last_error),
            (2, Some(50), None)
        );
    }
}
