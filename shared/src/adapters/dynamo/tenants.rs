//! Tenants: TenantRead, TenantWrite.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};

use crate::domain::envelope::SecretOwner;
use crate::domain::model::Tenant;
use crate::ports::console::TenantSummary;
use crate::ports::store::{StoreError, TenantRead, TenantWrite};

use super::item::{Item, set_or_remove, tenant_item};
use super::sealed::seal_item;
use super::{DynamoStore, build_err, keys, map_err};

/// The attributes an update sets (or removes when the record leaves them out). The endpoint
/// counter, which endpoint writes change concurrently, and the signing secret are not among them.
const UPDATED_FIELDS: [&str; 5] = [
    "name",
    "defaults",
    "max_endpoints",
    "https_only",
    "updated_at",
];

#[async_trait]
impl TenantRead for DynamoStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        let owner = SecretOwner::tenant(tenant_id);
        self.get_sealed(keys::tenant(tenant_id), &owner).await
    }
}

#[async_trait]
impl TenantWrite for DynamoStore {
    async fn put_tenant(&self, tenant: &Tenant, create: bool) -> Result<(), StoreError> {
        if create {
            self.create_tenant(tenant).await
        } else {
            self.update_tenant(tenant).await
        }
    }
}

impl DynamoStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let owner = SecretOwner::tenant(&tenant.id);
        let item = seal_item(&self.sealer, &owner, tenant_item(tenant)?).await?;
        // The tenant and its directory entry are written together.
        let put = |item: Item, condition: Option<&str>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map_err(build_err)
        };
        let directory = Self::tenant_directory_item(&summary(tenant, tenant.created_at))?;
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(item, Some("attribute_not_exists(pk)"))?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(directory, None)?)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// Sets the tenant's own fields only (see [`UPDATED_FIELDS`]); a signing secret still in
    /// clear (written before sealing) is sealed right after.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut item = tenant_item(tenant)?;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::tenant(&tenant.id).item()))
            .condition_expression("attribute_exists(pk)");
        let update = set_or_remove(update, &mut item, &UPDATED_FIELDS, &[]);
        let old = update
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(map_err)?
            .attributes;
        let created_at = old
            .as_ref()
            .and_then(|o| o.get("created_at"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(tenant.created_at);
        self.put_tenant_directory(&summary(tenant, created_at))
            .await?;
        self.seal_clear_signing_secret(&tenant.id, old).await
    }

    /// Migration: the stored signing secret, if it is still a clear string, is replaced by its
    /// sealed form (only if it is still that string, so a concurrent change is never undone).
    async fn seal_clear_signing_secret(
        &self,
        tenant_id: &str,
        old: Option<Item>,
    ) -> Result<(), StoreError> {
        let Some(clear @ AttributeValue::S(_)) = old.and_then(|mut o| o.remove("signing_secret"))
        else {
            return Ok(());
        };
        let owner = SecretOwner::tenant(tenant_id);
        let sealed = Item::from([("signing_secret".to_owned(), clear.clone())]);
        let mut sealed = seal_item(&self.sealer, &owner, sealed).await?;
        let Some(value) = sealed.remove("signing_secret") else {
            return Ok(());
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::tenant(tenant_id).item()))
            .update_expression("SET signing_secret = :sealed")
            .condition_expression("signing_secret = :clear")
            .expression_attribute_values(":sealed", value)
            .expression_attribute_values(":clear", clear)
            .send()
            .await
            .map_err(map_err);
        match result {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A tenant's directory entry.
fn summary(tenant: &Tenant, created_at: i64) -> TenantSummary {
    TenantSummary {
        id: tenant.id.clone(),
        name: tenant.name.clone(),
        created_at,
        updated_at: tenant.updated_at,
    }
}
