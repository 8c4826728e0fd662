//! The ingest function's configuration, read once at cold start.

use secrecy::SecretString;
use shared::domain::address_policy::AddressPolicy;
use shared::domain::own_hosts::OwnHosts;

/// Room for the envelope around an event's payload (type, id, URL, metadata).
pub const ENVELOPE_BYTES: usize = 16 * 1024;
/// The body limit of `POST .../events/batch` (unless one event's limit is larger): a Lambda
/// invocation carries at most 6 MB, and the body travels inside the event as a JSON string, whose
/// escaping can nearly double it; 2 MiB leaves room for that and for the headers.
pub const BATCH_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub table_name: String,
    pub queue_url: String,
    /// The dead-letter queue, for `POST /v1/admin/dlq/redrive`.
    pub dlq_url: String,
    /// SHA-256 (hex) of the deployment's admin key; the key itself is never configured.
    pub admin_key_sha256: SecretString,
    pub address_policy: AddressPolicy,
    /// Deployment-wide HTTPS-only rule for receiver URLs.
    pub https_only: bool,
    pub max_payload_bytes: usize,
    /// The API's own hosts (`OWN_API_HOSTS`: custom domains; the default execute-api host is
    /// learned from API Gateway's request context), never accepted as receivers.
    pub own_hosts: OwnHosts,
    /// `ALLOW_CREDENTIAL_HEADERS=true`: `Authorization`, `Cookie`, `X-Api-Key`… may be set in
    /// `headers` (off by default).
    pub allow_credential_headers: bool,
    /// The KMS key that seals tenant and endpoint secrets in the table (id, ARN or alias).
    pub secrets_key_id: String,
    /// `STRICT_EVENT_TYPES=true`: endpoints may subscribe only to catalogued event types (or
    /// patterns matching one) and events of unknown types are refused with 422.
    pub strict_event_types: bool,
    /// Where the portal and console are served from, and who may frame them.
    pub portal: PortalConfig,
    /// How events from AWS sources (EventBridge, SQS, SNS) are read, and where the ones that
    /// cannot be accepted go.
    pub sources: SourceConfig,
}

/// The asynchronous sources' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// `REJECTED_QUEUE_URL`: the rejected-events queue (unset: sources' invalid events fail and
    /// are left to the source's own retries and dead-letter queue).
    pub rejected_queue_url: Option<String>,
    /// `EVENTBRIDGE_TYPE_FIELD`: where an EventBridge event's type is (`detail-type`, or a
    /// dotted path such as `detail.type`).
    pub eventbridge_type_field: String,
    /// `EVENTBRIDGE_TENANT_FIELD`: where its tenant is (a dotted path, `detail.tenant_id`).
    pub eventbridge_tenant_field: String,
    /// `EVENTBRIDGE_TENANT`: one tenant for every EventBridge event (then the field is unused).
    pub eventbridge_tenant: Option<String>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            rejected_queue_url: None,
            eventbridge_type_field: "detail-type".into(),
            eventbridge_tenant_field: "detail.tenant_id".into(),
            eventbridge_tenant: None,
        }
    }
}

impl SourceConfig {
    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let defaults = Self::default();
        Self {
            rejected_queue_url: var("REJECTED_QUEUE_URL"),
            eventbridge_type_field: var("EVENTBRIDGE_TYPE_FIELD")
                .unwrap_or(defaults.eventbridge_type_field),
            eventbridge_tenant_field: var("EVENTBRIDGE_TENANT_FIELD")
                .unwrap_or(defaults.eventbridge_tenant_field),
            eventbridge_tenant: var("EVENTBRIDGE_TENANT"),
        }
    }
}

/// The web pages' settings (`/portal`, `/console`).
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// `PUBLIC_URL`: the API's base URL as a browser reaches it (scheme, host and any path
    /// prefix, no trailing `/`). Unset: `https://{Host}` of the request, which is right for the
    /// function URL and the HTTP API's default stage.
    pub public_url: Option<String>,
    /// `PORTAL_FRAME_ANCESTORS`: the CSP `frame-ancestors` sources allowed to embed the pages
    /// (space-separated origins); default `'none'` (never framed).
    pub frame_ancestors: String,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            frame_ancestors: "'none'".into(),
        }
    }
}

impl PortalConfig {
    fn from_env() -> Result<Self, ConfigError> {
        let public_url = match std::env::var("PUBLIC_URL") {
            Ok(v) if !v.trim().is_empty() => {
                let v = v.trim().trim_end_matches('/').to_owned();
                let parsed =
                    url::Url::parse(&v).map_err(|e| ConfigError(format!("PUBLIC_URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
                    return Err(ConfigError(
                        "PUBLIC_URL must be an http(s) URL without a query".into(),
                    ));
                }
                Some(v)
            }
            _ => None,
        };
        let frame_ancestors = match std::env::var("PORTAL_FRAME_ANCESTORS") {
            Ok(v) if !v.trim().is_empty() => {
                let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
                // Each source is an origin or a CSP keyword; `;` or `,` would end the directive.
                if v.contains([';', ',', '"', '\\'])
                    || v.chars().any(|c| c.is_control() || !c.is_ascii())
                {
                    return Err(ConfigError(
                        "PORTAL_FRAME_ANCESTORS must be space-separated CSP sources".into(),
                    ));
                }
                v
            }
            _ => "'none'".into(),
        };
        Ok(Self {
            public_url,
            frame_ancestors,
        })
    }
}

fn flag(name: &str) -> Result<bool, ConfigError> {
    match std::env::var(name).unwrap_or_default().trim() {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        other => Err(ConfigError(format!(
            "{name} must be true or false, got `{other}`"
        ))),
    }
}

fn required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} must be set")))
}

impl IngestConfig {
    /// The largest request body taken: the payload limit plus the envelope around it.
    pub fn body_limit(&self) -> usize {
        self.max_payload_bytes.saturating_add(ENVELOPE_BYTES)
    }

    /// The largest batch request body taken: [`BATCH_BODY_BYTES`], or one event's limit if that
    /// is larger (a batch of one event is never refused where the event alone would be taken).
    pub fn batch_body_limit(&self) -> usize {
        BATCH_BODY_BYTES.max(self.body_limit())
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        // The embedded deployment defaults: a broken file stops the cold start, not a request.
        shared::domain::settings::DeliverySettings::check_embedded_defaults()
            .map_err(|e| ConfigError(format!("{}: {}", e.field, e.message)))?;
        let admin = required("ADMIN_KEY_SHA256")?.trim().to_ascii_lowercase();
        if admin.len() != 64 || !admin.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConfigError(
                "ADMIN_KEY_SHA256 must be 64 hex characters".into(),
            ));
        }
        let allow = AddressPolicy::parse_allowlist(
            &std::env::var("ALLOW_PRIVATE_CIDRS").unwrap_or_default(),
        )
        .map_err(|e| ConfigError(format!("ALLOW_PRIVATE_CIDRS: {e}")))?;
        let https_only = flag("HTTPS_ONLY")?;
        let own_hosts = OwnHosts::parse(&std::env::var("OWN_API_HOSTS").unwrap_or_default())
            .map_err(|e| ConfigError(format!("OWN_API_HOSTS: {e}")))?;
        let max_payload_bytes = match std::env::var("MAX_PAYLOAD_BYTES") {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map_err(|_| ConfigError("MAX_PAYLOAD_BYTES must be a number".into()))?,
            _ => 256 * 1024,
        };
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            queue_url: required("QUEUE_URL")?,
            dlq_url: required("DLQ_URL")?,
            admin_key_sha256: SecretString::from(admin),
            address_policy: AddressPolicy::with_allowlist(allow),
            https_only,
            max_payload_bytes,
            own_hosts,
            allow_credential_headers: flag("ALLOW_CREDENTIAL_HEADERS")?,
            secrets_key_id: required("SECRETS_KEY_ID")?,
            strict_event_types: flag("STRICT_EVENT_TYPES")?,
            portal: PortalConfig::from_env()?,
            sources: SourceConfig::from_env(),
        })
    }
}
