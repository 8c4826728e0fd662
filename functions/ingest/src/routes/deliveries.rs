//! The delivery log and replay: `GET .../deliveries/{delivery_id}` (with every attempt),
//! `GET .../endpoints/{endpoint_id}/deliveries` (newest first, filtered, cursor-paginated),
//! `POST .../deliveries/{delivery_id}/retry` (one manual attempt now) and
//! `POST .../endpoints/{endpoint_id}/recover` (a job putting failed deliveries of a window
//! through their schedule again; 202 with the job).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use shared::domain::clock::now_millis;
use shared::domain::model::DeliveryStatus;

use super::openapi::Errors;
use crate::auth::TenantAccess;
use crate::error::ApiError;
use crate::extract::{JsonBody, ResourceId};
use crate::service::delivery_log::{self, ListQuery};
use crate::service::requeue::{self, Recover, Window};
use crate::state::AppState;
use crate::views::{DeliveryList, DeliveryView, JobView, RetryQueued};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(recover))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/deliveries",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path),
           ("status" = Option<DeliveryStatus>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 100),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, body = DeliveryList, description = "Newest first"), Errors))]
async fn list_deliveries(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
    RawQuery(query): RawQuery,
) -> Result<Json<DeliveryList>, ApiError> {
    let q = ListQuery::parse(query.as_deref().unwrap_or_default())?;
    let (page, next_cursor) =
        delivery_log::endpoint_deliveries(&*state.store, &tenant_id, &endpoint_id, q).await?;
    Ok(Json(DeliveryList {
        data: page.iter().map(|d| DeliveryView::new(d, None)).collect(),
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/recover", request_body = Recover,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 202, body = JobView, description = "The job; poll GET .../jobs/{job_id}"), Errors))]
async fn recover(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
    JsonBody(body): JsonBody<Recover>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let window = Window::parse(&body, now_millis())?;
    let (store, queue) = (&*state.store, &*state.queue);
    let job = requeue::recover(store, queue, &tenant_id, &endpoint_id, window).await?;
    Ok((StatusCode::ACCEPTED, Json(JobView::new(&job))))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/deliveries/{delivery_id}",
    params(("tenant_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = DeliveryView, description = "With every attempt"), Errors))]
async fn get_delivery(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(delivery_id): ResourceId,
) -> Result<Json<DeliveryView>, ApiError> {
    let (delivery, attempts) =
        delivery_log::delivery_with_attempts(&*state.store, &tenant_id, &delivery_id).await?;
    Ok(Json(DeliveryView::new(&delivery, Some(&attempts))))
}

// One manual attempt, made as soon as the delivery function takes the message.
#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/deliveries/{delivery_id}/retry",
    params(("tenant_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = RetryQueued), Errors))]
async fn retry_delivery(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(delivery_id): ResourceId,
) -> Result<(StatusCode, Json<RetryQueued>), ApiError> {
    let delivery = delivery_log::delivery(&*state.store, &tenant_id, &delivery_id).await?;
    requeue::retry(&*state.store, &*state.queue, &delivery).await?;
    let view = RetryQueued {
        id: delivery.id,
        status: delivery.status,
        queued: true,
    };
    Ok((StatusCode::ACCEPTED, Json(view)))
}
