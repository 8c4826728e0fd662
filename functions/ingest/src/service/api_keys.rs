//! Tenant API keys: shown once; only their SHA-256 is stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use shared::domain::clock::now_millis;
use shared::domain::ids::IdKind;
use shared::domain::model::ApiKeyRecord;
use shared::ports::{ApiKeys, StoreError, TenantRead};

use crate::error::ApiError;

/// Tenant keys start with this, so a leaked one is recognisable (secret scanners).
pub const KEY_PREFIX: &str = "hrk_";

/// A new key for an existing tenant: the stored record and the key itself (shown once).
pub async fn create<S: TenantRead + ApiKeys + ?Sized>(
    store: &S,
    tenant_id: &str,
) -> Result<(ApiKeyRecord, String), ApiError> {
    let tenant = super::tenants::load(store, tenant_id).await?;
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
        expires_at: None,
    };
    store.put_api_key(&record).await?;
    Ok((record, key))
}

/// Revokes a key; 404 when the tenant has no such key.
pub async fn delete<S: ApiKeys + ?Sized>(
    store: &S,
    tenant_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    super::require_ids(tenant_id, IdKind::ApiKey, key_id, "API key")?;
    match store.delete_api_key(tenant_id, key_id).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(ApiError::NotFound("API key")),
        Err(e) => Err(e.into()),
    }
}
