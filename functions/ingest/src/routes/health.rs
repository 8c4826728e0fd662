//! `GET /v1/health` and `GET /v1/openapi.json` (no authentication).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::views::Health;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_json))
}

#[utoipa::path(get, path = "/v1/health", security(()), responses(
    (status = 200, body = Health, description = "Table and queue reachable"),
    (status = 503, body = Health, description = "Table or queue unreachable")))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (table, queue) = futures::join!(state.store.ping(), state.queue.ping());
    if let Err(e) = &table {
        tracing::error!(error = %e, "health: table unreachable");
    }
    if let Err(e) = &queue {
        tracing::error!(error = %e, "health: queue unreachable");
    }
    let ok = table.is_ok() && queue.is_ok();
    let state = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "unreachable" };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if ok { "ok" } else { "degraded" }.into(),
        table: state(&table).into(),
        queue: state(&queue).into(),
    };
    (status, Json(health))
}

#[utoipa::path(get, path = "/v1/openapi.json", security(()), responses((status = 200, description = "This document")))]
async fn openapi_json() -> Response {
    super::raw_json(StatusCode::OK, super::openapi::json())
}
