//! The worker against in-memory fakes of the store, the queue and the sender: what each record
//! of a batch turns into, and what the batch response reports.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::value::RawValue;
use shared::domain::attempt::{AttemptResult, Outcome};
use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::model::{
    AttemptRecord, DeliveryMessage, DeliveryRecord, DeliveryStatus, Endpoint, Tenant,
};
use shared::domain::secret::Secret;
use shared::domain::settings::SettingsPatch;
use shared::ports::{DeliveryUpdate, EventRead, OutgoingMessage, QueueError, StoreError};
use shared::ports::{OutboundRequest, Sender};

use super::*;
use crate::batch::{FALLBACK_BUDGET_MS, effective_deadline};
use crate::schedule::ceil_seconds;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use shared::ports::{EndpointHealth, EventWrite, TenantWrite};

#[derive(Default)]
struct FakeStore {
    deliveries: Mutex<HashMap<String, DeliveryRecord>>,
    attempts: Mutex<Vec<AttemptRecord>>,
    endpoints: Mutex<HashMap<String, Endpoint>>,
    tenant: Mutex<Option<Tenant>>,
    events: Mutex<Vec<(shared::domain::model::EventRecord, Vec<DeliveryRecord>)>>,
    attempt_reads: AtomicUsize,
    broken: std::sync::atomic::AtomicBool,
}

impl FakeStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("table down".into()))
        } else {
            Ok(())
        }
    }
    fn delivery(&self, id: &str) -> DeliveryRecord {
        self.deliveries.lock().unwrap()[id].clone()
    }
}

#[async_trait::async_trait]
impl TenantRead for FakeStore {
    async fn get_tenant(&self, _: &str) -> Result<Option<Tenant>, StoreError> {
        self.check()?;
        Ok(self.tenant.lock().unwrap().clone())
    }
}

#[async_trait::async_trait]
impl TenantWrite for FakeStore {
    async fn put_tenant(&self, _: &Tenant, _: bool) -> Result<(), StoreError> {
        unreachable!("the worker never writes tenants")
    }
}

#[async_trait::async_trait]
impl EndpointRead for FakeStore {
    async fn get_endpoint(&self, _: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
        self.check()?;
        Ok(self.endpoints.lock().unwrap().get(id).cloned())
    }
    async fn list_endpoints(&self, _: &str) -> Result<Vec<Endpoint>, StoreError> {
        unreachable!()
    }
}

#[async_trait::async_trait]
impl EndpointHealth for FakeStore {
    async fn disable_endpoint(
        &self,
        _: &str,
        id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut all = self.endpoints.lock().unwrap();
        let ep = all.get_mut(id).ok_or(StoreError::Conflict)?;
        if !ep.enabled {
            return Err(StoreError::Conflict);
        }
        ep.enabled = false;
        ep.disabled_reason = Some(reason.into());
        ep.disabled_at = Some(now);
        Ok(())
    }
    async fn mark_failing(
        &self,
        _: &str,
        id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError> {
        let mut all = self.endpoints.lock().unwrap();
        let ep = all.get_mut(id).ok_or(StoreError::Conflict)?;
        Ok(*ep.failing_since.get_or_insert(now))
    }
    async fn clear_failing(&self, _: &str, id: &str) -> Result<(), StoreError> {
        if let Some(ep) = self.endpoints.lock().unwrap().get_mut(id) {
            ep.failing_since = None;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventWrite for FakeStore {
    async fn put_event(
        &self,
        e: &shared::domain::model::EventRecord,
        d: &[DeliveryRecord],
    ) -> Result<(), StoreError> {
        self.events.lock().unwrap().push((e.clone(), d.to_vec()));
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventRead for FakeStore {
    async fn get_event(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<shared::domain::model::EventRecord>, StoreError> {
        unreachable!()
    }
    async fn list_event_deliveries(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        unreachable!()
    }
}

#[async_trait::async_trait]
impl DeliveryRead for FakeStore {
    async fn get_delivery(&self, _: &str, id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        self.check()?;
        Ok(self.deliveries.lock().unwrap().get(id).cloned())
    }
    async fn get_attempts(&self, _: &str, _: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        Ok(self.attempts.lock().unwrap().clone())
    }
    async fn list_endpoint_deliveries(
        &self,
        _: &str,
        _: &str,
        _: Option<DeliveryStatus>,
        _: usize,
        _: Option<&str>,
    ) -> Result<shared::ports::DeliveryPage, StoreError> {
        unreachable!()
    }
    async fn failed_deliveries_between(
        &self,
        _: &str,
        _: &str,
        _: EpochMillis,
        _: EpochMillis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        unreachable!()
    }
}

#[async_trait::async_trait]
impl AttemptLog for FakeStore {
    async fn claim(
        &self,
        d: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        until: EpochMillis,
        manual: bool,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut all = self.deliveries.lock().unwrap();
        let cur = all.get_mut(&d.id).ok_or(StoreError::Conflict)?;
        let free = cur.lease_until.is_none_or(|l| l < now);
        if (cur.status != DeliveryStatus::Pending && !manual)
            || cur.attempt_count != d.attempt_count
            || !free
        {
            return Err(StoreError::Conflict);
        }
        cur.lease_until = Some(until);
        cur.lease_owner = Some(owner.into());
        Ok(())
    }
    async fn record_attempt(
        &self,
        t: &str,
        a: &AttemptRecord,
        u: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.check()?;
        {
            let mut attempts = self.attempts.lock().unwrap();
            if attempts
                .iter()
                .any(|x| x.delivery_id == a.delivery_id && x.number == a.number)
            {
                return Err(StoreError::Conflict);
            }
            attempts.push(a.clone());
        }
        self.advance_delivery(t, a, u, owner).await
    }
    async fn advance_delivery(
        &self,
        _: &str,
        a: &AttemptRecord,
        u: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut all = self.deliveries.lock().unwrap();
        let cur = all.get_mut(&a.delivery_id).ok_or(StoreError::Conflict)?;
        if cur.lease_owner.as_deref() != Some(owner) || cur.attempt_count + 1 != a.number {
            return Err(StoreError::Conflict);
        }
        if a.manual {
            cur.retry_base += 1;
        }
        cur.attempt_count = a.number;
        cur.status = u.status;
        cur.next_attempt_at = u.next_attempt_at;
        cur.last_error = u.last_error.clone();
        cur.lease_owner = None;
        cur.lease_until = None;
        Ok(())
    }
    async fn get_attempt(
        &self,
        _: &str,
        delivery_id: &str,
        number: u32,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        self.attempt_reads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        Ok(self
            .attempts
            .lock()
            .unwrap()
            .iter()
            .find(|x| x.delivery_id == delivery_id && x.number == number)
            .cloned())
    }
}

#[async_trait::async_trait]
impl DeliveryControl for FakeStore {
    async fn restart_delivery(&self, _: &DeliveryRecord, _: EpochMillis) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn fail_delivery(
        &self,
        _: &str,
        id: &str,
        reason: &str,
        _: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut all = self.deliveries.lock().unwrap();
        let cur = all.get_mut(id).ok_or(StoreError::Conflict)?;
        cur.status = DeliveryStatus::Failed;
        cur.last_error = Some(reason.into());
        Ok(())
    }
}

#[derive(Default)]
struct FakeQueue {
    visibility: Mutex<Vec<(String, u32)>>,
}

#[async_trait::async_trait]
impl Enqueue for FakeQueue {
    async fn send(&self, _: &[OutgoingMessage]) -> Result<(), QueueError> {
        unreachable!("the worker never enqueues")
    }
}

#[async_trait::async_trait]
impl Visibility for FakeQueue {
    async fn change_visibility(&self, receipt: &str, seconds: u32) -> Result<(), QueueError> {
        self.visibility
            .lock()
            .unwrap()
            .push((receipt.into(), seconds));
        Ok(())
    }
}

struct FakeSender {
    status: u16,
    sent: AtomicUsize,
}

#[async_trait::async_trait]
impl Sender for FakeSender {
    async fn send(&self, _: OutboundRequest) -> AttemptResult {
        self.sent.fetch_add(1, Ordering::SeqCst);
        AttemptResult::from_status(self.status, 3)
    }
}

type TestWorker = Worker<FakeStore, FakeQueue, FakeSender>;

fn worker(status: u16) -> TestWorker {
    let store = FakeStore::default();
    *store.tenant.lock().unwrap() = Some(Tenant {
        id: "acme".into(),
        name: None,
        defaults: SettingsPatch::default(),
        max_endpoints: 10,
        https_only: false,
        signing_secret: Secret::generate(),
        created_at: 0,
        updated_at: 0,
    });
    store.endpoints.lock().unwrap().insert(
        "ep_1".into(),
        Endpoint {
            id: "ep_1".into(),
            tenant_id: "acme".into(),
            url: "https://example.com/hook".into(),
            event_types: vec!["*".into()],
            description: None,
            enabled: true,
            secret: Secret::generate(),
            previous_secrets: Vec::new(),
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            settings: SettingsPatch {
                retry_schedule_seconds: Some(vec![10, 72_000]),
                ..Default::default()
            },
            created_at: 0,
            updated_at: 0,
        },
    );
    Worker::new(
        store,
        FakeQueue::default(),
        FakeSender {
            status,
            sent: AtomicUsize::new(0),
        },
        WorkerOptions {
            concurrency: 4,
            ..WorkerOptions::default()
        },
    )
}

fn add_delivery(w: &TestWorker, id: &str, f: impl FnOnce(&mut DeliveryRecord)) {
    let mut d = DeliveryRecord {
        id: id.into(),
        tenant_id: "acme".into(),
        event_id: "evt_1".into(),
        event_type: "job.completed".into(),
        endpoint_id: Some("ep_1".into()),
        url: "https://example.com/hook".into(),
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        retry_base: 0,
        next_attempt_at: None,
        last_error: None,
        lease_until: None,
        lease_owner: None,
        created_at: 0,
        updated_at: 0,
    };
    f(&mut d);
    w.store.deliveries.lock().unwrap().insert(id.into(), d);
}

fn record(message_id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(message_id.into());
    m.receipt_handle = Some(format!("rh-{message_id}"));
    m.body = Some(body.into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), "3".into());
    m
}

fn body_for(delivery_id: &str) -> String {
    serde_json::to_string(&DeliveryMessage {
        v: 1,
        tenant_id: "acme".into(),
        delivery_id: delivery_id.into(),
        event_id: "evt_1".into(),
        event_type: "job.completed".into(),
        payload: RawValue::from_string(r#"{"a":1}"#.into()).unwrap(),
        manual: false,
    })
    .unwrap()
}

fn batch(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

fn failed_ids(r: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

fn deadline() -> EpochMillis {
    now_millis() + 60_000
}

#[tokio::test]
async fn one_bad_record_does_not_fail_the_batch() {
    let w = worker(200);
    add_delivery(&w, "dlv_ok", |_| {});
    let response = w
        .handle_batch(
            batch(vec![
                record("m-bad", "garbage"),
                record("m-ok", &body_for("dlv_ok")),
            ]),
            deadline(),
        )
        .await;
    assert_eq!(failed_ids(&response), ["m-bad"]);
    assert_eq!(w.store.delivery("dlv_ok").status, DeliveryStatus::Delivered);
    assert_eq!(
        *w.queue.visibility.lock().unwrap(),
        [("rh-m-bad".to_owned(), 0)],
        "poison comes back at once"
    );
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_attempt_is_reported_and_hidden_for_the_jittered_delay() {
    let w = worker(500);
    add_delivery(&w, "dlv_1", |_| {});
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    let (_, secs) = w.queue.visibility.lock().unwrap()[0].clone();
    assert!((8..=12).contains(&secs), "10 s ± 20 %: {secs}");
    let d = w.store.delivery("dlv_1");
    assert_eq!((d.status, d.attempt_count), (DeliveryStatus::Pending, 1));
    assert!(d.lease_owner.is_none(), "lease released");
    assert_eq!(
        w.store.attempt_reads.load(Ordering::SeqCst),
        0,
        "no orphan lookup without a stale lease"
    );
    let attempts = w.store.attempts.lock().unwrap().clone();
    assert_eq!(
        (
            attempts[0].number,
            attempts[0].status_code,
            attempts[0].outcome
        ),
        (1, Some(500), Outcome::HttpError)
    );
}

#[tokio::test]
async fn a_delay_past_twelve_hours_is_chained() {
    // Attempt 2 fails; the schedule says 72 000 s (20 h): hidden for the 12 h maximum, and when
    // it comes back early it is hidden again for the rest, without an attempt.
    let w = worker(500);
    add_delivery(&w, "dlv_1", |d| d.attempt_count = 1);
    w.handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert_eq!(
        w.queue.visibility.lock().unwrap()[0].1,
        43_200,
        "capped at SQS's 12 h"
    );
    let next = w.store.delivery("dlv_1").next_attempt_at.unwrap();
    assert!(
        next - now_millis() > 12 * 3_600_000,
        "due in more than 12 h"
    );
    // Back early (pretend 12 h passed: the remaining wait is what is left of next_attempt_at).
    w.store
        .deliveries
        .lock()
        .unwrap()
        .get_mut("dlv_1")
        .unwrap()
        .next_attempt_at = Some(now_millis() + 8 * 3_600_000);
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    let secs = w.queue.visibility.lock().unwrap()[1].1;
    assert!(
        (28_790..=28_800).contains(&secs),
        "hidden for the remaining 8 h: {secs}"
    );
    assert_eq!(
        w.sender.sent.load(Ordering::SeqCst),
        1,
        "no attempt when not due"
    );
}

#[tokio::test]
async fn final_deliveries_are_acknowledged_without_a_post() {
    let w = worker(200);
    add_delivery(&w, "dlv_done", |d| {
        d.status = DeliveryStatus::Delivered;
        d.attempt_count = 1;
    });
    add_delivery(&w, "dlv_failed", |d| d.status = DeliveryStatus::Failed);
    let response = w
        .handle_batch(
            batch(vec![
                record("a", &body_for("dlv_done")),
                record("b", &body_for("dlv_failed")),
            ]),
            deadline(),
        )
        .await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_store_outage_fails_only_that_record_with_back_off() {
    let w = worker(200);
    add_delivery(&w, "dlv_1", |_| {});
    w.store.broken.store(true, Ordering::SeqCst);
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    assert_eq!(
        w.queue.visibility.lock().unwrap()[0].1,
        8,
        "2^receive_count (3) seconds"
    );
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn no_attempt_starts_too_close_to_the_deadline() {
    let w = worker(200);
    add_delivery(&w, "dlv_1", |_| {});
    let response = w
        .handle_batch(
            batch(vec![record("m1", &body_for("dlv_1"))]),
            now_millis() + 2_500,
        )
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0);
    assert_eq!(w.store.delivery("dlv_1").lease_owner, None, "not claimed");
}

#[tokio::test]
async fn a_leased_delivery_is_hidden_until_the_lease_ends() {
    let w = worker(200);
    add_delivery(&w, "dlv_1", |d| {
        d.lease_until = Some(now_millis() + 20_000);
        d.lease_owner = Some("other".into());
    });
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    let secs = w.queue.visibility.lock().unwrap()[0].1;
    assert!((20..=22).contains(&secs), "{secs}");
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_deleted_endpoint_ends_the_delivery_without_an_attempt() {
    let w = worker(200);
    add_delivery(&w, "dlv_1", |d| d.endpoint_id = Some("ep_gone".into()));
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert!(failed_ids(&response).is_empty());
    let d = w.store.delivery("dlv_1");
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.last_error.as_deref(), Some("endpoint no longer exists"));
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_attempt_recorded_by_a_stopped_worker_is_carried_forward_without_a_post() {
    // A worker POSTed attempt 1 (answered 200), recorded it, and died before moving the
    // delivery on; its lease has expired since.
    let w = worker(500);
    add_delivery(&w, "dlv_1", |d| {
        d.lease_owner = Some("dead".into());
        d.lease_until = Some(now_millis() - 1);
    });
    w.store.attempts.lock().unwrap().push(AttemptRecord {
        id: "att_dead".into(),
        delivery_id: "dlv_1".into(),
        number: 1,
        url: "https://example.com/hook".into(),
        started_at: now_millis() - 10_000,
        duration_ms: 12,
        status_code: Some(200),
        outcome: Outcome::Delivered,
        error: None,
        response_excerpt: None,
        manual: false,
    });
    let response = w
        .handle_batch(batch(vec![record("m1", &body_for("dlv_1"))]), deadline())
        .await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(w.sender.sent.load(Ordering::SeqCst), 0, "no second POST");
    let d = w.store.delivery("dlv_1");
    assert_eq!((d.status, d.attempt_count), (DeliveryStatus::Delivered, 1));
    assert_eq!(
        w.store.attempts.lock().unwrap().len(),
        1,
        "the attempt is not recorded twice"
    );
    assert_eq!(w.store.attempt_reads.load(Ordering::SeqCst), 1);
}

#[test]
fn deadline_from_lambda_is_kept_and_an_implausible_one_replaced() {
    let now = 1_795_000_000_000;
    assert_eq!(
        effective_deadline(1_795_000_030_000, now),
        1_795_000_030_000
    );
    assert_eq!(
        effective_deadline(1_794_999_999_000, now),
        1_794_999_999_000,
        "a past deadline stays past"
    );
    assert_eq!(effective_deadline(30_000, now), now + FALLBACK_BUDGET_MS);
    assert_eq!(effective_deadline(0, now), now + FALLBACK_BUDGET_MS);
}

#[test]
fn seconds_round_up() {
    assert_eq!(ceil_seconds(0), 0);
    assert_eq!(ceil_seconds(1), 1);
    assert_eq!(ceil_seconds(1000), 1);
    assert_eq!(ceil_seconds(1001), 2);
    assert_eq!(ceil_seconds(-5), 0);
}
