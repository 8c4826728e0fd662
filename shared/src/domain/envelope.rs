//! Envelope encryption of secrets at rest, the pure part: a secret is sealed with AES-256-GCM
//! under a data key, with a fresh random 96-bit nonce per seal; the data key is kept only in
//! its wrapped form (wrapped by the key service, KMS in AWS). The [`SecretOwner`] names the item
//! a secret belongs to: it is both the key service's encryption context and the AES-GCM
//! associated data, so a sealed secret copied into another item (another tenant, another
//! endpoint) does not open.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;

/// AES-256 data keys.
pub const KEY_BYTES: usize = 32;
/// AES-GCM's 96-bit nonce.
pub const NONCE_BYTES: usize = 12;
/// The version of the sealed form; stored with every sealed secret.
pub const FORMAT_VERSION: u32 = 1;
/// The `service` entry of every encryption context (the IAM policies require it).
pub const SERVICE: &str = "hookrelay";

/// A key service's encryption context: names and values, kept sorted.
pub type EncryptionContext = BTreeMap<String, String>;

/// The item a secret belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretOwner {
    /// A tenant's `signing_secret`.
    Tenant { tenant_id: String },
    /// An endpoint's current and rotated-out secrets.
    Endpoint {
        tenant_id: String,
        endpoint_id: String,
    },
}

impl SecretOwner {
    pub fn tenant(tenant_id: &str) -> Self {
        Self::Tenant {
            tenant_id: tenant_id.to_owned(),
        }
    }

    pub fn endpoint(tenant_id: &str, endpoint_id: &str) -> Self {
        Self::Endpoint {
            tenant_id: tenant_id.to_owned(),
            endpoint_id: endpoint_id.to_owned(),
        }
    }

    /// `{"service": "hookrelay", "tenant": ..}`, plus `"endpoint"` for an endpoint's secrets.
    pub fn context(&self) -> EncryptionContext {
        let mut context = EncryptionContext::new();
        context.insert("service".into(), SERVICE.into());
        match self {
            Self::Tenant { tenant_id } => {
                context.insert("tenant".into(), tenant_id.clone());
            }
            Self::Endpoint {
                tenant_id,
                endpoint_id,
            } => {
                context.insert("tenant".into(), tenant_id.clone());
                context.insert("endpoint".into(), endpoint_id.clone());
            }
        }
        context
    }

    /// The AES-GCM associated data: the format version and the context, each name and value
    /// length-prefixed, so no two contexts share a byte string.
    pub fn associated_data(&self) -> Vec<u8> {
        context_bytes(&self.context())
    }
}

/// A context as unambiguous bytes (also the fixed test key's associated data).
pub fn context_bytes(context: &EncryptionContext) -> Vec<u8> {
    let mut out = format!("hookrelay-secret-v{FORMAT_VERSION}").into_bytes();
    for (name, value) in context {
        for part in [name, value] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

/// A secret as stored: nothing in it reveals the secret without the key service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The key service's key that wrapped the data key (an ARN for KMS).
    pub key_id: String,
    /// The data key, wrapped by the key service under the owner's encryption context.
    pub wrapped_key: Vec<u8>,
    pub nonce: [u8; NONCE_BYTES],
    /// AES-256-GCM ciphertext followed by its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// Opening failed: the ciphertext, nonce, key or owner is not the one it was sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sealed secret does not open (tampered, moved to another item, or another key)")]
pub struct OpenError;

/// Encryption failed (only for plaintexts over 64 GiB; secrets are a few hundred bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("secret could not be sealed")]
pub struct SealFailed;

/// A fresh random nonce.
pub fn fresh_nonce() -> [u8; NONCE_BYTES] {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    nonce
}

/// Encrypts `plaintext` under `key` with `nonce`, authenticating `aad` too.
pub fn seal_with(
    key: &[u8; KEY_BYTES],
    nonce: &[u8; NONCE_BYTES],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, SealFailed> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| SealFailed)
}

/// Decrypts and authenticates what [`seal_with`] made.
pub fn open_with(
    key: &[u8; KEY_BYTES],
    nonce: &[u8; NONCE_BYTES],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, OpenError> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; KEY_BYTES] = [7; KEY_BYTES];

    #[test]
    fn seal_then_open() {
        let aad = SecretOwner::endpoint("acme", "ep_1").associated_data();
        let nonce = fresh_nonce();
        let sealed = seal_with(&KEY, &nonce, b"whsec_abc", &aad).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"));
        assert_eq!(sealed.len(), 9 + 16, "ciphertext + tag");
        assert_eq!(
            open_with(&KEY, &nonce, &sealed, &aad).unwrap(),
            b"whsec_abc"
        );
    }

    #[test]
    fn tampered_ciphertext_nonce_wrong_key_or_owner_fail() {
        let aad = SecretOwner::endpoint("acme", "ep_1").associated_data();
        let nonce = fresh_nonce();
        let sealed = seal_with(&KEY, &nonce, b"whsec_abc", &aad).unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert_eq!(open_with(&KEY, &nonce, &tampered, &aad), Err(OpenError));
        }
        let mut other_nonce = nonce;
        other_nonce[0] ^= 1;
        assert_eq!(open_with(&KEY, &other_nonce, &sealed, &aad), Err(OpenError));
        assert_eq!(
            open_with(&[8; KEY_BYTES], &nonce, &sealed, &aad),
            Err(OpenError)
        );
        for other in [
            SecretOwner::endpoint("acme", "ep_2"),
            SecretOwner::endpoint("other", "ep_1"),
            SecretOwner::tenant("acme"),
        ] {
            let aad = other.associated_data();
            assert_eq!(open_with(&KEY, &nonce, &sealed, &aad), Err(OpenError));
        }
    }

    #[test]
    fn nonces_are_fresh() {
        assert_ne!(fresh_nonce(), fresh_nonce());
    }

    #[test]
    fn contexts_name_the_item_and_never_collide() {
        let ep = SecretOwner::endpoint("acme", "ep_1").context();
        assert_eq!(ep.get("service").map(String::as_str), Some("hookrelay"));
        assert_eq!(ep.get("tenant").map(String::as_str), Some("acme"));
        assert_eq!(ep.get("endpoint").map(String::as_str), Some("ep_1"));
        assert!(
            !SecretOwner::tenant("acme")
                .context()
                .contains_key("endpoint")
        );
        // Length prefixes: moving characters between tenant and endpoint changes the bytes.
        assert_ne!(
            SecretOwner::endpoint("ab", "c").associated_data(),
            SecretOwner::endpoint("a", "bc").associated_data()
        );
    }
}
