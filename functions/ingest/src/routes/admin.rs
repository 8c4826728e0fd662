//! `POST /v1/admin/dlq/redrive` (admin key only): moves the DLQ's messages back to the delivery
//! queue and says how many.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::Moved;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(redrive))
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
