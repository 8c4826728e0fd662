//! The reconciler's configuration, read once at cold start.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone)]
pub struct ReconcilerConfig {
    pub table_name: String,
    pub queue_url: String,
    /// An event this old whose deliveries have nothing recorded lost its messages.
    pub stale_after: Duration,
    /// Minutes of events one run reads at most (the next run goes on).
    pub max_minutes: i64,
}

fn required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} must be set")))
}

fn number(name: &str, default: u64) -> Result<u64, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a whole number"))),
        _ => Ok(default),
    }
}

impl ReconcilerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            queue_url: required("QUEUE_URL")?,
            stale_after: Duration::from_secs(number("STALE_AFTER_SECONDS", 900)?),
            max_minutes: i64::try_from(number("MAX_MINUTES", 60)?)
                .map_err(|_| ConfigError("MAX_MINUTES is too large".into()))?,
        })
    }
}
