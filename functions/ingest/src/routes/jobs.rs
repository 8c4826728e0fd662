//! `GET /v1/tenants/{tenant_id}/jobs/{job_id}`: the progress of long work accepted with a 202
//! (recover; resume after re-enabling an endpoint).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Errors;
use crate::auth::TenantAccess;
use crate::error::ApiError;
use crate::extract::ResourceId;
use crate::service::jobs;
use crate::state::AppState;
use crate::views::JobView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_job))
}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/jobs/{job_id}",
    params(("tenant_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = JobView), Errors))]
async fn get_job(
    State(state): State<AppState>,
    TenantAccess { tenant_id }: TenantAccess,
    ResourceId(job_id): ResourceId,
) -> Result<Json<JobView>, ApiError> {
    let job = jobs::get(&*state.store, &tenant_id, &job_id).await?;
    Ok(Json(JobView::new(&job)))
}
