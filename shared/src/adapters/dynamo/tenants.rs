//! Tenants: TenantRead, TenantWrite.

use async_trait::async_trait;

use crate::domain::model::Tenant;
use crate::ports::store::{StoreError, TenantRead, TenantWrite};

use super::item::tenant_item;
use super::{DynamoStore, keys, map_err};

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
        self.get(keys::tenant(tenant_id), true).await
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
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tenant_item(tenant)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// Sets the tenant's own fields only (see [`UPDATED_FIELDS`]).
    async fn update_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut item = tenant_item(tenant)?;
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::tenant(&tenant.id).item()))
            .condition_expression("attribute_exists(pk)");
        for field in UPDATED_FIELDS {
            match item.remove(field) {
                Some(value) => {
                    set.push(format!("#{field} = :{field}"));
                    update = update
                        .expression_attribute_names(format!("#{field}"), field)
                        .expression_attribute_values(format!(":{field}"), value);
                }
                None => {
                    remove.push(format!("#{field}"));
                    update = update.expression_attribute_names(format!("#{field}"), field);
                }
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update
            .update_expression(expression)
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
