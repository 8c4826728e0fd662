//! What an attempt leads to: ONE pure function from the delivery's state and the attempt's
//! result to the decision, the record update and the queue action. The worker only carries the
//! [`Transition`] out. The waits themselves come from [`crate::schedule`].

use shared::domain::attempt::{AttemptResult, Outcome};
use shared::domain::clock::EpochMillis;
use shared::domain::model::{DeliveryRecord, DeliveryStatus};
use shared::domain::settings::{DeliverySettings, RetryOn};
use shared::ports::DeliveryUpdate;

use crate::action::Action;
use crate::schedule;

/// What the worker does after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    /// Try again after this many seconds.
    RetryAfter(u32),
    /// No more attempts: the delivery is failed.
    GiveUp(GiveUpReason),
    /// A failed manual attempt: the delivery keeps its state and schedule.
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// Every attempt of the schedule was used.
    Exhausted,
    /// The failure is one the settings do not retry (`retry_on: transient_failures`).
    NotRetryable,
    /// The destination address is not allowed; retrying cannot help.
    Blocked,
    /// 410 Gone: the receiver says the endpoint is gone for good.
    Gone,
}

impl GiveUpReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exhausted => "retry schedule exhausted",
            Self::NotRetryable => "failure not retried by the endpoint's retry_on",
            Self::Blocked => "destination address blocked",
            Self::Gone => "receiver answered 410 Gone",
        }
    }
}

/// The delivery an attempt was made for.
#[derive(Debug, Clone, Copy)]
pub struct AttemptState<'a> {
    /// The delivery as read before the claim.
    pub delivery: &'a DeliveryRecord,
    /// The attempt's number, 1-based.
    pub number: u32,
    /// A manual attempt: outside the schedule, it changes nothing of it.
    pub manual: bool,
}

/// The decision, the delivery's new state, and what becomes of the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub decision: Decision,
    pub update: DeliveryUpdate,
    pub action: Action,
}

/// What follows an attempt that ended at `now`. `jitter` is a sample in `[0, 1)`.
pub fn transition(
    state: &AttemptState<'_>,
    result: &AttemptResult,
    settings: &DeliverySettings,
    now: EpochMillis,
    jitter: f64,
) -> Transition {
    let decision = decide(state, result, settings, jitter);
    let delivery = state.delivery;
    let (update, action) = match &decision {
        Decision::Unchanged => (
            DeliveryUpdate {
                status: delivery.status,
                next_attempt_at: delivery.next_attempt_at,
                last_error: result.error.clone().or(delivery.last_error.clone()),
            },
            Action::Ack,
        ),
        Decision::Delivered => (
            DeliveryUpdate {
                status: DeliveryStatus::Delivered,
                next_attempt_at: None,
                last_error: None,
            },
            Action::Ack,
        ),
        Decision::RetryAfter(seconds) => (
            DeliveryUpdate {
                status: DeliveryStatus::Pending,
                next_attempt_at: Some(now + i64::from(*seconds) * 1000),
                last_error: result.error.clone(),
            },
            Action::Hide(*seconds),
        ),
        Decision::GiveUp(reason) => (
            DeliveryUpdate {
                status: DeliveryStatus::Failed,
                next_attempt_at: None,
                last_error: Some(match &result.error {
                    Some(e) => format!("{}: {e}", reason.as_str()),
                    None => reason.as_str().to_owned(),
                }),
            },
            Action::Ack,
        ),
    };
    Transition {
        decision,
        update,
        action,
    }
}

/// A manual attempt delivers or changes nothing. Otherwise any 2xx delivers; blocked and 410
/// are never retried, nor, under `retry_on: transient_failures`, what is not transient; the
/// rest waits the schedule's entry for this attempt (counted from `retry_base`: the schedule
/// restarts after a recovery) or gives up when the schedule is used up.
fn decide(
    state: &AttemptState<'_>,
    result: &AttemptResult,
    settings: &DeliverySettings,
    jitter: f64,
) -> Decision {
    match result.outcome {
        Outcome::Delivered => return Decision::Delivered,
        _ if state.manual => return Decision::Unchanged,
        Outcome::Blocked => return Decision::GiveUp(GiveUpReason::Blocked),
        Outcome::HttpError if result.status_code == Some(410) => {
            return Decision::GiveUp(GiveUpReason::Gone);
        }
        _ => {}
    }
    if settings.retry_on == RetryOn::TransientFailures && !result.is_transient() {
        return Decision::GiveUp(GiveUpReason::NotRetryable);
    }
    let position = state.number.saturating_sub(state.delivery.retry_base);
    let index = usize::try_from(position.saturating_sub(1)).unwrap_or(usize::MAX);
    match settings.retry_schedule_seconds.get(index) {
        Some(&base) => Decision::RetryAfter(schedule::retry_delay(base, result, jitter)),
        None => Decision::GiveUp(GiveUpReason::Exhausted),
    }
}

#[cfg(test)]
mod tests {
    use shared::domain::fanout::new_delivery;
    use shared::domain::model::EventRecord;
    use shared::domain::settings::SettingsPatch;

    use super::*;

    const NOW: EpochMillis = 1_800_000_000_000;

    fn settings(schedule: &[u32], retry_on: RetryOn) -> DeliverySettings {
        DeliverySettings::defaults().overlay(&SettingsPatch {
            retry_schedule_seconds: Some(schedule.to_vec()),
            retry_on: Some(retry_on),
            ..Default::default()
        })
    }

    fn status(code: u16) -> AttemptResult {
        AttemptResult::from_status(code, 5)
    }

    fn pending() -> DeliveryRecord {
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
        new_delivery(&event, 0, None, "https://example.com/".into(), 0)
    }

    /// The decision for scheduled attempt `number` of a fresh delivery.
    fn decide_nth(result: &AttemptResult, number: u32, s: &DeliverySettings) -> Decision {
        let d = pending();
        let state = AttemptState {
            delivery: &d,
            number,
            manual: false,
        };
        transition(&state, result, s, NOW, 0.5).decision
    }

    #[test]
    fn schedule_gives_delay_of_failed_attempt_then_gives_up() {
        let s = settings(&[1, 3], RetryOn::AllFailures);
        assert_eq!(decide_nth(&status(500), 1, &s), Decision::RetryAfter(1));
        assert_eq!(decide_nth(&status(500), 2, &s), Decision::RetryAfter(3));
        assert_eq!(
            decide_nth(&status(500), 3, &s),
            Decision::GiveUp(GiveUpReason::Exhausted)
        );
        assert_eq!(decide_nth(&status(200), 3, &s), Decision::Delivered);
        let none = settings(&[], RetryOn::AllFailures);
        assert_eq!(
            decide_nth(&status(500), 1, &none),
            Decision::GiveUp(GiveUpReason::Exhausted)
        );
    }

    #[test]
    fn transient_only_retries_transient_failures() {
        let s = settings(&[1, 1], RetryOn::TransientFailures);
        for code in [500, 502, 503, 408, 429] {
            assert!(
                matches!(decide_nth(&status(code), 1, &s), Decision::RetryAfter(_)),
                "{code}"
            );
        }
        for code in [400, 401, 404, 422, 301] {
            assert_eq!(
                decide_nth(&status(code), 1, &s),
                Decision::GiveUp(GiveUpReason::NotRetryable),
                "{code}"
            );
        }
        let timeout = AttemptResult::failed(Outcome::Timeout, "timed out", 1000);
        let refused = AttemptResult::failed(Outcome::NetworkError, "refused", 1);
        assert!(matches!(
            decide_nth(&timeout, 1, &s),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide_nth(&refused, 1, &s),
            Decision::RetryAfter(_)
        ));
        let all = settings(&[1], RetryOn::AllFailures);
        assert!(matches!(
            decide_nth(&status(404), 1, &all),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn blocked_and_gone_are_never_retried() {
        let s = settings(&[1, 1], RetryOn::AllFailures);
        let blocked = AttemptResult::failed(Outcome::Blocked, "blocked", 0);
        assert_eq!(
            decide_nth(&blocked, 1, &s),
            Decision::GiveUp(GiveUpReason::Blocked)
        );
        assert_eq!(
            decide_nth(&status(410), 1, &s),
            Decision::GiveUp(GiveUpReason::Gone)
        );
    }

    #[test]
    fn retry_after_is_clamped_to_one_or_two_delays() {
        let s = settings(&[10], RetryOn::AllFailures);
        let with = |code, secs| AttemptResult {
            retry_after_seconds: Some(secs),
            ..status(code)
        };
        assert_eq!(decide_nth(&with(429, 15), 1, &s), Decision::RetryAfter(15));
        assert_eq!(decide_nth(&with(503, 1), 1, &s), Decision::RetryAfter(10));
        assert_eq!(
            decide_nth(&with(429, 3600), 1, &s),
            Decision::RetryAfter(20)
        );
        assert_eq!(
            decide_nth(&with(500, 3600), 1, &s),
            Decision::RetryAfter(10),
            "only 429/503"
        );
    }

    /// Decision, update and action together, for each kind of state and result.
    #[test]
    fn table() {
        use DeliveryStatus::{Delivered, Failed, Pending};
        let s = settings(&[10, 72_000], RetryOn::AllFailures);
        let failed_earlier = DeliveryRecord {
            status: Failed,
            attempt_count: 3,
            last_error: Some("retry schedule exhausted".into()),
            ..pending()
        };
        let waiting = DeliveryRecord {
            attempt_count: 1,
            next_attempt_at: Some(NOW + 60_000),
            last_error: Some("receiver answered HTTP 500".into()),
            ..pending()
        };
        let recovered = DeliveryRecord {
            attempt_count: 3,
            retry_base: 3,
            ..pending()
        };
        let fresh = pending();
        let update = |status, next_attempt_at, last_error: Option<&str>| DeliveryUpdate {
            status,
            next_attempt_at,
            last_error: last_error.map(str::to_owned),
        };
        let cases = [
            (
                "2xx delivers",
                (&fresh, 1, false),
                status(204),
                Decision::Delivered,
                update(Delivered, None, None),
                Action::Ack,
            ),
            (
                "a failure waits the schedule, from the attempt's end",
                (&fresh, 1, false),
                status(500),
                Decision::RetryAfter(10),
                update(
                    Pending,
                    Some(NOW + 10_000),
                    Some("receiver answered HTTP 500"),
                ),
                Action::Hide(10),
            ),
            (
                "a wait past 12 h is asked for whole (the queue caps, the gate chains)",
                (&waiting, 2, false),
                status(500),
                Decision::RetryAfter(72_000),
                update(
                    Pending,
                    Some(NOW + 72_000_000),
                    Some("receiver answered HTTP 500"),
                ),
                Action::Hide(72_000),
            ),
            (
                "the schedule used up fails the delivery with the reason",
                (&waiting, 3, false),
                status(500),
                Decision::GiveUp(GiveUpReason::Exhausted),
                update(
                    Failed,
                    None,
                    Some("retry schedule exhausted: receiver answered HTTP 500"),
                ),
                Action::Ack,
            ),
            (
                "410 fails at once",
                (&fresh, 1, false),
                status(410),
                Decision::GiveUp(GiveUpReason::Gone),
                update(
                    Failed,
                    None,
                    Some("receiver answered 410 Gone: receiver answered HTTP 410"),
                ),
                Action::Ack,
            ),
            (
                "blocked fails at once",
                (&fresh, 1, false),
                AttemptResult::failed(Outcome::Blocked, "no public address", 0),
                Decision::GiveUp(GiveUpReason::Blocked),
                update(
                    Failed,
                    None,
                    Some("destination address blocked: no public address"),
                ),
                Action::Ack,
            ),
            (
                "after a recovery the schedule counts from retry_base",
                (&recovered, 4, false),
                status(500),
                Decision::RetryAfter(10),
                update(
                    Pending,
                    Some(NOW + 10_000),
                    Some("receiver answered HTTP 500"),
                ),
                Action::Hide(10),
            ),
            (
                "a failed manual attempt leaves a failed delivery as it was",
                (&failed_earlier, 4, true),
                status(500),
                Decision::Unchanged,
                update(Failed, None, Some("receiver answered HTTP 500")),
                Action::Ack,
            ),
            (
                "a failed manual attempt keeps a pending delivery's schedule",
                (&waiting, 2, true),
                AttemptResult::failed(Outcome::Blocked, "no public address", 0),
                Decision::Unchanged,
                update(Pending, Some(NOW + 60_000), Some("no public address")),
                Action::Ack,
            ),
            (
                "a successful manual attempt delivers",
                (&failed_earlier, 4, true),
                status(200),
                Decision::Delivered,
                update(Delivered, None, None),
                Action::Ack,
            ),
        ];
        for (name, (delivery, number, manual), result, decision, update, action) in cases {
            let state = AttemptState {
                delivery,
                number,
                manual,
            };
            let t = transition(&state, &result, &s, NOW, 0.5);
            assert_eq!(
                t,
                Transition {
                    decision,
                    update,
                    action
                },
                "{name}"
            );
        }
    }
}
