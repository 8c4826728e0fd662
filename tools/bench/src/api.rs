//! Calls to the ingest function as its front door would make them: one invocation per request,
//! the event an HTTP API v2 (payload 2.0) event or a Lambda function URL event (the same payload
//! format, which `lambda_http` parses as the same `ApiGatewayV2` request), the answer a payload
//! 2.0 response.

use serde_json::{Value, json};

use crate::cost::FrontDoor;
use crate::function::Instance;
use crate::runtime::Outcome;

/// An HTTP API v2 event for `method path` with a JSON body and a bearer key.
pub fn api_event(method: &str, path: &str, body: Option<&str>, key: &str, n: u64) -> Value {
    front_event(FrontDoor::HttpApi, method, path, body, key, n)
}

/// The event `front` hands the function for `method path` with a JSON body and a bearer key.
/// A function URL event (AuthType NONE, as in the template) differs from an HTTP API one in its
/// host (`<url-id>.lambda-url.<region>.on.aws`), an `anonymous` account, and the headers the URL
/// adds (`x-amzn-tls-*`, `x-forwarded-*`).
pub fn front_event(
    front: FrontDoor,
    method: &str,
    path: &str,
    body: Option<&str>,
    key: &str,
    n: u64,
) -> Value {
    let (id, domain, account) = match front {
        FrontDoor::HttpApi => (
            "bench0api1",
            "bench0api1.execute-api.us-east-1.amazonaws.com",
            "123456789012",
        ),
        FrontDoor::FunctionUrl => (
            "bench0url1",
            "bench0url1.lambda-url.us-east-1.on.aws",
            "anonymous",
        ),
    };
    let mut headers = json!({
        "content-type": "application/json",
        "authorization": format!("Bearer {key}"),
        "host": domain,
        "x-forwarded-proto": "https",
        "content-length": body.map_or(0, str::len).to_string(),
    });
    if front == FrontDoor::FunctionUrl
        && let Some(h) = headers.as_object_mut()
    {
        for (k, v) in [
            ("x-amzn-tls-cipher-suite", "TLS_AES_128_GCM_SHA256"),
            ("x-amzn-tls-version", "TLSv1.3"),
            (
                "x-amzn-trace-id",
                "Root=1-00000000-000000000000000000000000",
            ),
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-port", "443"),
        ] {
            h.insert(k.into(), v.into());
        }
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": id,
            "domainName": domain,
            "domainPrefix": id,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "hookrelay-bench"},
            "requestId": format!("bench-req-{n}"),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1_767_225_600_000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An answer: status and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub outcome: Outcome,
}

/// The ingest function behind its front door.
pub struct Api<'a> {
    pub ingest: &'a Instance,
    pub admin_key: &'a str,
    /// The events' shape (HTTP API v2 unless [`Api::behind`] says otherwise).
    pub front: FrontDoor,
    counter: std::sync::atomic::AtomicU64,
}

impl<'a> Api<'a> {
    pub fn new(ingest: &'a Instance, admin_key: &'a str) -> Self {
        Self {
            ingest,
            admin_key,
            front: FrontDoor::HttpApi,
            counter: 0.into(),
        }
    }

    /// The same calls as `front` would make them.
    pub fn behind(self, front: FrontDoor) -> Self {
        Self { front, ..self }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let raw = body.map(Value::to_string);
        let event = front_event(self.front, method, path, raw.as_deref(), self.admin_key, n);
        let outcome = self.ingest.invoke(&event).await?;
        anyhow::ensure!(
            outcome.ok,
            "ingest failed on {method} {path}: {}",
            String::from_utf8_lossy(&outcome.body)
        );
        let response: Value = serde_json::from_slice(&outcome.body)?;
        let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
        let text = response["body"].as_str().unwrap_or("");
        let text = if response["isBase64Encoded"].as_bool() == Some(true) {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD.decode(text)?;
            String::from_utf8_lossy(&raw).into_owned()
        } else {
            text.to_owned()
        };
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            outcome,
        })
    }

    /// A call that must answer `want`.
    pub async fn expect(
        &self,
        want: u16,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let answer = self.call(method, path, body).await?;
        anyhow::ensure!(
            answer.status == want,
            "{method} {path}: want {want}, got {} {}",
            answer.status,
            answer.body
        );
        Ok(answer)
    }

    /// A tenant with `urls.len()` endpoints (all event types), each with `settings` merged in.
    pub async fn tenant_with_endpoints(
        &self,
        tenant: &str,
        urls: &[String],
        settings: &Value,
    ) -> anyhow::Result<()> {
        let max = urls.len().max(1);
        self.expect(
            201,
            "PUT",
            &format!("/v1/tenants/{tenant}"),
            Some(&json!({"name": "bench", "max_endpoints": max})),
        )
        .await?;
        for url in urls {
            let mut body = json!({"url": url, "event_types": ["*"], "description": "bench"});
            if let (Some(b), Some(s)) = (body.as_object_mut(), settings.as_object()) {
                b.extend(s.clone());
            }
            self.expect(
                201,
                "POST",
                &format!("/v1/tenants/{tenant}/endpoints"),
                Some(&body),
            )
            .await?;
        }
        Ok(())
    }
}

/// An event body whose `payload` is exactly `bytes` long (at least 64).
pub fn event_body(n: u64, bytes: usize) -> Value {
    let head = format!("{{\"job_id\":\"job_{n:010}\",\"status\":\"completed\",\"pad\":\"");
    let tail = "\"}";
    let pad = bytes.saturating_sub(head.len() + tail.len());
    let payload = format!("{head}{}{tail}", "x".repeat(pad));
    let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    json!({"event_type": "job.completed", "payload": payload})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_has_the_asked_size() {
        let body = event_body(7, 300);
        assert_eq!(body["payload"].to_string().len(), 300);
    }

    #[test]
    fn a_function_url_event_differs_in_its_host_and_account_only() {
        let body = Some("{}");
        let api = front_event(FrontDoor::HttpApi, "POST", "/v1/x", body, "k", 1);
        let url = front_event(FrontDoor::FunctionUrl, "POST", "/v1/x", body, "k", 1);
        let host = url["headers"]["host"].as_str().unwrap_or("");
        assert!(host.ends_with(".lambda-url.us-east-1.on.aws"));
        assert_eq!(url["requestContext"]["domainName"].as_str(), Some(host));
        assert_eq!(url["requestContext"]["accountId"], "anonymous");
        assert_eq!(url["headers"]["x-forwarded-port"], "443");
        for field in ["version", "rawPath", "body", "isBase64Encoded"] {
            assert_eq!(api[field], url[field], "{field}");
        }
        assert_eq!(api["requestContext"]["http"], url["requestContext"]["http"]);
        assert_eq!(api_event("POST", "/v1/x", body, "k", 1), api);
    }
}
