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

#[async_trait]
impl TenantRead for MemoryStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.with("get_tenant", |s| {
            Ok(s.tenants.get(tenant_id).map(|(t, _)| t.clone()))
        })
    }
}

#[async_trait]
impl TenantWrite for MemoryStore {
    async fn put_tenant(&self, tenant: &Tenant, create: bool) -> Result<(), StoreError> {
        self.with("put_tenant", |s| {
            match (s.tenants.get_mut(&tenant.id), create) {
                (Some(_), true) | (None, false) => conflict(),
                (None, true) => {
                    s.tenants.insert(tenant.id.clone(), (tenant.clone(), 0));
                    Ok(())
                }
                (Some((t, _)), false) => {
                    t.name = tenant.name.clone();
                    t.defaults = tenant.defaults.clone();
                    t.max_endpoints = tenant.max_endpoints;
                    t.https_only = tenant.https_only;
                    t.updated_at = tenant.updated_at;
                    Ok(())
                }
            }
        })
    }
}

#[async_trait]
impl EndpointRead for MemoryStore {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.with("get_endpoint", |s| {
            Ok(s.endpoints.get(&k(tenant_id, endpoint_id)).cloned())
        })
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        self.with("list_endpoints", |s| {
            Ok(s.endpoints
                .iter()
                .filter(|((t, _), _)| t == tenant_id)
                .map(|(_, e)| e.clone())
                .collect())
        })
    }
}

#[async_trait]
impl EndpointWrite for MemoryStore {
    async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> Result<(), StoreError> {
        self.with("create_endpoint", |s| {
            let key = k(&endpoint.tenant_id, &endpoint.id);
            let Some((_, count)) = s.tenants.get_mut(&endpoint.tenant_id) else {
                return conflict();
            };
            if *count >= max_endpoints || s.endpoints.contains_key(&key) {
                return conflict();
            }
            *count += 1;
            s.endpoints.insert(key, endpoint.clone());
            Ok(())
        })
    }

    async fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("update_endpoint", |s| {
            match s.endpoints.get_mut(&k(&endpoint.tenant_id, &endpoint.id)) {
                Some(e) if e.updated_at == expected_updated_at => {
                    *e = endpoint.clone();
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn delete_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.with("delete_endpoint", |s| {
            let key = k(tenant_id, endpoint_id);
            match s.tenants.get_mut(tenant_id) {
                Some((_, count)) if *count > 0 && s.endpoints.contains_key(&key) => {
                    *count -= 1;
                    s.endpoints.remove(&key);
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl EndpointHealth for MemoryStore {
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("disable_endpoint", |s| {
            match s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                Some(e) if e.enabled => {
                    e.enabled = false;
                    e.disabled_reason = Some(reason.to_owned());
                    e.disabled_at = Some(now);
                    e.updated_at = now;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError> {
        self.with("mark_failing", |s| {
            match s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                Some(e) => Ok(*e.failing_since.get_or_insert(now)),
                None => conflict(),
            }
        })
    }

    async fn clear_failing(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.with("clear_failing", |s| {
            if let Some(e) = s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                e.failing_since = None;
            }
            Ok(())
        })
    }
}

#[async_trait]
impl ApiKeys for MemoryStore {
    async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with("put_api_key", |s| {
            let by_id = k(&key.tenant_id, &key.id);
            if s.keys_by_hash.contains_key(&key.key_sha256) || s.keys_by_id.contains_key(&by_id) {
                return conflict();
            }
            s.keys_by_hash.insert(key.key_sha256.clone(), key.clone());
            s.keys_by_id.insert(by_id, key.clone());
            Ok(())
        })
    }

    async fn find_api_key(&self, key_sha256: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with("find_api_key", |s| {
            Ok(s.keys_by_hash.get(key_sha256).cloned())
        })
    }

    async fn delete_api_key(&self, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
        self.with("delete_api_key", |s| {
            let Some(record) = s.keys_by_id.remove(&k(tenant_id, key_id)) else {
                return conflict();
            };
            s.keys_by_hash.remove(&record.key_sha256);
            Ok(())
        })
    }
}

#[async_trait]
impl Idempotency for MemoryStore {
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
        response: Option<&str>,
    ) -> Result<IdempotencyClaim, StoreError> {
        self.with("claim_idempotency", |s| {
            let id = k(tenant_id, key);
            match s.idempotency.get(&id) {
                Some(r) if r.created_at >= now - IDEMPOTENCY_WINDOW_MS => {
                    Ok(IdempotencyClaim::Existing(r.clone()))
                }
                _ => {
                    let record = IdempotencyRecord {
                        tenant_id: tenant_id.to_owned(),
                        key: key.to_owned(),
                        response: response.map(str::to_owned),
                        created_at: now,
                        expires_at: (now + IDEMPOTENCY_WINDOW_MS) / 1000,
                    };
                    s.idempotency.insert(id, record);
                    Ok(IdempotencyClaim::Claimed)
                }
            }
        })
    }

    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.with("get_idempotency", |s| {
            Ok(s.idempotency.get(&k(tenant_id, key)).cloned())
        })
    }

    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.with("complete_idempotency", |s| {
            if let Some(r) = s.idempotency.get_mut(&k(tenant_id, key)) {
                r.response = Some(response.to_owned());
            }
            Ok(())
        })
    }

    async fn replace_idempotency_response(
        &self,
        tenant_id: &str,
        key: &str,
        expected: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.with("replace_idempotency_response", |s| {
            match s.idempotency.get_mut(&k(tenant_id, key)) {
                Some(r) if r.response.as_deref() == Some(expected) => {
                    r.response = Some(response.to_owned());
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn release_idempotency(&self, tenant_id: &str, key: &str) -> Result<(), StoreError> {
        self.with("release_idempotency", |s| {
            s.idempotency.remove(&k(tenant_id, key));
            Ok(())
        })
    }
}

#[async_trait]
impl EventWrite for MemoryStore {
    async fn put_event(
        &self,
        event: &EventRecord,
        deliveries: &[DeliveryRecord],
    ) -> Result<(), StoreError> {
        self.with("put_event", |s| {
            s.events
                .insert(k(&event.tenant_id, &event.id), event.clone());
            for d in deliveries {
                s.deliveries.insert(k(&d.tenant_id, &d.id), d.clone());
                if d.status == DeliveryStatus::Pending {
                    s.marks.insert(k(&d.tenant_id, &d.id), d.updated_at);
                } else {
                    s.marks.remove(&k(&d.tenant_id, &d.id));
                }
            }
            Ok(())
        })
    }
}

#[async_trait]
impl EventRead for MemoryStore {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.with("get_event", |s| {
            Ok(s.events.get(&k(tenant_id, event_id)).cloned())
        })
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with("list_event_deliveries", |s| {
            Ok(s.deliveries
                .values()
                .filter(|d| d.tenant_id == tenant_id && d.event_id == event_id)
                .cloned()
                .collect())
        })
    }
}

/// An endpoint's deliveries in its index's key order (ids are ULIDs: creation order).
fn of_endpoint<'a>(
    s: &'a State,
    tenant_id: &'a str,
    endpoint_id: &'a str,
) -> impl DoubleEndedIterator<Item = &'a DeliveryRecord> + 'a {
    s.deliveries
        .values()
        .filter(move |d| d.tenant_id == tenant_id && d.endpoint_id.as_deref() == Some(endpoint_id))
}

#[async_trait]
impl DeliveryRead for MemoryStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with("get_delivery", |s| {
            Ok(s.deliveries.get(&k(tenant_id, delivery_id)).cloned())
        })
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        self.with("get_attempts", |s| {
            Ok(s.attempts
                .iter()
                .filter(|((t, d, _), _)| t == tenant_id && d == delivery_id)
                .map(|(_, a)| a.clone())
                .collect())
        })
    }

    async fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage, StoreError> {
        let budget = self.list_scan_budget();
        self.with("list_endpoint_deliveries", |s| {
            let limit = limit.max(1);
            let mut found = Vec::new();
            let mut last_read: Option<String> = None;
            let newer_first = of_endpoint(s, tenant_id, endpoint_id)
                .rev()
                .filter(|d| after.is_none_or(|a| d.id.as_str() < a));
            for (read, d) in newer_first.enumerate() {
                if found.len() > limit || read == budget {
                    // Stopped with more left (as a Query stopped by its Limit).
                    let stopped_at = last_read.filter(|_| found.len() <= limit);
                    return Ok(DeliveryPage::cut(found, limit, stopped_at));
                }
                if status.is_none_or(|st| d.status == st) {
                    found.push(d.clone());
                }
                last_read = Some(d.id.clone());
            }
            Ok(DeliveryPage::cut(found, limit, None))
        })
    }

    async fn window_page(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        (since, until): (EpochMillis, EpochMillis),
        after: Option<&str>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let (lo, hi) = crate::domain::ids::delivery_id_bounds(since, until);
        self.with("window_page", |s| {
            let mut left = of_endpoint(s, tenant_id, endpoint_id)
                .filter(|d| d.id >= lo && d.id <= hi)
                .filter(|d| after.is_none_or(|a| d.id.as_str() > a));
            let deliveries: Vec<DeliveryRecord> =
                left.by_ref().take(limit.max(1)).cloned().collect();
            let more = left.next().is_some();
            let next_after = deliveries.last().map(|d| d.id.clone()).filter(|_| more);
            Ok(DeliveryPage {
                deliveries,
                next_after,
            })
        })
    }

    async fn failed_deliveries_between(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        since: EpochMillis,
        until: EpochMillis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (lo, hi) = crate::domain::ids::delivery_id_bounds(since, until);
        self.with("failed_deliveries_between", |s| {
            Ok(of_endpoint(s, tenant_id, endpoint_id)
                .filter(|d| d.id >= lo && d.id <= hi && d.status == DeliveryStatus::Failed)
                .cloned()
                .collect())
        })
    }
}

#[async_trait]
impl AttemptLog for MemoryStore {
    async fn claim(
        &self,
        delivery: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        lease_until: EpochMillis,
        manual: bool,
    ) -> Result<(), StoreError> {
        self.with("claim", |s| {
            match s.deliveries.get_mut(&k(&delivery.tenant_id, &delivery.id)) {
                Some(d)
                    if (manual || d.status == DeliveryStatus::Pending)
                        && d.attempt_count == delivery.attempt_count
                        && d.lease_until.is_none_or(|l| l < now) =>
                {
                    d.lease_until = Some(lease_until);
                    d.lease_owner = Some(owner.to_owned());
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn record_attempt(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.with("record_attempt", |s| {
            let key = (
                tenant_id.to_owned(),
                attempt.delivery_id.clone(),
                attempt.number,
            );
            if s.attempts.contains_key(&key) {
                return conflict();
            }
            s.attempts.insert(key, attempt.clone());
            advance(s, tenant_id, attempt, update, owner)
        })
    }

    async fn advance_delivery(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.with("advance_delivery", |s| {
            advance(s, tenant_id, attempt, update, owner)
        })
    }

    async fn get_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        number: u32,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        self.with("get_attempt", |s| {
            let key = (tenant_id.to_owned(), delivery_id.to_owned(), number);
            Ok(s.attempts.get(&key).cloned())
        })
    }
}

/// Moves a delivery on after `attempt`, if `owner` holds it and it is at the attempt before.
fn advance(
    s: &mut State,
    tenant_id: &str,
    attempt: &AttemptRecord,
    update: &DeliveryUpdate,
    owner: &str,
) -> Result<(), StoreError> {
    let Some(d) = s.deliveries.get_mut(&k(tenant_id, &attempt.delivery_id)) else {
        return conflict();
    };
    if d.lease_owner.as_deref() != Some(owner)
        || d.attempt_count != attempt.number.saturating_sub(1)
    {
        return conflict();
    }
    d.attempt_count = attempt.number;
    d.status = update.status;
    d.updated_at = attempt.started_at + i64::try_from(attempt.duration_ms).unwrap_or(0);
    if attempt.manual {
        d.retry_base += 1; // a manual attempt takes no place in the schedule
    }
    d.next_attempt_at = update.next_attempt_at;
    d.last_error = update.last_error.clone();
    d.lease_until = None;
    d.lease_owner = None;
    if d.status != DeliveryStatus::Pending {
        s.marks.remove(&k(tenant_id, &attempt.delivery_id));
    }
    Ok(())
}

#[async_trait]
impl DeliveryControl for MemoryStore {
    async fn restart_delivery(
        &self,
        delivery: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("restart_delivery", |s| {
            match s.deliveries.get_mut(&k(&delivery.tenant_id, &delivery.id)) {
                Some(d) if d.status == DeliveryStatus::Failed => {
                    s.marks.insert(k(&delivery.tenant_id, &delivery.id), now);
                    d.status = DeliveryStatus::Pending;
                    d.retry_base = d.attempt_count;
                    d.updated_at = now;
                    d.next_attempt_at = None;
                    d.last_error = None;
                    d.lease_until = None;
                    d.lease_owner = None;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn fail_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("fail_delivery", |s| {
            match s.deliveries.get_mut(&k(tenant_id, delivery_id)) {
                Some(d) if d.status == DeliveryStatus::Pending => {
                    s.marks.remove(&k(tenant_id, delivery_id));
                    d.status = DeliveryStatus::Failed;
                    d.last_error = Some(reason.to_owned());
                    d.updated_at = now;
                    d.next_attempt_at = None;
                    d.lease_until = None;
                    d.lease_owner = None;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn create_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        self.with("create_job", |s| {
            let key = k(&job.tenant_id, &job.id);
            if s.jobs.contains_key(&key) {
                return conflict();
            }
            s.jobs.insert(key, job.clone());
            Ok(())
        })
    }

    async fn get_job(
        &self,
        tenant_id: &str,
        job_id: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.with("get_job", |s| {
            Ok(s.jobs.get(&k(tenant_id, job_id)).cloned())
        })
    }

    async fn save_job(&self, job: &JobRecord, expected_done: u64) -> Result<(), StoreError> {
        self.with("save_job", |s| {
            match s.jobs.get_mut(&k(&job.tenant_id, &job.id)) {
                Some(j) if j.status == JobStatus::Running && j.done == expected_done => {
                    *j = job.clone();
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl Reconcile for MemoryStore {
    async fn stale_candidates(
        &self,
        before: EpochMillis,
        limit: usize,
    ) -> Result<Vec<StaleCandidate>, StoreError> {
        self.with("stale_candidates", |s| {
            let mut found: Vec<StaleCandidate> = s
                .marks
                .iter()
                .filter(|(_, mark)| **mark < before)
                .map(|((t, d), mark)| StaleCandidate {
                    tenant_id: t.clone(),
                    delivery_id: d.clone(),
                    mark: *mark,
                })
                .collect();
            found.sort_by_key(|c| c.mark);
            found.truncate(limit);
            Ok(found)
        })
    }

    async fn move_mark(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("move_mark", |s| {
            let key = k(tenant_id, delivery_id);
            let pending = s
                .deliveries
                .get(&key)
                .is_some_and(|d| d.status == DeliveryStatus::Pending);
            match s.marks.get_mut(&key) {
                Some(mark) if pending && *mark == from => {
                    *mark = to;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl Ping for MemoryStore {
    async fn ping(&self) -> Result<(), String> {
        self.with("ping", |_| Ok(())).map_err(|e| e.to_string())
    }
}

/// The delivery queue and its DLQ, in memory: what was sent, which visibility changes were
/// asked for, and what a redrive moves back.
#[derive(Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<OutgoingMessage>>,
    dead: Mutex<Vec<OutgoingMessage>>,
    visibility: Mutex<Vec<(String, u32)>>,
    unavailable: AtomicBool,
    rejecting: AtomicBool,
    /// When set, how many more messages are accepted; the rest are named not enqueued.
    accept_budget: Mutex<Option<usize>>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// While set, every call fails with `QueueError::Unavailable`.
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::SeqCst);
    }

    /// While set, `send` accepts nothing and names every message as not enqueued.
    pub fn set_rejecting(&self, rejecting: bool) {
        self.rejecting.store(rejecting, Ordering::SeqCst);
    }

    /// Accepts `n` more messages, then names every further one as not enqueued (a queue that
    /// fails part-way through a fan-out); `None` accepts everything again.
    pub fn set_accept_budget(&self, n: Option<usize>) {
        *self.accept_budget.lock().unwrap() = n;
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// Every visibility change asked for: (receipt handle, seconds).
    pub fn visibility_changes(&self) -> Vec<(String, u32)> {
        self.visibility.lock().unwrap().clone()
    }

    /// Puts a message in the dead-letter queue.
    pub fn dead_letter(&self, message: OutgoingMessage) {
        self.dead.lock().unwrap().push(message);
    }

    fn check(&self) -> Result<(), QueueError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(QueueError::Unavailable(
                "memory queue set unavailable".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Enqueue for MemoryQueue {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        self.check()?;
        if self.rejecting.load(Ordering::SeqCst) {
            return Err(QueueError::NotEnqueued {
                failed: messages.iter().map(|m| m.id.clone()).collect(),
                reason: "memory queue set rejecting".into(),
            });
        }
        let mut budget = self.accept_budget.lock().unwrap();
        let take = budget.map_or(messages.len(), |n| n.min(messages.len()));
        if let Some(n) = budget.as_mut() {
            *n -= take;
        }
        self.sent
            .lock()
            .unwrap()
            .extend_from_slice(&messages[..take]);
        if take < messages.len() {
            return Err(QueueError::NotEnqueued {
                failed: messages[take..].iter().map(|m| m.id.clone()).collect(),
                reason: "memory queue accept budget spent".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Visibility for MemoryQueue {
    async fn change_visibility(&self, receipt: &str, seconds: u32) -> Result<(), QueueError> {
        self.check()?;
        self.visibility
            .lock()
            .unwrap()
            .push((receipt.to_owned(), seconds));
        Ok(())
    }
}

#[async_trait]
impl Redrive for MemoryQueue {
    async fn redrive(&self) -> Result<usize, QueueError> {
        self.check()?;
        let moved: Vec<OutgoingMessage> = std::mem::take(&mut *self.dead.lock().unwrap());
        let n = moved.len();
        self.sent.lock().unwrap().extend(moved);
        Ok(n)
    }
}

#[async_trait]
impl Ping for MemoryQueue {
    async fn ping(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }
}
