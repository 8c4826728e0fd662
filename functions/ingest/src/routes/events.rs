//! `POST /v1/tenants/{tenant_id}/events` (fan-out), `POST .../events/batch` (up to 100 events,
//! one result each) and `GET .../events/{event_id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::TenantAccess;
use crate::error::ApiError;
use crate::extract::{JsonBody, ResourceId};
use crate::service::batch::{self, CreateEvents};
use crate::service::delivery_log;
use crate::service::idempotency::Answer;
use crate::service::intake::{self, CreateEvent, ValidEvent};
use crate::state::AppState;
use crate::views::{AcceptedEvent, BatchResult, BatchResults, EventView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event))
        .routes(routes!(create_events))
        .routes(routes!(get_event))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/events", request_body = CreateEvent,
    params(("tenant_id" = String, Path)),
    responses((status = 202, body = AcceptedEvent, description = "Accepted and queued"),
              (status = 200, body = AcceptedEvent, description = "A repeat of an `id` seen within 24 h: the first answer"), Errors))]
async fn create_event(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    JsonBody(body): JsonBody<CreateEvent>,
) -> Result<Response, ApiError> {
    let event = ValidEvent::parse(body, state.config.max_payload_bytes)?;
    state.strict().await?.check_event_type(event.event_type())?;
    let (store, queue) = (&*state.store, &*state.queue);
    match intake::submit(store, queue, &state.config, &tenant_id, event).await? {
        Answer::First(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted)).into_response()),
        Answer::Repeat(first) => Ok(super::raw_json(StatusCode::OK, first)),
    }
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/events/batch", request_body = CreateEvents,
    params(("tenant_id" = String, Path)),
    responses((status = 207, body = BatchResults, description = "One result per event, in the order sent: each event validated, accepted and made idempotent as by `POST .../events`. The body may be up to 2 MiB."),
              Errors))]
async fn create_events(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    JsonBody(body): JsonBody<CreateEvents>,
) -> Result<Response, ApiError> {
    let events = body.checked()?;
    let (store, queue) = (&*state.store, &*state.queue);
    let strict = state.strict().await?;
    let outcomes =
        batch::submit_all(store, queue, &state.config, &strict, &tenant_id, events).await?;
    let results: Vec<BatchResult> = outcomes.into_iter().map(BatchResult::new).collect();
    let count = |status: u16| results.iter().filter(|r| r.status == status).count();
    tracing::info!(
        events = results.len(),
        accepted = count(202),
        repeats = count(200),
        "event batch"
    );
    Ok((StatusCode::MULTI_STATUS, Json(BatchResults { results })).into_response())
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/events/{event_id}",
    params(("tenant_id" = String, Path), ("event_id" = String, Path)),
    responses((status = 200, body = EventView), Errors))]
async fn get_event(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(event_id): ResourceId,
) -> Result<Json<EventView>, ApiError> {
    let (event, payload, deliveries) =
        delivery_log::event(&*state.store, &tenant_id, &event_id).await?;
    Ok(Json(EventView::new(&event, payload, &deliveries)))
}
