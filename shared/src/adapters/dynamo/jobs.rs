//! Jobs: JobStore (one item per job; progress saved conditionally on the progress read).

use async_trait::async_trait;

use crate::domain::job::{JobRecord, JobStatus};
use crate::ports::store::{JobStore, StoreError};

use super::item::{job_item, n, s};
use super::{DynamoStore, keys, map_err};

#[async_trait]
impl JobStore for DynamoStore {
    async fn create_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn get_job(
        &self,
        tenant_id: &str,
        job_id: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.get(keys::job(tenant_id, job_id), true).await
    }

    async fn save_job(&self, job: &JobRecord, expected_done: u64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .condition_expression("#status = :running AND done = :done")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s(JobStatus::Running.as_str()))
            .expression_attribute_values(":done", n(expected_done))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
