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
use crate::domain::log::LogRecord;
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
    /// Each delivery's log (tenant, delivery id), as `DynamoStore` keeps it: records only.
    logs: BTreeMap<Key2, Vec<crate::domain::log::LogRecord>>,
    jobs: HashMap<Key2, JobRecord>,
    /// The reconciler's cursor (last minute done) and lease.
    reconcile: (Option<i64>, EpochMillis),
    event_types: BTreeMap<String, crate::domain::catalog::EventTypeRecord>,
    portal_links: HashMap<String, crate::ports::console::PortalLink>,
}

/// Every storage role, in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Items one listing call reads at most; None: the default.
    list_scan_budget: Option<usize>,
    unavailable: AtomicBool,
    calls: Mutex<HashMap<&'static str, usize>>,
    /// A record another writer appends just before the next `record_attempt` (a race).
    racing: Mutex<Option<LogRecord>>,
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

    /// Every delivery of every event stored (recorded or still pending), in id order.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        let s = self.state.lock().unwrap();
        let mut all: Vec<DeliveryRecord> = s
            .events
            .values()
            .flat_map(|e| (0..e.delivery_count()).filter_map(|i| deliveries::state_at(&s, e, i)))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Test hook: appends a record without an attempt that leaves the delivery exactly as `d`
    /// says (its event must exist); `d.seq` is set to the record's number.
    pub fn seed_state(&self, d: &DeliveryRecord) {
        let mut s = self.state.lock().unwrap();
        let log = s.logs.entry(k(&d.tenant_id, &d.id)).or_default();
        let state = DeliveryRecord {
            seq: u32::try_from(log.len() + 1).unwrap(),
            ..d.clone()
        };
        log.push(LogRecord {
            state,
            attempt: None,
        });
    }

    /// Test hook: `record` is appended, as by another writer, just before the next
    /// `record_attempt` is handled (the race between a worker's read and its write).
    pub fn race_next_record(&self, record: LogRecord) {
        *self.racing.lock().unwrap() = Some(record);
    }

    fn take_racing(&self) -> Option<LogRecord> {
        self.racing.lock().unwrap().take()
    }

    /// Every attempt recorded, in delivery id and number order.
    pub fn attempts(&self) -> Vec<AttemptRecord> {
        self.state
            .lock()
            .unwrap()
            .logs
            .values()
            .flatten()
            .filter_map(|r| r.attempt.clone())
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
mod console;
mod deliveries;
mod queue;

pub use queue::{MemoryQueue, MemoryRejections};

#[async_trait]
impl Ping for MemoryStore {
    async fn ping(&self) -> Result<(), String> {
        self.with("ping", |_| Ok(())).map_err(|e| e.to_string())
    }
}
