// shape: test support (compiled for tests and the `memory` feature only)
//! The store contract: checks every storage port's documented behaviour, run against
//! [`crate::adapters::memory::MemoryStore`] (this crate's unit tests) and against
//! [`crate::adapters::dynamo::DynamoStore`] on moto (`tests/it/contract.rs`), so the fake cannot
//! drift from the real adapter. The DynamoDB adapter is the reference for what is right.
//!
//! Each check is generic over the roles it needs and uses its own tenant ids, so all checks can
//! share one table. [`run_all`] runs every check in turn.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod attempts;
mod console;
mod deliveries;
mod events;
pub mod fixtures;
mod jobs;
mod tenants;

pub use access::*;
pub use attempts::*;
pub use console::*;
pub use deliveries::*;
pub use events::*;
pub use jobs::*;
pub use tenants::*;

use crate::ports::store::{Ping, Store};

pub async fn ping_answers<S: Ping + ?Sized>(store: &S) {
    store.ping().await.unwrap();
}

/// Every check, one after the other, on one store.
pub async fn run_all<S: Store + ?Sized>(store: &S) {
    tenant_create_conflicts_when_it_exists(store).await;
    tenant_update_keeps_secret_and_endpoint_count(store).await;
    create_endpoint_respects_max_endpoints(store).await;
    update_endpoint_is_an_optimistic_lock(store).await;
    delete_endpoint_frees_the_limit(store).await;
    disable_endpoint_only_when_enabled(store).await;
    failing_clock_marks_once_and_clears(store).await;
    api_keys_put_find_delete(store).await;
    idempotency_claim_complete_release(store).await;
    events_and_their_deliveries(store).await;
    record_attempt_appends_once(store).await;
    manual_attempts_and_where_the_log_is(store).await;
    list_endpoint_deliveries_newest_first_with_cursor(store).await;
    fail_and_restart_follow_the_latest_state(store).await;
    jobs_create_get_and_save_conditionally(store).await;
    window_pages_oldest_first_every_status(store).await;
    reconcile_finds_unrecorded_deliveries_by_minute(store).await;
    reconcile_lease_is_held_once(store).await;
    event_types_put_replace_list_delete(store).await;
    tenant_directory_lists_and_pages(store).await;
    portal_links_once_and_sessions(store).await;
    ping_answers(store).await;
}

#[cfg(test)]
mod memory_store {
    use super::*;
    use crate::adapters::memory::MemoryStore;

    macro_rules! on_memory {
        ($($check:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $check() {
                super::$check(&MemoryStore::new()).await;
            }
        )*};
    }

    on_memory!(
        tenant_create_conflicts_when_it_exists,
        tenant_update_keeps_secret_and_endpoint_count,
        create_endpoint_respects_max_endpoints,
        update_endpoint_is_an_optimistic_lock,
        delete_endpoint_frees_the_limit,
        disable_endpoint_only_when_enabled,
        failing_clock_marks_once_and_clears,
        api_keys_put_find_delete,
        idempotency_claim_complete_release,
        events_and_their_deliveries,
        record_attempt_appends_once,
        manual_attempts_and_where_the_log_is,
        list_endpoint_deliveries_newest_first_with_cursor,
        fail_and_restart_follow_the_latest_state,
        jobs_create_get_and_save_conditionally,
        window_pages_oldest_first_every_status,
        reconcile_finds_unrecorded_deliveries_by_minute,
        reconcile_lease_is_held_once,
        event_types_put_replace_list_delete,
        tenant_directory_lists_and_pages,
        portal_links_once_and_sessions,
        ping_answers,
    );

    #[tokio::test]
    async fn listing_reads_at_most_its_scan_budget_on_memory() {
        let store = MemoryStore::new().with_list_scan_budget(10);
        super::listing_reads_at_most_its_scan_budget(&store, 10).await;
    }

    #[tokio::test]
    async fn all_checks_share_one_store() {
        let store = MemoryStore::new();
        run_all(&store).await;
        run_all(&store).await;
    }

    #[tokio::test]
    async fn all_checks_run_on_a_dyn_store() {
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(MemoryStore::new());
        run_all(store.as_ref()).await;
    }
}
