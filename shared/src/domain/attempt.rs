//! What one attempt produced, and what happens next: pure decisions, no I/O.

use serde::{Deserialize, Serialize};

use crate::domain::settings::{DeliverySettings, RetryOn};

/// The class of an attempt's result, as the delivery log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    HttpError,
    Timeout,
    NetworkError,
    Blocked,
}

/// The result of one HTTP attempt, as the sender reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub duration_ms: u64,
    /// `Retry-After` of a 429 or 503, in seconds.
    pub retry_after_seconds: Option<u64>,
}

impl AttemptResult {
    /// Classifies a received HTTP status: any 2xx is delivered, anything else (3xx included,
    /// redirects are never followed) is an HTTP error.
    pub fn from_status(status: u16, duration_ms: u64) -> Self {
        let delivered = (200..300).contains(&status);
        Self {
            outcome: if delivered {
                Outcome::Delivered
            } else {
                Outcome::HttpError
            },
            status_code: Some(status),
            error: (!delivered).then(|| format!("receiver answered HTTP {status}")),
            response_excerpt: None,
            duration_ms,
            retry_after_seconds: None,
        }
    }

    pub fn failed(outcome: Outcome, error: impl Into<String>, duration_ms: u64) -> Self {
        Self {
            outcome,
            status_code: None,
            error: Some(error.into()),
            response_excerpt: None,
            duration_ms,
            retry_after_seconds: None,
        }
    }

    /// Failures that may heal by themselves: 5xx, 408, 429, timeouts, network errors.
    pub fn is_transient(&self) -> bool {
        match self.outcome {
            Outcome::Timeout | Outcome::NetworkError => true,
            Outcome::HttpError => self
                .status_code
                .is_some_and(|s| s >= 500 || s == 408 || s == 429),
            Outcome::Delivered | Outcome::Blocked => false,
        }
    }
}

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

/// Decides what follows attempt number `attempt` (1-based) of a delivery. `jitter` is a sample
/// in `[0, 1)`; the delay is the schedule's `±20 %`, and a `Retry-After` of a 429/503 is honoured
/// within `[delay, 2 × delay]`.
pub fn decide(
    result: &AttemptResult,
    attempt: u32,
    settings: &DeliverySettings,
    jitter: f64,
) -> Decision {
    match result.outcome {
        Outcome::Delivered => return Decision::Delivered,
        Outcome::Blocked => return Decision::GiveUp(GiveUpReason::Blocked),
        Outcome::HttpError if result.status_code == Some(410) => {
            return Decision::GiveUp(GiveUpReason::Gone);
        }
        _ => {}
    }
    if settings.retry_on == RetryOn::TransientFailures && !result.is_transient() {
        return Decision::GiveUp(GiveUpReason::NotRetryable);
    }
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    let Some(&base) = settings.retry_schedule_seconds.get(index) else {
        return Decision::GiveUp(GiveUpReason::Exhausted);
    };
    let mut delay = jittered(base, jitter);
    let honours_retry_after = matches!(result.status_code, Some(429 | 503));
    if let (true, Some(wanted)) = (honours_retry_after, result.retry_after_seconds) {
        let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
        delay = wanted.clamp(base, base.saturating_mul(2));
    }
    Decision::RetryAfter(delay)
}

/// `base` seconds ±20 %, in whole seconds (SQS visibility is counted in seconds): a value from
/// `ceil(0.8 × base)` to `floor(1.2 × base)` picked by `jitter` in `[0, 1)`. Where no whole second
/// lies strictly inside the band other than `base` (small delays), that is `base` itself.
pub fn jittered(base: u32, jitter: f64) -> u32 {
    let b = u64::from(base);
    let lo = (b * 4).div_ceil(5);
    let hi = (b * 6) / 5;
    if hi <= lo {
        return base;
    }
    let span = hi - lo + 1;
    let pick = (jitter.clamp(0.0, 1.0) * span as f64).floor();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let offset = (pick as u64).min(span - 1);
    u32::try_from(lo + offset).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::SettingsPatch;

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

    #[test]
    fn any_2xx_is_delivered_and_3xx_is_not() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(status(code).outcome, Outcome::Delivered, "{code}");
        }
        for code in [100, 301, 302, 304, 307, 400, 404, 500] {
            assert_eq!(status(code).outcome, Outcome::HttpError, "{code}");
        }
    }

    #[test]
    fn schedule_gives_delay_of_failed_attempt_then_gives_up() {
        let s = settings(&[1, 3], RetryOn::AllFailures);
        assert_eq!(decide(&status(500), 1, &s, 0.5), Decision::RetryAfter(1));
        assert_eq!(decide(&status(500), 2, &s, 0.5), Decision::RetryAfter(3));
        assert_eq!(
            decide(&status(500), 3, &s, 0.5),
            Decision::GiveUp(GiveUpReason::Exhausted)
        );
        assert_eq!(decide(&status(200), 3, &s, 0.5), Decision::Delivered);
        let none = settings(&[], RetryOn::AllFailures);
        assert_eq!(
            decide(&status(500), 1, &none, 0.5),
            Decision::GiveUp(GiveUpReason::Exhausted)
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for base in [5u32, 300, 1800, 86_400] {
            let lo = jittered(base, 0.0);
            let hi = jittered(base, 0.999_999);
            assert!(f64::from(lo) >= f64::from(base) * 0.8, "{base}: {lo}");
            assert!(f64::from(hi) <= f64::from(base) * 1.2, "{base}: {hi}");
            assert!(lo < hi, "{base}: jitter must move the delay");
        }
        for base in 0..200u32 {
            for i in 0..50 {
                let d = f64::from(jittered(base, f64::from(i) / 50.0));
                assert!(
                    d >= f64::from(base) * 0.8 && d <= f64::from(base) * 1.2,
                    "{base} -> {d}"
                );
            }
        }
        assert_eq!(
            jittered(3, 0.0),
            3,
            "no whole second but 3 lies within 2.4..3.6"
        );
        for i in 0..100 {
            let d = jittered(300, f64::from(i) / 100.0);
            assert!((240..=360).contains(&d), "{d}");
        }
        assert_eq!(jittered(0, 0.7), 0);
        assert_eq!(jittered(1, 0.0), 1, "rounds to whole seconds");
    }

    #[test]
    fn transient_only_retries_transient_failures() {
        let s = settings(&[1, 1], RetryOn::TransientFailures);
        for code in [500, 502, 503, 408, 429] {
            assert!(
                matches!(decide(&status(code), 1, &s, 0.5), Decision::RetryAfter(_)),
                "{code}"
            );
        }
        for code in [400, 401, 404, 422, 301] {
            assert_eq!(
                decide(&status(code), 1, &s, 0.5),
                Decision::GiveUp(GiveUpReason::NotRetryable),
                "{code}"
            );
        }
        let timeout = AttemptResult::failed(Outcome::Timeout, "timed out", 1000);
        let refused = AttemptResult::failed(Outcome::NetworkError, "refused", 1);
        assert!(matches!(
            decide(&timeout, 1, &s, 0.5),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(&refused, 1, &s, 0.5),
            Decision::RetryAfter(_)
        ));
        let all = settings(&[1], RetryOn::AllFailures);
        assert!(matches!(
            decide(&status(404), 1, &all, 0.5),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn blocked_and_gone_are_never_retried() {
        let s = settings(&[1, 1], RetryOn::AllFailures);
        let blocked = AttemptResult::failed(Outcome::Blocked, "blocked", 0);
        assert_eq!(
            decide(&blocked, 1, &s, 0.5),
            Decision::GiveUp(GiveUpReason::Blocked)
        );
        assert_eq!(
            decide(&status(410), 1, &s, 0.5),
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
        assert_eq!(decide(&with(429, 15), 1, &s, 0.5), Decision::RetryAfter(15));
        assert_eq!(decide(&with(503, 1), 1, &s, 0.5), Decision::RetryAfter(10));
        assert_eq!(
            decide(&with(429, 3600), 1, &s, 0.5),
            Decision::RetryAfter(20)
        );
        assert_eq!(
            decide(&with(500, 3600), 1, &s, 0.5),
            Decision::RetryAfter(10),
            "only 429/503"
        );
    }
}
