//! The delivery function's lease and attempt log: AttemptLog.

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use crate::ports::store::{AttemptLog, DeliveryUpdate, StoreError};

use super::item::{attempt_item, n, s};
use super::{DynamoStore, keys, map_err};

#[async_trait]
impl AttemptLog for DynamoStore {
    async fn claim(
        &self,
        delivery: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        lease_until: EpochMillis,
        manual: bool,
    ) -> Result<(), StoreError> {
        // A scheduled attempt needs a pending delivery; a manual one may follow any state.
        let status_condition = if manual {
            "attribute_exists(pk)"
        } else {
            "#status = :pending"
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(
                keys::delivery(&delivery.tenant_id, &delivery.id).item(),
            ))
            .update_expression("SET lease_until = :lease, lease_owner = :owner")
            .condition_expression(format!(
                "{status_condition} AND attempt_count = :count AND \
                 (attribute_not_exists(lease_until) OR lease_until < :now)"
            ));
        if !manual {
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()));
        }
        update
            .expression_attribute_values(":count", n(delivery.attempt_count))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn record_attempt(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        // First the attempt (never overwritten), then the delivery (only by the lease holder).
        // No transaction: one costs twice the write units. If the process dies in between, the
        // next lease holder finds attempt n+1 recorded (`get_attempt`) and moves the delivery on
        // from it instead of POSTing again.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attempt_item(tenant_id, attempt)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(map_err)?;
        self.advance_delivery(tenant_id, attempt, update, owner)
            .await
    }

    async fn advance_delivery(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        let mut set = vec![
            "attempt_count = :number",
            "#status = :status",
            "updated_at = :now",
        ];
        if attempt.manual {
            // A manual attempt takes no place in the schedule.
            set.push("retry_base = if_not_exists(retry_base, :zero) + :one");
        }
        let mut remove = vec!["lease_until", "lease_owner"];
        if update.status != DeliveryStatus::Pending {
            // Final: off the reconcile index (the one index write a delivery's end costs).
            remove.extend([keys::RECONCILE_PK, keys::RECONCILE_SK]);
        }
        let mut upd = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::delivery(tenant_id, &attempt.delivery_id).item()))
            .condition_expression("lease_owner = :owner AND attempt_count = :previous")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":number", n(attempt.number))
            .expression_attribute_values(":previous", n(attempt.number.saturating_sub(1)))
            .expression_attribute_values(":status", s(update.status.as_str()))
            .expression_attribute_values(
                ":now",
                n(attempt.started_at + i64::try_from(attempt.duration_ms).unwrap_or(0)),
            )
            .expression_attribute_values(":owner", s(owner));
        if attempt.manual {
            upd = upd
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1));
        }
        match update.next_attempt_at {
            Some(at) => {
                set.push("next_attempt_at = :next");
                upd = upd.expression_attribute_values(":next", n(at));
            }
            None => remove.push("next_attempt_at"),
        }
        match &update.last_error {
            Some(e) => {
                set.push("last_error = :error");
                upd = upd.expression_attribute_values(":error", s(e.clone()));
            }
            None => remove.push("last_error"),
        }
        upd.update_expression(format!(
            "SET {} REMOVE {}",
            set.join(", "),
            remove.join(", ")
        ))
        .send()
        .await
        .map(|_| ())
        .map_err(map_err)
    }

    async fn get_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        number: u32,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        self.get(keys::attempt(tenant_id, delivery_id, number), true)
            .await
    }
}
