//! Failure semantics of issue 4 through the real stack: 410 disables, sustained failure
//! disables (and any success resets the clock), re-enabling resumes, operational events reach
//! the operator URL signed (and never about themselves).

use std::time::Duration;

use delivery::WorkerOptions;
use delivery::ops::{OPERATOR_TENANT, OperatorConfig};
use serde_json::{Value, json};
use shared::domain::secret::Secret;

use crate::harness::{Stack, venv_bin};
use crate::receiver::{Reply, TestReceiver};
use crate::signatures::{run_verifier, verifier_case};

fn final_status(d: &Value) -> bool {
    d["status"] != "pending"
}

async fn wait_until(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

fn options(auto_disable: Duration, operator: Option<OperatorConfig>) -> WorkerOptions {
    WorkerOptions {
        cache_ttl: Duration::from_millis(200),
        auto_disable_after: auto_disable,
        operator,
        ..WorkerOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gone_disables_the_endpoint_and_re_enabling_resumes_what_it_parked() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![Reply::Status(410)], None).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [1, 1]}),
        )
        .await;
    let path = format!("/v1/tenants/acme/endpoints/{}", ep["id"].as_str().unwrap());
    let first = stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 1}}))
        .await;
    let d = stack
        .wait_delivery(
            "acme",
            first["deliveries"][0]["id"].as_str().unwrap(),
            Duration::from_secs(20),
            final_status,
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("failed"), Some(1)),
        "410 is not retried: {d}"
    );
    let (_, view) = stack.admin("GET", &path, None).await;
    assert_eq!(view["enabled"], false);
    assert_eq!(view["disabled_reason"], "receiver answered 410 Gone");
    // Disabled: new events skip it.
    let skipped = stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 2}}))
        .await;
    assert_eq!(skipped["deliveries"], json!([]));
    assert_eq!(rx.count(), 1);

    // A delivery already pending when its endpoint gets disabled is parked, then resumed.
    stack
        .admin("PATCH", &path, Some(&json!({"enabled": true})))
        .await;
    rx.set_fallback(Reply::Status(500));
    let pending = stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 3}}))
        .await;
    let pending_id = pending["deliveries"][0]["id"].as_str().unwrap().to_owned();
    stack
        .wait_delivery("acme", &pending_id, Duration::from_secs(20), |d| {
            d["attempt_count"] == 1
        })
        .await;
    let (s, _) = stack
        .admin("PATCH", &path, Some(&json!({"enabled": false})))
        .await;
    assert_eq!(s, 200);
    let d = stack
        .wait_delivery("acme", &pending_id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(
        (d["status"].as_str(), d["last_error"].as_str()),
        (Some("failed"), Some("endpoint is disabled")),
        "its retries stop"
    );
    rx.set_fallback(Reply::Status(200));
    let (s, view) = stack
        .admin("PATCH", &path, Some(&json!({"enabled": true})))
        .await;
    assert_eq!(s, 200);
    assert!(view.get("disabled_reason").is_none());
    let d = stack
        .wait_delivery("acme", &pending_id, Duration::from_secs(20), |d| {
            d["status"] == "delivered"
        })
        .await;
    assert_eq!(d["status"], "delivered", "re-enabling resumed it: {d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sustained_failure_disables_and_any_success_resets_the_clock() {
    let stack = Stack::builder()
        .worker_options(options(Duration::from_secs(3), None))
        .start()
        .await;
    stack
        .tenant("acme", json!({"defaults": {"retry_schedule_seconds": []}}))
        .await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let path = format!("/v1/tenants/acme/endpoints/{}", ep["id"].as_str().unwrap());
    let send = || async {
        let v = stack
            .event("acme", json!({"event_type": "a.b", "payload": {}}))
            .await;
        let id = v["deliveries"][0]["id"].as_str().unwrap().to_owned();
        stack
            .wait_delivery("acme", &id, Duration::from_secs(20), final_status)
            .await
    };
    assert_eq!(send().await["status"], "failed"); // the clock starts
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rx.set_fallback(Reply::Status(200));
    assert_eq!(send().await["status"], "delivered"); // … and is reset
    rx.set_fallback(Reply::Status(500));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(send().await["status"], "failed"); // 3.5 s after the first failure, 0 s after the reset
    let (_, view) = stack.admin("GET", &path, None).await;
    assert_eq!(
        view["enabled"], true,
        "a success in between resets the clock"
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(send().await["status"], "failed");
    let (_, view) = stack.admin("GET", &path, None).await;
    assert_eq!(
        view["enabled"], false,
        "failing for longer than the window: {view}"
    );
    assert!(
        view["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("every delivery failed since")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operational_events_reach_the_operator_signed_and_never_about_themselves() {
    let operator = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let secret = Secret::generate();
    crate::harness::record_secret(secret.expose());
    let op = OperatorConfig {
        webhook_url: operator.url.clone(),
        signing_secret: Some(secret.clone()),
    };
    let stack = Stack::builder()
        .worker_options(options(Duration::from_secs(3600), Some(op)))
        .start()
        .await;
    stack.tenant("acme", json!({})).await;
    let gone = TestReceiver::start(vec![Reply::Status(410)], None).await;
    let flaky = TestReceiver::start(
        vec![
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
        ],
        None,
    )
    .await;
    stack
        .endpoint(
            "acme",
            json!({"url": gone.url, "event_types": ["gone.*"], "retry_schedule_seconds": []}),
        )
        .await;
    stack.endpoint("acme", json!({"url": flaky.url, "event_types": ["flaky.*"], "retry_schedule_seconds": [0, 0, 0, 0, 0]})).await;
    stack
        .event("acme", json!({"event_type": "gone.x", "payload": {}}))
        .await;
    stack
        .event("acme", json!({"event_type": "flaky.x", "payload": {}}))
        .await;
    // Expected: delivery.exhausted + endpoint.disabled (the 410), delivery.recovered (5th try).
    // The operator URL answers 500 with the default schedule: its first attempts arrive now;
    // their failures must not produce events about the operator's own deliveries.
    wait_until("three operational events", 30, async || {
        let types: std::collections::BTreeSet<String> = operator
            .received()
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter_map(|v| v["type"].as_str().map(str::to_owned))
            .collect();
        types.len() == 3
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // As a receiver must, by webhook-id: two copies of one message may both make attempt 1
    // (an SDK retry of a send that went through, under load), the same event both times.
    let mut ids = std::collections::HashSet::new();
    let got: Vec<_> = operator
        .received()
        .into_iter()
        .filter(|r| ids.insert(r.header("webhook-id").unwrap_or_default().to_owned()))
        .collect();
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let mut types: Vec<&str> = bodies.iter().map(|v| v["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "delivery.exhausted",
            "delivery.recovered",
            "endpoint.disabled"
        ],
        "exactly these, no loop"
    );
    assert!(bodies.iter().all(|b| b["tenant_id"] == "acme"));
    let recovered = bodies
        .iter()
        .find(|b| b["type"] == "delivery.recovered")
        .unwrap();
    assert_eq!(recovered["failed_attempts"], 4);
    let cases: Vec<Value> = got
        .iter()
        .map(|r| verifier_case(secret.expose(), r))
        .collect();
    let verified = run_verifier(
        venv_bin("python").to_str().unwrap(),
        "verify.py",
        &Value::Array(cases),
    );
    assert_eq!(
        verified["verified"], 3,
        "signed with the operator secret: {verified}"
    );
    let (s, _) = stack
        .admin("GET", &format!("/v1/tenants/{OPERATOR_TENANT}"), None)
        .await;
    assert_eq!(s, 200, "the reserved operator tenant exists");
}
