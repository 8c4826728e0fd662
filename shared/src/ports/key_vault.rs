//! Where data keys come from, for envelope encryption of secrets at rest: a key service that
//! makes data keys and unwraps them again, only under the encryption context they were made
//! with. Adapters: [`crate::adapters::kms::KmsVault`] (AWS KMS, moto locally) and, for tests,
//! `crate::adapters::fixed_key::FixedKeyVault`.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretBox;

use crate::domain::envelope::{EncryptionContext, KEY_BYTES};

/// A plaintext data key; zeroed when the last holder drops it, never printed.
pub type PlainKey = Arc<SecretBox<[u8; KEY_BYTES]>>;

/// A new data key: in plaintext for this process, wrapped for the table.
#[derive(Debug, Clone)]
pub struct DataKey {
    pub plaintext: PlainKey,
    pub wrapped: Vec<u8>,
    /// The key service's key that wrapped it (an ARN for KMS).
    pub key_id: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum VaultError {
    /// The key service will not unwrap this key (wrong context, another key, damaged blob).
    #[error("key service refused the data key: {0}")]
    Refused(String),
    /// The key service could not be reached or refused the call; worth retrying later.
    #[error("key service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait KeyVault: Send + Sync {
    /// A fresh 256-bit data key, wrapped under `context`.
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, VaultError>;

    /// The data key inside `wrapped`; only under the context it was made with.
    async fn decrypt_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<PlainKey, VaultError>;
}
