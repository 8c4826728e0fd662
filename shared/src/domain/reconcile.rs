//! The reconciler's plan, pure: which minutes of events a run reads. Events are kept by the
//! minute they were created in; a minute is read once, when it is `stale_after` old, for
//! deliveries with nothing recorded (ingest stopped between its write and its enqueue). Later
//! losses cannot happen by construction: every later record is written before the message
//! that carries the delivery is acknowledged or hidden.

use crate::domain::clock::EpochMillis;

pub const MINUTE_MS: EpochMillis = 60_000;

/// The epoch minute of `at`.
pub fn minute_of(at: EpochMillis) -> i64 {
    at.div_euclid(MINUTE_MS)
}

/// The minutes a run at `now` reconciles, oldest first: those after `last` (the last one
/// reconciled; on the first run, `first_lookback` before the newest due), up to the newest
/// whose end is `stale_after` old, at most `max_minutes` of them.
pub fn minutes_due(
    last: Option<i64>,
    now: EpochMillis,
    stale_after: EpochMillis,
    first_lookback: i64,
    max_minutes: i64,
) -> std::ops::RangeInclusive<i64> {
    // Minute m ends at (m + 1) * MINUTE_MS; it is due once that is stale_after before now.
    let newest = minute_of(now - stale_after) - 1;
    let from = last.map_or(newest - first_lookback.max(0) + 1, |l| l + 1);
    let to = newest.min(from + max_minutes.max(1) - 1);
    from..=to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_due_once_it_ended_stale_after_ago() {
        let now = 100 * MINUTE_MS + 30_000; // 100:30
        // stale 5 min: minute 95 ended at 96:00 ≤ 95:30? no. Minute 94 ended 95:00 ≤ 95:30: due.
        assert_eq!(minutes_due(Some(90), now, 5 * MINUTE_MS, 60, 100), 91..=94);
        assert_eq!(
            minutes_due(Some(94), now, 5 * MINUTE_MS, 60, 100).count(),
            0
        );
        assert_eq!(minutes_due(None, now, 5 * MINUTE_MS, 3, 100), 92..=94);
        assert_eq!(minutes_due(Some(10), now, 5 * MINUTE_MS, 3, 20), 11..=30);
    }

    #[test]
    fn minute_of_rounds_down_before_the_epoch_too() {
        assert_eq!(minute_of(59_999), 0);
        assert_eq!(minute_of(60_000), 1);
        assert_eq!(minute_of(-1), -1);
    }
}
