//! The event-type catalog: `PUT|GET|DELETE /v1/event-types/{name}` (admin key) and
//! `GET /v1/event-types` (any key: tenants list the types they may subscribe to).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::{Admin, AnyKey};
use crate::error::ApiError;
use crate::extract::{JsonBody, ResourceId};
use crate::service::catalog::{self, PutEventType};
use crate::state::AppState;
use crate::views::{EventTypeList, EventTypeView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_event_type, get_event_type, delete_event_type))
        .routes(routes!(list_event_types))
}

#[utoipa::path(put, path = "/v1/event-types/{name}", request_body = PutEventType,
    params(("name" = String, Path, description = "The event type, e.g. `invoice.paid`")),
    responses((status = 201, body = EventTypeView, description = "Created"),
              (status = 200, body = EventTypeView, description = "Replaced"), Errors))]
async fn put_event_type(
    State(state): State<AppState>,
    _: Admin,
    ResourceId(name): ResourceId,
    JsonBody(body): JsonBody<PutEventType>,
) -> Result<(StatusCode, Json<EventTypeView>), ApiError> {
    let (entry, created) = catalog::put(&*state.store, &state.catalog, &name, body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(EventTypeView::new(&entry))))
}

#[utoipa::path(get, path = "/v1/event-types/{name}", params(("name" = String, Path)),
    responses((status = 200, body = EventTypeView), Errors))]
async fn get_event_type(
    State(state): State<AppState>,
    _: Admin,
    ResourceId(name): ResourceId,
) -> Result<Json<EventTypeView>, ApiError> {
    let entry = catalog::get(&*state.store, &name).await?;
    Ok(Json(EventTypeView::new(&entry)))
}

#[utoipa::path(delete, path = "/v1/event-types/{name}", params(("name" = String, Path)),
    responses((status = 204, description = "Deleted (endpoints keep their subscriptions)"), Errors))]
async fn delete_event_type(
    State(state): State<AppState>,
    _: Admin,
    ResourceId(name): ResourceId,
) -> Result<StatusCode, ApiError> {
    catalog::delete(&*state.store, &state.catalog, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/event-types",
    responses((status = 200, body = EventTypeList), Errors))]
async fn list_event_types(
    State(state): State<AppState>,
    _: AnyKey,
) -> Result<Json<EventTypeList>, ApiError> {
    let entries = state.store.list_event_types().await?;
    Ok(Json(EventTypeList {
        data: entries.iter().map(EventTypeView::new).collect(),
        strict: state.config.strict_event_types,
    }))
}
