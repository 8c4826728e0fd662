//! Authentication as extractors: a handler names who may call it in its signature
//! ([`Admin`], [`AdminOf`], [`TenantAccess`]) and cannot forget to check.
//! Missing or wrong key → 401; a tenant key on another tenant → 404 (never reveal existence);
//! a tenant key on an admin-only route of its own tenant → 403.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The deployment's admin key: every route.
    Admin,
    /// A tenant API key: that tenant's resources only.
    Tenant(String),
}

impl Principal {
    async fn of(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let presented = hex::encode(Sha256::digest(key.as_bytes()));
        let expected = state.config.admin_key_sha256.expose_secret();
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Self::Admin);
        }
        match state.store.find_api_key(&presented).await? {
            // A portal session past its end is refused (the table's TTL deletes it later).
            Some(record) if record.is_live(shared::domain::clock::now_millis()) => {
                Ok(Self::Tenant(record.tenant_id))
            }
            _ => Err(ApiError::Unauthorized),
        }
    }

    /// Whether this caller may act on `tenant_id`: another tenant's resources are answered as
    /// if they did not exist.
    fn may_access(&self, tenant_id: &str) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Tenant(own) if own == tenant_id => Ok(()),
            Self::Tenant(_) => Err(ApiError::NotFound("tenant")),
        }
    }
}

/// The token of an `Authorization: Bearer <key>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The `{tenant_id}` of the matched path.
async fn path_tenant(parts: &mut Parts, state: &AppState) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound("tenant"))?;
    params
        .iter()
        .find(|(name, _)| *name == "tenant_id")
        .map(|(_, value)| value.to_owned())
        .ok_or(ApiError::NotFound("tenant"))
}

/// Any valid key: the admin key, a tenant key or a portal session (routes outside any tenant
/// that every caller may read).
#[derive(Debug)]
pub struct AnyKey(pub Principal);

impl FromRequestParts<AppState> for AnyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Principal::of(parts, state).await.map(Self)
    }
}

/// The admin key, on a route outside any tenant.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::of(parts, state).await? {
            Principal::Admin => Ok(Self),
            Principal::Tenant(_) => Err(ApiError::Forbidden),
        }
    }
}

/// The admin key, on an admin-only route under `/v1/tenants/{tenant_id}`.
#[derive(Debug)]
pub struct AdminOf {
    pub tenant_id: String,
}

impl FromRequestParts<AppState> for AdminOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::of(parts, state).await?;
        let tenant_id = path_tenant(parts, state).await?;
        principal.may_access(&tenant_id)?;
        match principal {
            Principal::Admin => Ok(Self { tenant_id }),
            Principal::Tenant(_) => Err(ApiError::Forbidden),
        }
    }
}

/// Any key that may act on the path's tenant: the admin key, or that tenant's own key.
#[derive(Debug)]
pub struct TenantAccess {
    pub tenant_id: String,
}

impl FromRequestParts<AppState> for TenantAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::of(parts, state).await?;
        let tenant_id = path_tenant(parts, state).await?;
        principal.may_access(&tenant_id)?;
        Ok(Self { tenant_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer ", None),
            ("Bearer", None),
        ] {
            h.insert(
                axum::http::header::AUTHORIZATION,
                axum::http::HeaderValue::from_static(value),
            );
            assert_eq!(bearer(&h), token, "{value}");
        }
    }
}
