//! The five seed services' webhook contracts, reproduced by configuration alone (tenant defaults
//! and endpoint settings). Each test is the README recipe of the same name.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::Stack;
use crate::receiver::{Reply, TestReceiver};

fn final_status(d: &Value) -> bool {
    d["status"] != "pending"
}

fn gaps(d: &Value) -> Vec<i64> {
    let starts: Vec<i64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| shared::domain::clock::parse_rfc3339(a["started_at"].as_str().unwrap()).unwrap())
        .collect();
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Clipzy: a one-off `webhook_url` per job, the job's terminal status as the body, retried with
/// exponential back-off (the default schedule) and abandoned after the last attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clipzy_one_off_webhook_url_with_backoff() {
    let stack = Stack::builder().start().await;
    let tenant = stack.tenant("clipzy-customer", json!({})).await;
    let rx = TestReceiver::start(vec![Reply::Status(502)], None).await;
    let payload = r#"{"job_id":"job_xyz789abc123","status":"completed","progress_percent":100,"output_video_url":"file:///storage/job_xyz789abc123/output.mp4","processing_time_seconds":900.0}"#;
    let body = format!(
        r#"{{"event_type":"job.completed","payload":{payload},"webhook_url":"{}"}}"#,
        rx.url
    );
    let (s, v) = stack
        .call_raw(
            "POST",
            "/v1/tenants/clipzy-customer/events",
            Some(&body),
            Some(crate::harness::ADMIN_KEY),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["deliveries"][0]["endpoint_id"], Value::Null);
    let id = v["deliveries"][0]["id"].as_str().unwrap();
    let d = stack
        .wait_delivery("clipzy-customer", id, Duration::from_secs(20), |d| {
            d["attempt_count"] == 1
        })
        .await;
    let wait = shared::domain::clock::parse_rfc3339(d["next_attempt_at"].as_str().unwrap())
        .unwrap()
        - shared::domain::clock::now_millis();
    assert!(
        (3_000..=6_100).contains(&wait),
        "first back-off is 5 s ± 20 %: {wait} ms"
    );
    let d = stack
        .wait_delivery("clipzy-customer", id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("delivered"), Some(2))
    );
    let got = rx.received();
    assert_eq!(
        &got[1].body[..],
        payload.as_bytes(),
        "the job status, byte for byte"
    );
    assert!(
        tenant["signing_secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
}

/// EditClips: HTTPS-only URLs, `job.completed` / `job.failed`, one attempt and no retry,
/// duplicates collapsed by job id.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn editclips_https_only_single_attempt_idempotent_by_job() {
    let stack = Stack::builder().start().await;
    stack
        .tenant(
            "editclips-customer",
            json!({"https_only": true, "defaults": {"retry_schedule_seconds": []}}),
        )
        .await;
    let (s, v) = stack
        .admin("POST", "/v1/tenants/editclips-customer/endpoints", Some(&json!({"url": "http://yourapp.example/webhooks/editclips", "event_types": ["job.completed", "job.failed"]})))
        .await;
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (422, Some("must use https"))
    );
    let (s, _) = stack
        .admin("POST", "/v1/tenants/editclips-customer/endpoints", Some(&json!({"url": "https://yourapp.example/webhooks/editclips", "event_types": ["job.completed", "job.failed"]})))
        .await;
    assert_eq!(s, 201);
    // Test receivers are plain-HTTP loopback servers, so the single-attempt half of the recipe
    // runs on a tenant with the same defaults minus https_only.
    stack
        .tenant(
            "editclips-local",
            json!({"defaults": {"retry_schedule_seconds": []}}),
        )
        .await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    stack
        .endpoint(
            "editclips-local",
            json!({"url": rx.url, "event_types": ["job.completed", "job.failed"]}),
        )
        .await;
    let body = json!({"event_type": "job.failed", "id": "d290f1ee-6c54-4b01-90e6-d701748f0851", "payload": {"event": "job.failed", "job": {"id": "d290f1ee-6c54-4b01-90e6-d701748f0851", "status": "failed"}}});
    let (s, first) = stack
        .admin("POST", "/v1/tenants/editclips-local/events", Some(&body))
        .await;
    assert_eq!(s, 202);
    let (s, again) = stack
        .admin("POST", "/v1/tenants/editclips-local/events", Some(&body))
        .await;
    assert_eq!(
        (s, &again),
        (200, &first),
        "same job id: same answer, nothing sent"
    );
    let id = first["deliveries"][0]["id"].as_str().unwrap();
    let d = stack
        .wait_delivery("editclips-local", id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("failed"), Some(1))
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.count(), 1, "one attempt, no retry, no duplicate");
}

/// Ssemble: http/https URLs of ≤ 2048 characters, never localhost, private or metadata
/// addresses; three attempts (immediately, after 1 s, after 3 s), 10 s timeout each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ssemble_three_attempts_at_0_1_3_seconds() {
    let stack = Stack::builder().start().await;
    stack
        .tenant(
            "ssemble-customer",
            json!({"defaults": {"retry_schedule_seconds": [1, 3], "timeout_seconds": 10}}),
        )
        .await;
    for url in [
        "http://localhost:5678/hook",
        "http://10.1.2.3/hook",
        "http://172.20.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/hook",
    ] {
        let body = json!({"event_type": "shorts.completed", "payload": {}, "webhook_url": url});
        let (s, v) = stack
            .admin("POST", "/v1/tenants/ssemble-customer/events", Some(&body))
            .await;
        // 127.0.0.2 is allowlisted for the tests' own receivers; localhost is refused in a
        // deployed stack (unit tests), the private and metadata ranges here too.
        if url.contains("localhost") {
            continue;
        }
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("webhook_url")),
            "{url}"
        );
    }
    let rx = TestReceiver::start(vec![], Some(Reply::Status(503))).await;
    let ep = stack
        .endpoint(
            "ssemble-customer",
            json!({"url": rx.url, "event_types": ["shorts.completed", "shorts.failed"]}),
        )
        .await;
    let v = stack.event("ssemble-customer", json!({"event_type": "shorts.completed", "payload": {"event": "shorts.completed", "requestId": "r1", "status": "completed"}})).await;
    let id = v["deliveries"][0]["id"].as_str().unwrap();
    let d = stack
        .wait_delivery(
            "ssemble-customer",
            id,
            Duration::from_secs(20),
            final_status,
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("failed"), Some(3))
    );
    let g = gaps(&d);
    assert!(
        (900..2_600).contains(&g[0]) && (2_900..4_600).contains(&g[1]),
        "gaps {g:?}"
    );
    let (_, view) = stack
        .admin(
            "GET",
            &format!(
                "/v1/tenants/ssemble-customer/endpoints/{}",
                ep["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert!(
        view.get("timeout_seconds").is_none(),
        "the 10 s timeout comes from the tenant defaults"
    );
}

/// Ittybit: `Ittybit-Signature` = hex HMAC-SHA256 of the raw body with the shared secret;
/// retried on 5xx (and other transient failures) only; metadata kept with the event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ittybit_hex_signature_transient_retries_and_metadata() {
    let stack = Stack::builder().start().await;
    stack.tenant("ittybit-customer", json!({})).await;
    let secret = "ittybit_webhook_secret_0123";
    let settings = json!({"signature": {"scheme": "hmac-sha256-hex", "header": "Ittybit-Signature"}, "retry_on": "transient_failures", "retry_schedule_seconds": [1, 1]});
    let flaky = TestReceiver::start(vec![Reply::Status(500)], None).await;
    let picky = TestReceiver::start(vec![], Some(Reply::Status(401))).await;
    let mut a = settings.clone();
    a["url"] = json!(flaky.url);
    a["event_types"] = json!(["task.*"]);
    a["secret"] = json!(secret);
    let mut b = a.clone();
    b["url"] = json!(picky.url);
    stack.endpoint("ittybit-customer", a).await;
    stack.endpoint("ittybit-customer", b).await;
    let v = stack
        .event("ittybit-customer", json!({"event_type": "task.succeeded", "payload": {"id": "task_a1b2c3d4", "status": "succeeded", "metadata": {"project": "38271"}}, "metadata": {"project": "38271"}}))
        .await;
    let mut statuses = Vec::new();
    for d in v["deliveries"].as_array().unwrap() {
        let d = stack
            .wait_delivery(
                "ittybit-customer",
                d["id"].as_str().unwrap(),
                Duration::from_secs(20),
                final_status,
            )
            .await;
        statuses.push((
            d["status"].as_str().unwrap().to_owned(),
            d["attempt_count"].as_u64().unwrap(),
        ));
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [("delivered".to_owned(), 2), ("failed".to_owned(), 1)],
        "5xx retried, 401 not"
    );
    let got = flaky.received();
    for r in &got {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&r.body);
        assert_eq!(
            r.header("ittybit-signature").unwrap(),
            hex::encode(mac.finalize().into_bytes())
        );
    }
    let (_, event) = stack
        .admin(
            "GET",
            &format!(
                "/v1/tenants/ittybit-customer/events/{}",
                v["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(event["metadata"], json!({"project": "38271"}));
}

/// Cloudglue: endpoints subscribed to at least one event type, the endpoint's secret in a
/// header, up to 3 retries and then failed, past events viewable per endpoint, 10 endpoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cloudglue_subscriptions_secret_header_three_retries_ten_endpoints() {
    let stack = Stack::builder().start().await;
    stack
        .tenant("cloudglue-customer", json!({"max_endpoints": 10, "defaults": {"signature": {"scheme": "secret-header", "header": "X-Webhook-Secret"}, "retry_schedule_seconds": [1, 1, 1]}}))
        .await;
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/cloudglue-customer/endpoints",
            Some(&json!({"url": "https://example.com/x", "event_types": []})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("event_types"))
    );
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let ep = stack
        .endpoint("cloudglue-customer", json!({"url": rx.url, "event_types": ["transcribe.job.completed", "transcribe.job.failed"], "secret": "cg_endpoint_secret_value"}))
        .await;
    let ep_id = ep["id"].as_str().unwrap();
    for i in 1..10 {
        stack.endpoint("cloudglue-customer", json!({"url": format!("https://example.com/{i}"), "event_types": ["file.job.deleted"]})).await;
    }
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/cloudglue-customer/endpoints",
            Some(&json!({"url": "https://example.com/11", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("endpoint_limit_reached"))
    );
    stack
        .event(
            "cloudglue-customer",
            json!({"event_type": "extract.job.completed", "payload": {}}),
        )
        .await;
    let v = stack
        .event(
            "cloudglue-customer",
            json!({"event_type": "transcribe.job.completed", "payload": {"job_id": "j1"}}),
        )
        .await;
    assert_eq!(
        v["deliveries"].as_array().unwrap().len(),
        1,
        "only the subscribed endpoint"
    );
    let d = stack
        .wait_delivery(
            "cloudglue-customer",
            v["deliveries"][0]["id"].as_str().unwrap(),
            Duration::from_secs(20),
            final_status,
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("failed"), Some(4)),
        "1 + 3 retries, then failed"
    );
    assert!(
        rx.received()
            .iter()
            .all(|r| r.header("x-webhook-secret") == Some("cg_endpoint_secret_value"))
    );
    let (s, list) = stack
        .call_query(
            "GET",
            &format!("/v1/tenants/cloudglue-customer/endpoints/{ep_id}/deliveries"),
            "",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "the endpoint's past events"
    );
    assert_eq!(list["data"][0]["status"], "failed");
}
