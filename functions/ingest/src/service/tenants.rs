//! Tenants: create or update (admin), read.

use serde::Deserialize;

use shared::domain::clock::now_millis;
use shared::domain::model::{DEFAULT_MAX_ENDPOINTS, Endpoint, Tenant};
use shared::domain::secret::Secret;
use shared::domain::settings::{DeliverySettings, SettingsPatch};
use shared::ports::{EndpointRead, StoreError, TenantRead, TenantWrite};

use super::valid_tenant_id;
use crate::error::ApiError;

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

/// A checked [`PutTenant`] for a valid tenant id.
#[derive(Debug)]
pub struct TenantChange {
    tenant_id: String,
    body: PutTenant,
}

impl TenantChange {
    /// `allow_credential_headers`: the deployment's `ALLOW_CREDENTIAL_HEADERS`.
    pub fn parse(
        tenant_id: String,
        body: PutTenant,
        allow_credential_headers: bool,
    ) -> Result<Self, ApiError> {
        if !valid_tenant_id(&tenant_id) {
            return Err(ApiError::invalid(
                "tenant_id",
                "must match ^[A-Za-z0-9_.-]{1,64}$",
            ));
        }
        if let Some(name) = &body.name
            && name.chars().count() > 256
        {
            return Err(ApiError::invalid("name", "must be at most 256 characters"));
        }
        if let Some(max) = body.max_endpoints
            && !(1..=1000).contains(&max)
        {
            return Err(ApiError::invalid("max_endpoints", "must be from 1 to 1000"));
        }
        if let Some(defaults) = &body.defaults {
            defaults
                .validate("defaults.")
                .map_err(|e| ApiError::invalid(e.field, e.message))?;
            if !allow_credential_headers {
                defaults
                    .refuse_credential_headers("defaults.")
                    .map_err(|e| ApiError::invalid(e.field, e.message))?;
            }
            DeliverySettings::defaults()
                .overlay(defaults)
                .validate()
                .map_err(|e| ApiError::invalid(format!("defaults.{}", e.field), e.message))?;
        }
        Ok(Self { tenant_id, body })
    }

    /// The tenant as it will be stored: `existing` changed, or a new one.
    fn apply(self, existing: Option<Tenant>, now: i64) -> Tenant {
        let req = self.body;
        match existing {
            Some(t) => Tenant {
                name: req.name.or(t.name),
                defaults: req.defaults.unwrap_or(t.defaults),
                max_endpoints: req.max_endpoints.unwrap_or(t.max_endpoints),
                https_only: req.https_only.unwrap_or(t.https_only),
                updated_at: now,
                ..t
            },
            None => Tenant {
                id: self.tenant_id,
                name: req.name,
                defaults: req.defaults.unwrap_or_default(),
                max_endpoints: req.max_endpoints.unwrap_or(DEFAULT_MAX_ENDPOINTS),
                https_only: req.https_only.unwrap_or(false),
                signing_secret: Secret::generate(),
                created_at: now,
                updated_at: now,
            },
        }
    }
}

/// Whether a put created the tenant or updated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Updated,
}

/// Creates or updates a tenant. New defaults are checked against every endpoint they reach: an
/// endpoint whose secret cannot sign under the new scheme, or whose settings would collide with
/// them, makes the change a 422 naming it.
pub async fn put<S: TenantRead + TenantWrite + EndpointRead + ?Sized>(
    store: &S,
    change: TenantChange,
) -> Result<(Tenant, Put), ApiError> {
    let existing = store.get_tenant(&change.tenant_id).await?;
    let created = existing.is_none();
    let defaults_change = existing.is_some() && change.body.defaults.is_some();
    let tenant = change.apply(existing, now_millis());
    if defaults_change {
        for endpoint in store.list_endpoints(&tenant.id).await? {
            endpoint_fits(&tenant.defaults, &endpoint).map_err(|message| {
                ApiError::invalid(
                    "defaults",
                    format!("endpoint {} would no longer work: {message}", endpoint.id),
                )
            })?;
        }
    }
    match store.put_tenant(&tenant, created).await {
        Ok(()) => Ok((tenant, if created { Put::Created } else { Put::Updated })),
        Err(StoreError::Conflict) => Err(ApiError::conflict(
            "conflict",
            "The tenant changed while it was written; try again.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Whether `endpoint` still resolves to valid settings, and can sign, under `defaults`.
fn endpoint_fits(defaults: &SettingsPatch, endpoint: &Endpoint) -> Result<(), String> {
    let resolved = DeliverySettings::defaults()
        .overlay(defaults)
        .overlay(&endpoint.settings);
    resolved
        .validate()
        .map_err(|e| format!("{}: {}", e.field, e.message))?;
    Secret::validate(endpoint.secret.expose(), resolved.signature.is_standard())
        .map_err(|m| format!("secret: {m}"))
}

/// The tenant, or 404.
pub async fn load<S: TenantRead + ?Sized>(store: &S, tenant_id: &str) -> Result<Tenant, ApiError> {
    if !valid_tenant_id(tenant_id) {
        return Err(ApiError::NotFound("tenant"));
    }
    store
        .get_tenant(tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}
