//! Events: EventWrite (one item per event, naming its deliveries; nothing per delivery) and
//! EventRead (an event's deliveries are its latest log records, or pending when none).

use async_trait::async_trait;
use futures::future::try_join_all;

use crate::domain::model::{DeliveryRecord, EventRecord};
use crate::ports::store::{EventRead, EventWrite, StoreError};

use super::item::event_item;
use super::{DynamoStore, map_err};

#[async_trait]
impl EventWrite for DynamoStore {
    async fn put_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(event)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(map_err);
        match put {
            // Written before (a resumed intake): the first write stands.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl EventRead for DynamoStore {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.event_record(tenant_id, event_id).await
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let Some(event) = self.event_record(tenant_id, event_id).await? else {
            return Ok(Vec::new());
        };
        let reads = (0..event.delivery_count()).map(|index| {
            let event = &event;
            async move {
                let Some(id) = crate::domain::ids::delivery_id(&event.id, index) else {
                    return Ok(None);
                };
                let endpoint = event.endpoint_ids.get(index).map(String::as_str);
                match self.latest_record(tenant_id, endpoint, &id, true).await? {
                    Some(r) => Ok(Some(r.state)),
                    None => self.unrecorded(event, index).await,
                }
            }
        });
        Ok(try_join_all(reads).await?.into_iter().flatten().collect())
    }
}
