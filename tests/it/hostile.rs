//! Regression tests for what a hostile tenant found (hardening II), through the real stack:
//! each failed before its fix.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Stack;
use crate::receiver::TestReceiver;

/// Metadata DynamoDB cannot hold (numbers outside its range, deep nesting) is bad input: 422
/// with the field, nothing written — never a 503 from the table.
#[tokio::test]
async fn metadata_the_table_cannot_hold_is_a_422_with_its_field() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("meta", json!({})).await;
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!({ "a": deep });
    }
    for (metadata, field) in [
        (json!({"big": 1e200}), "metadata.big"),
        (json!({"small": 1e-200}), "metadata.small"),
        (json!({"list": [1, {"x": -1e130}]}), "metadata.list[1].x"),
        (json!({ "deep": deep }), "metadata.deep"),
    ] {
        let (status, body) = stack
            .admin(
                "POST",
                "/v1/tenants/meta/events",
                Some(&json!({"event_type": "job.completed", "payload": {}, "metadata": metadata})),
            )
            .await;
        assert_eq!(status, 422, "{metadata}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        let got = body["error"]["field"].as_str().unwrap_or_default();
        assert!(got.starts_with(field), "{field} ≠ {got}");
    }
    // Ordinary numbers and nesting are kept as sent.
    let kept = json!({"n": 1.5, "tiny": 2.5e-7, "huge": 1e125, "zero": 0, "nested": {"a": [1, 2, {"b": null}]}});
    let accepted = stack
        .event(
            "meta",
            json!({"event_type": "job.completed", "payload": {}, "metadata": kept}),
        )
        .await;
    let (status, event) = stack
        .admin(
            "GET",
            &format!(
                "/v1/tenants/meta/events/{}",
                accepted["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["metadata"], kept);
}

/// A payload near the limit fanned out to many endpoints: the queue's batches are cut by bytes
/// as well as count, so every delivery is queued and made once (256 KiB × 25 endpoints).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_256_kib_payload_fans_out_to_25_endpoints() {
    let stack = Stack::builder().start().await;
    stack.tenant("wide", json!({"max_endpoints": 25})).await;
    let rx = TestReceiver::start(vec![], None).await;
    for i in 0..25 {
        stack
            .endpoint(
                "wide",
                json!({"url": format!("{}/ep{i}", rx.url), "event_types": ["*"]}),
            )
            .await;
    }
    let envelope = r#"{"blob":""}"#.len();
    let payload = json!({ "blob": "x".repeat(256 * 1024 - envelope) });
    assert_eq!(payload.to_string().len(), 256 * 1024);
    let accepted = stack
        .event(
            "wide",
            json!({"event_type": "job.completed", "payload": payload}),
        )
        .await;
    let deliveries = accepted["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 25);
    for d in deliveries {
        let id = d["id"].as_str().unwrap();
        let view = stack
            .wait_delivery("wide", id, Duration::from_secs(60), |v: &Value| {
                v["status"] == "delivered"
            })
            .await;
        assert_eq!(view["status"], "delivered", "{view}");
        assert_eq!(view["attempt_count"], 1);
    }
    let got = rx.received();
    assert_eq!(got.len(), 25, "each endpoint got it once");
    let mut paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), 25);
    assert!(got.iter().all(|r| r.body.len() == 256 * 1024));
}

/// A first answer too large for a table item (200 deliveries with 2,048-character URLs) is still
/// what every repeat gets: only the event id is kept, and the answer is rebuilt from it.
#[tokio::test]
async fn a_repeat_gets_the_first_answer_however_large() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("many", json!({"max_endpoints": 200})).await;
    let rx = TestReceiver::start(vec![], None).await;
    let base = format!("{}/", rx.url);
    for i in 0..200 {
        let path = format!("{i:03}{}", "a".repeat(2048 - base.len() - 3));
        let url = format!("{base}{path}");
        assert_eq!(url.len(), 2048);
        stack
            .endpoint("many", json!({"url": url, "event_types": ["*"]}))
            .await;
    }
    let body = json!({"event_type": "job.completed", "payload": {"n": 1}, "id": "job-42"});
    let first = stack.event("many", body.clone()).await;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 200);
    assert!(first.to_string().len() > 400 * 1024, "over a table item");
    for _ in 0..2 {
        let (status, repeat) = stack
            .admin("POST", "/v1/tenants/many/events", Some(&body))
            .await;
        assert_eq!(
            status,
            200,
            "{}",
            &repeat.to_string()[..200.min(repeat.to_string().len())]
        );
        assert_eq!(repeat, first);
    }
}
