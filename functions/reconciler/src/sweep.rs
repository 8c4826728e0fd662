//! One run: take the lease, read the minutes that are due ([`minutes_due`]), enqueue every
//! delivery of their events that has nothing recorded, save the cursor after each minute.

use std::time::Duration;

use shared::domain::clock::EpochMillis;
use shared::domain::fanout::requeue_message;
use shared::domain::reconcile::{MINUTE_MS, minutes_due};
use shared::ports::{Enqueue, OutgoingMessage, Reconcile, StoreError};

/// What the reconciler needs from storage.
pub trait ReconcileStore: Reconcile {}
impl<T: Reconcile + ?Sized> ReconcileStore for T {}

/// How long one run holds the lease: longer than a run can take (the template's timeout is
/// 120 s); a run that dies leaves it to expire.
pub const LEASE_MS: EpochMillis = 3 * MINUTE_MS;
/// On the very first run, how many minutes back it starts.
pub const FIRST_LOOKBACK_MINUTES: i64 = 60;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Another run held the lease: this one did nothing.
    pub busy: bool,
    /// Minutes of events read.
    pub minutes: usize,
    /// Events found with deliveries that had nothing recorded.
    pub events: usize,
    /// Deliveries put (back) on the queue.
    pub requeued: usize,
    /// Deliveries that could not be enqueued (their message could not be built).
    pub errors: usize,
}

/// One run at `now`: the minutes whose events are `stale_after` old and not read yet, at most
/// `max_minutes` of them. A queue or store error stops the run after the last minute saved;
/// the next run goes on from there.
pub async fn sweep<S, Q>(
    store: &S,
    queue: &Q,
    now: EpochMillis,
    stale_after: Duration,
    max_minutes: i64,
) -> Result<Report, StoreError>
where
    S: ReconcileStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let last = match store.take_reconcile_lease(now, now + LEASE_MS).await {
        Ok(last) => last,
        Err(StoreError::Conflict) => {
            return Ok(Report {
                busy: true,
                ..Report::default()
            });
        }
        Err(e) => return Err(e),
    };
    let stale_ms = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX / 2);
    let due = minutes_due(last, now, stale_ms, FIRST_LOOKBACK_MINUTES, max_minutes);
    let mut report = Report::default();
    let mut done = last;
    let result = async {
        for minute in due {
            reconcile_minute(store, queue, minute, &mut report).await?;
            store.save_reconcile_cursor(minute, now + LEASE_MS).await?;
            done = Some(minute);
            report.minutes += 1;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    // Release the lease where the run stopped.
    if let Some(minute) = done {
        store.save_reconcile_cursor(minute, 0).await?;
    }
    result.map(|()| report)
}

async fn reconcile_minute<S, Q>(
    store: &S,
    queue: &Q,
    minute: i64,
    report: &mut Report,
) -> Result<(), StoreError>
where
    S: ReconcileStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let found = store.unrecorded_in_minute(minute).await?;
    let mut messages: Vec<OutgoingMessage> = Vec::new();
    for u in &found {
        report.events += 1;
        for d in &u.deliveries {
            match requeue_message(d, &u.event, false) {
                Ok(m) => messages.push(m),
                Err(e) => {
                    tracing::error!(delivery_id = %d.id, error = %e, "delivery not re-enqueued");
                    report.errors += 1;
                }
            }
        }
    }
    if messages.is_empty() {
        return Ok(());
    }
    queue
        .send(&messages)
        .await
        .map_err(|e| StoreError::Unavailable(format!("queue: {e}")))?;
    report.requeued += messages.len();
    tracing::info!(
        minute,
        requeued = messages.len(),
        "deliveries with nothing recorded re-enqueued"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::adapters::contract::fixtures::{attempted, delivered, deliveries_of, event_at};
    use shared::adapters::memory::{MemoryQueue, MemoryStore};
    use shared::domain::model::DeliveryMessage;
    use shared::ports::{EventWrite, Reconcile};

    const MIN: i64 = 60_000;
    const NOW: i64 = 1_700_000_000_000;
    const STALE: Duration = Duration::from_secs(900);

    /// The ingest crash: an event written 20 minutes ago, its messages never sent. One run
    /// enqueues its deliveries with nothing recorded (not the recorded one, not the fresh
    /// event's); a run at the same time does nothing; a later run does not read it again.
    #[tokio::test]
    async fn an_unsent_event_is_enqueued_once_by_two_runs() {
        let store = MemoryStore::new();
        let queue = MemoryQueue::new();
        let lost = event_at(
            "t",
            NOW - 20 * MIN,
            &["ep_1", "ep_2"],
            Some("https://once.example/"),
        );
        let fresh = event_at("t", NOW - 2 * MIN, &["ep_1"], None);
        store.put_event(&lost).await.unwrap();
        store.put_event(&fresh).await.unwrap();
        let ds = deliveries_of(&lost, false);
        attempted(&store, &ds[0], &delivered()).await;
        let (a, b) = tokio::join!(
            sweep(&store, &queue, NOW, STALE, 100),
            sweep(&store, &queue, NOW, STALE, 100)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.requeued + b.requeued, 2, "{a:?} {b:?}");
        assert!(
            a.minutes == 0 || b.minutes == 0,
            "the minutes are read once"
        );
        let sent: Vec<DeliveryMessage> = queue
            .sent()
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect();
        let ids: Vec<&str> = sent.iter().map(|m| m.delivery_id.as_str()).collect();
        assert_eq!(ids, [ds[1].id.as_str(), ds[2].id.as_str()]);
        assert!(!sent[0].initial, "the worker reads the log first");
        assert_eq!(sent[0].endpoint_id.as_deref(), Some("ep_2"));
        assert_eq!(sent[1].url.as_deref(), Some("https://once.example/"));
        assert_eq!(sent[1].payload.get(), lost.payload);
        let again = sweep(&store, &queue, NOW + MIN, STALE, 100).await.unwrap();
        assert_eq!(again.requeued, 0, "{again:?}");
        // 16 minutes later the fresh event's minute is due too.
        let later = sweep(&store, &queue, NOW + 16 * MIN, STALE, 100)
            .await
            .unwrap();
        assert_eq!((later.requeued, later.busy), (1, false), "{later:?}");
        assert_eq!(queue.sent().len(), 3);
    }

    /// While another run holds the lease, a run does nothing.
    #[tokio::test]
    async fn a_held_lease_makes_a_run_busy() {
        let store = MemoryStore::new();
        let queue = MemoryQueue::new();
        store
            .put_event(&event_at("t", NOW - 20 * MIN, &["ep_1"], None))
            .await
            .unwrap();
        store
            .take_reconcile_lease(NOW, NOW + 5 * MIN)
            .await
            .unwrap();
        let busy = sweep(&store, &queue, NOW + MIN, STALE, 100).await.unwrap();
        assert!(busy.busy && busy.requeued == 0, "{busy:?}");
        let after = sweep(&store, &queue, NOW + 6 * MIN, STALE, 100)
            .await
            .unwrap();
        assert_eq!(after.requeued, 1, "the lease expired: {after:?}");
    }

    /// A queue outage stops the run before the cursor passes the minute: the next run sends it.
    #[tokio::test]
    async fn a_queue_outage_leaves_the_minute_for_the_next_run() {
        let store = MemoryStore::new();
        let queue = MemoryQueue::new();
        store
            .put_event(&event_at("t", NOW - 20 * MIN, &["ep_1"], None))
            .await
            .unwrap();
        queue.set_unavailable(true);
        assert!(sweep(&store, &queue, NOW, STALE, 100).await.is_err());
        queue.set_unavailable(false);
        let next = sweep(&store, &queue, NOW + 1, STALE, 100).await.unwrap();
        assert_eq!(next.requeued, 1, "{next:?}");
    }
}
