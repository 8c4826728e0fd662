//! `PUT /v1/tenants/{tenant_id}` (admin key), `GET /v1/tenants/{tenant_id}` and the tenant list
//! `GET /v1/tenants` (admin key).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::{Admin, AdminOf, TenantAccess};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::service::console::{self, TenantQuery};
use crate::service::tenants::{self, Put, PutTenant, TenantChange};
use crate::state::AppState;
use crate::views::{TenantList, TenantSummaryView, TenantView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_tenant, get_tenant))
        .routes(routes!(list_tenants))
}

#[utoipa::path(get, path = "/v1/tenants",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 200), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = TenantList, description = "By id"), Errors))]
async fn list_tenants(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<TenantList>, ApiError> {
    let q = TenantQuery::parse(query.as_deref().unwrap_or_default())?;
    let page = console::tenants(&*state.store, &q).await?;
    Ok(Json(TenantList {
        data: page.tenants.iter().map(TenantSummaryView::new).collect(),
        next_cursor: page.next_after.as_deref().map(console::cursor),
    }))
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
