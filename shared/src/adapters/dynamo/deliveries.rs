//! Deliveries: DeliveryRead (a delivery is found from its id: the id names its event, the
//! event names the endpoint whose log holds it) and DeliveryControl (restart and failure are
//! records appended to the log).

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::ids::delivery_id_bounds;
use crate::domain::log::{after_failure, after_restart};
use crate::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use crate::ports::store::{DeliveryControl, DeliveryPage, DeliveryRead, StoreError};

use super::DynamoStore;
use super::log_scan::Scan;

#[async_trait]
impl DeliveryRead for DynamoStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let Some((event, endpoint, index)) = self.locate(tenant_id, delivery_id).await? else {
            return Ok(None);
        };
        match self
            .latest_record(tenant_id, endpoint.as_deref(), delivery_id, true)
            .await?
        {
            Some(r) => Ok(Some(r.state)),
            None => self.unrecorded(&event, index).await,
        }
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let Some((_, endpoint, _)) = self.locate(tenant_id, delivery_id).await? else {
            return Ok(Vec::new());
        };
        let records = self
            .records(tenant_id, endpoint.as_deref(), delivery_id)
            .await?;
        Ok(records.into_iter().filter_map(|r| r.attempt).collect())
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
        let scan = Scan {
            newest_first: true,
            after: after.map(str::to_owned),
            bounds: None,
            want: limit,
            budget: self.list_scan_budget,
        };
        let read = self
            .scan_deliveries(tenant_id, endpoint_id, &scan, |d| {
                status.is_none_or(|st| d.status == st)
            })
            .await?;
        Ok(DeliveryPage::cut(read.deliveries, limit, read.stopped_at))
    }

    async fn window_page(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        (since, until): (EpochMillis, EpochMillis),
        after: Option<&str>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let limit = limit.max(1);
        let scan = Scan {
            newest_first: false,
            after: after.map(str::to_owned),
            bounds: Some(delivery_id_bounds(since, until)),
            want: limit,
            budget: self.list_scan_budget.max(limit * 4),
        };
        let read = self
            .scan_deliveries(tenant_id, endpoint_id, &scan, |_| true)
            .await?;
        Ok(DeliveryPage::cut(read.deliveries, limit, read.stopped_at))
    }
}

#[async_trait]
impl DeliveryControl for DynamoStore {
    async fn restart_delivery(
        &self,
        d: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let record = after_restart(d, now).ok_or(StoreError::Conflict)?;
        self.append(&record).await
    }

    async fn fail_delivery(
        &self,
        d: &DeliveryRecord,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let record = after_failure(d, reason, now).ok_or(StoreError::Conflict)?;
        self.append(&record).await
    }
}
