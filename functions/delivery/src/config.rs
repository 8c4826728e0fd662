//! The delivery function's configuration, read once at cold start; a missing required value
//! stops the start-up with a clear message instead of falling back to a default.

use std::time::Duration;

use shared::address_policy::AddressPolicy;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub table_name: String,
    pub queue_url: String,
    /// CIDRs deliveries may reach despite the address policy (local stack and tests only).
    pub allow_cidrs: String,
    /// How long endpoints and tenants are cached between invocations.
    pub cache_ttl: Duration,
    /// Records of one batch processed at once.
    pub concurrency: usize,
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
        let config = Self {
            table_name: required("TABLE_NAME")?,
            queue_url: required("QUEUE_URL")?,
            allow_cidrs: std::env::var("ALLOW_PRIVATE_CIDRS").unwrap_or_default(),
            cache_ttl: Duration::from_secs(optional_number("ENDPOINT_CACHE_SECONDS", 30)?),
            concurrency: optional_number("DELIVERY_CONCURRENCY", 16)?.max(1),
        };
        config.address_policy()?;
        Ok(config)
    }

    pub fn address_policy(&self) -> Result<AddressPolicy, ConfigError> {
        AddressPolicy::parse_allowlist(&self.allow_cidrs)
            .map(AddressPolicy::with_allowlist)
            .map_err(|e| ConfigError(format!("ALLOW_PRIVATE_CIDRS: {e}")))
    }
}
