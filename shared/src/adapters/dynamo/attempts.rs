//! The delivery function's side of the log: AttemptLog. One strongly consistent read of the
//! latest record when the state is needed, one conditional put per attempt.

use async_trait::async_trait;

use crate::domain::log::after_attempt;
use crate::domain::model::{AttemptRecord, DeliveryRecord};
use crate::ports::store::{AttemptLog, DeliveryUpdate, StoreError};

use super::DynamoStore;

#[async_trait]
impl AttemptLog for DynamoStore {
    async fn delivery_state(
        &self,
        tenant_id: &str,
        endpoint_id: Option<&str>,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        Ok(self
            .latest_record(tenant_id, endpoint_id, delivery_id, true)
            .await?
            .map(|r| r.state))
    }

    async fn record_attempt(
        &self,
        before: &DeliveryRecord,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
    ) -> Result<(), StoreError> {
        self.append(&after_attempt(before, attempt, update)).await
    }
}
