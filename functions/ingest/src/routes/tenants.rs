//! `PUT /v1/tenants/{tenant_id}` (admin key) and `GET /v1/tenants/{tenant_id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::{AdminOf, TenantAccess};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::service::tenants::{self, Put, PutTenant, TenantChange};
use crate::state::AppState;
use crate::views::TenantView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_tenant, get_tenant))
}

#[utoipa::path(put, path = "/v1/tenants/{tenant_id}", request_body = PutTenant,
    params(("tenant_id" = String, Path, pattern = r"^[A-Za-z0-9_.-]{1,64}$")),
    responses((status = 201, body = TenantView, description = "Created (with signing_secret)"),
              (status = 200, body = TenantView, description = "Updated"), Errors))]
async fn put_tenant(
    State(state): State<AppState>,
    AdminOf { tenant_id }: AdminOf,
    JsonBody(body): JsonBody<PutTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let change = TenantChange::parse(tenant_id, body, state.config.allow_credential_headers)?;
    let (tenant, put) = tenants::put(&*state.store, change).await?;
    Ok(match put {
        Put::Created => (StatusCode::CREATED, Json(TenantView::new(&tenant, true))),
        Put::Updated => (StatusCode::OK, Json(TenantView::new(&tenant, false))),
    })
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}", params(("tenant_id" = String, Path)),
    responses((status = 200, body = TenantView), Errors))]
async fn get_tenant(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
) -> Result<Json<TenantView>, ApiError> {
    let tenant = tenants::load(&*state.store, &tenant_id).await?;
    Ok(Json(TenantView::new(&tenant, false)))
}
