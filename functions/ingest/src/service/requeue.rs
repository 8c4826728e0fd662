//! Sending stored deliveries again: one manual attempt now (`retry`), a window of failed ones
//! through their schedule again (`recover`), and, when an endpoint is enabled again, what its
//! disabling ended (`resume_disabled`). Messages come from the fan-out planner.

use serde::Deserialize;

use shared::domain::clock::{EpochMillis, now_millis, parse_rfc3339};
use shared::domain::fanout::requeue_message;
use shared::domain::model::{DeliveryRecord, ENDPOINT_DISABLED, Endpoint, EventRecord};
use shared::ports::{
    DeliveryControl, DeliveryRead, EndpointRead, Enqueue, EventRead, QueueError, StoreError,
};

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

/// Every failed delivery of an endpoint in `window` through its schedule again; how many.
pub async fn recover<S, Q>(
    store: &S,
    queue: &Q,
    tenant_id: &str,
    endpoint_id: &str,
    window: Window,
) -> Result<usize, ApiError>
where
    S: EndpointRead + DeliveryRead + DeliveryControl + EventRead + ?Sized,
    Q: Enqueue + ?Sized,
{
    super::endpoints::load(store, tenant_id, endpoint_id).await?;
    let failed = store
        .failed_deliveries_between(tenant_id, endpoint_id, window.since, window.until)
        .await?;
    let now = now_millis();
    let mut requeued = 0;
    for delivery in &failed {
        if requeue(store, queue, delivery, now).await? {
            requeued += 1;
        }
    }
    tracing::info!(endpoint_id, requeued, "failed deliveries recovered");
    Ok(requeued)
}

/// After an endpoint is enabled again: the deliveries that ended because it was disabled (since
/// `since`, at most the queue's retention back) go through their schedule again.
pub async fn resume_disabled<S, Q>(
    store: &S,
    queue: &Q,
    endpoint: &Endpoint,
    since: EpochMillis,
) -> Result<usize, ApiError>
where
    S: DeliveryRead + DeliveryControl + EventRead + ?Sized,
    Q: Enqueue + ?Sized,
{
    let now = now_millis();
    let since = since.max(now - MAX_RECOVER_WINDOW_MS);
    let parked = store
        .failed_deliveries_between(
            &endpoint.tenant_id,
            &endpoint.id,
            since - MAX_RECOVER_WINDOW_MS,
            now,
        )
        .await?;
    let mut resumed = 0;
    for delivery in parked
        .iter()
        .filter(|d| d.last_error.as_deref() == Some(ENDPOINT_DISABLED) && d.updated_at >= since)
    {
        if requeue(store, queue, delivery, now).await? {
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Restarts a failed delivery's schedule and enqueues it; false when it changed meanwhile.
async fn requeue<S, Q>(
    store: &S,
    queue: &Q,
    delivery: &DeliveryRecord,
    now: EpochMillis,
) -> Result<bool, ApiError>
where
    S: DeliveryControl + EventRead + ?Sized,
    Q: Enqueue + ?Sized,
{
    match store.restart_delivery(delivery, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let event = event_of(store, delivery).await?;
    let message = requeue_message(delivery, &event, false)?;
    if let Err(e) = queue.send(&[message]).await {
        // Put it back as it was, so the log does not show a pending delivery with no message.
        let reason = delivery
            .last_error
            .as_deref()
            .unwrap_or("could not be enqueued");
        if let Err(e) = store
            .fail_delivery(&delivery.tenant_id, &delivery.id, reason, now)
            .await
        {
            tracing::error!(delivery_id = %delivery.id, error = %e, "could not put a delivery back to failed");
        }
        return Err(enqueue_error(e));
    }
    Ok(true)
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
