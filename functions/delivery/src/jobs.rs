//! Job pages: a job message (see [`shared::domain::job`]) makes the delivery function run one
//! page of a job — read up to [`JOB_PAGE`] of the endpoint's deliveries after the saved cursor,
//! restart the failed ones the job selects (conditional: only a failed delivery restarts), enqueue
//! them, save the progress (conditional on the progress read, so of two copies of the message
//! only one saves), then send the message on for the next page. Killed anywhere, the message
//! comes back and the job resumes from the progress last saved; a delivery restarted but not yet
//! enqueued when the process died is found by the reconciler.

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
    for d in page.iter().filter(|d| job.selects(d)) {
        match store.restart_delivery(d, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => continue, // changed meanwhile, or this page ran before
            Err(e) => return Err(transient(e)),
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
    if let Err(e) = store.fail_delivery(&d.tenant_id, &d.id, reason, now).await {
        tracing::error!(delivery_id = %d.id, error = %e, "could not put a delivery back to failed");
    }
}
