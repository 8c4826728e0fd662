//! Job pages: a job message (see [`shared::domain::job`]) makes the delivery function run one
//! page of a job — read up to [`JOB_PAGE`] of the endpoint's deliveries after the saved cursor,
//! restart the failed ones the job selects (conditional: only a failed delivery restarts), enqueue
//! them, save the progress (conditional on the progress read, so of two copies of the message
//! only one saves), then send the message on for the next page. Killed anywhere, the message
//! comes back and the job resumes from the progress last saved; a delivery restarted but not yet
//! enqueued when the process died is pending with this job's restart and no attempt since: the
//! page's second run enqueues it again (a second message is harmless: each attempt is recorded
//! once).

use std::collections::HashMap;

use shared::domain::fanout::requeue_message;
use shared::domain::job::{JobMessage, JobRecord, JobStatus};
use shared::domain::model::{DeliveryRecord, EventRecord};
use shared::ports::{
    DeliveryControl, DeliveryRead, Enqueue, EventRead, JobStore, OutgoingMessage, StoreError,
};

use crate::action::Action;

/// Deliveries one job page reads at most (one Query page, one receive of the job message).
pub const JOB_PAGE: usize = 100;

/// What a job page needs from storage.
pub trait JobPageStore: JobStore + DeliveryRead + DeliveryControl + EventRead {}
impl<T: JobStore + DeliveryRead + DeliveryControl + EventRead + ?Sized> JobPageStore for T {}

fn transient(e: impl std::fmt::Display) -> Action {
    Action::Transient(e.to_string())
}

/// Runs the next page of the job `message` names; the action for the job message.
pub async fn run_page<S, Q>(
    store: &S,
    queue: &Q,
    message: &JobMessage,
    now: i64,
    page_size: usize,
) -> Action
where
    S: JobPageStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    match page(store, queue, message, now, page_size).await {
        Ok(action) | Err(action) => action,
    }
}

async fn page<S, Q>(
    store: &S,
    queue: &Q,
    message: &JobMessage,
    now: i64,
    page_size: usize,
) -> Result<Action, Action>
where
    S: JobPageStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    if message.v != JobMessage::VERSION {
        return Err(Action::Poison(format!(
            "unknown job message version {}",
            message.v
        )));
    }
    let job = store
        .get_job(&message.job.tenant_id, &message.job.job_id)
        .await
        .map_err(transient)?
        .ok_or_else(|| Action::Poison("no such job".into()))?;
    if job.status != JobStatus::Running {
        return Ok(Action::Ack);
    }
    let span = (job.since, job.until);
    let read = store
        .window_page(
            &job.tenant_id,
            &job.endpoint_id,
            span,
            job.cursor.as_deref(),
            page_size,
        )
        .await
        .map_err(transient)?;
    let requeued = requeue_selected(store, queue, &job, &read.deliveries, now).await?;
    let next = job.after_page(read.deliveries.len(), requeued, read.next_after, now);
    match store.save_job(&next, job.done).await {
        Ok(()) => {}
        // Another copy of the message saved this page first; it sends the message on.
        Err(StoreError::Conflict) => return Ok(Action::Ack),
        Err(e) => return Err(transient(e)),
    }
    tracing::info!(job_id = %job.id, done = next.done, requeued = next.requeued, status = next.status.as_str(), "job page done");
    if next.status == JobStatus::Running {
        let on = JobMessage::new(&next).outgoing().map_err(transient)?;
        // If this send fails the message comes back and resumes from what was just saved.
        queue.send(&[on]).await.map_err(transient)?;
    }
    Ok(Action::Ack)
}

/// Restarts the deliveries of `page` the job selects and enqueues them; how many. If the queue
/// refuses them, they are put back to failed (as they were) and the page is retried later.
async fn requeue_selected<S, Q>(
    store: &S,
    queue: &Q,
    job: &JobRecord,
    page: &[DeliveryRecord],
    now: i64,
) -> Result<usize, Action>
where
    S: JobPageStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let mut events: HashMap<String, EventRecord> = HashMap::new();
    let mut restarted: Vec<(&DeliveryRecord, OutgoingMessage)> = Vec::new();
    for d in page.iter().filter(|d| job.selects(d) || job.restarted(d)) {
        // A delivery this job restarted on an earlier run of the page is only enqueued again.
        if job.selects(d) {
            match store.restart_delivery(d, now).await {
                Ok(()) => {}
                // Changed meanwhile, or this very write went through before a retry of it
                // (then it is this job's restart, and it still needs its message).
                Err(StoreError::Conflict) => {
                    let latest = store.get_delivery(&d.tenant_id, &d.id).await;
                    if !latest
                        .map_err(transient)?
                        .is_some_and(|l| job.restarted(&l))
                    {
                        continue;
                    }
                }
                Err(e) => return Err(transient(e)),
            }
        }
        if !events.contains_key(&d.event_id) {
            let event = store.get_event(&d.tenant_id, &d.event_id).await;
            match event.map_err(transient)? {
                Some(e) => events.insert(d.event_id.clone(), e),
                None => {
                    put_back(store, d, "the delivery's event is missing", now).await;
                    continue;
                }
            };
        }
        let Some(event) = events.get(&d.event_id) else {
            continue;
        };
        match requeue_message(d, event, false) {
            Ok(m) => restarted.push((d, m)),
            Err(e) => put_back(store, d, &e.to_string(), now).await,
        }
    }
    let messages: Vec<OutgoingMessage> = restarted.iter().map(|(_, m)| m.clone()).collect();
    if let Err(e) = queue.send(&messages).await {
        for (d, _) in &restarted {
            let reason = d.last_error.as_deref().unwrap_or("could not be enqueued");
            put_back(store, d, reason, now).await;
        }
        return Err(transient(e));
    }
    Ok(restarted.len())
}

/// Puts a restarted delivery back to failed (a failure here is logged: the reconciler
/// re-enqueues a pending delivery left behind).
async fn put_back<S: DeliveryControl + ?Sized>(
    store: &S,
    d: &DeliveryRecord,
    reason: &str,
    now: i64,
) {
    // The state after the restart is what the failure record follows.
    let restarted =
        shared::domain::log::after_restart(d, now).map_or_else(|| d.clone(), |r| r.state);
    if let Err(e) = store.fail_delivery(&restarted, reason, now).await {
        tracing::error!(delivery_id = %d.id, error = %e, "could not put a delivery back to failed");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::adapters::contract::fixtures::{deliveries_of, event_at};
    use shared::adapters::memory::{MemoryQueue, MemoryStore};
    use shared::domain::job::JobKind;
    use shared::domain::model::DeliveryStatus;
    use shared::ports::EventWrite;

    const NOW: i64 = 1_700_000_000_000;
    /// Every id generated while the tests run (ids carry the real time).
    const ALL: (i64, i64) = (0, 4_000_000_000_000);

    /// `n` events a millisecond apart, each with one failed delivery to `ep_1`.
    async fn failed_deliveries(store: &MemoryStore, n: usize) -> Vec<DeliveryRecord> {
        let mut ds = Vec::new();
        for i in 0..n {
            let event = event_at("t", NOW + i as i64, &["ep_1"], None);
            store.put_event(&event).await.unwrap();
            let d = deliveries_of(&event, false).remove(0);
            store.fail_delivery(&d, "HTTP 500", NOW).await.unwrap();
            ds.push(d);
        }
        ds
    }

    /// Drains the queue: runs every job message sent, as the delivery function would.
    async fn run_jobs(store: &MemoryStore, queue: &MemoryQueue, seen: &mut usize) {
        while let Some(m) = queue.sent().get(*seen).cloned() {
            *seen += 1;
            if let Some(job) = JobMessage::parse(&m.body) {
                assert_eq!(
                    run_page(store, queue, &job, NOW + 1, 100).await,
                    Action::Ack
                );
            }
        }
    }

    /// 250 failed deliveries: three pages, every one requeued exactly once, the job done with
    /// its counts; a second copy of a job message does nothing more.
    #[tokio::test]
    async fn a_job_pages_through_its_window_once() {
        let (store, queue) = (MemoryStore::new(), MemoryQueue::new());
        let ds = failed_deliveries(&store, 250).await;
        let window = ALL;
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, window, NOW);
        store.create_job(&job).await.unwrap();
        let first = JobMessage::new(&job);
        queue.send(&[first.outgoing().unwrap()]).await.unwrap();
        let mut seen = 0;
        run_jobs(&store, &queue, &mut seen).await;
        // A late copy of the first message: the job is done, nothing is sent.
        assert_eq!(
            run_page(&store, &queue, &first, NOW + 2, 100).await,
            Action::Ack
        );
        let done = store.get_job("t", &job.id).await.unwrap().unwrap();
        assert_eq!(
            (done.status, done.done, done.requeued),
            (JobStatus::Done, 250, 250)
        );
        let sent = queue.sent();
        let jobs = sent
            .iter()
            .filter(|m| JobMessage::parse(&m.body).is_some())
            .count();
        assert_eq!(jobs, 3, "the first message and two sent on");
        let mut requeued: Vec<&str> = sent
            .iter()
            .map(|m| m.id.as_str())
            .filter(|id| id.starts_with("dlv_"))
            .collect();
        requeued.sort_unstable();
        let expected: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(requeued, expected);
        assert!(
            store
                .deliveries()
                .iter()
                .all(|d| d.status == DeliveryStatus::Pending)
        );
    }

    /// Two copies of one job message at once: each reads the progress saved when it starts
    /// and saves only from there, so no delivery is enqueued twice and at most one message is
    /// sent on per saved page.
    #[tokio::test]
    async fn two_copies_of_a_job_message_never_requeue_twice() {
        let (store, queue) = (MemoryStore::new(), MemoryQueue::new());
        failed_deliveries(&store, 30).await;
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, ALL, NOW);
        store.create_job(&job).await.unwrap();
        let m = JobMessage::new(&job);
        let (a, b) = tokio::join!(
            run_page(&store, &queue, &m, NOW + 1, 20),
            run_page(&store, &queue, &m, NOW + 1, 20)
        );
        assert_eq!((a, b), (Action::Ack, Action::Ack));
        let sent = queue.sent();
        let mut ids: Vec<&str> = sent
            .iter()
            .map(|m| m.id.as_str())
            .filter(|i| i.starts_with("dlv_"))
            .collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "a delivery enqueued twice");
        let saved = store.get_job("t", &job.id).await.unwrap().unwrap();
        assert_eq!(saved.requeued as usize, all);
    }

    /// The queue refuses the page's messages: the deliveries go back to failed as they were and
    /// the job message comes back later (the page is done again then).
    #[tokio::test]
    async fn a_refused_page_is_put_back_and_retried() {
        let (store, queue) = (MemoryStore::new(), MemoryQueue::new());
        failed_deliveries(&store, 5).await;
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, ALL, NOW);
        store.create_job(&job).await.unwrap();
        queue.set_unavailable(true);
        let action = run_page(&store, &queue, &JobMessage::new(&job), NOW + 1, 100).await;
        assert!(matches!(action, Action::Transient(_)), "{action:?}");
        assert!(
            store
                .deliveries()
                .iter()
                .all(|d| d.status == DeliveryStatus::Failed)
        );
        queue.set_unavailable(false);
        let action = run_page(&store, &queue, &JobMessage::new(&job), NOW + 2, 100).await;
        assert_eq!(action, Action::Ack);
        let done = store.get_job("t", &job.id).await.unwrap().unwrap();
        assert_eq!((done.status, done.requeued), (JobStatus::Done, 5));
    }

    /// The restart went through but its answer was lost, and the retried write found it done
    /// (Conflict): it is this job's restart, so the delivery is still enqueued. A restart by
    /// someone else (or a delivery that moved on) is left alone.
    #[tokio::test]
    async fn a_restart_that_went_through_before_its_retry_is_still_enqueued() {
        let (store, queue) = (MemoryStore::new(), MemoryQueue::new());
        let ds = failed_deliveries(&store, 2).await;
        let failed: Vec<DeliveryRecord> =
            futures::future::join_all(ds.iter().map(|d| store.get_delivery("t", &d.id)))
                .await
                .into_iter()
                .map(|r| r.unwrap().unwrap())
                .collect();
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, ALL, NOW);
        // The first write of the first delivery's restart, whose answer was lost.
        store.restart_delivery(&failed[0], NOW + 1).await.unwrap();
        // The second was restarted long before this job began, by someone else.
        store.restart_delivery(&failed[1], NOW - 5).await.unwrap();
        let n = requeue_selected(&store, &queue, &job, &failed, NOW + 1)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let sent = queue.sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].body.contains(&failed[0].id));
    }
}
