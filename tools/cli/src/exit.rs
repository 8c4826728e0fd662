//! The exit codes, one per kind of failure, and the error every command returns.

use std::process::ExitCode;

/// What the process exits with (also listed in `hookrelay --help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Ok = 0,
    /// 1: the API refused the request (400, 409, 413, 422, 429...), a check failed (`verify`,
    /// an item of a bulk run) or a local problem (a file that cannot be read).
    Failure = 1,
    /// 2: usage: unknown command or flag, bad value, missing setting (clap uses 2 too).
    Usage = 2,
    /// 3: authentication: no key, or the API answered 401 or 403.
    Auth = 3,
    /// 4: not found: the API answered 404.
    NotFound = 4,
    /// 5: the server: a 5xx answer, or the API could not be reached (network, timeout).
    Server = 5,
    /// 130: interrupted by Ctrl-C (after a summary of what was done).
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }

    /// The exit of an HTTP answer's status.
    pub fn of_status(status: u16) -> Self {
        match status {
            401 | 403 => Self::Auth,
            404 => Self::NotFound,
            500..=599 => Self::Server,
            _ => Self::Failure,
        }
    }
}

/// The text of `--help`'s "Exit codes" section.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done
  1    the API refused the request (400, 409, 413, 422, 429), a check failed (verify,
       an item of a bulk run), or a local error (a file that cannot be read)
  2    usage: unknown command or flag, bad value, missing setting
  3    authentication: no key, or the API answered 401 or 403
  4    not found: the API answered 404
  5    server: a 5xx answer, or the API could not be reached
  130  interrupted by Ctrl-C (a summary of what was done is printed first)";

/// A command's failure: what to print and how to exit.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An error answer of the API, with its `code`, `message` and `field`.
    #[error("{status} {code}: {message}{}", field.as_deref().map(|f| format!(" (field: {f})")).unwrap_or_default())]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    #[error("cannot reach the API at {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            Self::Api { status, .. } => Exit::of_status(*status),
            Self::Network { .. } => Exit::Server,
            Self::Usage(_) => Exit::Usage,
            Self::Auth(_) => Exit::Auth,
            Self::Failed(_) => Exit::Failure,
            Self::Interrupted(_) => Exit::Interrupted,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// The `{"error": {...}}` object printed with `--output json`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Api {
                status,
                code,
                message,
                field,
            } => {
                serde_json::json!({"error": {"status": status, "code": code, "message": message, "field": field}})
            }
            other => {
                let code = match other.exit() {
                    Exit::Server => "unreachable",
                    Exit::Usage => "usage",
                    Exit::Auth => "no_key",
                    Exit::Interrupted => "interrupted",
                    _ => "failed",
                };
                serde_json::json!({"error": {"code": code, "message": other.to_string()}})
            }
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_distinct_codes() {
        assert_eq!(Exit::of_status(401), Exit::Auth);
        assert_eq!(Exit::of_status(403), Exit::Auth);
        assert_eq!(Exit::of_status(404), Exit::NotFound);
        assert_eq!(Exit::of_status(503), Exit::Server);
        assert_eq!(Exit::of_status(500), Exit::Server);
        for s in [400, 409, 413, 422, 429] {
            assert_eq!(Exit::of_status(s), Exit::Failure);
        }
        let codes = [
            Exit::Ok,
            Exit::Failure,
            Exit::Usage,
            Exit::Auth,
            Exit::NotFound,
            Exit::Server,
        ];
        let mut numbers: Vec<u8> = codes.iter().map(|e| *e as u8).collect();
        numbers.dedup();
        assert_eq!(numbers, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn api_errors_show_code_message_and_field() {
        let e = CliError::Api {
            status: 422,
            code: "invalid_field".into(),
            message: "must be http or https".into(),
            field: Some("url".into()),
        };
        assert_eq!(
            e.to_string(),
            "422 invalid_field: must be http or https (field: url)"
        );
        assert_eq!(e.exit(), Exit::Failure);
        assert_eq!(e.to_json()["error"]["field"], "url");
        let net = CliError::Network {
            url: "http://127.0.0.1:1".into(),
            reason: "refused".into(),
        };
        assert_eq!(net.exit(), Exit::Server);
        assert_eq!(net.to_json()["error"]["code"], "unreachable");
    }
}
