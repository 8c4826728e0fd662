//! Operator routes (admin key only): `POST /v1/admin/dlq/redrive` moves the DLQ's messages back
//! to the delivery queue and says how many; `GET /v1/admin/dlq` says how many it holds;
//! `GET /v1/admin/endpoints?state=failing|disabled` lists unhealthy endpoints across tenants.

use axum::Json;
use axum::extract::{RawQuery, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::service::console::{self, TenantQuery};
use crate::state::AppState;
use crate::views::{DlqDepth, EndpointHealthList, EndpointHealthView, Moved};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(redrive))
        .routes(routes!(dlq_depth))
        .routes(routes!(endpoint_health))
}

#[utoipa::path(get, path = "/v1/admin/dlq", responses((status = 200, body = DlqDepth), Errors))]
async fn dlq_depth(State(state): State<AppState>, _: Admin) -> Result<Json<DlqDepth>, ApiError> {
    let depth = state.redrive.depth().await.map_err(|e| {
        tracing::error!(error = %e, "DLQ depth unavailable");
        ApiError::unavailable("The dead-letter queue is unavailable. Try again.")
    })?;
    Ok(Json(DlqDepth {
        depth: depth.waiting,
        in_flight: depth.in_flight,
    }))
}

#[utoipa::path(get, path = "/v1/admin/endpoints",
    params(("state" = Option<String>, Query, description = "`failing` (enabled, every finished delivery failing) or `disabled`; both when absent"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Tenants read per page (at most 25)"),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, body = EndpointHealthList, description = "Unhealthy endpoints of a page of tenants (a page may be empty while more follow)"), Errors))]
async fn endpoint_health(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<EndpointHealthList>, ApiError> {
    let q = TenantQuery::parse(query.as_deref().unwrap_or_default())?;
    let (endpoints, next_cursor) = console::endpoint_health(&*state.store, &q).await?;
    Ok(Json(EndpointHealthList {
        data: endpoints.iter().map(EndpointHealthView::new).collect(),
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/v1/admin/dlq/redrive", responses((status = 200, body = Moved), Errors))]
async fn redrive(State(state): State<AppState>, _: Admin) -> Result<Json<Moved>, ApiError> {
    let moved = state.redrive.redrive().await.map_err(|e| {
        tracing::error!(error = %e, "DLQ redrive failed");
        ApiError::unavailable(
            "The queues are unavailable; nothing or only part was moved. Try again.",
        )
    })?;
    tracing::info!(moved, "DLQ redriven");
    Ok(Json(Moved { moved }))
}
