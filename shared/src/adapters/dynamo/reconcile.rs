//! The reconcile index (gsi3, sparse, KEYS_ONLY): Reconcile. One Query per shard, oldest marks
//! first; the items come back as keys only, so the caller reads each delivery itself.

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::model::DeliveryStatus;
use crate::ports::store::{Reconcile, StaleCandidate, StoreError};

use super::item::s;
use super::{DynamoStore, keys, map_err};

#[async_trait]
impl Reconcile for DynamoStore {
    async fn stale_candidates(
        &self,
        before: EpochMillis,
        limit: usize,
    ) -> Result<Vec<StaleCandidate>, StoreError> {
        let mut found = Vec::new();
        for shard in 0..keys::RECONCILE_SHARDS {
            let left = limit.saturating_sub(found.len());
            if left == 0 {
                break;
            }
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI_RECONCILE)
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#pk", keys::RECONCILE_PK)
                .expression_attribute_names("#sk", keys::RECONCILE_SK)
                .expression_attribute_values(":pk", s(keys::reconcile_pk(shard)))
                .expression_attribute_values(":before", s(keys::reconcile_sk(before)))
                .limit(i32::try_from(left).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(map_err)?;
            for item in out.items.unwrap_or_default() {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                let ids = text("pk").and_then(|pk| keys::parse_delivery_pk(&pk));
                let mark = text(keys::RECONCILE_SK).and_then(|m| keys::parse_reconcile_sk(&m));
                if let (Some((tenant_id, delivery_id)), Some(mark)) = (ids, mark) {
                    found.push(StaleCandidate {
                        tenant_id,
                        delivery_id,
                        mark,
                    });
                }
            }
        }
        Ok(found)
    }

    async fn move_mark(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::delivery(tenant_id, delivery_id).item()))
            .update_expression("SET #rsk = :to")
            .condition_expression("#status = :pending AND #rsk = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#rsk", keys::RECONCILE_SK)
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":from", s(keys::reconcile_sk(from)))
            .expression_attribute_values(":to", s(keys::reconcile_sk(to)))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
