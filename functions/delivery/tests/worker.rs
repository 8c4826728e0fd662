//! The worker through its public API, on the shared in-memory store and queue
//! (`shared::adapters::memory`) and a counting sender: what each record of a batch turns into,
//! what is recorded, and what the batch response reports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use delivery::ops::{OPERATOR_TENANT, OperatorConfig};
use delivery::{Worker, WorkerOptions};
use serde_json::value::RawValue;
use shared::adapters::memory::{MemoryQueue, MemoryStore};
use shared::domain::attempt::{AttemptResult, Outcome};
use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::model::{
    AttemptRecord, DeliveryMessage, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord, Tenant,
};
use shared::domain::secret::Secret;
use shared::domain::settings::SettingsPatch;
use shared::ports::{
    AttemptLog, DeliveryRead, DeliveryUpdate, EndpointRead, EndpointWrite, EventWrite,
    OutboundRequest, Sender, TenantWrite,
};

/// Answers every attempt with one status (a test may change it) and counts the POSTs.
struct CountingSender {
    status: AtomicU16,
    sent: AtomicUsize,
}

#[async_trait]
impl Sender for CountingSender {
    async fn send(&self, _: OutboundRequest) -> AttemptResult {
        self.sent.fetch_add(1, Ordering::SeqCst);
        AttemptResult::from_status(self.status.load(Ordering::SeqCst), 3)
    }
}

type TestWorker = Worker<MemoryStore, MemoryQueue, CountingSender>;

fn tenant(id: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: None,
        defaults: SettingsPatch::default(),
        max_endpoints: 10,
        https_only: false,
        signing_secret: Secret::generate(),
        created_at: 0,
        updated_at: 0,
    }
}

fn endpoint(secret: Secret) -> Endpoint {
    Endpoint {
        id: "ep_1".into(),
        tenant_id: "acme".into(),
        url: "https://example.com/hook".into(),
        event_types: vec!["*".into()],
        description: None,
        enabled: true,
        secret,
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
    }
}

async fn worker_with(status: u16, secret: Secret, options: WorkerOptions) -> TestWorker {
    let store = MemoryStore::new();
    store.put_tenant(&tenant("acme"), true).await.unwrap();
    store.create_endpoint(&endpoint(secret), 10).await.unwrap();
    Worker::new(
        store,
        MemoryQueue::new(),
        CountingSender {
            status: AtomicU16::new(status),
            sent: AtomicUsize::new(0),
        },
        options,
    )
}

async fn worker(status: u16) -> TestWorker {
    let options = WorkerOptions {
        concurrency: 4,
        ..WorkerOptions::default()
    };
    worker_with(status, Secret::generate(), options).await
}

/// The event of the delivery a test names `name` (each name its own event, the same in every
/// test: each test has its own store).
fn event_of(name: &str, d: &DeliveryRecord) -> EventRecord {
    let hash = name
        .bytes()
        .fold(7u128, |h, b| h.wrapping_mul(31).wrapping_add(u128::from(b)));
    let body = ulid::Ulid::from_parts(1_700_000_000_000, (hash << 20) & ((1 << 80) - 1));
    EventRecord {
        id: format!("evt_{body}"),
        tenant_id: d.tenant_id.clone(),
        event_type: "job.completed".into(),
        payload: r#"{"a":1}"#.into(),
        metadata: None,
        idempotency_key: None,
        created_at: 0,
        endpoint_ids: d.endpoint_id.iter().cloned().collect(),
        webhook_url: d.endpoint_id.is_none().then(|| d.url.clone()),
    }
}

/// The real id of the delivery a test names `name` (a real id stays as it is).
fn id_of(name: &str) -> String {
    if shared::domain::ids::parse_delivery_id(name).is_some() {
        return name.to_owned();
    }
    new_delivery(name).id
}

fn new_delivery(name: &str) -> DeliveryRecord {
    let unrecorded = DeliveryRecord {
        id: String::new(),
        tenant_id: "acme".into(),
        event_id: String::new(),
        event_type: "job.completed".into(),
        endpoint_id: Some("ep_1".into()),
        url: "https://example.com/hook".into(),
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        retry_base: 0,
        next_attempt_at: None,
        last_error: None,
        seq: 0,
        restarted_at: None,
        created_at: 0,
        updated_at: 0,
    };
    let e = event_of(name, &unrecorded);
    DeliveryRecord {
        id: shared::domain::ids::delivery_id(&e.id, 0).unwrap(),
        event_id: e.id,
        ..unrecorded
    }
}

/// Writes the delivery's event and, when `d` is not as an unrecorded delivery stands, a
/// record that leaves it as `d` says.
async fn put_delivery(w: &TestWorker, name: &str, d: DeliveryRecord) {
    let e = event_of(name, &d);
    w.store().put_event(&e).await.unwrap();
    let fresh = DeliveryRecord {
        seq: 0,
        ..new_delivery(name)
    };
    let as_fresh = DeliveryRecord {
        seq: 0,
        endpoint_id: fresh.endpoint_id.clone(),
        ..d.clone()
    };
    if as_fresh != fresh || d.seq > 0 {
        w.store().seed_state(&d);
    }
}

async fn add_delivery(w: &TestWorker, name: &str, f: impl FnOnce(&mut DeliveryRecord)) {
    let mut d = new_delivery(name);
    f(&mut d);
    put_delivery(w, name, d).await;
}

fn stored(w: &TestWorker, name: &str) -> DeliveryRecord {
    let id = id_of(name);
    w.store()
        .deliveries()
        .into_iter()
        .find(|d| d.id == id)
        .unwrap()
}

/// Attempt `number` of `delivery_id`, made now by another copy, answered 503.
fn attempt_503(delivery_id: &str, id: &str, number: u32) -> AttemptRecord {
    AttemptRecord {
        id: id.into(),
        delivery_id: delivery_id.into(),
        number,
        url: "https://example.com/hook".into(),
        started_at: now_millis(),
        duration_ms: 5,
        status_code: Some(503),
        outcome: Outcome::HttpError,
        error: None,
        response_excerpt: None,
        manual: false,
    }
}

/// Pending, the next attempt `ms` from now.
fn retry_in(ms: i64) -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(now_millis() + ms),
        last_error: Some("HTTP 503".into()),
    }
}

fn sent(w: &TestWorker) -> usize {
    w.sender().sent.load(Ordering::SeqCst)
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

/// The message of the delivery a test names `name` (to endpoint `ep_1`, as a retry sends it).
fn message_for(tenant_id: &str, name: &str, manual: bool) -> String {
    message_to(tenant_id, name, Some("ep_1"), manual)
}

fn message_to(tenant_id: &str, name: &str, endpoint: Option<&str>, manual: bool) -> String {
    let id = id_of(name);
    let (event_id, _) = shared::domain::ids::parse_delivery_id(&id).unwrap();
    serde_json::to_string(&DeliveryMessage {
        v: DeliveryMessage::VERSION,
        tenant_id: tenant_id.into(),
        delivery_id: id,
        event_id,
        event_type: "job.completed".into(),
        payload: RawValue::from_string(r#"{"a":1}"#.into()).unwrap(),
        manual,
        endpoint_id: endpoint.map(str::to_owned),
        url: endpoint
            .is_none()
            .then(|| "https://example.com/hook".to_owned()),
        initial: false,
    })
    .unwrap()
}

fn body_for(delivery_id: &str) -> String {
    message_for("acme", delivery_id, false)
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

/// One record of the named delivery's message (to the endpoint it has as stored).
async fn run(w: &TestWorker, name: &str) -> SqsBatchResponse {
    let ep = stored(w, name).endpoint_id;
    let body = message_to("acme", name, ep.as_deref(), false);
    w.handle_batch(batch(vec![record("m1", &body)]), deadline())
        .await
}

#[tokio::test]
async fn one_bad_record_does_not_fail_the_batch() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_ok", |_| {}).await;
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
    assert_eq!(stored(&w, "dlv_ok").status, DeliveryStatus::Delivered);
    assert_eq!(
        w.queue().visibility_changes(),
        [("rh-m-bad".to_owned(), 0)],
        "poison comes back at once"
    );
    assert_eq!(sent(&w), 1);
}

#[tokio::test]
async fn a_failed_attempt_is_reported_and_hidden_for_the_jittered_delay() {
    let w = worker(500).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let response = run(&w, "dlv_1").await;
    assert_eq!(failed_ids(&response), ["m1"]);
    let (_, secs) = w.queue().visibility_changes()[0].clone();
    assert!((8..=12).contains(&secs), "10 s ± 20 %: {secs}");
    let d = stored(&w, "dlv_1");
    assert_eq!(
        (d.status, d.attempt_count, d.seq),
        (DeliveryStatus::Pending, 1, 1)
    );
    assert_eq!(
        w.store().calls("delivery_state"),
        1,
        "a retry message reads the log once"
    );
    let attempts = w.store().attempts();
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
    let w = worker(500).await;
    add_delivery(&w, "dlv_1", |d| d.attempt_count = 1).await;
    run(&w, "dlv_1").await;
    assert_eq!(
        w.queue().visibility_changes()[0].1,
        43_200,
        "capped at SQS's 12 h"
    );
    let next = stored(&w, "dlv_1").next_attempt_at.unwrap();
    assert!(
        next - now_millis() > 12 * 3_600_000,
        "due in more than 12 h"
    );
    // Back early (pretend 12 h passed: the remaining wait is what is left of next_attempt_at).
    let mut d = stored(&w, "dlv_1");
    d.next_attempt_at = Some(now_millis() + 8 * 3_600_000);
    put_delivery(&w, "dlv_1", d).await;
    let response = run(&w, "dlv_1").await;
    assert_eq!(failed_ids(&response), ["m1"]);
    let secs = w.queue().visibility_changes()[1].1;
    assert!(
        (28_790..=28_800).contains(&secs),
        "hidden for the remaining 8 h: {secs}"
    );
    assert_eq!(sent(&w), 1, "no attempt when not due");
}

#[tokio::test]
async fn final_deliveries_are_acknowledged_without_a_post() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_done", |d| {
        d.status = DeliveryStatus::Delivered;
        d.attempt_count = 1;
    })
    .await;
    add_delivery(&w, "dlv_failed", |d| d.status = DeliveryStatus::Failed).await;
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
    assert_eq!(sent(&w), 0);
}

#[tokio::test]
async fn a_store_outage_fails_only_that_record_with_back_off() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    w.store().set_unavailable(true);
    let response = run(&w, "dlv_1").await;
    assert_eq!(failed_ids(&response), ["m1"]);
    assert_eq!(
        w.queue().visibility_changes()[0].1,
        8,
        "2^receive_count (3) seconds"
    );
    assert_eq!(sent(&w), 0);
}

#[tokio::test]
async fn no_attempt_starts_too_close_to_the_deadline() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let response = w
        .handle_batch(
            batch(vec![record("m1", &body_for("dlv_1"))]),
            now_millis() + 2_500,
        )
        .await;
    assert_eq!(failed_ids(&response), ["m1"]);
    assert_eq!(sent(&w), 0);
    assert_eq!(stored(&w, "dlv_1").seq, 0, "nothing recorded");
}

#[tokio::test]
async fn a_deleted_endpoint_ends_the_delivery_without_an_attempt() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |d| d.endpoint_id = Some("ep_gone".into())).await;
    let response = run(&w, "dlv_1").await;
    assert!(failed_ids(&response).is_empty());
    let d = stored(&w, "dlv_1");
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.last_error.as_deref(), Some("endpoint no longer exists"));
    assert_eq!(sent(&w), 0);
}

/// Ingest's message on its first receive: nothing can be recorded yet, so no read of the log;
/// the attempt is recorded as record 1.
#[tokio::test]
async fn an_initial_message_attempts_without_reading_the_log() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let mut m: DeliveryMessage = serde_json::from_str(&body_for("dlv_1")).unwrap();
    m.initial = true;
    let mut first = record("m1", &serde_json::to_string(&m).unwrap());
    first
        .attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    let response = w.handle_batch(batch(vec![first]), deadline()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(w.store().calls("delivery_state"), 0);
    assert_eq!(sent(&w), 1);
    let d = stored(&w, "dlv_1");
    assert_eq!((d.status, d.seq), (DeliveryStatus::Delivered, 1));
    // The same message received again (its deletion was lost): the log says delivered.
    let again = record("m1", &serde_json::to_string(&m).unwrap());
    let response = w.handle_batch(batch(vec![again]), deadline()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(sent(&w), 1, "no POST after a recorded success");
    assert_eq!(w.store().calls("delivery_state"), 1);
}

/// Two copies of one message made the same attempt; the second to record it finds it recorded
/// and follows the recorded state (here: a retry in 10 s), recording nothing.
#[tokio::test]
async fn a_copy_whose_attempt_was_recorded_first_by_another_follows_the_log() {
    let w = worker(500).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let before = stored(&w, "dlv_1");
    let other = attempt_503(&before.id, "att_other", 1);
    let retry = retry_in(30_000);
    // The worker reads the log before the other copy records (a read that raced the write):
    // seen from the worker, the other copy's record lands between its read and its write.
    let mut m: DeliveryMessage = serde_json::from_str(&body_for("dlv_1")).unwrap();
    m.initial = true;
    let mut first = record("m1", &serde_json::to_string(&m).unwrap());
    first
        .attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    w.store()
        .record_attempt(&before, &other, &retry)
        .await
        .unwrap();
    let response = w.handle_batch(batch(vec![first]), deadline()).await;
    assert_eq!(failed_ids(&response), ["m1"]);
    assert_eq!(
        sent(&w),
        1,
        "this copy POSTed too (receivers dedupe by webhook-id)"
    );
    let secs = w.queue().visibility_changes()[0].1;
    assert!(
        (29..=31).contains(&secs),
        "back when the recorded retry is due: {secs}"
    );
    let attempts = w.store().attempts();
    assert_eq!(attempts.len(), 1, "recorded once");
    assert_eq!(attempts[0].id, "att_other");
}

#[tokio::test]
async fn a_secret_that_cannot_sign_ends_the_delivery_without_a_post() {
    // Standard Webhooks needs a `whsec_` secret; this one cannot sign. No POST is made, no
    // attempt is recorded (no outcome of the delivery log fits), and the delivery ends failed
    // saying why, at once: a retry could not help.
    let plain = Secret::from_string("not-a-standard-webhooks-secret".into());
    let options = WorkerOptions::default();
    let w = worker_with(200, plain, options).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let response = run(&w, "dlv_1").await;
    assert!(failed_ids(&response).is_empty(), "acknowledged");
    assert_eq!(sent(&w), 0, "no POST");
    assert!(w.store().attempts().is_empty(), "no attempt recorded");
    let d = stored(&w, "dlv_1");
    assert_eq!((d.status, d.attempt_count), (DeliveryStatus::Failed, 0));
    let error = d.last_error.unwrap_or_default();
    assert!(
        error.starts_with("cannot sign: ") && error.contains("Standard Webhooks secret"),
        "{error}"
    );

    // A manual attempt is not made either, and leaves the delivery as it was.
    add_delivery(&w, "dlv_2", |d| d.status = DeliveryStatus::Failed).await;
    let manual = record("m2", &message_for("acme", "dlv_2", true));
    let response = w.handle_batch(batch(vec![manual]), deadline()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(sent(&w), 0);
    assert_eq!(stored(&w, "dlv_2").last_error, None);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_the_operator_hears_of_it_but_never_about_itself() {
    let options = WorkerOptions {
        operator: Some(OperatorConfig {
            webhook_url: "https://ops.example.com/hooks".into(),
            signing_secret: None,
        }),
        ..WorkerOptions::default()
    };
    let w = worker_with(410, Secret::generate(), options).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let response = run(&w, "dlv_1").await;
    assert!(failed_ids(&response).is_empty());
    let d = stored(&w, "dlv_1");
    assert_eq!(
        (d.status, d.attempt_count),
        (DeliveryStatus::Failed, 1),
        "410 is not retried"
    );
    let ep = w
        .store()
        .get_endpoint("acme", "ep_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ep.enabled, ep.disabled_reason.as_deref()),
        (false, Some("receiver answered 410 Gone"))
    );
    // Two operational events, each an operator-tenant event with one delivery to the
    // operator URL and its queue message.
    let messages: Vec<DeliveryMessage> = w
        .queue()
        .sent()
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    let kinds: Vec<&str> = messages.iter().map(|m| m.event_type.as_str()).collect();
    assert_eq!(kinds, ["delivery.exhausted", "endpoint.disabled"]);
    for m in &messages {
        assert_eq!(m.tenant_id, OPERATOR_TENANT);
        let op = stored(&w, &m.delivery_id);
        assert_eq!(
            (
                op.url.as_str(),
                op.endpoint_id.as_deref(),
                op.event_id.as_str()
            ),
            ("https://ops.example.com/hooks", None, m.event_id.as_str())
        );
        let payload: serde_json::Value = serde_json::from_str(m.payload.get()).unwrap();
        assert_eq!(payload["tenant_id"], "acme");
        assert_eq!(payload["type"], m.event_type.as_str());
    }

    // The operator URL answers 410 too: its delivery ends failed, and nothing is emitted
    // about it.
    let first_op = messages[0].delivery_id.clone();
    let op_body = w.queue().sent()[0].body.clone();
    assert!(op_body.contains(&first_op));
    let op_record = record("m-op", &op_body);
    let response = w.handle_batch(batch(vec![op_record]), deadline()).await;
    assert!(failed_ids(&response).is_empty());
    let op = stored(&w, &first_op);
    assert_eq!((op.status, op.endpoint_id), (DeliveryStatus::Failed, None));
    assert_eq!(
        w.store()
            .get_attempts(OPERATOR_TENANT, &first_op)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.queue().sent().len(),
        2,
        "no event about the operator itself"
    );
}

#[tokio::test]
async fn a_manual_attempt_on_a_failed_delivery_delivers_it() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |d| {
        d.status = DeliveryStatus::Failed;
        d.attempt_count = 3;
        d.last_error = Some("retry schedule exhausted".into());
    })
    .await;
    let manual = record("m1", &message_for("acme", "dlv_1", true));
    let response = w.handle_batch(batch(vec![manual]), deadline()).await;
    assert!(failed_ids(&response).is_empty());
    let d = stored(&w, "dlv_1");
    assert_eq!(
        (d.status, d.attempt_count, d.retry_base),
        (DeliveryStatus::Delivered, 4, 1)
    );
    assert!(w.store().attempts()[0].manual);
}

#[tokio::test]
async fn https_only_set_after_an_http_endpoint_exists_is_enforced_at_delivery() {
    let w = worker(200).await;
    let mut ep = w
        .store()
        .get_endpoint("acme", "ep_1")
        .await
        .unwrap()
        .unwrap();
    ep.url = "http://example.com/hook".into();
    w.store().update_endpoint(&ep, ep.updated_at).await.unwrap();
    let mut t = tenant("acme");
    t.https_only = true;
    w.store().put_tenant(&t, false).await.unwrap();
    add_delivery(&w, "dlv_1", |_| {}).await;
    // A one-off delivery to an http:// URL under the same tenant.
    add_delivery(&w, "dlv_2", |d| {
        d.endpoint_id = None;
        d.url = "http://example.com/once".into();
    })
    .await;
    for id in ["dlv_1", "dlv_2"] {
        let response = run(&w, id).await;
        assert!(failed_ids(&response).is_empty());
        let d = stored(&w, id);
        assert_eq!(d.status, DeliveryStatus::Failed, "{id}");
        assert_eq!(
            d.last_error.as_deref(),
            Some("the tenant accepts https:// receivers only")
        );
    }
    assert_eq!(sent(&w), 0, "nothing was POSTed over http");
}

#[tokio::test]
async fn a_stored_url_on_an_own_api_host_is_blocked_without_a_post() {
    // The endpoint (https://example.com/hook) was registered before example.com became one of
    // the API's own hosts (a custom domain added later); a one-off URL on the default host.
    let options = WorkerOptions {
        own_hosts: shared::domain::own_hosts::OwnHosts::parse(
            "example.com,abc.execute-api.us-east-1.amazonaws.com",
        )
        .unwrap(),
        ..WorkerOptions::default()
    };
    let w = worker_with(200, Secret::generate(), options).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    add_delivery(&w, "dlv_2", |d| {
        d.endpoint_id = None;
        d.url = "https://ABC.execute-api.us-east-1.amazonaws.com./v1/tenants/acme/events".into();
    })
    .await;
    for id in ["dlv_1", "dlv_2"] {
        let response = run(&w, id).await;
        assert!(failed_ids(&response).is_empty(), "{id}: not retried");
        let d = stored(&w, id);
        assert_eq!(d.status, DeliveryStatus::Failed, "{id}");
        let attempts = w.store().get_attempts("acme", &id_of(id)).await.unwrap();
        assert_eq!(attempts.len(), 1, "{id}");
        assert_eq!(attempts[0].outcome, Outcome::Blocked, "{id}");
        assert_eq!(
            attempts[0].error.as_deref(),
            Some(delivery::prepare::OWN_API)
        );
    }
    assert_eq!(sent(&w), 0, "nothing was POSTed to the API's own hosts");
}

/// An attempt that could outlast the queue's visibility timeout first hides its message for as
/// long as it may take (timeout + 5 s for the record, rounded up), so no second receive
/// starts the same attempt meanwhile; one that cannot is not covered.
#[tokio::test]
async fn an_attempt_longer_than_the_visibility_first_hides_its_message() {
    let options = WorkerOptions {
        queue_visibility: Some(std::time::Duration::from_secs(8)),
        ..WorkerOptions::default()
    };
    let w = worker_with(200, Secret::generate(), options).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    let response = run(&w, "dlv_1").await;
    assert!(failed_ids(&response).is_empty());
    // The default attempt timeout is 15 s: hidden 21 s before the POST, then acknowledged.
    assert_eq!(w.queue().visibility_changes(), [("rh-m1".to_owned(), 21)]);
    assert_eq!(sent(&w), 1);

    let roomy = WorkerOptions {
        queue_visibility: Some(std::time::Duration::from_secs(360)),
        ..WorkerOptions::default()
    };
    let w = worker_with(200, Secret::generate(), roomy).await;
    add_delivery(&w, "dlv_1", |_| {}).await;
    run(&w, "dlv_1").await;
    assert!(w.queue().visibility_changes().is_empty(), "360 s covers it");
}

/// A manual attempt whose record number a scheduled attempt took first (they ran at the same
/// time) is acknowledged: it was made once, and coming back would make it again.
#[tokio::test]
async fn a_manual_attempt_that_loses_the_record_race_is_not_made_again() {
    let w = worker(200).await;
    add_delivery(&w, "dlv_1", |d| {
        d.status = DeliveryStatus::Failed;
        d.attempt_count = 1;
    })
    .await;
    let before = stored(&w, "dlv_1");
    let scheduled = attempt_503(&before.id, "att_scheduled", 2);
    let retry = retry_in(60_000);
    w.store()
        .race_next_record(shared::domain::log::after_attempt(
            &before, &scheduled, &retry,
        ));
    let manual = record("m1", &message_for("acme", "dlv_1", true));
    let response = w.handle_batch(batch(vec![manual]), deadline()).await;
    assert!(
        failed_ids(&response).is_empty(),
        "acknowledged, not hidden to come back"
    );
    assert_eq!(sent(&w), 1);
    let attempts = w.store().get_attempts("acme", &before.id).await.unwrap();
    assert_eq!(attempts.len(), 1, "the scheduled one is recorded, once");
    assert_eq!(attempts[0].id, "att_scheduled");
}

#[tokio::test]
async fn a_success_after_a_failure_clears_the_failing_clock_even_with_a_cached_endpoint() {
    let w = worker(500).await;
    // The endpoint is read (and cached) healthy by a first delivery's attempt.
    add_delivery(&w, "dlv_1", |_| {}).await;
    run(&w, "dlv_1").await;
    // A delivery on its last attempt fails: the failing clock starts.
    add_delivery(&w, "dlv_2", |d| d.attempt_count = 2).await;
    run(&w, "dlv_2").await;
    assert_eq!(stored(&w, "dlv_2").status, DeliveryStatus::Failed);
    let ep = w
        .store()
        .get_endpoint("acme", "ep_1")
        .await
        .unwrap()
        .unwrap();
    assert!(ep.failing_since.is_some(), "the clock runs");
    // The receiver is back: the next success clears it (the cached copy knew no clock).
    w.sender().status.store(200, Ordering::SeqCst);
    let manual = record("m3", &message_for("acme", "dlv_2", true));
    w.handle_batch(batch(vec![manual]), deadline()).await;
    assert_eq!(stored(&w, "dlv_2").status, DeliveryStatus::Delivered);
    let ep = w
        .store()
        .get_endpoint("acme", "ep_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ep.failing_since, None, "a success clears the failing clock");
}
