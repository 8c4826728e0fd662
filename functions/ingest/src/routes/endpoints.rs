//! `POST/GET /v1/tenants/{tenant_id}/endpoints`, `GET|PATCH|DELETE .../endpoints/{endpoint_id}`,
//! `POST .../endpoints/{endpoint_id}/rotate-secret`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::TenantAccess;
use crate::error::ApiError;
use crate::extract::{JsonBody, RawBody, ResourceId, parse_body};
use crate::service::endpoints::{self, CreateEndpoint, PatchEndpoint, RotateSecret};
use crate::service::test_event::{self, TestEvent};
use crate::state::AppState;
use crate::views::{AcceptedEvent, EndpointList, EndpointView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, patch_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test_event))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/test", request_body = TestEvent,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 202, body = AcceptedEvent, description = "A test event for this endpoint only (the catalog's example payload by default)"), Errors))]
async fn send_test_event(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
    JsonBody(body): JsonBody<TestEvent>,
) -> Result<(StatusCode, Json<AcceptedEvent>), ApiError> {
    let strict = state.strict().await?;
    let (store, queue) = (&*state.store, &*state.queue);
    let accepted = test_event::send(
        store,
        queue,
        &state.config,
        &strict,
        &tenant_id,
        &endpoint_id,
        body,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints", request_body = CreateEndpoint,
    params(("tenant_id" = String, Path)), responses((status = 201, body = EndpointView), Errors))]
async fn create_endpoint(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    JsonBody(body): JsonBody<CreateEndpoint>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    state.strict().await?.check_patterns(&body.event_types)?;
    let endpoint = endpoints::create(&*state.store, &state.config, &tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(EndpointView::new(&endpoint))))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints", params(("tenant_id" = String, Path)),
    responses((status = 200, body = EndpointList), Errors))]
async fn list_endpoints(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
) -> Result<Json<EndpointList>, ApiError> {
    let list = endpoints::list(&*state.store, &tenant_id).await?;
    Ok(Json(EndpointList {
        data: list.iter().map(EndpointView::new).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView), Errors))]
async fn get_endpoint(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
) -> Result<Json<EndpointView>, ApiError> {
    let endpoint = endpoints::load(&*state.store, &tenant_id, &endpoint_id).await?;
    Ok(Json(EndpointView::new(&endpoint)))
}

#[utoipa::path(patch, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}", request_body = PatchEndpoint,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView), Errors))]
async fn patch_endpoint(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
    JsonBody(body): JsonBody<PatchEndpoint>,
) -> Result<Json<EndpointView>, ApiError> {
    if let Some(types) = &body.event_types {
        state.strict().await?.check_patterns(types)?;
    }
    let (store, queue) = (&*state.store, &*state.queue);
    let endpoint =
        endpoints::patch(store, queue, &state.config, &tenant_id, &endpoint_id, body).await?;
    Ok(Json(EndpointView::new(&endpoint)))
}

#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 204, description = "Deleted"), Errors))]
async fn delete_endpoint(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&*state.store, &tenant_id, &endpoint_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// The body is optional: an empty one rotates with the defaults.
#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/rotate-secret", request_body = RotateSecret,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView, description = "The endpoint with its new secret"), Errors))]
async fn rotate_secret(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(endpoint_id): ResourceId,
    RawBody(body): RawBody,
) -> Result<Json<EndpointView>, ApiError> {
    let req: RotateSecret = if body.iter().all(u8::is_ascii_whitespace) {
        RotateSecret::default()
    } else {
        parse_body(&body)?
    };
    let endpoint =
        endpoints::rotate_secret(&*state.store, &state.config, &tenant_id, &endpoint_id, req)
            .await?;
    Ok(Json(EndpointView::new(&endpoint)))
}
