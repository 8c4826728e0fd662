//! Endpoints: create, change (re-enabling one resumes what its disabling ended), rotate the
//! secret, delete, read. Every change is checked as it would be stored, against the tenant's
//! rules and defaults.

use std::collections::BTreeMap;

use serde::Deserialize;

use shared::domain::clock::now_millis;
use shared::domain::event_type::EventTypePattern;
use shared::domain::ids::IdKind;
use shared::domain::model::{Endpoint, PreviousSecret, Tenant};
use shared::domain::secret::Secret;
use shared::domain::settings::{DeliverySettings, RetryOn, SettingsPatch, SignatureScheme};
use shared::domain::url_rules::{check_receiver_url, refuse_own_host};
use shared::ports::{EndpointRead, EndpointWrite, Enqueue, JobStore, StoreError, TenantRead};

use crate::config::IngestConfig;
use crate::error::ApiError;

const MAX_EVENT_TYPES: usize = 100;
/// Longest grace period: a week.
const MAX_GRACE_SECONDS: u32 = 7 * 86_400;
/// Rotated-out secrets kept signing at once, at most.
const MAX_PREVIOUS_SECRETS: usize = 5;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub secret: Option<String>,
    pub retry_schedule_seconds: Option<Vec<u32>>,
    pub retry_on: Option<RetryOn>,
    pub timeout_seconds: Option<u32>,
    pub signature: Option<SignatureScheme>,
    pub headers: Option<BTreeMap<String, String>>,
}

/// `Some(None)` when the field is present as `null`, `Some(Some(v))` with a value, `None` absent.
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

// `PATCH .../endpoints/{id}`: present fields change; a settings field set to `null` goes back to
// the tenant's default. (Not a doc comment: it would enter the OpenAPI document.)
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEndpoint {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub retry_schedule_seconds: Option<Option<Vec<u32>>>,
    #[serde(default, deserialize_with = "present")]
    pub retry_on: Option<Option<RetryOn>>,
    #[serde(default, deserialize_with = "present")]
    pub timeout_seconds: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    pub signature: Option<Option<SignatureScheme>>,
    #[serde(default, deserialize_with = "present")]
    pub headers: Option<Option<BTreeMap<String, String>>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// 0 to 604800; 86400 when absent.
    pub grace_period_seconds: Option<u32>,
    /// Bring your own new secret; generated when absent.
    pub secret: Option<String>,
}

/// Adds an endpoint to a tenant, within its `max_endpoints`.
pub async fn create<S: TenantRead + EndpointWrite + ?Sized>(
    store: &S,
    config: &IngestConfig,
    tenant_id: &str,
    req: CreateEndpoint,
) -> Result<Endpoint, ApiError> {
    let tenant = super::tenants::load(store, tenant_id).await?;
    let now = now_millis();
    let mut endpoint = Endpoint {
        id: IdKind::Endpoint.generate(),
        tenant_id: tenant.id.clone(),
        url: req.url,
        event_types: req.event_types,
        description: req.description,
        enabled: req.enabled.unwrap_or(true),
        secret: req
            .secret
            .map_or_else(Secret::generate, Secret::from_string),
        previous_secrets: Vec::new(),
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        settings: SettingsPatch {
            retry_schedule_seconds: req.retry_schedule_seconds,
            retry_on: req.retry_on,
            timeout_seconds: req.timeout_seconds,
            signature: req.signature,
            headers: req.headers,
        },
        created_at: now,
        updated_at: now,
    };
    validate(config, &tenant, &mut endpoint)?;
    match store.create_endpoint(&endpoint, tenant.max_endpoints).await {
        Ok(()) => Ok(endpoint),
        Err(StoreError::Conflict) => Err(ApiError::conflict(
            "endpoint_limit_reached",
            format!(
                "The tenant already has its maximum of {} endpoints.",
                tenant.max_endpoints
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Applies a patch; an endpoint enabled again resumes the deliveries its disabling ended.
pub async fn patch<S, Q>(
    store: &S,
    queue: &Q,
    config: &IngestConfig,
    tenant_id: &str,
    endpoint_id: &str,
    req: PatchEndpoint,
) -> Result<Endpoint, ApiError>
where
    S: TenantRead + EndpointRead + EndpointWrite + JobStore + ?Sized,
    Q: Enqueue + ?Sized,
{
    let tenant = super::tenants::load(store, tenant_id).await?;
    let existing = load(store, tenant_id, endpoint_id).await?;
    let mut endpoint = existing.clone();
    apply_patch(&mut endpoint, req);
    let re_enabled = endpoint.enabled && !existing.enabled;
    validate(config, &tenant, &mut endpoint)?;
    endpoint.updated_at = now_millis().max(existing.updated_at + 1);
    save(store, &endpoint, existing.updated_at).await?;
    if re_enabled {
        let since = existing.disabled_at.unwrap_or(existing.updated_at);
        let job = super::requeue::resume_disabled(store, queue, &endpoint, since).await?;
        tracing::info!(endpoint_id = %endpoint.id, job_id = %job.id, "endpoint re-enabled");
    }
    Ok(endpoint)
}

fn apply_patch(endpoint: &mut Endpoint, req: PatchEndpoint) {
    if let Some(url) = req.url {
        endpoint.url = url;
    }
    if let Some(types) = req.event_types {
        endpoint.event_types = types;
    }
    if let Some(d) = req.description {
        endpoint.description = d;
    }
    if let Some(e) = req.enabled {
        endpoint.enabled = e;
        if e {
            endpoint.disabled_reason = None;
            endpoint.disabled_at = None;
            endpoint.failing_since = None;
        }
    }
    let s = &mut endpoint.settings;
    if let Some(v) = req.retry_schedule_seconds {
        s.retry_schedule_seconds = v;
    }
    if let Some(v) = req.retry_on {
        s.retry_on = v;
    }
    if let Some(v) = req.timeout_seconds {
        s.timeout_seconds = v;
    }
    if let Some(v) = req.signature {
        s.signature = v;
    }
    if let Some(v) = req.headers {
        s.headers = v;
    }
}

/// A new secret; the old one keeps signing (Standard Webhooks carries both signatures) until
/// the grace period ends.
pub async fn rotate_secret<S: TenantRead + EndpointRead + EndpointWrite + ?Sized>(
    store: &S,
    config: &IngestConfig,
    tenant_id: &str,
    endpoint_id: &str,
    req: RotateSecret,
) -> Result<Endpoint, ApiError> {
    let grace = req.grace_period_seconds.unwrap_or(86_400);
    if grace > MAX_GRACE_SECONDS {
        return Err(ApiError::invalid(
            "grace_period_seconds",
            "must be at most 604800 (7 days)",
        ));
    }
    let tenant = super::tenants::load(store, tenant_id).await?;
    let existing = load(store, tenant_id, endpoint_id).await?;
    let now = now_millis();
    let mut endpoint = existing.clone();
    endpoint.secret = req
        .secret
        .map_or_else(Secret::generate, Secret::from_string);
    let mut previous: Vec<PreviousSecret> = Vec::new();
    if grace > 0 {
        previous.push(PreviousSecret {
            secret: existing.secret.clone(),
            expires_at: now + i64::from(grace) * 1000,
        });
    }
    previous.extend(
        existing
            .previous_secrets
            .iter()
            .filter(|p| p.expires_at > now)
            .cloned(),
    );
    if previous.len() > MAX_PREVIOUS_SECRETS {
        // Dropping one would end its grace period early: receivers still on it would fail.
        return Err(ApiError::conflict(
            "too_many_secrets",
            format!(
                "{MAX_PREVIOUS_SECRETS} rotated-out secrets are still in their grace period; \
                 rotate with \"grace_period_seconds\": 0 or wait until one expires."
            ),
        ));
    }
    endpoint.previous_secrets = previous;
    validate(config, &tenant, &mut endpoint)?;
    endpoint.updated_at = now.max(existing.updated_at + 1);
    save(store, &endpoint, existing.updated_at).await?;
    Ok(endpoint)
}

pub async fn delete<S: EndpointRead + EndpointWrite + ?Sized>(
    store: &S,
    tenant_id: &str,
    endpoint_id: &str,
) -> Result<(), ApiError> {
    load(store, tenant_id, endpoint_id).await?;
    match store.delete_endpoint(tenant_id, endpoint_id).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(ApiError::NotFound("endpoint")),
        Err(e) => Err(e.into()),
    }
}

/// A tenant's endpoints (404 for no such tenant).
pub async fn list<S: TenantRead + EndpointRead + ?Sized>(
    store: &S,
    tenant_id: &str,
) -> Result<Vec<Endpoint>, ApiError> {
    super::tenants::load(store, tenant_id).await?;
    Ok(store.list_endpoints(tenant_id).await?)
}

/// The endpoint, or 404.
pub async fn load<S: EndpointRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    endpoint_id: &str,
) -> Result<Endpoint, ApiError> {
    super::require_ids(tenant_id, IdKind::Endpoint, endpoint_id, "endpoint")?;
    store
        .get_endpoint(tenant_id, endpoint_id)
        .await?
        .ok_or(ApiError::NotFound("endpoint"))
}

async fn save<S: EndpointWrite + ?Sized>(
    store: &S,
    endpoint: &Endpoint,
    expected: i64,
) -> Result<(), ApiError> {
    match store.update_endpoint(endpoint, expected).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(ApiError::conflict(
            "conflict",
            "The endpoint changed or was deleted while this request ran; read it again.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Checks every field of an endpoint as it would be stored (normalising its URL), against the
/// tenant's rules and defaults.
fn validate(
    config: &IngestConfig,
    tenant: &Tenant,
    endpoint: &mut Endpoint,
) -> Result<(), ApiError> {
    let https_only = tenant.https_only || config.https_only;
    let url = check_receiver_url(&endpoint.url, https_only, &config.address_policy)
        .map_err(|e| ApiError::invalid("url", e.to_string()))?;
    refuse_own_host(&url, &config.own_hosts)
        .map_err(|e| ApiError::invalid("url", e.to_string()))?;
    endpoint.url = url.to_string();
    check_event_types(&endpoint.event_types)?;
    if endpoint
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        return Err(ApiError::invalid(
            "description",
            "must be at most 1024 characters",
        ));
    }
    endpoint
        .settings
        .validate("")
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    if !config.allow_credential_headers {
        endpoint
            .settings
            .refuse_credential_headers("")
            .map_err(|e| ApiError::invalid(e.field, e.message))?;
    }
    let resolved = DeliverySettings::defaults()
        .overlay(&tenant.defaults)
        .overlay(&endpoint.settings);
    resolved
        .validate()
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    Secret::validate(endpoint.secret.expose(), resolved.signature.is_standard())
        .map_err(|m| ApiError::invalid("secret", m))?;
    Ok(())
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
