//! The rejected-events queue (admin key): `GET /v1/admin/rejected` shows what it holds (events
//! from EventBridge, SQS or SNS that could not be accepted, each with its reason);
//! `POST /v1/admin/rejected/resubmit` submits them again after a fix.

use axum::Json;
use axum::extract::{RawQuery, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::sources::resubmit::{self, RejectedView, Resubmitted};
use crate::state::AppState;
use crate::views::RejectedList;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rejected))
        .routes(routes!(resubmit_rejected))
}

fn unavailable(e: shared::ports::QueueError) -> ApiError {
    tracing::error!(error = %e, "rejected-events queue unavailable");
    ApiError::unavailable("The rejected-events queue is unavailable. Try again.")
}

#[utoipa::path(get, path = "/v1/admin/rejected",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 100)),
    responses((status = 200, body = RejectedList, description = "A look at what the queue holds (a sample when it holds many)"), Errors))]
async fn list_rejected(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<RejectedList>, ApiError> {
    let mut limit = 20;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if k == "limit" {
            limit = v
                .parse()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid("limit", "must be a whole number from 1 to 100")
                })?;
        }
    }
    let Some(queue) = &state.rejections else {
        return Ok(Json(RejectedList {
            data: Vec::new(),
            configured: false,
        }));
    };
    let data: Vec<RejectedView> = resubmit::look(queue.as_ref(), limit)
        .await
        .map_err(unavailable)?;
    Ok(Json(RejectedList {
        data,
        configured: true,
    }))
}

#[utoipa::path(post, path = "/v1/admin/rejected/resubmit",
    responses((status = 200, body = Resubmitted, description = "What was accepted, refused again or left; call again while `left` or more remain"), Errors))]
async fn resubmit_rejected(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Resubmitted>, ApiError> {
    let Some(queue) = state.rejections.clone() else {
        return Ok(Json(Resubmitted::default()));
    };
    let done = resubmit::resubmit(&state, queue.as_ref())
        .await
        .map_err(unavailable)?;
    tracing::info!(
        accepted = done.accepted,
        rejected_again = done.rejected_again,
        left = done.left,
        "rejected events resubmitted"
    );
    Ok(Json(done))
}
