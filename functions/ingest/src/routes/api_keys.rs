//! `POST /v1/tenants/{tenant_id}/api-keys` and `DELETE .../api-keys/{key_id}` (admin key only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use shared::domain::clock::rfc3339;

use super::openapi::Errors;
use crate::auth::AdminOf;
use crate::error::ApiError;
use crate::extract::ResourceId;
use crate::service::api_keys;
use crate::state::AppState;
use crate::views::ApiKeyCreated;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key))
        .routes(routes!(delete_api_key))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/api-keys", params(("tenant_id" = String, Path)),
    responses((status = 201, body = ApiKeyCreated), Errors))]
async fn create_api_key(
    State(state): State<AppState>,
    AdminOf { tenant_id }: AdminOf,
) -> Result<(StatusCode, Json<ApiKeyCreated>), ApiError> {
    let (record, key) = api_keys::create(&*state.store, &tenant_id).await?;
    let view = ApiKeyCreated {
        id: record.id,
        key,
        tenant_id: record.tenant_id,
        created_at: rfc3339(record.created_at),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/api-keys/{key_id}",
    params(("tenant_id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204, description = "Revoked"), Errors))]
async fn delete_api_key(
    State(state): State<AppState>,
    AdminOf { tenant_id }: AdminOf,
    ResourceId(key_id): ResourceId,
) -> Result<StatusCode, ApiError> {
    api_keys::delete(&*state.store, &tenant_id, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
