//! `POST /v1/tenants/{tenant_id}/api-keys` and `DELETE .../api-keys/{key_id}` (admin key only).
//! A key is shown once; only its SHA-256 is stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use shared::domain::clock::{now_millis, rfc3339};
use shared::domain::ids::IdKind;
use shared::domain::model::ApiKeyRecord;
use shared::ports::{Redrive, StoreError};

use super::tenants::load as load_tenant;
use crate::app::{App, Principal, Queue, Store, admin_only};
use crate::error::ApiError;
use crate::http::ApiResponse;

/// Tenant keys start with this, so a leaked one is recognisable (secret scanners).
pub const KEY_PREFIX: &str = "hrk_";

pub async fn create<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    who: &Principal,
    tenant_id: &str,
) -> Result<ApiResponse, ApiError> {
    admin_only(who, Some(tenant_id))?;
    let tenant = load_tenant(app, tenant_id).await?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let record = ApiKeyRecord {
        id: IdKind::ApiKey.generate(),
        tenant_id: tenant.id,
        key_sha256: hex::encode(Sha256::digest(key.as_bytes())),
        created_at: now_millis(),
    };
    app.store.put_api_key(&record).await?;
    Ok(ApiResponse::json(
        201,
        &super::views::ApiKeyCreated {
            id: record.id,
            key,
            tenant_id: record.tenant_id,
            created_at: rfc3339(record.created_at),
        },
    ))
}

pub async fn delete<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    who: &Principal,
    tenant_id: &str,
    key_id: &str,
) -> Result<ApiResponse, ApiError> {
    admin_only(who, Some(tenant_id))?;
    super::require_ids(tenant_id, IdKind::ApiKey, key_id, "API key")?;
    match app.store.delete_api_key(tenant_id, key_id).await {
        Ok(()) => Ok(ApiResponse::empty(204)),
        Err(StoreError::Conflict) => Err(ApiError::not_found("API key")),
        Err(e) => Err(e.into()),
    }
}
