//! Deliveries: DeliveryRead (a delivery and its attempts share a partition; an endpoint's
//! deliveries are gsi2, newest first) and DeliveryControl.

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::ids::delivery_id_bounds;
use crate::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use crate::ports::store::{DeliveryControl, DeliveryPage, DeliveryRead, StoreError};

use super::item::{from_item, n, s};
use super::query::{Pages, query_pages, query_window};
use super::{DynamoStore, keys, map_err};

/// The smallest page a Query of an endpoint's deliveries asks for (a status filter may drop
/// most of a page).
const MIN_QUERY_PAGE: usize = 25;

#[async_trait]
impl DeliveryRead for DynamoStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.get(keys::delivery(tenant_id, delivery_id), true).await
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let query = self.query_sk_prefix(
            keys::delivery_pk(tenant_id, delivery_id),
            keys::ATTEMPT_SK_PREFIX,
        );
        query_pages(query, Pages::All).await
    }

    async fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage, StoreError> {
        let limit = limit.max(1);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI_ENDPOINT)
            .scan_index_forward(false)
            .expression_attribute_values(
                ":pk",
                s(keys::endpoint_deliveries_pk(tenant_id, endpoint_id)),
            );
        query = match after {
            Some(a) => query
                .key_condition_expression("gsi2pk = :pk AND gsi2sk < :after")
                .expression_attribute_values(":after", s(a)),
            None => query.key_condition_expression("gsi2pk = :pk"),
        };
        if let Some(st) = status {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(st.as_str()));
        }
        let window = Pages::Window {
            more_than: limit,
            budget: self.list_scan_budget,
            page: (limit + 1).max(MIN_QUERY_PAGE),
        };
        let read = query_window::<DeliveryRecord>(query, window).await?;
        let stopped_at = read
            .stopped_at
            .and_then(|k| k.get("gsi2sk").and_then(|v| v.as_s().ok()).cloned());
        Ok(DeliveryPage::cut(read.records, limit, stopped_at))
    }

    async fn window_page(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        (since, until): (EpochMillis, EpochMillis),
        after: Option<&str>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let (lo, hi) = delivery_id_bounds(since, until);
        // `after` itself is read again (BETWEEN is inclusive) and dropped.
        let lo = after.map_or(lo.clone(), |a| a.max(lo.as_str()).to_owned());
        let extra = usize::from(after.is_some());
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI_ENDPOINT)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk BETWEEN :lo AND :hi")
            .expression_attribute_values(
                ":pk",
                s(keys::endpoint_deliveries_pk(tenant_id, endpoint_id)),
            )
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .limit(i32::try_from(limit.max(1) + extra).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(map_err)?;
        let mut deliveries = Vec::new();
        for item in out.items.unwrap_or_default() {
            let d: DeliveryRecord = from_item(item)?;
            if Some(d.id.as_str()) != after {
                deliveries.push(d);
            }
        }
        let more = out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        let next_after = deliveries.last().map(|d| d.id.clone()).filter(|_| more);
        Ok(DeliveryPage {
            deliveries,
            next_after,
        })
    }

    async fn failed_deliveries_between(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        since: EpochMillis,
        until: EpochMillis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (lo, hi) = delivery_id_bounds(since, until);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI_ENDPOINT)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk BETWEEN :lo AND :hi")
            .filter_expression("#status = :failed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":pk",
                s(keys::endpoint_deliveries_pk(tenant_id, endpoint_id)),
            )
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()));
        query_pages(query, Pages::All).await
    }
}

#[async_trait]
impl DeliveryControl for DynamoStore {
    async fn restart_delivery(
        &self,
        delivery: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(
                keys::delivery(&delivery.tenant_id, &delivery.id).item(),
            ))
            .update_expression(
                "SET #status = :pending, retry_base = attempt_count, updated_at = :now, \
                 #rpk = :rpk, #rsk = :rsk \
                 REMOVE next_attempt_at, last_error, lease_until, lease_owner",
            )
            .condition_expression("#status = :failed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#rpk", keys::RECONCILE_PK)
            .expression_attribute_names("#rsk", keys::RECONCILE_SK)
            .expression_attribute_values(
                ":rpk",
                s(keys::reconcile_pk(keys::reconcile_shard_of(&delivery.id))),
            )
            .expression_attribute_values(":rsk", s(keys::reconcile_sk(now)))
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn fail_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::delivery(tenant_id, delivery_id).item()))
            .update_expression(
                "SET #status = :failed, last_error = :reason, updated_at = :now \
                 REMOVE next_attempt_at, lease_until, lease_owner, #rpk, #rsk",
            )
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#rpk", keys::RECONCILE_PK)
            .expression_attribute_names("#rsk", keys::RECONCILE_SK)
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
