//! Event intake: a request body parsed into a [`ValidEvent`] (that cannot be invalid), the
//! tenant's one-off URL checked, the idempotency key honoured, the fan-out planned
//! ([`shared::domain::fanout`]), written, enqueued, and the not-enqueued compensation when the
//! queue fails.

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::event_type::EventType;
use shared::domain::fanout::{self, NewEvent};
use shared::domain::ids::IdKind;
use shared::domain::model::{DeliveryRecord, Endpoint, Tenant};
use shared::domain::url_rules::{check_receiver_url, refuse_own_host};
use shared::ports::{
    DeliveryControl, EndpointRead, Enqueue, EventRead, EventWrite, Idempotency, QueueError,
    TenantRead,
};

use super::idempotency::{self, Answer, Turn};
use crate::config::IngestConfig;
use crate::error::ApiError;
use crate::views::AcceptedEvent;

const MAX_METADATA_BYTES: usize = 4096;
/// Metadata nests at most this deep (the table holds 32 levels; the event item uses some).
const MAX_METADATA_DEPTH: usize = 16;
const MAX_IDEMPOTENCY_KEY: usize = 256;

// The `POST /v1/tenants/{tenant_id}/events` body (no doc comment: it would enter the OpenAPI document).
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

/// An event as the API accepts it: a valid type, an object payload within the limit, a usable
/// idempotency key and metadata within 4 KiB. The one-off URL is checked against the tenant.
#[derive(Debug)]
pub struct ValidEvent {
    event_type: EventType,
    payload: Box<RawValue>,
    idempotency_key: Option<String>,
    webhook_url: Option<String>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ValidEvent {
    /// The event as the planner takes it.
    pub fn as_new<'a>(&'a self, tenant_id: &'a str) -> NewEvent<'a> {
        NewEvent {
            tenant_id,
            event_type: &self.event_type,
            payload: &self.payload,
            metadata: self.metadata.clone(),
            idempotency_key: self.idempotency_key.clone(),
        }
    }

    pub fn event_type(&self) -> &str {
        self.event_type.as_str()
    }

    /// The caller's idempotency key (`id`), if it sent one.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    pub fn parse(req: CreateEvent, max_payload_bytes: usize) -> Result<Self, ApiError> {
        let event_type =
            EventType::parse(&req.event_type).map_err(|m| ApiError::invalid("event_type", m))?;
        let payload_text = req.payload.get();
        if !payload_text.starts_with('{') {
            return Err(ApiError::invalid("payload", "must be a JSON object"));
        }
        if payload_text.len() > max_payload_bytes {
            return Err(ApiError::too_large(
                "payload",
                format!("The payload must be at most {max_payload_bytes} bytes."),
            ));
        }
        if let Some(key) = &req.id
            && (key.is_empty()
                || key.len() > MAX_IDEMPOTENCY_KEY
                || key.chars().any(char::is_control))
        {
            return Err(ApiError::invalid(
                "id",
                "must be 1 to 256 characters without control characters",
            ));
        }
        if let Some(meta) = &req.metadata {
            let size = serde_json::to_vec(meta).map_or(usize::MAX, |v| v.len());
            if size > MAX_METADATA_BYTES {
                return Err(ApiError::too_large(
                    "metadata",
                    "metadata must be at most 4096 bytes of JSON",
                ));
            }
            for (k, v) in meta {
                storable(v, &format!("metadata.{k}"), 2)?;
            }
        }
        Ok(Self {
            event_type,
            payload: req.payload,
            idempotency_key: req.id,
            webhook_url: req.webhook_url,
            metadata: req.metadata,
        })
    }
}

/// Whether a metadata value can be stored as it is: nested at most [`MAX_METADATA_DEPTH`]
/// levels, numbers within the table's range (magnitude 1e-130 to below 1e126; a float outside
/// it would be refused by DynamoDB, which must be a 422 here, not a 503 there).
fn storable(value: &serde_json::Value, field: &str, depth: usize) -> Result<(), ApiError> {
    use serde_json::Value;
    if depth > MAX_METADATA_DEPTH {
        return Err(ApiError::invalid(
            field,
            format!("metadata nests at most {MAX_METADATA_DEPTH} levels"),
        ));
    }
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f != 0.0 && !(1e-130..1e126).contains(&f.abs()) => {
                Err(ApiError::invalid(
                    field,
                    "numbers in metadata must be 0 or of magnitude 1e-130 to 1e126",
                ))
            }
            _ => Ok(()),
        },
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| storable(v, &format!("{field}[{i}]"), depth + 1)),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| storable(v, &format!("{field}.{k}"), depth + 1)),
        _ => Ok(()),
    }
}

/// Accepts an event for a tenant: a first answer (202) or the answer to an earlier request with
/// the same idempotency key (200).
pub async fn submit<S, Q>(
    store: &S,
    queue: &Q,
    config: &IngestConfig,
    tenant_id: &str,
    event: ValidEvent,
) -> Result<Answer<AcceptedEvent>, ApiError>
where
    S: TenantRead + EndpointRead + EventWrite + EventRead + DeliveryControl + Idempotency + ?Sized,
    Q: Enqueue + ?Sized,
{
    let tenant = super::tenants::load(store, tenant_id).await?;
    let one_off = match &event.webhook_url {
        Some(raw) => Some(
            check_receiver_url(
                raw,
                tenant.https_only || config.https_only,
                &config.address_policy,
            )
            .and_then(|url| refuse_own_host(&url, &config.own_hosts).map(|()| url))
            .map_err(|e| ApiError::invalid("webhook_url", e.to_string()))?,
        ),
        None => None,
    };
    let one_off = one_off.as_ref();
    let Some(key) = &event.idempotency_key else {
        let event_id = IdKind::Event.generate();
        return accept(store, queue, &tenant, &event, one_off, event_id)
            .await
            .map(Answer::First);
    };
    let fresh = IdKind::Event.generate();
    match idempotency::take(store, &tenant.id, key, &fresh).await? {
        Turn::Work {
            event_id,
            resumes,
            held,
        } => {
            let result = match resumes {
                Some(left) => {
                    let how = super::resume::Resume {
                        event_id: &event_id,
                        left,
                    };
                    super::resume::resume(store, queue, &tenant, &event, one_off, how).await
                }
                None => accept(store, queue, &tenant, &event, one_off, event_id.clone()).await,
            };
            idempotency::settle(store, &tenant.id, key, &held, &event_id, result.is_ok()).await;
            result.map(Answer::First)
        }
        Turn::Done { event_id } => super::resume::answer_of(store, &tenant.id, &event_id)
            .await
            .map(Answer::Repeat),
        Turn::Kept(first) => Ok(Answer::Repeat(first)),
    }
}

/// Records the event (one item, naming its deliveries), then enqueues one message per delivery.
async fn accept<S, Q>(
    store: &S,
    queue: &Q,
    tenant: &Tenant,
    event: &ValidEvent,
    one_off: Option<&Url>,
    event_id: String,
) -> Result<AcceptedEvent, ApiError>
where
    S: EndpointRead + EventWrite + DeliveryControl + ?Sized,
    Q: Enqueue + ?Sized,
{
    let endpoints = store.list_endpoints(&tenant.id).await?;
    accept_for(store, queue, tenant, event, &endpoints, one_off, event_id).await
}

/// [`accept`] planned over `endpoints` (every one the event's type reaches gets a delivery).
pub(super) async fn accept_for<S, Q>(
    store: &S,
    queue: &Q,
    tenant: &Tenant,
    event: &ValidEvent,
    endpoints: &[Endpoint],
    one_off: Option<&Url>,
    event_id: String,
) -> Result<AcceptedEvent, ApiError>
where
    S: EventWrite + DeliveryControl + ?Sized,
    Q: Enqueue + ?Sized,
{
    let now = now_millis();
    let fan_out = fanout::plan_as(
        event_id,
        event.as_new(&tenant.id),
        endpoints,
        one_off.map(Url::as_str),
        now,
    );
    store.put_event(&fan_out.event).await?;
    let messages = fan_out.messages()?;
    if let Err(e) = queue.send(&messages).await {
        return Err(not_enqueued(store, &fan_out.deliveries, e, now).await);
    }
    // The request's one INFO line carries the event id (see `app::request_span`).
    tracing::Span::current().record("event_id", fan_out.event.id.as_str());
    tracing::debug!(event_id = %fan_out.event.id, event_type = %fan_out.event.event_type, deliveries = fan_out.deliveries.len(), "event accepted");
    Ok(AcceptedEvent::new(&fan_out))
}

/// The `last_error` of deliveries recorded failed because they could not be enqueued; a retry
/// of the request (same idempotency key) puts them back.
pub const NOT_ENQUEUED: &str = "could not be enqueued";

/// Some deliveries could not be enqueued even after retries: they are recorded as failed (so the
/// log never shows a pending delivery that nothing will attempt), and the caller gets a 503.
pub(super) async fn not_enqueued<S: DeliveryControl + ?Sized>(
    store: &S,
    deliveries: &[DeliveryRecord],
    error: QueueError,
    now: EpochMillis,
) -> ApiError {
    let failed: Vec<String> = match &error {
        QueueError::NotEnqueued { failed, .. } => failed.clone(),
        QueueError::Unavailable(_) => deliveries.iter().map(|d| d.id.clone()).collect(),
    };
    tracing::error!(error = %error, count = failed.len(), "deliveries not enqueued");
    for d in deliveries.iter().filter(|d| failed.contains(&d.id)) {
        if let Err(e) = store.fail_delivery(d, NOT_ENQUEUED, now).await {
            tracing::error!(delivery_id = %d.id, error = %e, "could not mark an unenqueued delivery failed");
        }
    }
    ApiError::unavailable(format!(
        "{} of {} deliveries could not be queued and were recorded as failed; the queue is unavailable.",
        failed.len(),
        deliveries.len()
    ))
}
