//! AWS KMS as the key service of envelope encryption: `GenerateDataKey` (AES-256) and `Decrypt`,
//! both with the owner's encryption context and pinned to one key (`SECRETS_KEY_ID`). Locally and
//! in tests the same code talks to moto's KMS.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use secrecy::SecretBox;

use crate::domain::envelope::{EncryptionContext, KEY_BYTES};
use crate::ports::key_vault::{DataKey, KeyVault, PlainKey, VaultError};

#[derive(Debug, Clone)]
pub struct KmsVault {
    client: Client,
    key_id: String,
}

impl KmsVault {
    /// `key_id`: the key's id, ARN or alias; every data key is made and unwrapped with it only.
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }

    /// A vault with a client built from the shared AWS configuration.
    pub fn from_config(aws: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        Self::new(Client::new(aws), key_id)
    }
}

fn context_map(context: &EncryptionContext) -> HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A plaintext data key from KMS; anything but 32 bytes is refused.
fn plain_key(bytes: Option<&Blob>) -> Result<PlainKey, VaultError> {
    let key: [u8; KEY_BYTES] = bytes
        .map(Blob::as_ref)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VaultError::Refused("KMS returned no 256-bit data key".into()))?;
    Ok(Arc::new(SecretBox::new(Box::new(key))))
}

/// A ciphertext KMS will not open (wrong context, another key, damaged) is refused for good;
/// anything else (throttling, network, permissions, a disabled key) may pass.
fn map_err<E, R>(err: SdkError<E, R>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    match code {
        "InvalidCiphertextException" | "IncorrectKeyException" => {
            VaultError::Refused(code.to_owned())
        }
        "" => VaultError::Unavailable(aws_sdk_kms::error::DisplayErrorContext(&err).to_string()),
        _ => {
            let message = err
                .as_service_error()
                .and_then(|e| e.message())
                .unwrap_or("");
            VaultError::Unavailable(format!("{code}: {message}"))
        }
    }
}

#[async_trait]
impl KeyVault for KmsVault {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, VaultError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(map_err)?;
        let wrapped = out
            .ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| VaultError::Refused("KMS returned no wrapped data key".into()))?;
        Ok(DataKey {
            plaintext: plain_key(out.plaintext())?,
            wrapped,
            key_id: out.key_id().unwrap_or(&self.key_id).to_owned(),
        })
    }

    async fn decrypt_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<PlainKey, VaultError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(map_err)?;
        plain_key(out.plaintext())
    }
}
