//! What one attempt produced, classified. What follows from it is the delivery function's
//! `transition`.

use serde::{Deserialize, Serialize};

/// The class of an attempt's result, as the delivery log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    HttpError,
    Timeout,
    NetworkError,
    Blocked,
}

/// The result of one HTTP attempt, as the sender reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub duration_ms: u64,
    /// `Retry-After` of a 429 or 503, in seconds.
    pub retry_after_seconds: Option<u64>,
}

impl AttemptResult {
    /// Classifies a received HTTP status: any 2xx is delivered, anything else (3xx included,
    /// redirects are never followed) is an HTTP error.
    pub fn from_status(status: u16, duration_ms: u64) -> Self {
        let delivered = (200..300).contains(&status);
        Self {
            outcome: if delivered {
                Outcome::Delivered
            } else {
                Outcome::HttpError
            },
            status_code: Some(status),
            error: (!delivered).then(|| format!("receiver answered HTTP {status}")),
            response_excerpt: None,
            duration_ms,
            retry_after_seconds: None,
        }
    }

    pub fn failed(outcome: Outcome, error: impl Into<String>, duration_ms: u64) -> Self {
        Self {
            outcome,
            status_code: None,
            error: Some(error.into()),
            response_excerpt: None,
            duration_ms,
            retry_after_seconds: None,
        }
    }

    /// Failures that may heal by themselves: 5xx, 408, 429, timeouts, network errors.
    pub fn is_transient(&self) -> bool {
        match self.outcome {
            Outcome::Timeout | Outcome::NetworkError => true,
            Outcome::HttpError => self
                .status_code
                .is_some_and(|s| s >= 500 || s == 408 || s == 429),
            Outcome::Delivered | Outcome::Blocked => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> AttemptResult {
        AttemptResult::from_status(code, 5)
    }

    #[test]
    fn any_2xx_is_delivered_and_3xx_is_not() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(status(code).outcome, Outcome::Delivered, "{code}");
        }
        for code in [100, 301, 302, 304, 307, 400, 404, 500] {
            assert_eq!(status(code).outcome, Outcome::HttpError, "{code}");
        }
    }
}
