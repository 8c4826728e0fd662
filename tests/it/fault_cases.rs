//! Two more fault cases beside `faults.rs`, each small: an ingest killed between its write and
//! its enqueue (healed by the reconciler), and a 256 KiB payload fanned out to 25 endpoints.
//! Each prints lost and second-POST counts like the main suite. The reconciler case also runs
//! in the plain suite with one event; `--ignored fault` runs both at their fault-suite size.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use shared::ports::{Enqueue, OutgoingMessage, Ping, QueueError};

use crate::harness::Stack;
use crate::receiver::{Reply, TestReceiver};

/// A queue whose sends never return: the request that reaches it is cut off after its write,
/// as an ingest process killed there would be.
struct NeverSends;

#[async_trait]
impl Enqueue for NeverSends {
    async fn send(&self, _: &[OutgoingMessage]) -> Result<(), QueueError> {
        std::future::pending().await
    }
}

#[async_trait]
impl Ping for NeverSends {
    async fn ping(&self) -> Result<(), String> {
        Ok(())
    }
}

fn print_report(name: &str, lost: usize, second_posts: usize, extra: &str) {
    println!(
        "{name}: lost: {lost}; second POSTs after a recorded delivery: {second_posts}; {extra}"
    );
}

/// Every delivery of `endpoint` (newest first), as the API lists them.
async fn deliveries_of(stack: &Stack, endpoint: &str) -> Vec<Value> {
    let path = format!("/v1/tenants/acme/endpoints/{endpoint}/deliveries");
    let (s, v) = stack.call_query("GET", &path, "limit=100").await;
    assert_eq!(s, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

/// `events` events accepted by an ingest killed after `put_event` and before its enqueue: the
/// deliveries have nothing recorded and no message (nothing else would ever send them). Two
/// reconciler runs at once put each on the queue once; each is delivered once to a real
/// receiver; a later run finds nothing left.
async fn ingest_killed_between_write_and_enqueue(events: usize) {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(200))).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let ep = ep["id"].as_str().unwrap().to_owned();
    let killed = stack.app_with_queue(NeverSends);
    for i in 0..events {
        let body = json!({"event_type": "a.b", "payload": {"i": i}});
        let cut = tokio::time::timeout(
            Duration::from_secs(3),
            stack.admin_to(&killed, "POST", "/v1/tenants/acme/events", Some(&body)),
        )
        .await;
        assert!(cut.is_err(), "the request ran to its end: {cut:?}");
    }
    // Without the reconciler nothing happens: no message, no POST, nothing recorded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(deliveries_of(&stack, &ep).await.len(), 0);
    assert_eq!(rx.received().len(), 0);

    // Two runs at once (stale age 0 here; 15 minutes deployed): each delivery enqueued once.
    let (a, b) = tokio::join!(
        stack.reconcile(Duration::ZERO),
        stack.reconcile(Duration::ZERO)
    );
    assert_eq!(a.requeued + b.requeued, events, "{a:?} {b:?}");
    let start = std::time::Instant::now();
    let mut delivered = 0;
    while start.elapsed() < Duration::from_secs(30) {
        let listed = deliveries_of(&stack, &ep).await;
        delivered = listed.iter().filter(|d| d["status"] == "delivered").count();
        if delivered == events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut posts: HashMap<String, usize> = HashMap::new();
    for r in rx.received() {
        *posts
            .entry(r.header("webhook-id").unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let second_posts = posts.values().map(|n| n.saturating_sub(1)).sum::<usize>();
    let later = stack.reconcile(Duration::ZERO).await;
    print_report(
        "ingest killed between write and enqueue",
        events - delivered,
        second_posts,
        &format!("{events} events, runs {a:?} / {b:?}, a later run {later:?}"),
    );
    assert_eq!(delivered, events);
    assert_eq!((posts.len(), second_posts), (events, 0));
    assert_eq!(later.requeued, 0, "each minute is read once: {later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconciler_delivers_what_a_killed_ingest_wrote() {
    ingest_killed_between_write_and_enqueue(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "part of the fault-injection suite (scripts/test runs it)"]
async fn fault_reconciler_heals_ingests_killed_between_write_and_enqueue() {
    ingest_killed_between_write_and_enqueue(5).await;
}

/// Two events with a payload of 256 KiB (the limit) fanned out to 25 endpoints: 50 messages of
/// ≈ 256 KiB (batches cut by bytes), every one delivered once with its exact bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "part of the fault-injection suite (scripts/test runs it)"]
async fn fault_fan_out_of_256_kib_to_25_endpoints() {
    const ENDPOINTS: usize = 25;
    const EVENTS: usize = 2;
    let stack = Stack::builder().start().await;
    stack
        .tenant("acme", json!({"max_endpoints": ENDPOINTS}))
        .await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(200))).await;
    for i in 0..ENDPOINTS {
        let url = format!("{}/{i}", rx.url.trim_end_matches('/'));
        stack
            .endpoint("acme", json!({"url": url, "event_types": ["*"]}))
            .await;
    }
    let mut expected: HashMap<String, (String, String)> = HashMap::new(); // delivery → (event, payload)
    for i in 0..EVENTS {
        let filler = "x".repeat(256 * 1024 - 32);
        let payload = format!(r#"{{"i":{i},"blob":"{filler}"}}"#);
        assert!(payload.len() <= 256 * 1024);
        let body = format!(r#"{{"event_type":"big.one","payload":{payload}}}"#);
        let (s, v) = stack
            .call_raw(
                "POST",
                "/v1/tenants/acme/events",
                Some(&body),
                Some(crate::harness::ADMIN_KEY),
            )
            .await;
        assert_eq!(s, 202, "{v}");
        for d in v["deliveries"].as_array().unwrap() {
            let id = d["id"].as_str().unwrap().to_owned();
            expected.insert(id, (v["id"].as_str().unwrap().to_owned(), payload.clone()));
        }
    }
    assert_eq!(expected.len(), ENDPOINTS * EVENTS);
    let mut lost = 0;
    for id in expected.keys() {
        let d = stack
            .wait_delivery("acme", id, Duration::from_secs(60), |d| {
                d["status"] == "delivered"
            })
            .await;
        if d["status"] != "delivered" {
            lost += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = rx.received();
    let mut posts: HashMap<(String, String), usize> = HashMap::new();
    let payloads: HashMap<&str, &str> = expected
        .values()
        .map(|(e, p)| (e.as_str(), p.as_str()))
        .collect();
    for r in &received {
        let event = r.header("webhook-id").unwrap_or_default().to_owned();
        assert_eq!(
            payloads.get(event.as_str()).map(|p| p.as_bytes()),
            Some(&r.body[..]),
            "exact bytes"
        );
        *posts.entry((event, r.path.clone())).or_default() += 1;
    }
    let second_posts = posts.values().map(|n| n.saturating_sub(1)).sum::<usize>();
    print_report(
        "256 KiB x 25 endpoints",
        lost,
        second_posts,
        &format!("{} deliveries, {} POSTs", expected.len(), received.len()),
    );
    assert_eq!(
        (lost, second_posts, posts.len()),
        (0, 0, ENDPOINTS * EVENTS)
    );
}
