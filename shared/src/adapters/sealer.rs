//! Seals and opens secrets for the table (envelope encryption over a [`KeyVault`]), keeping data
//! keys in memory for a bounded time so not every write or read calls the key service.
//!
//! Writes: one data key per owner (a tenant, or one endpoint), made by the key service under
//! the owner's encryption context and reused for [`DEFAULT_KEY_LIFETIME`]; every seal takes a
//! fresh nonce. Reads: an unwrapped data key is kept for the same time, looked up by owner and
//! wrapped bytes, so a cached key never opens another owner's secret. Both caches are bounded
//! ([`DEFAULT_KEY_CAPACITY`] keys each) and live as long as the process (one cold start).

use std::sync::Arc;
use std::time::Duration;

use mini_moka::sync::Cache;
use secrecy::ExposeSecret;

use crate::domain::envelope::{self, FORMAT_VERSION, OpenError, SealedSecret, SecretOwner};
use crate::domain::secret::Secret;
use crate::ports::key_vault::{DataKey, KeyVault, PlainKey, VaultError};

/// How long a data key is used (and an unwrapped one kept) before the key service is asked again.
pub const DEFAULT_KEY_LIFETIME: Duration = Duration::from_secs(300);
/// Data keys kept at most, per cache.
pub const DEFAULT_KEY_CAPACITY: u64 = 10_000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("secret could not be sealed")]
    Seal,
    #[error("sealed secret has format version {0}, this build reads {FORMAT_VERSION}")]
    Version(u32),
    #[error("opened secret is not UTF-8")]
    NotText,
}

#[derive(Clone)]
pub struct SecretSealer {
    vault: Arc<dyn KeyVault>,
    /// Data keys for sealing, by owner.
    write_keys: Cache<SecretOwner, DataKey>,
    /// Unwrapped data keys for opening, by owner and wrapped bytes.
    read_keys: Cache<(SecretOwner, Vec<u8>), PlainKey>,
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer")
    }
}

impl SecretSealer {
    pub fn new(vault: Arc<dyn KeyVault>) -> Self {
        Self::with_key_lifetime(vault, DEFAULT_KEY_LIFETIME)
    }

    /// A sealer for a function that never reads or writes a secret (the reconciler): it holds
    /// no key and refuses every seal and open, so such a function needs no KMS permission.
    pub fn without_keys() -> Self {
        Self::new(Arc::new(NoKeys))
    }

    /// A sealer whose data keys are used (and kept unwrapped) for `lifetime`.
    pub fn with_key_lifetime(vault: Arc<dyn KeyVault>, lifetime: Duration) -> Self {
        Self {
            vault,
            write_keys: Cache::builder()
                .time_to_live(lifetime)
                .max_capacity(DEFAULT_KEY_CAPACITY)
                .build(),
            read_keys: Cache::builder()
                .time_to_live(lifetime)
                .max_capacity(DEFAULT_KEY_CAPACITY)
                .build(),
        }
    }

    /// The secret encrypted under a data key bound to `owner`, with a fresh nonce.
    pub async fn seal(
        &self,
        secret: &Secret,
        owner: &SecretOwner,
    ) -> Result<SealedSecret, SealError> {
        let key = match self.write_keys.get(owner) {
            Some(key) => key,
            None => {
                let key = self.vault.generate_data_key(&owner.context()).await?;
                self.write_keys.insert(owner.clone(), key.clone());
                self.read_keys.insert(
                    (owner.clone(), key.wrapped.clone()),
                    Arc::clone(&key.plaintext),
                );
                key
            }
        };
        let nonce = envelope::fresh_nonce();
        let ciphertext = envelope::seal_with(
            key.plaintext.expose_secret(),
            &nonce,
            secret.expose().as_bytes(),
            &owner.associated_data(),
        )
        .map_err(|_| SealError::Seal)?;
        Ok(SealedSecret {
            key_id: key.key_id,
            wrapped_key: key.wrapped,
            nonce,
            ciphertext,
        })
    }

    /// The secret inside `sealed`, which must have been sealed for `owner`.
    pub async fn open(
        &self,
        sealed: &SealedSecret,
        owner: &SecretOwner,
    ) -> Result<Secret, SealError> {
        let cache_key = (owner.clone(), sealed.wrapped_key.clone());
        let key = match self.read_keys.get(&cache_key) {
            Some(key) => key,
            None => {
                let key = self
                    .vault
                    .decrypt_data_key(&sealed.wrapped_key, &owner.context())
                    .await?;
                self.read_keys.insert(cache_key, Arc::clone(&key));
                key
            }
        };
        let plain = envelope::open_with(
            key.expose_secret(),
            &sealed.nonce,
            &sealed.ciphertext,
            &owner.associated_data(),
        )?;
        String::from_utf8(plain)
            .map(Secret::from_string)
            .map_err(|_| SealError::NotText)
    }
}

/// The key vault of a function that handles no secrets: every call is refused.
struct NoKeys;

#[async_trait::async_trait]
impl KeyVault for NoKeys {
    async fn generate_data_key(
        &self,
        _: &crate::domain::envelope::EncryptionContext,
    ) -> Result<crate::ports::key_vault::DataKey, crate::ports::key_vault::VaultError> {
        Err(crate::ports::key_vault::VaultError::Refused(
            "this function handles no secrets".into(),
        ))
    }

    async fn decrypt_data_key(
        &self,
        _: &[u8],
        _: &crate::domain::envelope::EncryptionContext,
    ) -> Result<crate::ports::key_vault::PlainKey, crate::ports::key_vault::VaultError> {
        Err(crate::ports::key_vault::VaultError::Refused(
            "this function handles no secrets".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::fixed_key::FixedKeyVault;

    fn sealer(vault: &Arc<FixedKeyVault>) -> SecretSealer {
        SecretSealer::new(Arc::clone(vault) as Arc<dyn KeyVault>)
    }

    #[tokio::test]
    async fn seal_open_round_trip_with_fresh_nonces() {
        let vault = Arc::new(FixedKeyVault::test_key());
        let s = sealer(&vault);
        let owner = SecretOwner::endpoint("acme", "ep_1");
        let secret = Secret::generate();
        let a = s.seal(&secret, &owner).await.unwrap();
        let b = s.seal(&secret, &owner).await.unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(
            a.wrapped_key, b.wrapped_key,
            "one cached data key per owner"
        );
        assert_eq!(s.open(&a, &owner).await.unwrap(), secret);
        // A fresh process (no cache) opens it through the key service.
        assert_eq!(sealer(&vault).open(&b, &owner).await.unwrap(), secret);
    }

    #[tokio::test]
    async fn data_keys_are_cached_per_owner_for_their_lifetime() {
        let vault = Arc::new(FixedKeyVault::test_key());
        let s = sealer(&vault);
        let (ep1, ep2) = (
            SecretOwner::endpoint("acme", "ep_1"),
            SecretOwner::endpoint("acme", "ep_2"),
        );
        let secret = Secret::generate();
        for _ in 0..5 {
            let sealed = s.seal(&secret, &ep1).await.unwrap();
            s.open(&sealed, &ep1).await.unwrap();
        }
        assert_eq!(vault.calls(), (1, 0), "one GenerateDataKey, no Decrypt");
        let other = s.seal(&secret, &ep2).await.unwrap();
        assert_eq!(vault.calls(), (2, 0), "another owner, another data key");
        let reader = sealer(&vault);
        reader.open(&other, &ep2).await.unwrap();
        reader.open(&other, &ep2).await.unwrap();
        assert_eq!(vault.calls(), (2, 1), "one Decrypt, then cached");

        let short = SecretSealer::with_key_lifetime(
            Arc::clone(&vault) as Arc<dyn KeyVault>,
            Duration::from_millis(50),
        );
        short.seal(&secret, &ep1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        short.seal(&secret, &ep1).await.unwrap();
        assert_eq!(vault.calls(), (4, 1), "an expired data key is replaced");
    }

    #[tokio::test]
    async fn tampered_moved_or_other_key_does_not_open() {
        let vault = Arc::new(FixedKeyVault::test_key());
        let s = sealer(&vault);
        let owner = SecretOwner::endpoint("acme", "ep_1");
        let sealed = s.seal(&Secret::generate(), &owner).await.unwrap();

        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(matches!(
            s.open(&tampered, &owner).await,
            Err(SealError::Open(_))
        ));
        let mut bad_key = sealed.clone();
        bad_key.wrapped_key[20] ^= 1;
        assert!(matches!(
            sealer(&vault).open(&bad_key, &owner).await,
            Err(SealError::Vault(VaultError::Refused(_)))
        ));
        for moved in [
            SecretOwner::endpoint("acme", "ep_2"),
            SecretOwner::endpoint("evil", "ep_1"),
            SecretOwner::tenant("acme"),
        ] {
            // With the writer's cache and without it: neither opens it for another item.
            assert!(s.open(&sealed, &moved).await.is_err());
            assert!(matches!(
                sealer(&vault).open(&sealed, &moved).await,
                Err(SealError::Vault(VaultError::Refused(_)))
            ));
        }
        let other_vault = Arc::new(FixedKeyVault::new([9; 32]));
        assert!(matches!(
            sealer(&other_vault).open(&sealed, &owner).await,
            Err(SealError::Vault(VaultError::Refused(_)))
        ));
    }
}
