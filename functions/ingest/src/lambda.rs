//! The Lambda side: one entry point for every invocation shape ([`crate::sources::classify`]).
//! HTTP API v2 and function URL events (same format) become `http` requests through
//! `lambda_http`'s own conversion and are served by the router; SQS, SNS, EventBridge and direct
//! invocations go to [`crate::sources`]. `lambda_http` panics on a few inputs (a body flagged
//! base64 that does not decode, a host or path that is not a URL, a query that is not a URI's);
//! [`sanitize`] makes those plain 400/404 answers instead.

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Request};
use serde_json::value::RawValue;
use tower::{Service, ServiceExt};

use crate::app::App;
use crate::sources::{self, Shape};
use crate::state::AppState;

/// An HTTP API v2 / function URL event as the request the router serves.
pub fn into_request(event: ApiGatewayV2httpRequest) -> Request {
    LambdaRequest::ApiGatewayV2(sanitize(event)).into()
}

/// Runs the Lambda runtime loop: each invocation to [`handle`].
pub async fn run(app: App, state: AppState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Box<RawValue>>| {
            let (app, state) = (app.clone(), state.clone());
            async move { handle(app, &state, event).await }
        },
    ))
    .await
}

/// One invocation, by its shape: the answer its caller expects.
pub async fn handle(
    app: App,
    state: &AppState,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let LambdaEvent { payload, context } = event;
    let shape = sources::classify(&payload).inspect_err(|e| {
        tracing::error!(error = %e, "an invocation of unknown shape");
    })?;
    let answer = match shape {
        Shape::Http(e) => {
            let request = LambdaEvent {
                payload: LambdaRequest::ApiGatewayV2(sanitize(*e)),
                context,
            };
            let mut adapter = Adapter::from(app);
            let response = adapter.ready().await?.call(request).await?;
            serde_json::to_value(response)?
        }
        Shape::Sqs(e) => serde_json::to_value(sources::sqs(state, e).await)?,
        Shape::Sns(e) => {
            sources::sns(state, e).await?;
            serde_json::Value::Null
        }
        Shape::EventBridge => {
            sources::eventbridge(state, &payload).await?;
            serde_json::Value::Null
        }
        Shape::Direct => serde_json::to_value(sources::direct::invoke(state, &payload).await)?,
    };
    Ok(answer)
}

/// Takes out what `lambda_http` would panic on, and keeps the path as sent: the stage is never
/// part of a route (function URLs and the `$default` stage have none).
pub fn sanitize(mut event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpRequest {
    if event.is_base64_encoded
        && let Some(body) = &event.body
        && base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .is_err()
    {
        // Passed on empty, which the routes answer with 400.
        event.body = None;
        event.is_base64_encoded = false;
    }
    event.request_context.stage = None;
    if event.raw_path.is_none() {
        event.raw_path = event.request_context.http.path.clone();
    }
    let path = event.raw_path.clone().unwrap_or_else(|| "/".into());
    let host_url = host_url(&event, &path);
    if url::Url::parse(&host_url).is_err() {
        event.headers.remove(axum::http::header::HOST);
        event.request_context.domain_name = None;
    }
    if url::Url::parse(&format!("http://localhost{path}")).is_err() || !path.starts_with('/') {
        // Names no route: 404.
        event.raw_path = Some("/".into());
    }
    if let Some(query) = &event.raw_query_string
        && axum::http::Uri::try_from(format!("/?{query}")).is_err()
    {
        event.raw_query_string = Some(encode_query(query));
    }
    event
}

/// The URL `lambda_http` builds from the host, the forwarded scheme and the path.
fn host_url(event: &ApiGatewayV2httpRequest, path: &str) -> String {
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("host").or(event.request_context.domain_name.as_deref());
    let scheme = header("x-forwarded-proto").unwrap_or("https");
    match host {
        Some(host) => format!("{scheme}://{host}{path}"),
        None => format!("http://localhost{path}"),
    }
}

/// Percent-encodes every byte a URI's query may not hold as it is.
fn encode_query(query: &str) -> String {
    query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(path: &str, query: &str, body: Option<&str>, base64: bool) -> ApiGatewayV2httpRequest {
        let mut e = ApiGatewayV2httpRequest::default();
        e.raw_path = Some(path.into());
        e.raw_query_string = Some(query.into());
        e.body = body.map(Into::into);
        e.is_base64_encoded = base64;
        e.request_context.stage = Some("prod".into());
        e
    }

    #[test]
    fn inputs_lambda_http_would_panic_on_become_requests() {
        let r = into_request(event("/v1/x", "a=b c&d=\"{}\"", Some("%%%"), true));
        assert_eq!(r.uri().path(), "/v1/x", "no stage in the path");
        assert_eq!(r.uri().query(), Some("a=b%20c&d=%22%7B%7D%22"));
        assert!(r.body().is_empty());
        let mut odd_host = event("/v1/x", "", None, false);
        odd_host.headers.insert("host", "exa mple".parse().unwrap());
        assert_eq!(into_request(odd_host).uri().path(), "/v1/x");
        let r = into_request(event("/v1/x", "", Some("eyJhIjoxfQ=="), true));
        assert_eq!(r.body().as_ref(), br#"{"a":1}"#);
    }
}
