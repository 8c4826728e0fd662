//! DynamoDB adapter: one table, items keyed so each read the API needs is one GetItem or Query
//! (the key layout is in [`keys`]).
//!
//! One file per aggregate implements its role traits: [`tenants`], [`endpoints`], [`api_keys`],
//! [`idempotency`], [`events`], [`deliveries`], [`attempts`], [`jobs`], [`reconcile`]. Records become items in [`item`];
//! every Query goes through [`query`]'s one pagination loop.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use serde::de::DeserializeOwned;

use crate::ports::store::{Ping, StoreError};

mod api_keys;
mod attempts;
mod deliveries;
mod endpoints;
mod events;
mod idempotency;
pub mod item;
mod jobs;
pub mod keys;
mod query;
mod reconcile;
mod tenants;

pub use item::Item;
pub use keys::{GSI_ENDPOINT, GSI_EVENT, GSI_RECONCILE};

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items one listing call reads at most.
    list_scan_budget: usize,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            list_scan_budget: crate::ports::store::LIST_SCAN_BUDGET,
        }
    }

    /// Sets how many items one listing call reads at most (tests use small windows).
    pub fn with_list_scan_budget(mut self, budget: usize) -> Self {
        self.list_scan_budget = budget.max(1);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A cheap call proving the table is reachable (health check).
    pub async fn check_reachable(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::health().item()))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// One item by its key, read back into its record type.
    async fn get<T: DeserializeOwned>(
        &self,
        key: keys::Key,
        consistent: bool,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.item()))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(map_err)?;
        out.item.map(item::from_item).transpose()
    }
}

#[async_trait]
impl Ping for DynamoStore {
    async fn ping(&self) -> Result<(), String> {
        self.check_reachable().await.map_err(|e| e.to_string())
    }
}

/// Maps an SDK error: a failed condition (plain or inside a transaction) is a Conflict,
/// anything else is worth retrying later. Only the error code and message are kept.
fn map_err<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    let message = err
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or("");
    let conflict = code == "ConditionalCheckFailedException"
        || (code == "TransactionCanceledException" && message.contains("ConditionalCheckFailed"));
    if conflict {
        StoreError::Conflict
    } else if code.is_empty() {
        StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string())
    } else {
        StoreError::Unavailable(format!("{code}: {message}"))
    }
}

/// A request part (transaction item, batch entry) the SDK refused to build.
fn build_err(err: BuildError) -> StoreError {
    StoreError::Corrupt(err.to_string())
}
