//! Handler tests of `POST /v1/tenants/{tenant_id}/events/batch` through the whole router, on
//! the in-memory store and a counting in-memory queue: per-event results, idempotency inside
//! and across batches, the envelope's rules, the body limit, and sends shared across events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use ingest::config::IngestConfig;
use ingest::{App, AppState};
use shared::adapters::memory::{MemoryQueue, MemoryStore};
use shared::domain::address_policy::AddressPolicy;
use shared::domain::model::DeliveryStatus;
use shared::ports::{Enqueue, OutgoingMessage, Ping, QueueError};

const ADMIN: &str = "admin-key-for-batch-tests";
const BATCH: &str = "/v1/tenants/acme/events/batch";

/// The in-memory queue, counting `send` calls.
#[derive(Default)]
struct CountingQueue {
    inner: MemoryQueue,
    calls: AtomicUsize,
}

#[async_trait]
impl Enqueue for CountingQueue {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.send(messages).await
    }
}

#[async_trait]
impl Ping for CountingQueue {
    async fn ping(&self) -> Result<(), String> {
        self.inner.ping().await
    }
}

struct Api {
    app: App,
    store: Arc<MemoryStore>,
    queue: Arc<CountingQueue>,
}

impl Api {
    /// A tenant `acme` with one endpoint for every event type.
    async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(CountingQueue::default());
        let config = IngestConfig {
            table_name: "t".into(),
            queue_url: "q".into(),
            dlq_url: "d".into(),
            admin_key_sha256: hex::encode(Sha256::digest(ADMIN)).into(),
            address_policy: AddressPolicy::with_allowlist(
                AddressPolicy::parse_allowlist("").unwrap(),
            ),
            https_only: false,
            max_payload_bytes: 1024,
            own_hosts: shared::domain::own_hosts::OwnHosts::parse("api.hookrelay.test").unwrap(),
            allow_credential_headers: false,
            secrets_key_id: "unused-by-the-memory-store".into(),
            strict_event_types: false,
            portal: Default::default(),
            sources: Default::default(),
        };
        let state = AppState {
            store: store.clone(),
            queue: queue.clone(),
            redrive: Arc::new(MemoryQueue::new()),
            config: Arc::new(config),
            catalog: Default::default(),
            rejections: None,
        };
        let api = Self {
            app: ingest::app(state),
            store,
            queue,
        };
        let (s, v) = api.post("/v1/tenants/acme", "PUT", &json!({})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let endpoint = json!({"url": "https://example.com/hook", "event_types": ["*"]});
        let (s, v) = api
            .post("/v1/tenants/acme/endpoints", "POST", &endpoint)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        api
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn raw(&self, path: &str, body: String) -> (StatusCode, Value) {
        let request = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn post(&self, path: &str, method: &str, body: &Value) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// Posts a batch; returns the status and each result's status.
    async fn batch(&self, events: Vec<Value>) -> (StatusCode, Value, Vec<u64>) {
        let (s, v) = self.post(BATCH, "POST", &json!({ "events": events })).await;
        let statuses = v["results"]
            .as_array()
            .map(|r| r.iter().map(|x| x["status"].as_u64().unwrap()).collect())
            .unwrap_or_default();
        (s, v, statuses)
    }

    fn sent(&self) -> usize {
        self.queue.inner.sent().len()
    }

    fn calls(&self) -> usize {
        self.queue.calls.load(Ordering::SeqCst)
    }
}

fn event(n: usize) -> Value {
    json!({"event_type": "job.done", "payload": {"n": n}})
}

fn with_id(id: &str, n: usize) -> Value {
    json!({"event_type": "job.done", "payload": {"n": n}, "id": id})
}

#[tokio::test]
async fn each_event_gets_the_answer_the_single_route_would_give() {
    let api = Api::new().await;
    let events = vec![
        event(0),
        json!({"event_type": "bad type", "payload": {}}),
        json!({"event_type": "a.b", "payload": [1]}),
        json!({"event_type": "a.b", "payload": {"x": "y".repeat(2_000)}}),
        json!({"event_type": "a.b", "payload": {}, "typo": 1}),
        json!(5),
        json!({"event_type": "a.b", "payload": {}, "webhook_url": "http://localhost/x"}),
        json!({"event_type": "a.b"}),
        with_id("job-1", 8),
    ];
    let (s, v, statuses) = api.batch(events).await;
    assert_eq!(s, StatusCode::MULTI_STATUS, "{v}");
    assert_eq!(
        statuses,
        [202, 422, 422, 413, 422, 422, 422, 422, 202],
        "{v}"
    );
    let r = &v["results"];
    let field = |i: usize| r[i]["error"]["field"].as_str();
    assert_eq!(
        (field(1), field(2), field(3), field(6)),
        (
            Some("event_type"),
            Some("payload"),
            Some("payload"),
            Some("webhook_url")
        )
    );
    assert_eq!(r[4]["error"]["code"], "invalid_field");
    assert!(r[4]["error"]["message"].as_str().unwrap().contains("typo"));
    for i in [1, 5, 7] {
        assert!(r[i].get("event").is_none() && r[i]["error"]["message"].is_string());
    }
    // The accepted ones are events like any other, each with its delivery queued.
    for i in [0, 8] {
        assert!(r[i].get("error").is_none());
        assert_eq!(r[i]["event"]["deliveries"].as_array().unwrap().len(), 1);
        let id = r[i]["event"]["id"].as_str().unwrap();
        let (s, got) = api
            .post(&format!("/v1/tenants/acme/events/{id}"), "GET", &json!({}))
            .await;
        assert_eq!((s, &got["payload"]["n"]), (StatusCode::OK, &json!(i)));
    }
    assert_eq!(api.sent(), 2, "only the accepted events' deliveries");
}

#[tokio::test]
async fn a_repeated_id_in_a_batch_and_across_batches_gets_the_first_answer() {
    let api = Api::new().await;
    let (_, v, statuses) = api
        .batch(vec![
            with_id("k", 0),
            with_id("k", 1),
            with_id("j", 2),
            with_id("k", 3),
        ])
        .await;
    assert_eq!(statuses, [202, 200, 202, 200], "{v}");
    let r = &v["results"];
    assert_eq!(r[1]["event"], r[0]["event"]);
    assert_eq!(r[3]["event"], r[0]["event"]);
    assert_eq!(api.sent(), 2, "one delivery for k, one for j");
    // Across batches, and with the single route: the first answer again, nothing sent.
    let (_, v2, statuses) = api.batch(vec![with_id("j", 9), with_id("new", 4)]).await;
    assert_eq!(statuses, [200, 202], "{v2}");
    assert_eq!(v2["results"][0]["event"], r[2]["event"]);
    let (s, single) = api
        .post("/v1/tenants/acme/events", "POST", &with_id("k", 7))
        .await;
    assert_eq!((s, &single), (StatusCode::OK, &r[0]["event"]));
    // An id first sent alone repeats in a batch too.
    let (s, alone) = api
        .post("/v1/tenants/acme/events", "POST", &with_id("solo", 1))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (_, v3, statuses) = api.batch(vec![with_id("solo", 1)]).await;
    assert_eq!((statuses, &v3["results"][0]["event"]), (vec![200], &alone));
    assert_eq!(api.sent(), 4);
    // An invalid first occurrence claims nothing: the valid repeat is the first.
    let (_, v4, statuses) = api
        .batch(vec![
            json!({"event_type": "x", "payload": 1, "id": "late"}),
            with_id("late", 1),
        ])
        .await;
    assert_eq!(statuses, [422, 202], "{v4}");
}

#[tokio::test]
async fn a_bad_envelope_accepts_nothing() {
    let api = Api::new().await;
    let over: Vec<Value> = (0..101).map(event).collect();
    let (s, v, _) = api.batch(over).await;
    assert_eq!(
        (
            s.as_u16(),
            v["error"]["code"].as_str(),
            v["error"]["field"].as_str()
        ),
        (422, Some("invalid_field"), Some("events")),
        "{v}"
    );
    let (s, v, _) = api.batch(vec![]).await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("events"))
    );
    for (body, status) in [
        ("{\"events\": [", 400),
        ("[]", 422),
        ("{\"events\": {}}", 422),
        ("{\"events\": [], \"more\": 1}", 422),
        ("{}", 422),
        ("", 400),
    ] {
        let (s, v) = api.raw(BATCH, body.into()).await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    let hundred: Vec<Value> = (0..100).map(event).collect();
    assert_eq!(api.sent(), 0);
    let (s, _, statuses) = api.batch(hundred).await;
    assert_eq!(s, StatusCode::MULTI_STATUS);
    assert!(statuses.iter().all(|s| *s == 202) && statuses.len() == 100);
    // Tenants: unknown is one 404; another tenant's key sees nothing.
    let (s, v) = api
        .post(
            "/v1/tenants/nobody/events/batch",
            "POST",
            &json!({"events": [event(0)]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn the_batch_body_limit_is_its_own() {
    let api = Api::new().await;
    // 30 events of ≈ 900 bytes: over one event's limit (1 KiB + 16 KiB), within the batch's.
    let events: Vec<Value> = (0..30)
        .map(|n| json!({"event_type": "a.b", "payload": {"n": n, "x": "y".repeat(900)}}))
        .collect();
    let body = json!({ "events": events }).to_string();
    assert!(body.len() > 17 * 1024);
    let (s, v) = api.raw(BATCH, body.clone()).await;
    assert_eq!(s, StatusCode::MULTI_STATUS, "{v}");
    let (s, _) = api.raw("/v1/tenants/acme/events", body).await;
    assert_eq!(
        s,
        StatusCode::PAYLOAD_TOO_LARGE,
        "the single route keeps its limit"
    );
    // Over 2 MiB: refused whole, with or without a declared length.
    let events: Vec<Value> = (0..100)
        .map(|n| json!({"event_type": "a.b", "payload": {"n": n, "x": "y".repeat(22_000)}}))
        .collect();
    let body = json!({ "events": events }).to_string();
    assert!(body.len() > 2 * 1024 * 1024);
    let sent = api.sent();
    let (s, v) = api.raw(BATCH, body.clone()).await;
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{v}"
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("2097152"));
    let request = Request::post(BATCH)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let (s, _) = api.send(request).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api.sent(), sent, "nothing accepted");
}

#[tokio::test]
async fn the_events_of_a_batch_share_their_sends() {
    let api = Api::new().await;
    let before = api.calls();
    let (_, _, statuses) = api.batch((0..40).map(event).collect()).await;
    assert!(statuses.iter().all(|s| *s == 202));
    assert_eq!(api.sent(), 40);
    let calls = api.calls() - before;
    assert!(calls <= 8, "40 events, {calls} sends");
}

#[tokio::test]
async fn events_not_queued_fail_alone_and_a_retry_finishes_them() {
    let api = Api::new().await;
    api.queue.inner.set_accept_budget(Some(2));
    let events: Vec<Value> = (0..4).map(|n| with_id(&format!("e{n}"), n)).collect();
    let (_, v, statuses) = api.batch(events.clone()).await;
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [202, 202, 503, 503], "{v}");
    let failed = api
        .store
        .deliveries()
        .into_iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .count();
    assert_eq!(failed, 2, "the unqueued deliveries are recorded failed");
    api.queue.inner.set_accept_budget(None);
    let (_, v2, again) = api.batch(events).await;
    for (first, second) in statuses.iter().zip(&again) {
        assert_eq!(*second, if *first == 202 { 200 } else { 202 }, "{v2}");
    }
    for i in 0..4 {
        let (a, b) = (&v["results"][i], &v2["results"][i]);
        if a["status"] == 202 {
            assert_eq!(a["event"], b["event"]);
        }
    }
    assert_eq!(api.sent(), 4, "each delivery queued once in all");
}

#[tokio::test]
async fn the_batch_route_is_in_the_document() {
    let api = Api::new().await;
    let request = Request::get("/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let (_, doc) = api.send(request).await;
    let op = &doc["paths"]["/v1/tenants/{tenant_id}/events/batch"]["post"];
    assert!(op["responses"]["207"].is_object(), "{op}");
    assert!(doc["components"]["schemas"]["BatchResult"].is_object());
}
