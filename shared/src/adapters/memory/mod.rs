// shape: test support (compiled for tests and the `memory` feature only)
//! In-memory adapters for tests: [`MemoryStore`] (every storage role) and [`MemoryQueue`]
//! (enqueue, visibility, redrive). They keep the DynamoDB adapter's conditions — which writes
//! answer `Conflict`, what a claim requires, how pages are cut — and the contract tests
//! (`crate::adapters::contract`) run the same checks against both, so the fake cannot drift.
//!
//! Test hooks: `set_unavailable` makes every call fail as an outage would; `calls(name)` counts
//! calls of one port method (to assert, say, that a read was not made).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a poisoned test mutex is a failed test

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::job::{JobRecord, JobStatus};
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord,
    IdempotencyRecord, Tenant,
};
use crate::ports::queue::{Enqueue, OutgoingMessage, QueueError, Redrive, Visibility};
use crate::ports::store::*;

type Key2 = (String, String);

#[derive(Default)]
struct State {
    tenants: HashMap<String, (Tenant, u32)>,
    endpoints: BTreeMap<Key2, Endpoint>,
    keys_by_hash: HashMap<String, ApiKeyRecord>,
    keys_by_id: HashMap<Key2, ApiKeyRecord>,
    idempotency: HashMap<Key2, IdempotencyRecord>,
    events: HashMap<Key2, EventRecord>,
    deliveries: BTreeMap<Key2, DeliveryRecord>,
    attempts: BTreeMap<(String, String, u32), AttemptRecord>,
    jobs: HashMap<Key2, JobRecord>,
    /// The reconcile index: pending deliveries' marks.
    marks: BTreeMap<Key2, EpochMillis>,
}

/// Every storage role, in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Items one listing call reads at most; None: the default.
    list_scan_budget: Option<usize>,
    unavailable: AtomicBool,
    calls: Mutex<HashMap<&'static str, usize>>,
}

fn k(a: &str, b: &str) -> Key2 {
    (a.to_owned(), b.to_owned())
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how many items one listing call reads at most (as `DynamoStore` allows).
    pub fn with_list_scan_budget(mut self, budget: usize) -> Self {
        self.list_scan_budget = Some(budget.max(1));
        self
    }

    fn list_scan_budget(&self) -> usize {
        self.list_scan_budget.unwrap_or(LIST_SCAN_BUDGET)
    }

    /// While set, every call fails with `StoreError::Unavailable` (a table outage).
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::SeqCst);
    }

    /// How many times the port method `name` was called.
    pub fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    /// Every delivery stored, in key order.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.state
            .lock()
            .unwrap()
            .deliveries
            .values()
            .cloned()
            .collect()
    }

    /// Every attempt stored, in key order.
    pub fn attempts(&self) -> Vec<AttemptRecord> {
        self.state
            .lock()
            .unwrap()
            .attempts
            .values()
            .cloned()
            .collect()
    }

    /// Counts the call and fails it during an outage; then runs `f` on the state.
    fn with<T>(
        &self,
        name: &'static str,
        f: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "memory store set unavailable".into(),
            ));
        }
        f(&mut self.state.lock().unwrap())
    }
}

fn conflict<T>() -> Result<T, StoreError> {
    Err(StoreError::Conflict)
}

mod accounts;
mod deliveries;
mod queue;

pub use queue::MemoryQueue;

#[async_trait]
impl Ping for MemoryStore {
    async fn ping(&self) -> Result<(), String> {
        self.with("ping", |_| Ok(())).map_err(|e| e.to_string())
    }
}
