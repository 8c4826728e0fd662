//! A delivery's log in the table: appending a record (conditional: record n is written once),
//! reading the latest or all of one delivery's records, and locating a delivery from its id
//! (the id names its event; the event names the endpoint).

use crate::domain::ids::parse_delivery_id;
use crate::domain::log::LogRecord;
use crate::domain::model::{DeliveryRecord, EventRecord};
use crate::ports::store::{EndpointRead, StoreError};

use super::item::{Item, from_item};
use super::log_item::{from_record_item, record_item};
use super::query::query_items;
use super::{DynamoStore, keys, map_err};

impl DynamoStore {
    /// Writes `record` unless its number is taken (Conflict).
    pub(super) async fn append(&self, record: &LogRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// A delivery's latest record (one item read, newest first).
    pub(super) async fn latest_record(
        &self,
        tenant: &str,
        endpoint: Option<&str>,
        delivery: &str,
        consistent: bool,
    ) -> Result<Option<LogRecord>, StoreError> {
        let out = self
            .query_sk_prefix(
                keys::log_pk(tenant, endpoint, delivery),
                &keys::log_sk_prefix(delivery),
            )
            .scan_index_forward(false)
            .consistent_read(consistent)
            .limit(1)
            .send()
            .await
            .map_err(map_err)?;
        out.items
            .unwrap_or_default()
            .first()
            .map(from_record_item)
            .transpose()
    }

    /// Every record of a delivery, oldest first.
    pub(super) async fn records(
        &self,
        tenant: &str,
        endpoint: Option<&str>,
        delivery: &str,
    ) -> Result<Vec<LogRecord>, StoreError> {
        let query = self
            .query_sk_prefix(
                keys::log_pk(tenant, endpoint, delivery),
                &keys::log_sk_prefix(delivery),
            )
            .consistent_read(true);
        query_items(query)
            .await?
            .iter()
            .map(from_record_item)
            .collect()
    }

    /// The event item of `event_id` (strongly consistent), when it is the tenant's.
    pub(super) async fn event_record(
        &self,
        tenant: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        let Some(key) = keys::event(tenant, event_id) else {
            return Ok(None);
        };
        let item: Option<Item> = self.get_item(key, true).await?;
        item.map(from_item).transpose()
    }

    /// The event of a delivery id and the delivery's place in it: (event, endpoint, index).
    pub(super) async fn locate(
        &self,
        tenant: &str,
        delivery: &str,
    ) -> Result<Option<(EventRecord, Option<String>, usize)>, StoreError> {
        let Some((event_id, index)) = parse_delivery_id(delivery) else {
            return Ok(None);
        };
        let Some(event) = self.event_record(tenant, &event_id).await? else {
            return Ok(None);
        };
        if index >= event.delivery_count() {
            return Ok(None);
        }
        let endpoint = event.endpoint_ids.get(index).cloned();
        Ok(Some((event, endpoint, index)))
    }

    /// Delivery `index` of `event` with nothing recorded: pending, to the endpoint's current
    /// URL (or the one-off URL).
    pub(super) async fn unrecorded(
        &self,
        event: &EventRecord,
        index: usize,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let url = match event.endpoint_ids.get(index) {
            Some(ep) => self
                .get_endpoint(&event.tenant_id, ep)
                .await?
                .map(|e| e.url)
                .unwrap_or_default(),
            None => event.webhook_url.clone().unwrap_or_default(),
        };
        Ok(event.unrecorded_delivery(index, url))
    }
}
