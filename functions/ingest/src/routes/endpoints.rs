//! `POST/GET /v1/tenants/{tenant_id}/endpoints`, `GET .../endpoints/{endpoint_id}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use shared::clock::now_millis;
use shared::event_type::EventTypePattern;
use shared::ids::IdKind;
use shared::model::Endpoint;
use shared::secret::Secret;
use shared::settings::{DeliverySettings, RetryOn, SettingsPatch, SignatureScheme};
use shared::store::{DeliveryQueue, Ping, StoreError};
use shared::url_rules::check_receiver_url;

use super::tenants::load as load_tenant;
use super::views::EndpointView;
use crate::app::{App, Principal, Store, authorize};
use crate::error::{ApiError, parse_body};
use crate::http::ApiResponse;

const MAX_EVENT_TYPES: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEndpoint {
    url: String,
    event_types: Vec<String>,
    description: Option<String>,
    enabled: Option<bool>,
    secret: Option<String>,
    retry_schedule_seconds: Option<Vec<u32>>,
    retry_on: Option<RetryOn>,
    timeout_seconds: Option<u32>,
    signature: Option<SignatureScheme>,
    headers: Option<BTreeMap<String, String>>,
}

pub async fn create<S: Store, Q: DeliveryQueue + Ping>(
    app: &App<S, Q>,
    principal: &Principal,
    tenant_id: &str,
    body: &[u8],
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let req: CreateEndpoint = parse_body(body)?;
    let tenant = load_tenant(app, tenant_id).await?;
    let https_only = tenant.https_only || app.config.https_only;
    let url = check_receiver_url(&req.url, https_only, &app.config.address_policy)
        .map_err(|e| ApiError::invalid("url", e.to_string()))?;
    check_event_types(&req.event_types)?;
    if let Some(d) = &req.description
        && d.chars().count() > 1024
    {
        return Err(ApiError::invalid(
            "description",
            "must be at most 1024 characters",
        ));
    }
    let settings = SettingsPatch {
        retry_schedule_seconds: req.retry_schedule_seconds,
        retry_on: req.retry_on,
        timeout_seconds: req.timeout_seconds,
        signature: req.signature,
        headers: req.headers,
    };
    settings
        .validate("")
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let resolved = DeliverySettings::defaults()
        .overlay(&tenant.defaults)
        .overlay(&settings);
    resolved
        .validate()
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let secret = match req.secret {
        Some(s) => {
            Secret::validate(&s, resolved.signature.is_standard())
                .map_err(|m| ApiError::invalid("secret", m))?;
            Secret::from_string(s)
        }
        None => Secret::generate(),
    };
    let now = now_millis();
    let endpoint = Endpoint {
        id: IdKind::Endpoint.generate(),
        tenant_id: tenant.id.clone(),
        url: url.to_string(),
        event_types: req.event_types,
        description: req.description,
        enabled: req.enabled.unwrap_or(true),
        secret,
        settings,
        created_at: now,
        updated_at: now,
    };
    match app
        .store
        .create_endpoint(&endpoint, tenant.max_endpoints)
        .await
    {
        Ok(()) => Ok(ApiResponse::json(201, &EndpointView::new(&endpoint))),
        Err(StoreError::Conflict) => Err(ApiError::new(
            409,
            "endpoint_limit_reached",
            format!(
                "The tenant already has its maximum of {} endpoints.",
                tenant.max_endpoints
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

fn check_event_types(types: &[String]) -> Result<(), ApiError> {
    if types.is_empty() {
        return Err(ApiError::invalid(
            "event_types",
            "must name at least one event type",
        ));
    }
    if types.len() > MAX_EVENT_TYPES {
        return Err(ApiError::invalid(
            "event_types",
            "must name at most 100 event types",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        EventTypePattern::parse(t)
            .map_err(|m| ApiError::invalid(format!("event_types[{i}]"), m))?;
    }
    Ok(())
}

pub async fn list<S: Store, Q: DeliveryQueue + Ping>(
    app: &App<S, Q>,
    principal: &Principal,
    tenant_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    load_tenant(app, tenant_id).await?;
    let endpoints = app.store.list_endpoints(tenant_id).await?;
    let data: Vec<EndpointView<'_>> = endpoints.iter().map(EndpointView::new).collect();
    Ok(ApiResponse::json(200, &serde_json::json!({ "data": data })))
}

pub async fn get<S: Store, Q: DeliveryQueue + Ping>(
    app: &App<S, Q>,
    principal: &Principal,
    tenant_id: &str,
    endpoint_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    if !IdKind::Endpoint.is_valid(endpoint_id) || !super::valid_tenant_id(tenant_id) {
        return Err(ApiError::not_found("endpoint"));
    }
    let endpoint = app
        .store
        .get_endpoint(tenant_id, endpoint_id)
        .await?
        .ok_or_else(|| ApiError::not_found("endpoint"))?;
    Ok(ApiResponse::json(200, &EndpointView::new(&endpoint)))
}
