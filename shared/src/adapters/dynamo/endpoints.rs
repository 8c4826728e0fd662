//! Endpoints: EndpointRead, EndpointWrite (the tenant's endpoint counter moves in the same
//! transaction) and EndpointHealth.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};

use crate::domain::clock::EpochMillis;
use crate::domain::envelope::SecretOwner;
use crate::domain::model::Endpoint;
use crate::ports::store::{EndpointHealth, EndpointRead, EndpointWrite, StoreError};

use super::item::{Item, endpoint_item, from_item, n, s};
use super::query::query_items;
use super::sealed::{endpoint_owner, seal_item};
use super::{DynamoStore, build_err, keys, map_err};

#[async_trait]
impl EndpointRead for DynamoStore {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        let owner = SecretOwner::endpoint(tenant_id, endpoint_id);
        self.get_sealed(keys::endpoint(tenant_id, endpoint_id), &owner)
            .await
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let query = self.query_sk_prefix(keys::tenant_pk(tenant_id), keys::ENDPOINT_SK_PREFIX);
        let mut endpoints = Vec::new();
        for mut item in query_items(query).await? {
            let owner = endpoint_owner(tenant_id, &item)?;
            self.open(&owner, &mut item).await?;
            endpoints.push(from_item(item)?);
        }
        Ok(endpoints)
    }
}

#[async_trait]
impl EndpointWrite for DynamoStore {
    async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> Result<(), StoreError> {
        // The tenant's counter and the endpoint are written together, so the limit holds under
        // concurrent creates.
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::tenant(&endpoint.tenant_id).item()))
            .update_expression("SET endpoint_count = if_not_exists(endpoint_count, :zero) + :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(endpoint_count) OR endpoint_count < :max)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_endpoints))
            .build()
            .map_err(build_err)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.sealed_endpoint_item(endpoint).await?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.sealed_endpoint_item(endpoint).await?))
            .condition_expression("attribute_exists(pk) AND updated_at = :expected")
            .expression_attribute_values(":expected", n(expected_updated_at))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn delete_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keys::endpoint(tenant_id, endpoint_id).item()))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::tenant(tenant_id).item()))
            .update_expression("SET endpoint_count = endpoint_count - :one")
            .condition_expression("endpoint_count > :zero")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(build_err)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

impl DynamoStore {
    /// The endpoint as an item, its secrets sealed.
    async fn sealed_endpoint_item(&self, endpoint: &Endpoint) -> Result<Item, StoreError> {
        let owner = SecretOwner::endpoint(&endpoint.tenant_id, &endpoint.id);
        seal_item(&self.sealer, &owner, endpoint_item(endpoint)?).await
    }
}

#[async_trait]
impl EndpointHealth for DynamoStore {
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::endpoint(tenant_id, endpoint_id).item()))
            .update_expression(
                "SET enabled = :false, disabled_reason = :reason, disabled_at = :now, updated_at = :now",
            )
            .condition_expression("attribute_exists(pk) AND enabled = :true")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::endpoint(tenant_id, endpoint_id).item()))
            .update_expression("SET failing_since = if_not_exists(failing_since, :now)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .attributes
            .and_then(|a| {
                a.get("failing_since")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(now))
    }

    async fn clear_failing(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::endpoint(tenant_id, endpoint_id).item()))
            .update_expression("REMOVE failing_since")
            .condition_expression("attribute_exists(failing_since)")
            .send()
            .await
            .map_err(map_err);
        match result {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
