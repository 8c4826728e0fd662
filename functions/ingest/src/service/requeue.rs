//! Sending stored deliveries again: one manual attempt now (`retry`), a window of failed ones
//! through their schedule again (`recover`), and, when an endpoint is enabled again, what its
//! disabling ended (`resume_disabled`). The last two are jobs: the request writes the job and
//! its first message and answers 202; the delivery function runs it a page per message.

use serde::Deserialize;

use shared::domain::clock::{EpochMillis, now_millis, parse_rfc3339};
use shared::domain::fanout::requeue_message;
use shared::domain::job::{JobKind, JobMessage, JobRecord, JobStatus};
use shared::domain::model::{DeliveryRecord, Endpoint, EventRecord};
use shared::ports::{EndpointRead, Enqueue, EventRead, JobStore, QueueError};

use crate::error::ApiError;

/// `recover` looks back at most as far as the queue keeps messages.
const MAX_RECOVER_WINDOW_MS: i64 = 14 * 86_400_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    pub since: String,
    pub until: Option<String>,
}

/// A checked recover window: `since` ≤ `until`, at most 14 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    since: EpochMillis,
    until: EpochMillis,
}

impl Window {
    pub fn parse(req: &Recover, now: EpochMillis) -> Result<Self, ApiError> {
        let since = parse_rfc3339(&req.since)
            .ok_or_else(|| ApiError::invalid("since", "must be an RFC 3339 time"))?;
        let until = match &req.until {
            Some(u) => parse_rfc3339(u)
                .ok_or_else(|| ApiError::invalid("until", "must be an RFC 3339 time"))?,
            None => now,
        };
        if since > until {
            return Err(ApiError::invalid("since", "must not be after until"));
        }
        if until - since > MAX_RECOVER_WINDOW_MS {
            return Err(ApiError::invalid(
                "since",
                "the window must be at most 14 days",
            ));
        }
        Ok(Self { since, until })
    }
}

pub fn enqueue_error(e: QueueError) -> ApiError {
    tracing::error!(error = %e, "enqueue failed");
    ApiError::unavailable("The delivery queue is unavailable; try again.")
}

/// One manual attempt, made by the delivery function as soon as it takes the message; recorded
/// with `manual: true`; the schedule is left as it was.
pub async fn retry<S: EventRead + ?Sized, Q: Enqueue + ?Sized>(
    store: &S,
    queue: &Q,
    delivery: &DeliveryRecord,
) -> Result<(), ApiError> {
    let event = event_of(store, delivery).await?;
    let message = requeue_message(delivery, &event, true)?;
    queue.send(&[message]).await.map_err(enqueue_error)
}

/// Every failed delivery of an endpoint in `window` through its schedule again: a job, run
/// page by page by the delivery function behind the answer (see `delivery::jobs`).
pub async fn recover<S, Q>(
    store: &S,
    queue: &Q,
    tenant_id: &str,
    endpoint_id: &str,
    window: Window,
) -> Result<JobRecord, ApiError>
where
    S: EndpointRead + JobStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    super::endpoints::load(store, tenant_id, endpoint_id).await?;
    let job = JobRecord::new(
        tenant_id,
        endpoint_id,
        JobKind::Recover,
        (window.since, window.until),
        now_millis(),
    );
    start(store, queue, job).await
}

/// After an endpoint is enabled again: the deliveries that ended because it was disabled (since
/// `since`, at most the queue's retention back) go through their schedule again, as a job.
pub async fn resume_disabled<S, Q>(
    store: &S,
    queue: &Q,
    endpoint: &Endpoint,
    since: EpochMillis,
) -> Result<JobRecord, ApiError>
where
    S: JobStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let now = now_millis();
    let since = since.max(now - MAX_RECOVER_WINDOW_MS);
    // Deliveries created up to the retention before the disabling may have been ended by it.
    let window = (since - MAX_RECOVER_WINDOW_MS, now);
    let mut job = JobRecord::new(
        &endpoint.tenant_id,
        &endpoint.id,
        JobKind::Resume,
        window,
        now,
    );
    job.disabled_since = Some(since);
    start(store, queue, job).await
}

/// Writes a job and sends its first message. If the queue refuses the message the job is
/// recorded failed (nothing runs it) and the caller gets a 503.
async fn start<S, Q>(store: &S, queue: &Q, job: JobRecord) -> Result<JobRecord, ApiError>
where
    S: JobStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    store.create_job(&job).await?;
    let message = JobMessage::new(&job)
        .outgoing()
        .map_err(|_| ApiError::Internal("The job message could not be encoded."))?;
    if let Err(e) = queue.send(&[message]).await {
        let failed = JobRecord {
            status: JobStatus::Failed,
            error: Some("could not be enqueued".into()),
            updated_at: now_millis(),
            ..job.clone()
        };
        if let Err(e) = store.save_job(&failed, job.done).await {
            tracing::error!(job_id = %job.id, error = %e, "could not record a job failed");
        }
        return Err(enqueue_error(e));
    }
    tracing::info!(job_id = %job.id, kind = ?job.kind, endpoint_id = %job.endpoint_id, "job started");
    Ok(job)
}

/// The event a delivery belongs to (its payload goes into the message).
async fn event_of<S: EventRead + ?Sized>(
    store: &S,
    d: &DeliveryRecord,
) -> Result<EventRecord, ApiError> {
    store
        .get_event(&d.tenant_id, &d.event_id)
        .await?
        .ok_or(ApiError::Internal("The delivery's event is missing."))
}
