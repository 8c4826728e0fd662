//! `PUT/GET /v1/tenants/{tenant_id}`.

use serde::Deserialize;

use shared::domain::clock::now_millis;
use shared::domain::model::{DEFAULT_MAX_ENDPOINTS, Tenant};
use shared::domain::secret::Secret;
use shared::domain::settings::{DeliverySettings, SettingsPatch};
use shared::ports::{Redrive, StoreError};

use super::valid_tenant_id;
use super::views::TenantView;
use crate::app::{App, Principal, Queue, Store, authorize};
use crate::error::{ApiError, parse_body};
use crate::http::ApiResponse;

/// `PUT /v1/tenants/{tenant_id}` body; every field optional.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTenant {
    pub name: Option<String>,
    pub defaults: Option<SettingsPatch>,
    /// 1 to 1000; 10 when the tenant is created without it.
    pub max_endpoints: Option<u32>,
    pub https_only: Option<bool>,
}

pub async fn put<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    body: &[u8],
) -> Result<ApiResponse, ApiError> {
    crate::app::admin_only(principal, Some(tenant_id))?;
    if !valid_tenant_id(tenant_id) {
        return Err(ApiError::invalid(
            "tenant_id",
            "must match ^[A-Za-z0-9_.-]{1,64}$",
        ));
    }
    let req: PutTenant = parse_body(body)?;
    if let Some(name) = &req.name
        && name.chars().count() > 256
    {
        return Err(ApiError::invalid("name", "must be at most 256 characters"));
    }
    if let Some(max) = req.max_endpoints
        && !(1..=1000).contains(&max)
    {
        return Err(ApiError::invalid("max_endpoints", "must be from 1 to 1000"));
    }
    if let Some(defaults) = &req.defaults {
        defaults
            .validate("defaults.")
            .map_err(|e| ApiError::invalid(e.field, e.message))?;
        DeliverySettings::defaults()
            .overlay(defaults)
            .validate()
            .map_err(|e| ApiError::invalid(format!("defaults.{}", e.field), e.message))?;
    }
    let now = now_millis();
    let existing = app.store.get_tenant(tenant_id).await?;
    let created = existing.is_none();
    let tenant = match existing {
        Some(t) => Tenant {
            name: req.name.or(t.name),
            defaults: req.defaults.unwrap_or(t.defaults),
            max_endpoints: req.max_endpoints.unwrap_or(t.max_endpoints),
            https_only: req.https_only.unwrap_or(t.https_only),
            updated_at: now,
            ..t
        },
        None => Tenant {
            id: tenant_id.to_owned(),
            name: req.name,
            defaults: req.defaults.unwrap_or_default(),
            max_endpoints: req.max_endpoints.unwrap_or(DEFAULT_MAX_ENDPOINTS),
            https_only: req.https_only.unwrap_or(false),
            signing_secret: Secret::generate(),
            created_at: now,
            updated_at: now,
        },
    };
    match app.store.put_tenant(&tenant, created).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                409,
                "conflict",
                "The tenant changed while it was written; try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ApiResponse::json(
        if created { 201 } else { 200 },
        &TenantView::new(&tenant, created),
    ))
}

pub async fn get<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let tenant = load(app, tenant_id).await?;
    Ok(ApiResponse::json(200, &TenantView::new(&tenant, false)))
}

/// The tenant, or 404.
pub async fn load<S: Store, Q, R>(app: &App<S, Q, R>, tenant_id: &str) -> Result<Tenant, ApiError> {
    if !valid_tenant_id(tenant_id) {
        return Err(ApiError::not_found("tenant"));
    }
    app.store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))
}
