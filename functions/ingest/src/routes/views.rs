//! What the API shows of each record (RFC 3339 times, API.md field names).

use serde::Serialize;
use serde_json::value::RawValue;

use shared::clock::rfc3339;
use shared::model::{AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord, Tenant};
use shared::settings::SettingsPatch;

#[derive(Serialize)]
pub struct TenantView<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub defaults: &'a SettingsPatch,
    pub max_endpoints: u32,
    pub https_only: bool,
    /// Shown once, when the tenant is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> TenantView<'a> {
    pub fn new(t: &'a Tenant, with_secret: bool) -> Self {
        Self {
            id: &t.id,
            name: t.name.as_deref(),
            defaults: &t.defaults,
            max_endpoints: t.max_endpoints,
            https_only: t.https_only,
            signing_secret: with_secret.then(|| t.signing_secret.expose()),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct EndpointView<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub event_types: &'a [String],
    pub description: Option<&'a str>,
    pub enabled: bool,
    pub secret: &'a str,
    #[serde(flatten)]
    pub settings: &'a SettingsPatch,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> EndpointView<'a> {
    pub fn new(e: &'a Endpoint) -> Self {
        Self {
            id: &e.id,
            url: &e.url,
            event_types: &e.event_types,
            description: e.description.as_deref(),
            enabled: e.enabled,
            secret: e.secret.expose(),
            settings: &e.settings,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct DeliveryRef<'a> {
    pub id: &'a str,
    pub endpoint_id: Option<&'a str>,
    pub url: &'a str,
}

#[derive(Serialize)]
pub struct AcceptedEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub created_at: String,
    pub deliveries: Vec<DeliveryRef<'a>>,
}

#[derive(Serialize)]
pub struct DeliveryView<'a> {
    pub id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub endpoint_id: Option<&'a str>,
    pub url: &'a str,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView<'a>>>,
}

impl<'a> DeliveryView<'a> {
    pub fn new(d: &'a DeliveryRecord, attempts: Option<&'a [AttemptRecord]>) -> Self {
        Self {
            id: &d.id,
            event_id: &d.event_id,
            event_type: &d.event_type,
            endpoint_id: d.endpoint_id.as_deref(),
            url: &d.url,
            status: d.status,
            attempt_count: d.attempt_count,
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.status == DeliveryStatus::Pending)
                .map(rfc3339),
            last_error: d.last_error.as_deref(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            attempts: attempts.map(|a| a.iter().map(AttemptView::new).collect()),
        }
    }
}

#[derive(Serialize)]
pub struct AttemptView<'a> {
    pub id: &'a str,
    pub number: u32,
    pub url: &'a str,
    pub started_at: String,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub outcome: shared::attempt::Outcome,
    pub error: Option<&'a str>,
    pub response_excerpt: Option<&'a str>,
    pub manual: bool,
}

impl<'a> AttemptView<'a> {
    pub fn new(a: &'a AttemptRecord) -> Self {
        Self {
            id: &a.id,
            number: a.number,
            url: &a.url,
            started_at: rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            outcome: a.outcome,
            error: a.error.as_deref(),
            response_excerpt: a.response_excerpt.as_deref(),
            manual: a.manual,
        }
    }
}

#[derive(Serialize)]
pub struct EventView<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    /// The stored payload text, shown as it was received.
    pub payload: &'a RawValue,
    pub metadata: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub created_at: String,
    pub deliveries: Vec<DeliveryView<'a>>,
}

impl<'a> EventView<'a> {
    pub fn new(
        e: &'a EventRecord,
        payload: &'a RawValue,
        deliveries: &'a [DeliveryRecord],
    ) -> Self {
        Self {
            id: &e.id,
            event_type: &e.event_type,
            payload,
            metadata: e.metadata.as_ref(),
            created_at: rfc3339(e.created_at),
            deliveries: deliveries
                .iter()
                .map(|d| DeliveryView::new(d, None))
                .collect(),
        }
    }
}
