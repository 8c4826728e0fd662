//! `POST /v1/tenants/{tenant_id}/events` (fan-out) and `GET .../events/{event_id}`.

use serde::Deserialize;
use serde_json::value::RawValue;

use shared::domain::clock::now_millis;
use shared::domain::event_type::{EventType, any_matches};
use shared::domain::ids::IdKind;
use shared::domain::model::{
    DeliveryMessage, DeliveryRecord, DeliveryStatus, EventRecord, IdempotencyRecord, Tenant,
};
use shared::domain::url_rules::check_receiver_url;
use shared::ports::{IdempotencyClaim, OutgoingMessage, QueueError, Redrive};

use super::tenants::load as load_tenant;
use super::views::{AcceptedEvent, DeliveryRef, EventView};
use crate::app::{App, Principal, Queue, Store, authorize};
use crate::error::{ApiError, parse_body};
use crate::http::ApiResponse;

const MAX_METADATA_BYTES: usize = 4096;
const MAX_IDEMPOTENCY_KEY: usize = 256;
/// Room for the envelope around the payload (type, id, URL, metadata).
const ENVELOPE_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
    pub id: Option<String>,
    pub webhook_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

pub async fn create<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    body: &[u8],
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let max = app.config.max_payload_bytes;
    if body.len() > max + ENVELOPE_BYTES {
        return Err(ApiError::too_large(
            "payload",
            format!(
                "The request body must be at most {} bytes.",
                max + ENVELOPE_BYTES
            ),
        ));
    }
    let req: CreateEvent = parse_body(body)?;
    let event_type =
        EventType::parse(&req.event_type).map_err(|m| ApiError::invalid("event_type", m))?;
    let payload_text = req.payload.get();
    if !payload_text.starts_with('{') {
        return Err(ApiError::invalid("payload", "must be a JSON object"));
    }
    if payload_text.len() > max {
        return Err(ApiError::too_large(
            "payload",
            format!("The payload must be at most {max} bytes."),
        ));
    }
    if let Some(key) = &req.id
        && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || key.chars().any(char::is_control))
    {
        return Err(ApiError::invalid(
            "id",
            "must be 1 to 256 characters without control characters",
        ));
    }
    if let Some(meta) = &req.metadata {
        let size = serde_json::to_vec(meta)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_METADATA_BYTES {
            return Err(ApiError::too_large(
                "metadata",
                "metadata must be at most 4096 bytes of JSON",
            ));
        }
    }
    let tenant = load_tenant(app, tenant_id).await?;
    let one_off = match &req.webhook_url {
        Some(raw) => Some(
            check_receiver_url(
                raw,
                tenant.https_only || app.config.https_only,
                &app.config.address_policy,
            )
            .map_err(|e| ApiError::invalid("webhook_url", e.to_string()))?,
        ),
        None => None,
    };

    let Some(key) = req.id.clone() else {
        return accept(
            app,
            &tenant,
            &event_type,
            &req.payload,
            req.metadata,
            None,
            one_off,
        )
        .await;
    };
    // Idempotency: the first request within 24 h does the work; repeats get its answer.
    for _ in 0..3 {
        match app
            .store
            .claim_idempotency(&tenant.id, &key, now_millis())
            .await?
        {
            IdempotencyClaim::Claimed => {
                let result = accept(
                    app,
                    &tenant,
                    &event_type,
                    &req.payload,
                    req.metadata.clone(),
                    Some(key.clone()),
                    one_off.clone(),
                )
                .await;
                match &result {
                    Ok(response) => {
                        if let Err(e) = app
                            .store
                            .complete_idempotency(&tenant.id, &key, &response.body)
                            .await
                        {
                            tracing::error!(error = %e, "event accepted but its idempotency record not completed");
                        }
                    }
                    Err(_) => {
                        if let Err(e) = app.store.release_idempotency(&tenant.id, &key).await {
                            tracing::error!(error = %e, "idempotency key not released after a failure");
                        }
                    }
                }
                return result;
            }
            IdempotencyClaim::Existing(record) => {
                if let Some(first) = wait_for_first(app, &tenant.id, &key, record).await? {
                    return Ok(ApiResponse::raw_json(200, first));
                }
                // The first request failed and let the key go: claim it again.
            }
        }
    }
    Err(ApiError::new(
        409,
        "conflict",
        "Requests with this id keep failing; try again.",
    ))
}

/// How long a repeat waits for the first request with the same id to finish.
const IDEMPOTENCY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The first request's answer, once it has one; None if it failed and released the key.
async fn wait_for_first<S: Store, Q, R>(
    app: &App<S, Q, R>,
    tenant_id: &str,
    key: &str,
    mut record: IdempotencyRecord,
) -> Result<Option<String>, ApiError> {
    let started = std::time::Instant::now();
    loop {
        if let Some(first) = record.response {
            return Ok(Some(first));
        }
        if started.elapsed() > IDEMPOTENCY_WAIT {
            return Err(ApiError::new(
                409,
                "request_in_progress",
                "A request with this id is still being processed; try again shortly.",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        match app.store.get_idempotency(tenant_id, key).await? {
            Some(r) => record = r,
            None => return Ok(None),
        }
    }
}

/// Records the event and its deliveries, enqueues them, and answers 202.
#[allow(clippy::too_many_arguments)]
async fn accept<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    tenant: &Tenant,
    event_type: &EventType,
    payload: &RawValue,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    idempotency_key: Option<String>,
    one_off: Option<url::Url>,
) -> Result<ApiResponse, ApiError> {
    let now = now_millis();
    let event = EventRecord {
        id: IdKind::Event.generate(),
        tenant_id: tenant.id.clone(),
        event_type: event_type.to_string(),
        payload: payload.get().to_owned(),
        metadata,
        idempotency_key,
        created_at: now,
    };
    let endpoints = app.store.list_endpoints(&tenant.id).await?;
    let new_delivery = |endpoint_id: Option<String>, url: String| DeliveryRecord {
        id: IdKind::Delivery.generate(),
        tenant_id: tenant.id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        endpoint_id,
        url,
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        next_attempt_at: None,
        last_error: None,
        lease_until: None,
        lease_owner: None,
        retry_base: 0,
        created_at: now,
        updated_at: now,
    };
    let mut deliveries: Vec<DeliveryRecord> = endpoints
        .iter()
        .filter(|ep| ep.enabled && any_matches(&ep.event_types, event_type))
        .map(|ep| new_delivery(Some(ep.id.clone()), ep.url.clone()))
        .collect();
    if let Some(url) = one_off {
        deliveries.push(new_delivery(None, url.to_string()));
    }

    app.store.put_event(&event, &deliveries).await?;
    let messages = deliveries
        .iter()
        .map(|d| delivery_message(d, payload, false))
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = app.queue.send(&messages).await {
        return Err(not_enqueued(app, &deliveries, e, now).await);
    }
    tracing::info!(event_id = %event.id, event_type = %event.event_type, deliveries = deliveries.len(), "event accepted");
    let accepted = AcceptedEvent {
        id: event.id.clone(),
        event_type: event.event_type.clone(),
        created_at: shared::domain::clock::rfc3339(event.created_at),
        deliveries: deliveries
            .iter()
            .map(|d| DeliveryRef {
                id: d.id.clone(),
                endpoint_id: d.endpoint_id.clone(),
                url: d.url.clone(),
            })
            .collect(),
    };
    Ok(ApiResponse::json(202, &accepted))
}

/// The queue message of one delivery.
pub fn delivery_message(
    d: &DeliveryRecord,
    payload: &RawValue,
    manual: bool,
) -> Result<OutgoingMessage, ApiError> {
    let message = DeliveryMessage {
        v: DeliveryMessage::VERSION,
        tenant_id: d.tenant_id.clone(),
        delivery_id: d.id.clone(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        payload: payload.to_owned(),
        manual,
    };
    serde_json::to_string(&message)
        .map(|body| OutgoingMessage {
            id: d.id.clone(),
            body,
        })
        .map_err(|_| ApiError::new(500, "internal", "A delivery message could not be encoded."))
}

pub fn enqueue_error(e: QueueError) -> ApiError {
    tracing::error!(error = %e, "enqueue failed");
    ApiError::unavailable("The delivery queue is unavailable; try again.")
}

/// Some deliveries could not be enqueued even after retries: they are recorded as failed (so the
/// log never shows a pending delivery that nothing will attempt), and the caller gets a 503.
async fn not_enqueued<S: Store, Q, R>(
    app: &App<S, Q, R>,
    deliveries: &[DeliveryRecord],
    error: QueueError,
    now: i64,
) -> ApiError {
    let failed: Vec<String> = match &error {
        QueueError::NotEnqueued { failed, .. } => failed.clone(),
        QueueError::Unavailable(_) => deliveries.iter().map(|d| d.id.clone()).collect(),
    };
    tracing::error!(error = %error, count = failed.len(), "deliveries not enqueued");
    for id in &failed {
        if let Some(d) = deliveries.iter().find(|d| &d.id == id)
            && let Err(e) = app
                .store
                .fail_delivery(&d.tenant_id, &d.id, "could not be enqueued", now)
                .await
        {
            tracing::error!(delivery_id = %d.id, error = %e, "could not mark an unenqueued delivery failed");
        }
    }
    ApiError::unavailable(format!(
        "{} of {} deliveries could not be queued and were recorded as failed; the queue is unavailable.",
        failed.len(),
        deliveries.len()
    ))
}

pub async fn get<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    event_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    super::require_ids(tenant_id, IdKind::Event, event_id, "event")?;
    let (event, mut deliveries) = futures::try_join!(
        app.store.get_event(tenant_id, event_id),
        app.store.list_event_deliveries(tenant_id, event_id)
    )?;
    let event = event.ok_or_else(|| ApiError::not_found("event"))?;
    deliveries.sort_by(|a, b| a.id.cmp(&b.id));
    let payload: Box<RawValue> = RawValue::from_string(event.payload.clone())
        .map_err(|_| ApiError::new(500, "internal", "The stored payload is not JSON."))?;
    Ok(ApiResponse::json(
        200,
        &EventView::new(&event, payload, &deliveries),
    ))
}
