//! The HTTP transport: one reqwest client (rustls with the compiled-in roots of the shared
//! crate, no redirects, a timeout), the bearer key, and the API's error body turned into
//! [`CliError::Api`]. Resource calls are in [`crate::api`].

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::exit::{CliError, CliResult};

pub use reqwest::Method;

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: Option<SecretString>,
}

impl Client {
    /// `base` is the API's URL up to (without) `/v1`.
    pub fn new(base: &str, key: Option<String>, timeout: Duration) -> CliResult<Self> {
        let parsed = url::Url::parse(base)
            .map_err(|e| CliError::usage(format!("the API URL `{base}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(CliError::usage(format!(
                "the API URL `{base}` must be http or https"
            )));
        }
        let tls = shared::adapters::tls::client_config()
            .map_err(|e| CliError::failed(format!("TLS set-up failed: {e}")))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("hookrelay-cli/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| CliError::failed(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key: key.map(SecretString::from),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A JSON call; `T` is the answer's type (`()` for 204).
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> CliResult<T> {
        let body = match body {
            Some(b) => Some(
                serde_json::to_vec(b).map_err(|e| CliError::failed(format!("encoding: {e}")))?,
            ),
            None => None,
        };
        let (status, bytes) = self.send(method, path, query, body).await?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &bytes));
        }
        let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(text).map_err(|e| {
            CliError::failed(format!(
                "the API's answer to {path} is not what this tool expects ({e})"
            ))
        })
    }

    /// The status and body of one request, whatever the status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> CliResult<(u16, bytes::Bytes)> {
        let url = self.url(path, query);
        let mut request = self.http.request(method, &url);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose_secret());
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let network = |e: reqwest::Error| CliError::Network {
            url: self.base.clone(),
            reason: describe(&e),
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(network)?;
        Ok((status, bytes))
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{path}", self.base);
        if !query.is_empty() {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                q.append_pair(k, v);
            }
            url.push('?');
            url.push_str(&q.finish());
        }
        url
    }
}

/// The reason of a transport error, with its causes (reqwest's own text is only the outer one).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The API's `{"error": {"code", "message", "field"}}`, or a stand-in for a body without it.
pub fn api_error(status: u16, body: &[u8]) -> CliError {
    #[derive(serde::Deserialize)]
    struct Body {
        error: crate::model::ErrorDetail,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { error }) => CliError::Api {
            status,
            code: error.code,
            message: error.message,
            field: error.field,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let excerpt: String = text.chars().take(200).collect();
            CliError::Api {
                status,
                code: format!("http_{status}"),
                message: if excerpt.trim().is_empty() {
                    "(no body)".into()
                } else {
                    excerpt
                },
                field: None,
            }
        }
    }
}

/// One path segment from user input, percent-encoded (ids cannot break out of their place).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_into_code_message_field() {
        let body = br#"{"error":{"code":"invalid_field","message":"must be http","field":"url"}}"#;
        match api_error(422, body) {
            CliError::Api {
                status,
                code,
                field,
                ..
            } => {
                assert_eq!(
                    (status, code.as_str(), field.as_deref()),
                    (422, "invalid_field", Some("url"))
                );
            }
            other => panic!("{other:?}"),
        }
        match api_error(502, b"Bad Gateway") {
            CliError::Api { code, message, .. } => {
                assert_eq!(code, "http_502");
                assert_eq!(message, "Bad Gateway");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("ep_01H.x-y~z"), "ep_01H.x-y~z");
        assert_eq!(seg("../admin"), "..%2Fadmin");
        assert_eq!(seg("a b?c"), "a%20b%3Fc");
    }

    #[test]
    fn urls_and_queries() {
        let c = Client::new("http://127.0.0.1:9/base/", None, Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.url("/v1/x", &[]), "http://127.0.0.1:9/base/v1/x");
        assert_eq!(
            c.url(
                "/v1/x",
                &[("status", "failed".into()), ("cursor", "a b&c".into())]
            ),
            "http://127.0.0.1:9/base/v1/x?status=failed&cursor=a+b%26c"
        );
        assert!(Client::new("ftp://x", None, Duration::from_secs(1)).is_err());
        assert!(Client::new("not a url", None, Duration::from_secs(1)).is_err());
    }
}
