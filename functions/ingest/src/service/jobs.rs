//! Jobs as the API shows them: `GET /v1/tenants/{tenant_id}/jobs/{job_id}`. A job is keyed
//! under its tenant, so another tenant's job is simply not found (404).

use shared::domain::ids::IdKind;
use shared::domain::job::JobRecord;
use shared::ports::JobStore;

use crate::error::ApiError;

pub async fn get<S: JobStore + ?Sized>(
    store: &S,
    tenant_id: &str,
    job_id: &str,
) -> Result<JobRecord, ApiError> {
    super::require_ids(tenant_id, IdKind::Job, job_id, "job")?;
    store
        .get_job(tenant_id, job_id)
        .await?
        .ok_or(ApiError::NotFound("job"))
}
