//! Tenant API keys: two items per key (lookup by hash, listing under the tenant), written and
//! deleted together.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use crate::domain::model::ApiKeyRecord;
use crate::ports::store::{ApiKeys, StoreError};

use super::item::{Item, api_key_listing_item, api_key_lookup_item};
use super::{DynamoStore, build_err, keys, map_err};

#[async_trait]
impl ApiKeys for DynamoStore {
    async fn put_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_err)
        };
        let lookup = put(api_key_lookup_item(k)?)?;
        let listing = put(api_key_listing_item(k)?)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(lookup).build())
            .transact_items(TransactWriteItem::builder().put(listing).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn find_api_key(&self, key_sha256: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(keys::api_key_lookup(key_sha256), false).await
    }

    async fn delete_api_key(&self, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
        let listing: Option<ApiKeyRecord> = self
            .get(keys::api_key_listing(tenant_id, key_id), true)
            .await?;
        let Some(record) = listing else {
            return Err(StoreError::Conflict);
        };
        let delete = |key: keys::Key| {
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key.item()))
                .build()
                .map_err(build_err)
        };
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete(keys::api_key_lookup(&record.key_sha256))?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete(keys::api_key_listing(tenant_id, key_id))?)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
