//! The store contract (`shared::adapters::contract`) against the DynamoDB adapter on moto: the
//! same checks the in-memory store passes in shared's unit tests, so the fake cannot drift.
//! The checks use their own tenant ids, so they share one table.

use shared::adapters::contract;
use shared::adapters::dynamo::DynamoStore;

use crate::harness::{aws_config, dynamo_store, provision};

async fn store() -> DynamoStore {
    dynamo_store(&aws_config().await, &provision(&[]))
}

#[tokio::test]
async fn dynamo_store_meets_the_store_contract() {
    contract::run_all(&store().await).await;
}

/// A second pass on the same table: nothing a check leaves behind may change another's result.
#[tokio::test]
async fn dynamo_store_meets_the_contract_twice_on_one_table() {
    let store = store().await;
    contract::run_all(&store).await;
    contract::run_all(&store).await;
}

/// A listing call reads a bounded window of an endpoint's history (a status filter that matches
/// little never makes one request read everything).
#[tokio::test]
async fn dynamo_listing_reads_at_most_its_scan_budget() {
    let store = store().await.with_list_scan_budget(10);
    contract::listing_reads_at_most_its_scan_budget(&store, 10).await;
}
