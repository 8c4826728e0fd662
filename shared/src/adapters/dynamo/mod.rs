//! DynamoDB adapter: one table, items keyed so each read the API needs is one GetItem or Query
//! (the key layout is in [`keys`]).
//!
//! One file per aggregate implements its role traits: [`tenants`], [`endpoints`], [`api_keys`],
//! [`idempotency`], [`events`], [`deliveries`], [`attempts`], [`jobs`], [`reconcile`]; a
//! delivery's log is [`log`] (records as items: [`log_item`]; across shards: [`log_scan`]). Records
//! become items in [`item`]; every Query goes through [`query`]'s one pagination loop. Secrets
//! are sealed into items and opened out of them in [`sealed`] (envelope encryption with the
//! store's [`SecretSealer`]).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use serde::de::DeserializeOwned;

use crate::adapters::sealer::SecretSealer;
use crate::ports::store::{Ping, StoreError};

mod api_keys;
mod attempts;
mod console;
mod deliveries;
mod endpoints;
mod events;
mod idempotency;
pub mod item;
mod jobs;
pub mod keys;
mod log;
pub mod log_item;
mod log_scan;
mod query;
mod reconcile;
pub mod sealed;
mod tenants;

pub use item::Item;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Seals the secrets of tenant and endpoint items, opens them when read.
    sealer: SecretSealer,
    /// Items one listing call reads at most.
    list_scan_budget: usize,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, sealer: SecretSealer) -> Self {
        Self {
            client,
            table: table.into(),
            sealer,
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
        self.get_item(key, consistent)
            .await?
            .map(item::from_item)
            .transpose()
    }

    /// One item by its key.
    async fn get_item(&self, key: keys::Key, consistent: bool) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.item()))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out.item)
    }

    /// One item holding secrets, opened for `owner` and read into its record type.
    async fn get_sealed<T: DeserializeOwned>(
        &self,
        key: keys::Key,
        owner: &crate::domain::envelope::SecretOwner,
    ) -> Result<Option<T>, StoreError> {
        let Some(mut item) = self.get_item(key, true).await? else {
            return Ok(None);
        };
        self.open(owner, &mut item).await?;
        item::from_item(item).map(Some)
    }

    /// Opens the secrets of an item read for `owner`.
    async fn open(
        &self,
        owner: &crate::domain::envelope::SecretOwner,
        item: &mut Item,
    ) -> Result<(), StoreError> {
        let opened = sealed::open_item(&self.sealer, owner, item).await?;
        if opened.clear > 0 {
            tracing::debug!(
                clear = opened.clear,
                "secrets stored in clear were read; the item's next write seals them"
            );
        }
        Ok(())
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
