//! Delivery settings: retry schedule, which failures are retried, timeout, signature scheme and
//! extra headers. Deployment defaults come from `defaults.json` (embedded, so documented and real
//! defaults cannot drift); a tenant's `defaults` and an endpoint's overrides are patches on top.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::headers::{CREDENTIAL_HEADERS, RESERVED_HEADERS};
use super::headers::{check_header_name, is_credential_header, is_reserved};

const DEFAULTS_JSON: &str = include_str!("../../defaults.json");

/// At most this many retries (attempts = 1 + retries).
pub const MAX_RETRIES: usize = 20;
/// One retry delay at most: a day.
pub const MAX_DELAY_SECONDS: u32 = 86_400;
/// The whole schedule fits well inside SQS's 14-day retention.
pub const MAX_SCHEDULE_TOTAL_SECONDS: u64 = 7 * 86_400;
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=30;
const MAX_HEADERS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// Every failed attempt is retried.
    AllFailures,
    /// Only 5xx, 408, 429, timeouts and network errors are retried.
    TransientFailures,
}

/// How a delivery is signed. See API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SignatureScheme {
    StandardWebhooks,
    HmacSha256Hex {
        header: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    SecretHeader {
        header: String,
    },
    None {},
}

impl SignatureScheme {
    /// The header this scheme writes, when it is a caller-chosen one.
    pub fn custom_header(&self) -> Option<&str> {
        match self {
            Self::HmacSha256Hex { header, .. } | Self::SecretHeader { header } => Some(header),
            Self::StandardWebhooks | Self::None {} => None,
        }
    }

    pub fn is_standard(&self) -> bool {
        matches!(self, Self::StandardWebhooks)
    }
}

/// Fully resolved settings of one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySettings {
    pub retry_schedule_seconds: Vec<u32>,
    pub retry_on: RetryOn,
    pub timeout_seconds: u32,
    pub signature: SignatureScheme,
    pub headers: BTreeMap<String, String>,
}

/// A partial set of settings (tenant defaults, endpoint overrides); absent fields inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_schedule_seconds: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<RetryOn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureScheme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// A setting that is out of bounds: the JSON field and a sentence for the API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError {
        field: field.into(),
        message: message.into(),
    }
}

impl DeliverySettings {
    /// The deployment defaults from the embedded `defaults.json`, parsed once. The values live
    /// in that file only; [`Self::check_embedded_defaults`] runs at each function's cold start
    /// (and in the tests), so a broken file stops a deployment before any request reaches it.
    pub fn defaults() -> Self {
        static DEFAULTS: std::sync::LazyLock<DeliverySettings> = std::sync::LazyLock::new(|| {
            #[allow(clippy::expect_used)]
            // compile-time content, checked at cold start and in tests
            DeliverySettings::check_embedded_defaults().expect("embedded defaults.json is valid")
        });
        DEFAULTS.clone()
    }

    /// Parses and validates the embedded `defaults.json`.
    pub fn check_embedded_defaults() -> Result<Self, SettingsError> {
        let parsed: Self =
            serde_json::from_str(DEFAULTS_JSON).map_err(|e| err("defaults.json", e.to_string()))?;
        parsed.validate()?;
        Ok(parsed)
    }

    /// These settings with `patch` laid over them.
    pub fn overlay(&self, patch: &SettingsPatch) -> Self {
        Self {
            retry_schedule_seconds: patch
                .retry_schedule_seconds
                .clone()
                .unwrap_or_else(|| self.retry_schedule_seconds.clone()),
            retry_on: patch.retry_on.unwrap_or(self.retry_on),
            timeout_seconds: patch.timeout_seconds.unwrap_or(self.timeout_seconds),
            signature: patch
                .signature
                .clone()
                .unwrap_or_else(|| self.signature.clone()),
            headers: patch
                .headers
                .clone()
                .unwrap_or_else(|| self.headers.clone()),
        }
    }

    /// Number of attempts the schedule allows (the first one plus one per delay).
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.retry_schedule_seconds.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Checks the combination (a custom header must not collide with the signature header).
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(sig_header) = self.signature.custom_header()
            && self
                .headers
                .keys()
                .any(|h| h.eq_ignore_ascii_case(sig_header))
        {
            return Err(err(
                "headers",
                format!("`{sig_header}` is written by the signature scheme"),
            ));
        }
        Ok(())
    }
}

impl SettingsPatch {
    /// Refuses credential headers ([`CREDENTIAL_HEADERS`]) in `headers` and as the signature
    /// scheme's header, for deployments that do not allow them.
    pub fn refuse_credential_headers(&self, prefix: &str) -> Result<(), SettingsError> {
        let message = |name: &str| {
            format!(
                "`{name}` carries credentials; this deployment does not send credential headers \
                 (ALLOW_CREDENTIAL_HEADERS)"
            )
        };
        if let Some(h) = self
            .signature
            .as_ref()
            .and_then(SignatureScheme::custom_header)
            && is_credential_header(h)
        {
            return Err(err(format!("{prefix}signature.header"), message(h)));
        }
        if let Some(name) = self
            .headers
            .iter()
            .flat_map(BTreeMap::keys)
            .find(|name| is_credential_header(name))
        {
            return Err(err(format!("{prefix}headers.{name}"), message(name)));
        }
        Ok(())
    }

    /// Checks each present field on its own. `prefix` is the JSON path of the patch (e.g.
    /// `defaults.` for a tenant, empty for an endpoint body).
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        if let Some(schedule) = &self.retry_schedule_seconds {
            let field = format!("{prefix}retry_schedule_seconds");
            if schedule.len() > MAX_RETRIES {
                return Err(err(
                    field,
                    format!("must have at most {MAX_RETRIES} delays"),
                ));
            }
            if let Some(i) = schedule.iter().position(|d| *d > MAX_DELAY_SECONDS) {
                return Err(err(
                    format!("{field}[{i}]"),
                    "must be at most 86400 seconds",
                ));
            }
            let total: u64 = schedule.iter().map(|d| u64::from(*d)).sum();
            if total > MAX_SCHEDULE_TOTAL_SECONDS {
                return Err(err(field, "must add up to at most 7 days"));
            }
        }
        if let Some(t) = self.timeout_seconds
            && !TIMEOUT_RANGE.contains(&t)
        {
            return Err(err(
                format!("{prefix}timeout_seconds"),
                "must be from 1 to 30",
            ));
        }
        if let Some(sig) = &self.signature {
            if let Some(h) = sig.custom_header() {
                let field = format!("{prefix}signature.header");
                check_header_name(h).map_err(|m| err(field.clone(), m))?;
                if is_reserved(h) {
                    return Err(err(field, format!("`{h}` is set by the service")));
                }
            }
            if let SignatureScheme::HmacSha256Hex {
                prefix: Some(p), ..
            } = sig
                && (p.len() > 64 || http::HeaderValue::from_str(p).is_err())
            {
                return Err(err(
                    format!("{prefix}signature.prefix"),
                    "must be at most 64 visible characters",
                ));
            }
        }
        if let Some(headers) = &self.headers {
            if headers.len() > MAX_HEADERS {
                return Err(err(
                    format!("{prefix}headers"),
                    "must have at most 20 headers",
                ));
            }
            for (name, value) in headers {
                let field = format!("{prefix}headers.{name}");
                check_header_name(name).map_err(|m| err(field.clone(), m))?;
                if is_reserved(name) {
                    return Err(err(field, format!("`{name}` is set by the service")));
                }
                if value.len() > 4096 || http::HeaderValue::from_str(value).is_err() {
                    return Err(err(
                        field,
                        "must be a valid header value of at most 4096 bytes",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_are_the_documented_ones() {
        let raw: DeliverySettings = serde_json::from_str(DEFAULTS_JSON).unwrap();
        let d = DeliverySettings::defaults();
        assert_eq!(raw, d);
        assert_eq!(
            d.retry_schedule_seconds,
            [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
        );
        assert_eq!(d.max_attempts(), 10);
        assert_eq!(d.timeout_seconds, 15);
        assert_eq!(d.retry_on, RetryOn::AllFailures);
        assert_eq!(d.signature, SignatureScheme::StandardWebhooks);
        assert!(
            SettingsPatch {
                retry_schedule_seconds: Some(d.retry_schedule_seconds.clone()),
                ..Default::default()
            }
            .validate("")
            .is_ok()
        );
    }

    #[test]
    fn overlay_takes_present_fields_only() {
        let base = DeliverySettings::defaults();
        let tenant: SettingsPatch = serde_json::from_str(r#"{"timeout_seconds": 10}"#).unwrap();
        let endpoint: SettingsPatch =
            serde_json::from_str(r#"{"retry_schedule_seconds": [1, 3]}"#).unwrap();
        let s = base.overlay(&tenant).overlay(&endpoint);
        assert_eq!(s.timeout_seconds, 10);
        assert_eq!(s.retry_schedule_seconds, [1, 3]);
        assert_eq!(s.max_attempts(), 3);
        assert_eq!(s.signature, SignatureScheme::StandardWebhooks);
        let none: SettingsPatch =
            serde_json::from_str(r#"{"retry_schedule_seconds": []}"#).unwrap();
        assert_eq!(base.overlay(&none).max_attempts(), 1);
    }

    #[test]
    fn scheme_json_shapes() {
        let s: SignatureScheme = serde_json::from_str(
            r#"{"scheme":"hmac-sha256-hex","header":"Ittybit-Signature","prefix":"sha256="}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            SignatureScheme::HmacSha256Hex {
                header: "Ittybit-Signature".into(),
                prefix: Some("sha256=".into())
            }
        );
        let s: SignatureScheme =
            serde_json::from_str(r#"{"scheme":"secret-header","header":"X-Webhook-Secret"}"#)
                .unwrap();
        assert_eq!(s.custom_header(), Some("X-Webhook-Secret"));
        assert!(serde_json::from_str::<SignatureScheme>(r#"{"scheme":"md5"}"#).is_err());
        assert!(serde_json::from_str::<SignatureScheme>(r#"{"scheme":"secret-header"}"#).is_err());
        assert!(serde_json::from_str::<SignatureScheme>(r#"{"scheme":"none","x":1}"#).is_err());
    }

    #[test]
    fn patch_validation_table() {
        let cases = [
            (
                r#"{"retry_schedule_seconds": [86401]}"#,
                Some("retry_schedule_seconds[0]"),
            ),
            (
                r#"{"retry_schedule_seconds": [86400, 86400, 86400, 86400, 86400, 86400, 86400, 1]}"#,
                Some("retry_schedule_seconds"),
            ),
            (
                r#"{"retry_schedule_seconds": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}"#,
                Some("retry_schedule_seconds"),
            ),
            (r#"{"timeout_seconds": 0}"#, Some("timeout_seconds")),
            (r#"{"timeout_seconds": 31}"#, Some("timeout_seconds")),
            (r#"{"timeout_seconds": 30}"#, None),
            (r#"{"headers": {"X-Custom": "v"}}"#, None),
            (
                r#"{"headers": {"Webhook-Signature": "forged"}}"#,
                Some("headers.Webhook-Signature"),
            ),
            (
                r#"{"headers": {"content-type": "text/plain"}}"#,
                Some("headers.content-type"),
            ),
            (
                r#"{"headers": {"bad header": "v"}}"#,
                Some("headers.bad header"),
            ),
            (
                r#"{"headers": {"X-A": "line\nbreak"}}"#,
                Some("headers.X-A"),
            ),
            (
                r#"{"signature": {"scheme": "secret-header", "header": "user-agent"}}"#,
                Some("signature.header"),
            ),
            (
                r#"{"signature": {"scheme": "hmac-sha256-hex", "header": "Ittybit-Signature"}}"#,
                None,
            ),
        ];
        for (json, field) in cases {
            let patch: SettingsPatch = serde_json::from_str(json).unwrap();
            assert_eq!(
                patch.validate("").err().map(|e| e.field),
                field.map(String::from),
                "{json}"
            );
        }
        let patch: SettingsPatch = serde_json::from_str(r#"{"timeout_seconds": 99}"#).unwrap();
        assert_eq!(
            patch.validate("defaults.").unwrap_err().field,
            "defaults.timeout_seconds"
        );
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"retry_schedule": [1]}"#).is_err());
    }

    #[test]
    fn credential_headers_are_refused_in_any_case() {
        for (json, field) in [
            (
                r#"{"headers": {"Authorization": "Bearer k"}}"#,
                Some("headers.Authorization"),
            ),
            (
                r#"{"headers": {"aUtHoRiZaTiOn": "Bearer k"}}"#,
                Some("headers.aUtHoRiZaTiOn"),
            ),
            (
                r#"{"headers": {"Proxy-Authorization": "x"}}"#,
                Some("headers.Proxy-Authorization"),
            ),
            (r#"{"headers": {"Cookie": "s=1"}}"#, Some("headers.Cookie")),
            (
                r#"{"headers": {"X-Api-Key": "k"}}"#,
                Some("headers.X-Api-Key"),
            ),
            (
                r#"{"headers": {"X-Amz-Security-Token": "t"}}"#,
                Some("headers.X-Amz-Security-Token"),
            ),
            (
                r#"{"signature": {"scheme": "secret-header", "header": "Authorization"}}"#,
                Some("signature.header"),
            ),
            (r#"{"headers": {"X-Custom": "v"}}"#, None),
            (
                r#"{"signature": {"scheme": "secret-header", "header": "X-Webhook-Secret"}}"#,
                None,
            ),
            ("{}", None),
        ] {
            let patch: SettingsPatch = serde_json::from_str(json).unwrap();
            assert!(patch.validate("").is_ok(), "{json}: well-formed either way");
            assert_eq!(
                patch.refuse_credential_headers("").err().map(|e| e.field),
                field.map(String::from),
                "{json}"
            );
        }
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"headers": {"authorization": "Bearer k"}}"#).unwrap();
        assert_eq!(
            patch
                .refuse_credential_headers("defaults.")
                .unwrap_err()
                .field,
            "defaults.headers.authorization"
        );
    }

    #[test]
    fn custom_header_must_not_collide_with_signature_header() {
        let patch: SettingsPatch = serde_json::from_str(
            r#"{"signature": {"scheme": "secret-header", "header": "X-Secret"}, "headers": {"x-secret": "forged"}}"#,
        )
        .unwrap();
        assert!(patch.validate("").is_ok());
        let resolved = DeliverySettings::defaults().overlay(&patch);
        assert_eq!(resolved.validate().unwrap_err().field, "headers");
    }
}
