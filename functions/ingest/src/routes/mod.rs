//! The HTTP API: one module per resource, each with a `router()` that ties path, handler and
//! OpenAPI operation together (`utoipa-axum`), so the document cannot drift from the routing.
//! Handlers are thin: extract (authentication is an extractor), call one service function,
//! render a view. No resource module calls another.

pub mod admin;
pub mod api_keys;
pub mod deliveries;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod health;
pub mod jobs;
pub mod openapi;
pub mod portal;
pub mod rejected;
pub mod tenants;
pub mod ui;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every route of the API, with its OpenAPI operation.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .merge(tenants::router())
        .merge(api_keys::router())
        .merge(endpoints::router())
        .merge(deliveries::router())
        .merge(jobs::router())
        .merge(events::router())
        .merge(admin::router())
        .merge(event_types::router())
        .merge(portal::router())
        .merge(rejected::router())
}

/// A response whose body is already JSON text (keeps stored bytes as they are).
pub fn raw_json(status: axum::http::StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
