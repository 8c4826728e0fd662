//! What the API shows of each record (RFC 3339 times, API.md field names). These types are also
//! the OpenAPI document's response schemas.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use shared::domain::attempt::Outcome;
use shared::domain::clock::rfc3339;
use shared::domain::fanout::FanOut;
use shared::domain::job::{JobKind, JobRecord, JobStatus};
use shared::domain::model::{
    AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord, Tenant,
};
use shared::domain::settings::SettingsPatch;

use crate::error::ApiError;
use crate::service::batch::BatchOutcome;

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: Option<String>,
    pub defaults: SettingsPatch,
    pub max_endpoints: u32,
    pub https_only: bool,
    /// Shown once, when the tenant is created: signs one-off `webhook_url` deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl TenantView {
    pub fn new(t: &Tenant, with_secret: bool) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            defaults: t.defaults.clone(),
            max_endpoints: t.max_endpoints,
            https_only: t.https_only,
            signing_secret: with_secret.then(|| t.signing_secret.expose().to_owned()),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the service disabled the endpoint (410 Gone, sustained failure), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    /// Since when every finished delivery has failed (absent while it is healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    pub secret: String,
    #[serde(flatten)]
    pub settings: SettingsPatch,
    pub created_at: String,
    pub updated_at: String,
}

impl EndpointView {
    pub fn new(e: &Endpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            event_types: e.event_types.clone(),
            description: e.description.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: e.disabled_at.map(rfc3339),
            failing_since: e.failing_since.map(rfc3339),
            secret: e.secret.expose().to_owned(),
            settings: e.settings.clone(),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    pub data: Vec<EndpointView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryRef {
    pub id: String,
    pub endpoint_id: Option<String>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedEvent {
    pub id: String,
    pub event_type: String,
    pub created_at: String,
    pub deliveries: Vec<DeliveryRef>,
}

/// The answer of `POST .../events/batch`: one result per event, in the order sent.
#[derive(Serialize, ToSchema)]
pub struct BatchResults {
    pub results: Vec<BatchResult>,
}

/// One event's result: `status` is what the single-event route would have answered (202
/// accepted, 200 a repeat of an `id` with the first answer, 4xx refused, 503 not queued: retry
/// it with the same `id`); `event` when accepted, `error` otherwise.
#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AcceptedEvent>)]
    pub event: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::routes::openapi::ErrorDetail>)]
    pub error: Option<serde_json::Value>,
}

impl BatchResult {
    pub fn new(outcome: BatchOutcome) -> Self {
        let event = |status: u16, raw: Result<Box<RawValue>, serde_json::Error>| match raw {
            Ok(raw) => Self {
                status,
                event: Some(raw),
                error: None,
            },
            Err(_) => Self::failed(&ApiError::Internal("The answer could not be encoded.")),
        };
        match outcome {
            BatchOutcome::Accepted(accepted) => {
                event(202, serde_json::value::to_raw_value(&accepted))
            }
            BatchOutcome::Repeat(first) => event(200, RawValue::from_string(first)),
            BatchOutcome::Failed(e) => Self::failed(&e),
        }
    }

    fn failed(e: &ApiError) -> Self {
        Self {
            status: e.status().as_u16(),
            event: None,
            error: Some(e.body()["error"].clone()),
        }
    }
}

impl AcceptedEvent {
    pub fn new(fan_out: &FanOut) -> Self {
        Self::from_records(&fan_out.event, &fan_out.deliveries)
    }

    pub fn from_records(event: &EventRecord, deliveries: &[DeliveryRecord]) -> Self {
        Self {
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            created_at: rfc3339(event.created_at),
            deliveries: deliveries
                .iter()
                .map(|d| DeliveryRef {
                    id: d.id.clone(),
                    endpoint_id: d.endpoint_id.clone(),
                    url: d.url.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: Option<String>,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

impl DeliveryView {
    pub fn new(d: &DeliveryRecord, attempts: Option<&[AttemptRecord]>) -> Self {
        Self {
            id: d.id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            endpoint_id: d.endpoint_id.clone(),
            url: d.url.clone(),
            status: d.status,
            attempt_count: d.attempt_count,
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.status == DeliveryStatus::Pending)
                .map(rfc3339),
            last_error: d.last_error.clone(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            attempts: attempts.map(|a| a.iter().map(AttemptView::new).collect()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub number: u32,
    pub url: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub manual: bool,
}

impl AttemptView {
    pub fn new(a: &AttemptRecord) -> Self {
        Self {
            id: a.id.clone(),
            number: a.number,
            url: a.url.clone(),
            started_at: rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            outcome: a.outcome,
            error: a.error.clone(),
            response_excerpt: a.response_excerpt.clone(),
            manual: a.manual,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub event_type: String,
    /// The payload as it was received.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub created_at: String,
    pub deliveries: Vec<DeliveryView>,
}

impl EventView {
    pub fn new(e: &EventRecord, payload: Box<RawValue>, deliveries: &[DeliveryRecord]) -> Self {
        Self {
            id: e.id.clone(),
            event_type: e.event_type.clone(),
            payload,
            metadata: e.metadata.clone(),
            created_at: rfc3339(e.created_at),
            deliveries: deliveries
                .iter()
                .map(|d| DeliveryView::new(d, None))
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: String,
    /// Shown once; only its SHA-256 is stored.
    pub key: String,
    pub tenant_id: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RetryQueued {
    pub id: String,
    pub status: DeliveryStatus,
    pub queued: bool,
}

/// Long work accepted by the API, carried out behind the answer (API.md's Job).
#[derive(Serialize, ToSchema)]
pub struct JobView {
    /// `job_...`
    pub id: String,
    pub kind: JobKind,
    pub status: JobStatus,
    /// Deliveries read so far.
    pub done: u64,
    /// How many there are in all, when known (these jobs read page by page: null).
    #[schema(nullable = true, value_type = Option<u64>)]
    pub total: Option<u64>,
    /// Deliveries put back on their schedule; final once `status` is `done`.
    #[schema(nullable = true, value_type = Option<u64>)]
    pub requeued: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
}

impl JobView {
    pub fn new(job: &JobRecord) -> Self {
        Self {
            id: job.id.clone(),
            kind: job.kind,
            status: job.status,
            done: job.done,
            total: None,
            requeued: Some(job.requeued),
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Moved {
    pub moved: usize,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    pub table: String,
    pub queue: String,
}
mod console;
pub use console::*;
