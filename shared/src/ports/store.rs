//! What the functions need from storage, as small role traits: each caller takes the narrowest
//! it needs. Adapters: [`crate::adapters::dynamo::DynamoStore`] and, for tests,
//! `crate::adapters::memory::MemoryStore`; the contract tests hold both to the same behaviour.
//!
//! The traits are object safe (`async_trait`), so a caller may hold `Arc<dyn Store>`.

use async_trait::async_trait;

use crate::domain::clock::EpochMillis;
use crate::domain::job::JobRecord;
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord,
    IdempotencyRecord, Tenant,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the record in another state (already done, taken, over a limit).
    #[error("condition not met")]
    Conflict,
    /// A stored item could not be read back into its record type.
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    /// The table could not be reached or refused the call; worth retrying later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub use crate::domain::log::DeliveryUpdate;

#[async_trait]
pub trait TenantRead: Send + Sync {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError>;
}

#[async_trait]
pub trait TenantWrite: Send + Sync {
    /// Creates (`create` = true, Conflict if it exists) or updates a tenant's own fields
    /// (name, defaults, max_endpoints, https_only, updated_at; never its endpoint count).
    async fn put_tenant(&self, tenant: &Tenant, create: bool) -> Result<(), StoreError>;
}

#[async_trait]
pub trait EndpointRead: Send + Sync {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError>;
    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError>;
}

#[async_trait]
pub trait EndpointWrite: Send + Sync {
    /// Adds an endpoint unless the tenant already has `max_endpoints` (Conflict).
    async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> Result<(), StoreError>;
    /// Replaces an existing endpoint if it was last updated at `expected_updated_at`
    /// (optimistic lock; Conflict otherwise).
    async fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> Result<(), StoreError>;
    /// Deletes an endpoint and frees its place under the tenant's limit (Conflict if absent).
    async fn delete_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError>;
}

/// What the delivery function writes about an endpoint's health.
#[async_trait]
pub trait EndpointHealth: Send + Sync {
    /// Disables an enabled endpoint, saying why (Conflict if it is not enabled).
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError>;
    /// Notes a delivery that ended failed; returns since when the endpoint has been failing.
    async fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError>;
    /// A delivery succeeded: the endpoint is no longer failing.
    async fn clear_failing(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait ApiKeys: Send + Sync {
    async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    async fn find_api_key(&self, key_sha256: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Conflict when the tenant has no such key.
    async fn delete_api_key(&self, tenant_id: &str, key_id: &str) -> Result<(), StoreError>;
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// This request is the first within 24 h: it does the work.
    Claimed,
    /// An earlier request holds the key (its response is None while it is still running).
    Existing(IdempotencyRecord),
}

/// How long an idempotency key is honoured after the request that claimed it.
pub const IDEMPOTENCY_WINDOW_MS: EpochMillis = 24 * 3_600_000;

#[async_trait]
pub trait Idempotency: Send + Sync {
    /// Takes `key` for this request unless a live (< 24 h) record holds it; the record starts
    /// with `response` (what the claimer wants a repeat to see while it works, if anything).
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
        response: Option<&str>,
    ) -> Result<IdempotencyClaim, StoreError>;
    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> Result<(), StoreError>;
    /// Replaces the record's response if it is still `expected` (Conflict otherwise): how one
    /// request takes over a key whose holder failed or stopped.
    async fn replace_idempotency_response(
        &self,
        tenant_id: &str,
        key: &str,
        expected: &str,
        response: &str,
    ) -> Result<(), StoreError>;
    /// Frees the key after the first request failed, so a retry can do the work.
    async fn release_idempotency(&self, tenant_id: &str, key: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait EventWrite: Send + Sync {
    /// Writes the event (which names its deliveries: [`EventRecord::endpoint_ids`], one-off
    /// URL). Nothing is written per delivery: a delivery with nothing recorded is pending.
    /// Writing the same event again is allowed (a resumed intake) and changes nothing.
    async fn put_event(&self, event: &EventRecord) -> Result<(), StoreError>;
}

#[async_trait]
pub trait EventRead: Send + Sync {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError>;
    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
}

/// How many of an endpoint's deliveries one listing call reads at most (filtered out or not).
pub const LIST_SCAN_BUDGET: usize = 1_000;

/// One page of an endpoint's deliveries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryRecord>,
    /// Where the next page starts (exclusive) when more may follow: the last delivery returned,
    /// or, when the scan budget ran out first, the last delivery read.
    pub next_after: Option<String>,
}

impl DeliveryPage {
    /// The page a listing answers from what it `found` (newest first): at most `limit`
    /// deliveries, and where the next page starts — after the last one returned when more were
    /// found, else where reading stopped (`stopped_at`, when it stopped before the end).
    pub fn cut(mut found: Vec<DeliveryRecord>, limit: usize, stopped_at: Option<String>) -> Self {
        if found.len() > limit {
            found.truncate(limit);
            let next_after = found.last().map(|d| d.id.clone());
            return Self {
                deliveries: found,
                next_after,
            };
        }
        Self {
            deliveries: found,
            next_after: stopped_at,
        }
    }
}

#[async_trait]
pub trait DeliveryRead: Send + Sync {
    /// Strongly consistent read of a delivery.
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError>;
    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError>;
    /// An endpoint's deliveries, newest first, created before delivery `after` (exclusive) when
    /// given, with the given status when given. One call reads a bounded window of the
    /// endpoint's history (the store's scan budget, [`LIST_SCAN_BUDGET`] by default): when a
    /// status filter matches little, a page can hold fewer than `limit` deliveries, even none,
    /// with `next_after` set to where reading stopped, so no call reads the whole history.
    async fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage, StoreError>;
    /// One page of an endpoint's deliveries created from `since` to `until` (epoch ms,
    /// inclusive), oldest first, after delivery `after` (exclusive) when given: at most `limit`
    /// read, whatever their status; `next_after` is set while more may follow.
    async fn window_page(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        (since, until): (EpochMillis, EpochMillis),
        after: Option<&str>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError>;
}

/// The delivery's log: every attempt and every change of state is one record, appended once.
/// A delivery's state is its latest record's (or, before the first, the pending state its
/// event implies). Two copies of one message may both make the same attempt; only one of them
/// records it.
#[async_trait]
pub trait AttemptLog: Send + Sync {
    /// The delivery's latest recorded state, read strongly; None while nothing is recorded.
    /// `endpoint_id` (None for a one-off delivery) says where the log is.
    async fn delivery_state(
        &self,
        tenant_id: &str,
        endpoint_id: Option<&str>,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError>;
    /// Appends record `before.seq + 1`: `attempt` and the delivery's state after it
    /// ([`crate::domain::log::after_attempt`]). Conflict when that record exists (another copy
    /// recorded first); the caller reads the state again.
    async fn record_attempt(
        &self,
        before: &DeliveryRecord,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DeliveryControl: Send + Sync {
    /// Appends a restart record to a failed delivery (`d` as read): pending again, its
    /// schedule from the start. Conflict unless `d` is failed and still the latest state.
    async fn restart_delivery(
        &self,
        d: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError>;
    /// Appends a failure record to a pending delivery (`d` as read), without an attempt.
    /// Conflict unless `d` is pending and still the latest state.
    async fn fail_delivery(
        &self,
        d: &DeliveryRecord,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Writes a new job (Conflict if one with its id exists).
    async fn create_job(&self, job: &JobRecord) -> Result<(), StoreError>;
    /// A job of a tenant (strongly consistent).
    async fn get_job(&self, tenant_id: &str, job_id: &str)
    -> Result<Option<JobRecord>, StoreError>;
    /// Saves a job's progress if it is still running with `expected_done` deliveries read
    /// (else Conflict: another copy of the job message saved this page first).
    async fn save_job(&self, job: &JobRecord, expected_done: u64) -> Result<(), StoreError>;
}

/// A pending delivery named by the reconcile index, with its mark (see
/// [`crate::domain::reconcile`]).
/// The deliveries of one event that nothing is recorded for.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrecorded {
    pub event: EventRecord,
    pub deliveries: Vec<DeliveryRecord>,
}

/// The reconciler's reads. Events are kept by the minute they were created in, so the
/// reconciler reads each minute once, after it is old enough, with no index and no scan.
#[async_trait]
pub trait Reconcile: Send + Sync {
    /// Takes the reconciler's lease (free, or expired before `now`) until `until`; returns the
    /// last minute reconciled (epoch minutes), None when none was. Conflict when another run
    /// holds the lease.
    async fn take_reconcile_lease(
        &self,
        now: EpochMillis,
        until: EpochMillis,
    ) -> Result<Option<i64>, StoreError>;
    /// Saves `minute` as reconciled and holds the lease until `until` (0 releases it).
    async fn save_reconcile_cursor(
        &self,
        minute: i64,
        until: EpochMillis,
    ) -> Result<(), StoreError>;
    /// The events created in epoch minute `minute` that have deliveries with nothing recorded,
    /// with those deliveries. Reads the minute's events and the first record of each delivery.
    async fn unrecorded_in_minute(&self, minute: i64) -> Result<Vec<Unrecorded>, StoreError>;
}

#[async_trait]
pub trait Ping: Send + Sync {
    async fn ping(&self) -> Result<(), String>;
}

/// Every storage role at once: what the API function holds (as `Arc<dyn Store>`). Code below
/// the API takes the narrowest role it needs.
pub trait Store:
    TenantRead
    + TenantWrite
    + EndpointRead
    + EndpointWrite
    + EndpointHealth
    + ApiKeys
    + Idempotency
    + EventWrite
    + EventRead
    + DeliveryRead
    + AttemptLog
    + DeliveryControl
    + JobStore
    + Reconcile
    + crate::ports::console::EventTypes
    + crate::ports::console::TenantDirectory
    + crate::ports::console::PortalSessions
    + Ping
{
}

impl<T> Store for T where
    T: TenantRead
        + TenantWrite
        + EndpointRead
        + EndpointWrite
        + EndpointHealth
        + ApiKeys
        + Idempotency
        + EventWrite
        + EventRead
        + DeliveryRead
        + AttemptLog
        + DeliveryControl
        + JobStore
        + Reconcile
        + crate::ports::console::EventTypes
        + crate::ports::console::TenantDirectory
        + crate::ports::console::PortalSessions
        + Ping
{
}
