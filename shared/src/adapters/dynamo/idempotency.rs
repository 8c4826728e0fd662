//! Idempotency keys: one conditional PutItem claims a key for 24 h (TTL `expires_at`).

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::model::IdempotencyRecord;
use crate::ports::store::{IDEMPOTENCY_WINDOW_MS, Idempotency, IdempotencyClaim, StoreError};

use super::item::{idempotency_item, n, s};
use super::{DynamoStore, keys, map_err};

/// How often a claim is tried when the key is released between the claim and the read.
const CLAIM_TRIES: usize = 3;

#[async_trait]
impl Idempotency for DynamoStore {
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
        response: Option<&str>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let record = IdempotencyRecord {
            tenant_id: tenant_id.to_owned(),
            key: key.to_owned(),
            response: response.map(str::to_owned),
            created_at: now,
            expires_at: (now + IDEMPOTENCY_WINDOW_MS) / 1000,
        };
        for _ in 0..CLAIM_TRIES {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(idempotency_item(&record)?))
                .condition_expression("attribute_not_exists(pk) OR created_at < :cutoff")
                .expression_attribute_values(":cutoff", n(now - IDEMPOTENCY_WINDOW_MS))
                .send()
                .await;
            match put.map_err(map_err) {
                Ok(_) => return Ok(IdempotencyClaim::Claimed),
                Err(StoreError::Conflict) => {
                    if let Some(existing) = self.get_idempotency(tenant_id, key).await? {
                        return Ok(IdempotencyClaim::Existing(existing));
                    }
                    // Released between the two calls: try to claim again.
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable(
            "idempotency key kept changing".into(),
        ))
    }

    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(keys::idempotency(tenant_id, key), true).await
    }

    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::idempotency(tenant_id, key).item()))
            .update_expression("SET #response = :r")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":r", s(response))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn replace_idempotency_response(
        &self,
        tenant_id: &str,
        key: &str,
        expected: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::idempotency(tenant_id, key).item()))
            .update_expression("SET #response = :r")
            .condition_expression("#response = :expected")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":r", s(response))
            .expression_attribute_values(":expected", s(expected))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn release_idempotency(&self, tenant_id: &str, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::idempotency(tenant_id, key).item()))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
