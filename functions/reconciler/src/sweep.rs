//! One run: read the candidates, judge each (pure: [`judge`]), carry the verdict out.

use std::time::Duration;

use shared::domain::clock::EpochMillis;
use shared::domain::fanout::requeue_message;
use shared::domain::reconcile::{Verdict, judge};
use shared::ports::{DeliveryRead, Enqueue, EventRead, Reconcile, StaleCandidate, StoreError};

/// What the reconciler needs from storage.
pub trait ReconcileStore: Reconcile + DeliveryRead + EventRead {}
impl<T: Reconcile + DeliveryRead + EventRead + ?Sized> ReconcileStore for T {}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Candidates read from the index.
    pub examined: usize,
    /// Deliveries put back on the queue.
    pub requeued: usize,
    /// Waiting deliveries whose mark moved to their due time.
    pub moved: usize,
    /// Candidates another reconciler took first, or that changed meanwhile.
    pub skipped: usize,
    /// Candidates that could not be handled (store or queue error); the next run retries them.
    pub errors: usize,
}

/// One run at `now`: every pending delivery whose mark is older than `stale_after`, at most
/// `limit` of them.
pub async fn sweep<S, Q>(
    store: &S,
    queue: &Q,
    now: EpochMillis,
    stale_after: Duration,
    limit: usize,
) -> Result<Report, StoreError>
where
    S: ReconcileStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let stale_ms = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
    let candidates = store
        .stale_candidates(now.saturating_sub(stale_ms), limit)
        .await?;
    let mut report = Report {
        examined: candidates.len(),
        ..Report::default()
    };
    for c in &candidates {
        match handle(store, queue, c, now, stale_ms).await {
            Ok(Handled::Requeued) => report.requeued += 1,
            Ok(Handled::Moved) => report.moved += 1,
            Ok(Handled::Skipped) => report.skipped += 1,
            Err(e) => {
                tracing::warn!(delivery_id = %c.delivery_id, error = %e, "candidate not reconciled");
                report.errors += 1;
            }
        }
    }
    Ok(report)
}

enum Handled {
    Requeued,
    Moved,
    Skipped,
}

#[derive(Debug, thiserror::Error)]
enum CandidateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

async fn handle<S, Q>(
    store: &S,
    queue: &Q,
    c: &StaleCandidate,
    now: EpochMillis,
    stale_ms: i64,
) -> Result<Handled, CandidateError>
where
    S: ReconcileStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    // The index is eventually consistent: judge the delivery as stored now.
    let Some(d) = store.get_delivery(&c.tenant_id, &c.delivery_id).await? else {
        return Ok(Handled::Skipped);
    };
    let target = match judge(&d, c.mark, now, stale_ms) {
        Verdict::Leave => return Ok(Handled::Skipped),
        Verdict::MoveMark(due) => due,
        Verdict::Requeue => now,
    };
    match store
        .move_mark(&c.tenant_id, &c.delivery_id, c.mark, target)
        .await
    {
        Ok(()) => {}
        // Another reconciler moved it first (and enqueues it), or it changed meanwhile.
        Err(StoreError::Conflict) => return Ok(Handled::Skipped),
        Err(e) => return Err(e.into()),
    }
    if target != now {
        return Ok(Handled::Moved);
    }
    // Claimed: if this send fails, the mark (now) makes it stale again after `stale_after`.
    let event = store
        .get_event(&d.tenant_id, &d.event_id)
        .await?
        .ok_or_else(|| CandidateError::Other("the delivery's event is missing".into()))?;
    let message =
        requeue_message(&d, &event, false).map_err(|e| CandidateError::Other(e.to_string()))?;
    queue
        .send(&[message])
        .await
        .map_err(|e| CandidateError::Other(e.to_string()))?;
    tracing::info!(delivery_id = %d.id, tenant_id = %d.tenant_id, "stale pending delivery re-enqueued");
    Ok(Handled::Requeued)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::adapters::memory::{MemoryQueue, MemoryStore};
    use shared::domain::model::{DeliveryRecord, DeliveryStatus, EventRecord};
    use shared::ports::{AttemptLog, EventWrite};

    const MIN: i64 = 60_000;
    const NOW: i64 = 1_700_000_000_000;
    const STALE: Duration = Duration::from_secs(900);

    fn event() -> EventRecord {
        EventRecord {
            id: "evt_1".into(),
            tenant_id: "t".into(),
            event_type: "a.b".into(),
            payload: r#"{"k":1}"#.into(),
            metadata: None,
            idempotency_key: None,
            created_at: NOW - 60 * MIN,
        }
    }

    fn pending(written: EpochMillis) -> DeliveryRecord {
        DeliveryRecord {
            updated_at: written,
            created_at: written,
            ..shared::domain::fanout::new_delivery(
                &event(),
                Some("ep".into()),
                "https://x".into(),
                written,
            )
        }
    }

    /// The ingest crash: written pending 20 minutes ago, never enqueued. One run enqueues it;
    /// a second run right after (or one running at once) does not enqueue it again.
    #[tokio::test]
    async fn a_lost_delivery_is_enqueued_once_by_two_runs() {
        let store = MemoryStore::new();
        let queue = MemoryQueue::new();
        let lost = pending(NOW - 20 * MIN);
        let fresh = pending(NOW - 2 * MIN);
        store
            .put_event(&event(), &[lost.clone(), fresh])
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            sweep(&store, &queue, NOW, STALE, 100),
            sweep(&store, &queue, NOW, STALE, 100)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.requeued + b.requeued, 1, "{a:?} {b:?}");
        let sent = queue.sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].body.contains(&lost.id));
        let again = sweep(&store, &queue, NOW + MIN, STALE, 100).await.unwrap();
        assert_eq!((again.examined, again.requeued), (0, 0));
        // 16 minutes later neither is delivered (no worker runs here): the first is enqueued
        // again (that message may be lost too), and the second is now stale as well.
        let later = sweep(&store, &queue, NOW + 16 * MIN, STALE, 100)
            .await
            .unwrap();
        assert_eq!(later.requeued, 2);
    }

    /// A live lease means a worker is on it; a delivery waiting for a later retry only gets its
    /// mark moved (and is not read again before it is due); a delivered one is off the index.
    #[tokio::test]
    async fn leased_waiting_and_final_deliveries_are_left_alone() {
        let store = MemoryStore::new();
        let queue = MemoryQueue::new();
        let leased = pending(NOW - 30 * MIN);
        let waiting = DeliveryRecord {
            next_attempt_at: Some(NOW + 120 * MIN),
            ..pending(NOW - 40 * MIN)
        };
        let done = pending(NOW - 50 * MIN);
        store
            .put_event(&event(), &[leased.clone(), waiting, done.clone()])
            .await
            .unwrap();
        store
            .claim(&leased, "w", NOW, NOW + MIN, false)
            .await
            .unwrap();
        store
            .claim(&done, "w", NOW - 49 * MIN, NOW - 48 * MIN, false)
            .await
            .unwrap();
        let attempt = shared::domain::model::AttemptRecord {
            id: "att_1".into(),
            delivery_id: done.id.clone(),
            number: 1,
            url: "https://x".into(),
            started_at: NOW - 49 * MIN,
            duration_ms: 5,
            status_code: Some(200),
            outcome: shared::domain::attempt::Outcome::Delivered,
            error: None,
            response_excerpt: None,
            manual: false,
        };
        let update = shared::ports::DeliveryUpdate {
            status: DeliveryStatus::Delivered,
            next_attempt_at: None,
            last_error: None,
        };
        store
            .record_attempt("t", &attempt, &update, "w")
            .await
            .unwrap();
        let report = sweep(&store, &queue, NOW, STALE, 100).await.unwrap();
        assert_eq!(
            (
                report.examined,
                report.requeued,
                report.moved,
                report.skipped
            ),
            (2, 0, 1, 1)
        );
        assert!(queue.sent().is_empty());
        let next = sweep(&store, &queue, NOW + MIN, STALE, 100).await.unwrap();
        assert_eq!(next.examined, 1, "only the leased one is read again");
    }
}
