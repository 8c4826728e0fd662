//! Every wait of the delivery function, in one place: the retry delay after a failed attempt
//! (schedule, ±20 % jitter, `Retry-After` clamping), how long a message that is not yet due or
//! was recorded elsewhere stays hidden, the attempt timeout cut by the invocation deadline, the back-off
//! after a store or queue error, and SQS's 12 h visibility cap (a longer wait is chained: the
//! message comes back early and the gate hides it again for the rest). Pure: no I/O, no clock.

use std::time::Duration;

use shared::adapters::sqs::MAX_VISIBILITY_SECONDS;
use shared::domain::attempt::AttemptResult;
use shared::domain::clock::EpochMillis;

use crate::action::Action;

/// Time kept free before the Lambda deadline: an attempt never runs into it.
pub const DEADLINE_MARGIN_MS: i64 = 2_000;
/// An attempt shorter than this is not started; the message comes back at once instead.
pub const MIN_ATTEMPT_MS: i64 = 1_000;
/// Time an attempt's record may take after the attempt (a message hidden to cover an attempt
/// is hidden this much longer than the attempt's timeout).
pub const RECORD_SLACK: Duration = Duration::from_secs(5);
/// A message due within this much is attempted now rather than hidden again.
pub const DUE_TOLERANCE_MS: i64 = 500;

/// Milliseconds as whole seconds, rounded up (SQS counts visibility in seconds).
pub fn ceil_seconds(ms: i64) -> u32 {
    u32::try_from((ms.max(0) + 999) / 1000).unwrap_or(u32::MAX)
}

/// How long a delivery due at `due` stays hidden at `now`; None when it is due (within
/// [`DUE_TOLERANCE_MS`]).
pub fn not_yet_due(due: EpochMillis, now: EpochMillis) -> Option<u32> {
    (due > now + DUE_TOLERANCE_MS).then(|| ceil_seconds(due - now))
}

/// The attempt's timeout: the settings' `timeout_seconds`, cut so the attempt ends
/// [`DEADLINE_MARGIN_MS`] before the invocation deadline; None when less than
/// [`MIN_ATTEMPT_MS`] would be left (the attempt is not started).
pub fn attempt_timeout(
    timeout_seconds: u32,
    now: EpochMillis,
    deadline: EpochMillis,
) -> Option<Duration> {
    let budget = deadline - now - DEADLINE_MARGIN_MS;
    let timeout_ms = (i64::from(timeout_seconds) * 1000).min(budget);
    if timeout_ms < MIN_ATTEMPT_MS {
        return None;
    }
    Some(Duration::from_millis(
        u64::try_from(timeout_ms).unwrap_or(1000),
    ))
}

/// Another copy of the message recorded its attempt and the schedule it recorded says
/// nothing later: come back this soon and follow the recorded state.
pub const RECORDED_ELSEWHERE_SECONDS: u32 = 1;

/// Seconds until the next attempt after a failed one whose schedule entry is `base`: `base`
/// ±20 % (`jitter` in `[0, 1)` picks where), or, for a 429/503 with `Retry-After`, that value
/// clamped to `[base, 2 × base]`.
pub fn retry_delay(base: u32, result: &AttemptResult, jitter: f64) -> u32 {
    let honours_retry_after = matches!(result.status_code, Some(429 | 503));
    match (honours_retry_after, result.retry_after_seconds) {
        (true, Some(wanted)) => {
            let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
            wanted.clamp(base, base.saturating_mul(2))
        }
        _ => jittered(base, jitter),
    }
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

/// After a store or queue error: 2^receives seconds, at most `max`.
pub fn transient_backoff(receive_count: u32, max: Duration) -> u32 {
    2u32.saturating_pow(receive_count.min(16))
        .min(u32::try_from(max.as_secs()).unwrap_or(u32::MAX))
}

/// The visibility a record's action asks of the queue: None to acknowledge (delete) the
/// message, else how many seconds it stays hidden before it comes back (at most SQS's 12 h; a
/// longer wait is chained by the gate). Poison comes back at once, so it reaches the DLQ in
/// seconds.
pub fn visibility(action: &Action, receive_count: u32, max_backoff: Duration) -> Option<u32> {
    let seconds = match action {
        Action::Ack => return None,
        Action::Hide(seconds) => *seconds,
        Action::Poison(_) => 0,
        Action::Transient(_) => transient_backoff(receive_count, max_backoff),
    };
    Some(seconds.min(MAX_VISIBILITY_SECONDS))
}

#[cfg(test)]
mod tests {
    use shared::domain::attempt::AttemptResult;

    use super::*;

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_seconds(0), 0);
        assert_eq!(ceil_seconds(1), 1);
        assert_eq!(ceil_seconds(1000), 1);
        assert_eq!(ceil_seconds(1001), 2);
        assert_eq!(ceil_seconds(-5), 0);
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
    fn retry_after_is_clamped_to_one_or_two_delays() {
        let with = |code, secs| AttemptResult {
            retry_after_seconds: Some(secs),
            ..AttemptResult::from_status(code, 5)
        };
        assert_eq!(retry_delay(10, &with(429, 15), 0.5), 15);
        assert_eq!(retry_delay(10, &with(503, 1), 0.5), 10);
        assert_eq!(retry_delay(10, &with(429, 3600), 0.5), 20);
        assert_eq!(retry_delay(10, &with(500, 3600), 0.5), 10, "only 429/503");
    }

    #[test]
    fn waits_before_an_attempt() {
        let now = 1_000_000;
        assert_eq!(not_yet_due(now + 500, now), None, "within the tolerance");
        assert_eq!(not_yet_due(now + 501, now), Some(1));
        assert_eq!(not_yet_due(now + 8 * 3_600_000, now), Some(28_800));
    }

    #[test]
    fn the_deadline_cuts_the_attempt_timeout() {
        let now = 1_000_000;
        assert_eq!(
            attempt_timeout(15, now, now + 60_000),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            attempt_timeout(15, now, now + 10_000),
            Some(Duration::from_secs(8)),
            "ends 2 s before the deadline"
        );
        assert_eq!(attempt_timeout(15, now, now + 2_999), None);
    }

    #[test]
    fn visibility_per_action() {
        let max = Duration::from_secs(300);
        assert_eq!(visibility(&Action::Ack, 3, max), None);
        assert_eq!(visibility(&Action::Hide(12), 3, max), Some(12));
        assert_eq!(
            visibility(&Action::Hide(72_000), 3, max),
            Some(43_200),
            "capped at SQS's 12 h"
        );
        assert_eq!(visibility(&Action::Poison("x".into()), 3, max), Some(0));
        assert_eq!(visibility(&Action::Transient("x".into()), 3, max), Some(8));
        assert_eq!(
            visibility(&Action::Transient("x".into()), 30, max),
            Some(300)
        );
    }
}
