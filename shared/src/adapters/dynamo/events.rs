//! Events: EventWrite (the event and its deliveries in BatchWriteItem chunks) and EventRead
//! (an event's deliveries are one Query on gsi1).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use crate::domain::model::{DeliveryRecord, EventRecord};
use crate::ports::store::{EventRead, EventWrite, StoreError};

use super::item::{Item, delivery_item, event_item, s};
use super::query::{Pages, query_pages};
use super::{DynamoStore, build_err, keys, map_err};

/// BatchWriteItem takes at most this many items.
const BATCH_WRITE_MAX: usize = 25;
/// Calls per chunk before items still unprocessed make the write fail.
const BATCH_WRITE_TRIES: u32 = 6;

#[async_trait]
impl EventWrite for DynamoStore {
    async fn put_event(
        &self,
        event: &EventRecord,
        deliveries: &[DeliveryRecord],
    ) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(deliveries.len() + 1);
        items.push(event_item(event)?);
        for d in deliveries {
            items.push(delivery_item(d)?);
        }
        self.batch_put(items).await
    }
}

#[async_trait]
impl EventRead for DynamoStore {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.get(keys::event(tenant_id, event_id), false).await
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI_EVENT)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "gsi1pk")
            .expression_attribute_values(":pk", s(keys::event_pk(tenant_id, event_id)));
        query_pages(query, Pages::All).await
    }
}

impl DynamoStore {
    /// BatchWriteItem in chunks of 25, retrying `unprocessed_items` with backoff; an error if
    /// any item is still unwritten after the last try.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(build_err)
                })
                .collect::<Result<_, _>>()?;
            let mut tries = 0;
            while !pending.is_empty() {
                tries += 1;
                if tries > BATCH_WRITE_TRIES {
                    return Err(StoreError::Unavailable(format!(
                        "{} item(s) still unprocessed after {BATCH_WRITE_TRIES} tries",
                        pending.len()
                    )));
                }
                if tries > 1 {
                    tokio::time::sleep(Duration::from_millis(25 << tries)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(map_err)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}
