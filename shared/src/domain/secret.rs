//! Endpoint signing secrets. The value never shows in `Debug` output or logs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const WHSEC_PREFIX: &str = "whsec_";
/// Standard Webhooks recommends 24 to 64 bytes of key material.
const MIN_KEY_BYTES: usize = 24;
const MAX_KEY_BYTES: usize = 64;

/// A signing secret as the endpoint owner sees it: `whsec_<base64>` for Standard Webhooks, or any
/// printable string for the schemes that use the secret's UTF-8 bytes or send it as a header.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// A new `whsec_` secret with 24 random bytes.
    pub fn generate() -> Self {
        let mut bytes = [0u8; MIN_KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_string(format!("{WHSEC_PREFIX}{}", STANDARD.encode(bytes)))
    }

    pub fn from_string(s: String) -> Self {
        Self(SecretString::from(s))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The HMAC key of the Standard Webhooks scheme: the base64-decoded part after `whsec_`.
    pub fn standard_key(&self) -> Option<Vec<u8>> {
        let encoded = self.expose().strip_prefix(WHSEC_PREFIX)?;
        STANDARD.decode(encoded).ok()
    }

    /// Checks a caller-supplied secret. `standard` = the endpoint signs with Standard Webhooks,
    /// which needs a `whsec_` secret holding 24 to 64 bytes.
    pub fn validate(s: &str, standard: bool) -> Result<(), &'static str> {
        if standard || s.starts_with(WHSEC_PREFIX) {
            let key = s
                .strip_prefix(WHSEC_PREFIX)
                .and_then(|b| STANDARD.decode(b).ok())
                .ok_or("must be `whsec_` followed by base64")?;
            if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
                return Err("must hold 24 to 64 bytes after `whsec_`");
            }
            return Ok(());
        }
        if !(16..=256).contains(&s.len()) {
            return Err("must be 16 to 256 characters");
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces");
        }
        Ok(())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_whsec_with_24_bytes() {
        let s = Secret::generate();
        assert!(s.expose().starts_with(WHSEC_PREFIX));
        assert_eq!(s.standard_key().map(|k| k.len()), Some(24));
        assert!(Secret::validate(s.expose(), true).is_ok());
        assert_ne!(Secret::generate(), s);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::from_string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        assert!(!format!("{s:?}").contains("MfKQ9"));
    }

    #[test]
    fn validation() {
        assert!(Secret::validate("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true).is_ok());
        assert!(
            Secret::validate("whsec_dG9vc2hvcnQ=", true).is_err(),
            "too short"
        );
        assert!(Secret::validate("whsec_!!!", true).is_err());
        assert!(Secret::validate("plain-shared-secret-123", true).is_err());
        assert!(Secret::validate("plain-shared-secret-123", false).is_ok());
        assert!(Secret::validate("short", false).is_err());
        assert!(Secret::validate("has a space in it, sorry", false).is_err());
    }
}
