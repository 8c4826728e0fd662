//! The delivery function's configuration, read once at cold start; a missing required value
//! stops the start-up with a clear message instead of falling back to a default.

use std::time::Duration;

use shared::domain::address_policy::AddressPolicy;
use shared::domain::own_hosts::OwnHosts;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub table_name: String,
    pub queue_url: String,
    /// The KMS key that seals tenant and endpoint secrets in the table (id, ARN or alias).
    pub secrets_key_id: String,
    /// CIDRs deliveries may reach despite the address policy (local stack and tests only).
    pub allow_cidrs: String,
    /// How long endpoints and tenants are cached between invocations.
    pub cache_ttl: Duration,
    /// The delivery queue's visibility timeout (`QUEUE_VISIBILITY_SECONDS`).
    pub queue_visibility: Option<Duration>,
    /// Records of one batch processed at once.
    pub concurrency: usize,
    /// Endpoints failing for this long are disabled.
    pub auto_disable_after: Duration,
    /// Operational events go to this URL too, when set.
    pub operator_webhook_url: Option<String>,
    pub operator_signing_secret: Option<String>,
    /// The API's own hosts (`OWN_API_HOSTS`): a delivery there ends `blocked`, without a POST.
    pub own_hosts: OwnHosts,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} must be set")))
}

fn optional_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a number, got `{v}`"))),
        _ => Ok(default),
    }
}

impl DeliveryConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        // The embedded deployment defaults: a broken file stops the cold start, not a request.
        shared::domain::settings::DeliverySettings::check_embedded_defaults()
            .map_err(|e| ConfigError(format!("{}: {}", e.field, e.message)))?;
        let config = Self {
            table_name: required("TABLE_NAME")?,
            queue_url: required("QUEUE_URL")?,
            secrets_key_id: required("SECRETS_KEY_ID")?,
            allow_cidrs: std::env::var("ALLOW_PRIVATE_CIDRS").unwrap_or_default(),
            cache_ttl: Duration::from_secs(optional_number("ENDPOINT_CACHE_SECONDS", 30)?),
            queue_visibility: match optional_number("QUEUE_VISIBILITY_SECONDS", 0u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            concurrency: optional_number(
                "DELIVERY_CONCURRENCY",
                crate::worker::DEFAULT_CONCURRENCY,
            )?
            .max(1),
            auto_disable_after: Duration::from_secs(optional_number(
                "AUTO_DISABLE_AFTER_SECONDS",
                5 * 86_400,
            )?),
            operator_webhook_url: std::env::var("OPERATOR_WEBHOOK_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            operator_signing_secret: std::env::var("OPERATOR_SIGNING_SECRET")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            own_hosts: OwnHosts::parse(&std::env::var("OWN_API_HOSTS").unwrap_or_default())
                .map_err(|e| ConfigError(format!("OWN_API_HOSTS: {e}")))?,
        };
        if let Some(secret) = &config.operator_signing_secret {
            shared::domain::secret::Secret::validate(secret, true)
                .map_err(|m| ConfigError(format!("OPERATOR_SIGNING_SECRET {m}")))?;
        }
        config.address_policy()?;
        Ok(config)
    }

    pub fn worker_options(&self) -> crate::WorkerOptions {
        crate::WorkerOptions {
            cache_ttl: self.cache_ttl,
            queue_visibility: self.queue_visibility,
            concurrency: self.concurrency,
            auto_disable_after: self.auto_disable_after,
            operator: self
                .operator_webhook_url
                .clone()
                .map(|url| crate::ops::OperatorConfig {
                    webhook_url: url,
                    signing_secret: self
                        .operator_signing_secret
                        .clone()
                        .map(shared::domain::secret::Secret::from_string),
                }),
            own_hosts: self.own_hosts.clone(),
            ..crate::WorkerOptions::default()
        }
    }

    pub fn address_policy(&self) -> Result<AddressPolicy, ConfigError> {
        AddressPolicy::parse_allowlist(&self.allow_cidrs)
            .map(AddressPolicy::with_allowlist)
            .map_err(|e| ConfigError(format!("ALLOW_PRIVATE_CIDRS: {e}")))
    }
}
