//! What the web pages' routes answer: catalog entries, the tenant list, cross-tenant endpoint
//! health, the DLQ's depth, portal links and sessions.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use shared::domain::catalog::EventTypeRecord;
use shared::domain::clock::rfc3339;
use shared::domain::model::Endpoint;
use shared::ports::TenantSummary;

#[derive(Serialize, ToSchema)]
pub struct EventTypeView {
    pub name: String,
    pub description: String,
    /// The payload's JSON Schema, or null.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Box<RawValue>>,
    /// An example payload (what a test event sends), or null.
    #[schema(value_type = Option<Object>)]
    pub example: Option<Box<RawValue>>,
    pub created_at: String,
    pub updated_at: String,
}

/// Stored JSON text as it was given (None if it somehow is not JSON any more).
fn raw(text: Option<&str>) -> Option<Box<RawValue>> {
    text.and_then(|t| RawValue::from_string(t.to_owned()).ok())
}

impl EventTypeView {
    pub fn new(e: &EventTypeRecord) -> Self {
        Self {
            name: e.name.clone(),
            description: e.description.clone(),
            schema: raw(e.schema.as_deref()),
            example: raw(e.example.as_deref()),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventTypeList {
    /// Every catalogued type, by name.
    pub data: Vec<EventTypeView>,
    /// Whether the deployment is strict: endpoints subscribe only to catalogued types and
    /// events of other types are refused.
    pub strict: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TenantSummaryView {
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl TenantSummaryView {
    pub fn new(t: &TenantSummary) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TenantList {
    pub data: Vec<TenantSummaryView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// An endpoint as the operator's health view shows it: no secret.
#[derive(Serialize, ToSchema)]
pub struct EndpointHealthView {
    pub tenant_id: String,
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Since when every finished delivery has failed.
    pub failing_since: Option<String>,
    pub updated_at: String,
}

impl EndpointHealthView {
    pub fn new(e: &Endpoint) -> Self {
        Self {
            tenant_id: e.tenant_id.clone(),
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: e.disabled_at.map(rfc3339),
            failing_since: e.failing_since.map(rfc3339),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointHealthList {
    pub data: Vec<EndpointHealthView>,
    /// Pass as `cursor` for the next page (the next tenants); null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DlqDepth {
    /// Messages waiting in the dead-letter queue (approximate).
    pub depth: u64,
    /// Messages received from it but not yet deleted (approximate).
    pub in_flight: u64,
}

#[derive(Serialize, ToSchema)]
pub struct PortalLinkView {
    /// Opens the tenant's portal; the token is in the fragment, so it never reaches a server
    /// log. It can be used once.
    pub url: String,
    pub expires_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PortalSessionView {
    /// A bearer key for the tenant's routes, valid until `expires_at`.
    pub session_token: String,
    pub tenant_id: String,
    pub expires_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RejectedList {
    pub data: Vec<crate::sources::resubmit::RejectedView>,
    /// Whether the deployment has a rejected-events queue (an asynchronous source is on).
    pub configured: bool,
}
