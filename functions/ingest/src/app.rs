//! The router with its layers: request ids, one log line per request, error answers in API.md's
//! shape for what axum and tower answer themselves, and the body limit. The same [`App`] is
//! served by the Lambda runtime ([`crate::lambda`]) and by a plain local HTTP server.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceBuilder};
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::routes;
use crate::state::AppState;

/// The whole API as one service (a trailing `/` is ignored, as it always was).
pub type App = NormalizePath<Router>;

pub fn app(state: AppState) -> App {
    let (router, _) = routes::api_router().split_for_parts();
    let router = router
        .merge(routes::ui::router())
        .fallback(|| async { ApiError::NoRoute })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(Ulids))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(log_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::map_response_with_state(
                    state.clone(),
                    errors_as_json,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::loop_guard::guard,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    limit_body,
                ))
                .layer(DefaultBodyLimit::disable()),
        )
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// The body limit: the payload limit plus its envelope, or the batch limit on the batch route.
/// A declared length over it is refused before the body is read; a body that grows past it
/// while read is refused by the extractor ([`crate::extract::RawBody`]), both with 413.
async fn limit_body(
    State(state): State<AppState>,
    mut req: Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = if is_batch_route(req.uri().path()) {
        state.config.batch_body_limit()
    } else {
        state.config.body_limit()
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return ApiError::body_too_large(limit).into_response();
    }
    req.extensions_mut().insert(BodyLimit(limit));
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// `/v1/tenants/{tenant_id}/events/batch`.
fn is_batch_route(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "v1", "tenants", tenant, "events", "batch"] if !tenant.is_empty()
    )
}

/// Request ids: ULIDs, unless the caller sent an `x-request-id`.
#[derive(Clone, Copy)]
struct Ulids;

impl MakeRequestId for Ulids {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&ulid::Ulid::new().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Paths hold ids only; bodies, queries and headers (keys) are never logged.
fn request_span(req: &Request) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // `event_id` is filled in by intake: a request that accepts an event logs one line.
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id,
        event_id = tracing::field::Empty
    )
}

fn log_response(res: &Response, latency: Duration, _: &Span) {
    tracing::info!(
        status = res.status().as_u16(),
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "request"
    );
}

/// What axum or tower answered without a JSON body (the body limit, an unexpected rejection)
/// gets API.md's error body for its status.
async fn errors_as_json<B>(State(state): State<AppState>, res: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let res = res.map(axum::body::Body::new);
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(state.config.body_limit()),
        StatusCode::NOT_FOUND => ApiError::NoRoute,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::BAD_REQUEST => ApiError::malformed("The request could not be read."),
        _ => {
            tracing::error!(status = status.as_u16(), "an error answer without a body");
            ApiError::Internal("The request could not be answered.")
        }
    };
    error.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_route_is_known_by_its_path() {
        assert!(is_batch_route("/v1/tenants/acme/events/batch"));
        assert!(!is_batch_route("/v1/tenants/acme/events"));
        assert!(!is_batch_route("/v1/tenants//events/batch"));
        assert!(!is_batch_route("/v1/tenants/acme/events/batch/x"));
        assert!(!is_batch_route("/v1/tenants/acme/endpoints/batch"));
    }
}
