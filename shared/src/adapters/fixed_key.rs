//! A key service for unit tests: data keys are wrapped with AES-256-GCM under one fixed key,
//! the encryption context as associated data (as KMS binds it). It counts its calls so tests can
//! see the sealer's cache at work. Never for deployed code: the key is in the source.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};

use crate::domain::envelope::{
    self, EncryptionContext, KEY_BYTES, NONCE_BYTES, context_bytes, fresh_nonce,
};
use crate::ports::key_vault::{DataKey, KeyVault, PlainKey, VaultError};

/// The fixed test key; it protects nothing.
const TEST_KEY: [u8; KEY_BYTES] = *b"hookrelay-fixed-test-key-32bytes";

pub struct FixedKeyVault {
    key: SecretBox<[u8; KEY_BYTES]>,
    generated: AtomicUsize,
    decrypted: AtomicUsize,
}

impl FixedKeyVault {
    pub fn new(key: [u8; KEY_BYTES]) -> Self {
        Self {
            key: SecretBox::new(Box::new(key)),
            generated: AtomicUsize::new(0),
            decrypted: AtomicUsize::new(0),
        }
    }

    pub fn test_key() -> Self {
        Self::new(TEST_KEY)
    }

    /// Calls so far: (generate_data_key, decrypt_data_key).
    pub fn calls(&self) -> (usize, usize) {
        (
            self.generated.load(Ordering::Relaxed),
            self.decrypted.load(Ordering::Relaxed),
        )
    }

    fn key_id(&self) -> String {
        "fixed-test-key".to_owned()
    }
}

#[async_trait]
impl KeyVault for FixedKeyVault {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, VaultError> {
        self.generated.fetch_add(1, Ordering::Relaxed);
        let mut plain = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut plain);
        let nonce = fresh_nonce();
        let sealed = envelope::seal_with(
            self.key.expose_secret(),
            &nonce,
            &plain,
            &context_bytes(context),
        )
        .map_err(|e| VaultError::Refused(e.to_string()))?;
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&sealed);
        Ok(DataKey {
            plaintext: Arc::new(SecretBox::new(Box::new(plain))),
            wrapped,
            key_id: self.key_id(),
        })
    }

    async fn decrypt_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<PlainKey, VaultError> {
        self.decrypted.fetch_add(1, Ordering::Relaxed);
        let refused = || VaultError::Refused("data key does not open under this context".into());
        let (nonce, sealed) = wrapped.split_at_checked(NONCE_BYTES).ok_or_else(refused)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| refused())?;
        let plain = envelope::open_with(
            self.key.expose_secret(),
            &nonce,
            sealed,
            &context_bytes(context),
        )
        .map_err(|_| refused())?;
        let key: [u8; KEY_BYTES] = plain.as_slice().try_into().map_err(|_| refused())?;
        Ok(Arc::new(SecretBox::new(Box::new(key))))
    }
}
