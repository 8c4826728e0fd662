//! The web pages' storage: EventTypes (the catalog), TenantDirectory (the tenant list) and
//! PortalSessions (links and sessions).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::catalog::EventTypeRecord;
use crate::domain::model::ApiKeyRecord;
use crate::ports::console::{
    EventTypes, PortalLink, PortalSessions, TenantDirectory, TenantPage, TenantSummary,
};
use crate::ports::store::StoreError;

use super::item::{Item, from_item, n, set_or_remove, to_item};
use super::query::query_items;
use super::{DynamoStore, keys, map_err};

#[async_trait]
impl EventTypes for DynamoStore {
    /// One UpdateItem: every field set, `created_at` only if absent; the old item says whether
    /// this created the entry.
    async fn put_event_type(
        &self,
        entry: &EventTypeRecord,
    ) -> Result<(EventTypeRecord, bool), StoreError> {
        // Every field set (schema and example removed when left out), `created_at` kept.
        let mut item = to_item(entry, keys::event_type(&entry.name), &[])?;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::event_type(&entry.name).item()))
            .expression_attribute_names("#created_at", "created_at")
            .expression_attribute_values(":created_at", n(entry.created_at));
        let fields = ["name", "description", "schema", "example", "updated_at"];
        let created_once = ["#created_at = if_not_exists(#created_at, :created_at)"];
        let old = set_or_remove(update, &mut item, &fields, &created_once)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(map_err)?
            .attributes
            .filter(|item| !item.is_empty());
        let mut stored = entry.clone();
        let created = match old {
            Some(old) => {
                stored.created_at = from_item::<EventTypeRecord>(old)?.created_at;
                false
            }
            None => true,
        };
        Ok((stored, created))
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventTypeRecord>, StoreError> {
        self.get(keys::event_type(name), false).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::event_type(name).item()))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn list_event_types(&self) -> Result<Vec<EventTypeRecord>, StoreError> {
        // Strongly consistent: a type added a moment ago is known to the strict checks at once.
        let query = self
            .query_sk_prefix(keys::CATALOG_PK.to_owned(), keys::EVENT_TYPE_SK_PREFIX)
            .consistent_read(true);
        query_items(query)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}

#[async_trait]
impl TenantDirectory for DynamoStore {
    async fn list_tenants(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<TenantPage, StoreError> {
        let limit = limit.clamp(1, 1_000);
        let start = after.map(|after| keys::tenant_directory(after).item());
        let page = self
            .query_pk(keys::TENANTS_PK.to_owned())
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(map_err)?;
        let mut tenants: Vec<TenantSummary> = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        // One item more than asked for says whether another page follows.
        let more = tenants.len() > limit;
        tenants.truncate(limit);
        let next_after = more.then(|| tenants.last().map(|t| t.id.clone())).flatten();
        Ok(TenantPage {
            tenants,
            next_after,
        })
    }
}

impl DynamoStore {
    /// The tenant's directory item (written on every create and update, so a tenant made before
    /// the directory existed is listed after its next update).
    pub(super) fn tenant_directory_item(summary: &TenantSummary) -> Result<Item, StoreError> {
        to_item(summary, keys::tenant_directory(&summary.id), &[])
    }

    pub(super) async fn put_tenant_directory(
        &self,
        summary: &TenantSummary,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::tenant_directory_item(summary)?))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

#[async_trait]
impl PortalSessions for DynamoStore {
    async fn put_portal_link(
        &self,
        token_sha256: &str,
        link: &PortalLink,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(link, keys::portal_link(token_sha256), &[])?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// One DeleteItem returning the old item: of two racing calls, one gets the link.
    async fn take_portal_link(&self, token_sha256: &str) -> Result<Option<PortalLink>, StoreError> {
        let old = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::portal_link(token_sha256).item()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(map_err)?
            .attributes
            .filter(|item| !item.is_empty());
        old.map(from_item).transpose()
    }

    async fn put_session(&self, session: &ApiKeyRecord) -> Result<(), StoreError> {
        let item = to_item(session, keys::api_key_lookup(&session.key_sha256), &[])?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn end_session(&self, key_sha256: &str) -> Result<(), StoreError> {
        // Only a session (an item with an end) is deleted this way, never a tenant key.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::api_key_lookup(key_sha256).item()))
            .condition_expression("attribute_exists(expires_at)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err);
        match result {
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }
}
