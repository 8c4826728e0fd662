//! The ports the functions need from storage and the queue. Adapters: [`crate::dynamo`] and
//! [`crate::queue`]; tests may put fakes behind the same traits.

use std::future::Future;

use crate::clock::EpochMillis;
use crate::model::{
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

/// The state a delivery moves to after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<EpochMillis>,
    pub last_error: Option<String>,
}

pub trait TenantStore: Send + Sync {
    fn get_tenant(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;
    /// Creates (`create` = true, fails with Conflict if it exists) or replaces a tenant.
    fn put_tenant(
        &self,
        tenant: &Tenant,
        create: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait EndpointStore: Send + Sync {
    fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> impl Future<Output = Result<Option<Endpoint>, StoreError>> + Send;
    fn list_endpoints(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Vec<Endpoint>, StoreError>> + Send;
    /// Adds an endpoint unless the tenant already has `max_endpoints` (Conflict).
    fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces an existing endpoint if it was last updated at `expected_updated_at`
    /// (optimistic lock; Conflict otherwise).
    fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Disables an enabled endpoint, saying why (Conflict if it is not enabled).
    fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Notes a delivery that ended failed; returns since when the endpoint has been failing.
    fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> impl Future<Output = Result<EpochMillis, StoreError>> + Send;
    /// A delivery succeeded: the endpoint is no longer failing.
    fn clear_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes an endpoint and frees its place under the tenant's limit (Conflict if absent).
    fn delete_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ApiKeyStore: Send + Sync {
    fn put_api_key(
        &self,
        key: &ApiKeyRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn find_api_key(
        &self,
        key_sha256: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;
    /// Conflict when the tenant has no such key.
    fn delete_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// This request is the first within 24 h: it does the work.
    Claimed,
    /// An earlier request holds the key (its response is None while it is still running).
    Existing(IdempotencyRecord),
}

pub trait EventStore: Send + Sync {
    /// Writes an event and its deliveries; every item is written or the call fails.
    fn put_event(
        &self,
        event: &EventRecord,
        deliveries: &[DeliveryRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<EventRecord>, StoreError>> + Send;
    fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;
    /// Takes `key` for this request unless a live (< 24 h) record holds it.
    fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
    ) -> impl Future<Output = Result<IdempotencyClaim, StoreError>> + Send;
    fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;
    fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Frees the key after the first request failed, so a retry can do the work.
    fn release_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One page of an endpoint's deliveries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryRecord>,
    /// The id of the last delivery returned when more may follow.
    pub next_after: Option<String>,
}

pub trait DeliveryStore: Send + Sync {
    /// Strongly consistent read of a delivery.
    fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> impl Future<Output = Result<Option<DeliveryRecord>, StoreError>> + Send;
    fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> impl Future<Output = Result<Vec<AttemptRecord>, StoreError>> + Send;
    /// Takes the delivery for one attempt: succeeds only if it is pending, has made exactly
    /// `attempt_count` attempts and no other worker holds an unexpired lease (else Conflict).
    /// `manual`: a manual attempt may be made whatever the status.
    fn claim(
        &self,
        delivery: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        lease_until: EpochMillis,
        manual: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records attempt `attempt.number` (Conflict if one of that number exists), then moves the
    /// delivery on if `owner` still holds it (else Conflict).
    fn record_attempt(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Moves the delivery on after `attempt` (already recorded), if `owner` holds it (else
    /// Conflict).
    fn advance_delivery(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Attempt `number` of a delivery, if it was recorded (strongly consistent).
    fn get_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        number: u32,
    ) -> impl Future<Output = Result<Option<AttemptRecord>, StoreError>> + Send;
    /// An endpoint's deliveries, newest first, created before delivery `after` (exclusive) when
    /// given, with the given status when given.
    fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<DeliveryPage, StoreError>> + Send;
    /// An endpoint's failed deliveries created from `since` to `until` (epoch ms, inclusive).
    fn failed_deliveries_between(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        since: EpochMillis,
        until: EpochMillis,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;
    /// Puts a failed delivery back to pending with its schedule restarted (Conflict unless it
    /// is failed).
    fn restart_delivery(
        &self,
        delivery: &DeliveryRecord,
        now: EpochMillis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Ends a pending delivery without an attempt (its endpoint was deleted, say).
    fn fail_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One message to enqueue: an id unique within the batch and the body.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub id: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Some messages could not be enqueued after retries: their ids.
    #[error("{} message(s) could not be enqueued: {reason}", failed.len())]
    NotEnqueued { failed: Vec<String>, reason: String },
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Moves what the dead-letter queue holds back to the delivery queue.
pub trait Redrive: Send + Sync {
    /// Returns how many messages were moved.
    fn redrive(&self) -> impl Future<Output = Result<usize, QueueError>> + Send;
}

pub trait DeliveryQueue: Send + Sync {
    /// Enqueues every message (in batches of 10, retrying failed entries) or reports which
    /// could not be enqueued.
    fn send(
        &self,
        messages: &[OutgoingMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Hides a received message for `seconds` (0 = visible again now).
    fn change_visibility(
        &self,
        receipt_handle: &str,
        seconds: u32,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// A cheap call proving a dependency is reachable (the health route).
pub trait Ping: Send + Sync {
    fn ping(&self) -> impl Future<Output = Result<(), String>> + Send;
}

impl Ping for crate::dynamo::DynamoStore {
    async fn ping(&self) -> Result<(), String> {
        crate::dynamo::DynamoStore::ping(self)
            .await
            .map_err(|e| e.to_string())
    }
}

impl Ping for crate::queue::SqsQueue {
    async fn ping(&self) -> Result<(), String> {
        crate::queue::SqsQueue::ping(self)
            .await
            .map_err(|e| e.to_string())
    }
}
