//! `POST /v1/tenants/{tenant_id}/endpoints/{endpoint_id}/test`: one event sent to that endpoint
//! only (whatever it subscribes to), with the catalog's example payload unless one is given. It
//! is an ordinary event afterwards: signed, retried, in the log; its metadata says `test`.

use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use shared::domain::event_type::{EventType, any_matches};
use shared::domain::ids::IdKind;
use shared::ports::{DeliveryControl, EndpointRead, Enqueue, EventTypes, EventWrite, TenantRead};

use super::intake::{CreateEvent, ValidEvent, accept_for};
use crate::config::IngestConfig;
use crate::error::ApiError;
use crate::service::catalog::Strict;
use crate::views::AcceptedEvent;

/// The payload sent when neither the request nor the catalog gives one.
const FALLBACK_PAYLOAD: &str = r#"{"message":"A test event from Hookrelay"}"#;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEvent {
    /// The type to send; default: the first catalogued type the endpoint subscribes to.
    pub event_type: Option<String>,
    /// The payload (a JSON object); default: the catalog's example for the type.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Box<RawValue>>,
}

/// Sends a test event to one enabled endpoint (409 `endpoint_disabled` otherwise).
pub async fn send<S, Q>(
    store: &S,
    queue: &Q,
    config: &IngestConfig,
    strict: &Strict,
    tenant_id: &str,
    endpoint_id: &str,
    body: TestEvent,
) -> Result<AcceptedEvent, ApiError>
where
    S: TenantRead + EndpointRead + EventTypes + EventWrite + DeliveryControl + ?Sized,
    Q: Enqueue + ?Sized,
{
    let tenant = super::tenants::load(store, tenant_id).await?;
    let mut endpoint = super::endpoints::load(store, tenant_id, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(ApiError::conflict(
            "endpoint_disabled",
            "The endpoint is disabled: enable it to send it a test event.",
        ));
    }
    let catalog = store.list_event_types().await?;
    let event_type = match body.event_type {
        Some(t) => t,
        None => catalog
            .iter()
            .find(|e| {
                EventType::parse(&e.name).is_ok_and(|t| any_matches(&endpoint.event_types, &t))
            })
            .map(|e| e.name.clone())
            .ok_or_else(|| {
                ApiError::invalid(
                    "event_type",
                    "is required: no catalogued type matches this endpoint's event_types",
                )
            })?,
    };
    strict.check_event_type(&event_type)?;
    let payload = match body.payload {
        Some(p) => p,
        None => {
            let example = catalog
                .iter()
                .find(|e| e.name == event_type)
                .and_then(|e| e.example.clone())
                .unwrap_or_else(|| FALLBACK_PAYLOAD.to_owned());
            RawValue::from_string(example)
                .map_err(|_| ApiError::Internal("a stored example is not JSON"))?
        }
    };
    let metadata = serde_json::Map::from_iter([("test".to_owned(), serde_json::Value::Bool(true))]);
    let event = ValidEvent::parse(
        CreateEvent {
            event_type,
            payload,
            id: None,
            webhook_url: None,
            metadata: Some(metadata),
        },
        config.max_payload_bytes,
    )?;
    // This endpoint only, whatever it subscribes to.
    endpoint.event_types = vec!["*".to_owned()];
    let endpoints = [endpoint];
    accept_for(
        store,
        queue,
        &tenant,
        &event,
        &endpoints,
        None,
        IdKind::Event.generate(),
    )
    .await
}
