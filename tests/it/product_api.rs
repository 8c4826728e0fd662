//! The product API of issue 3 through the real stack: tenant keys and isolation, endpoint
//! lifecycle, secret rotation, idempotency under concurrent repeats, pagination, manual retry,
//! recover and DLQ redrive.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{ADMIN_KEY, Stack, venv_bin};
use crate::receiver::{Reply, TestReceiver};
use crate::signatures::{run_verifier, verifier_case};

fn final_status(d: &Value) -> bool {
    d["status"] != "pending"
}

async fn new_key(stack: &Stack, tenant: &str) -> (String, String) {
    let (s, v) = stack
        .admin("POST", &format!("/v1/tenants/{tenant}/api-keys"), None)
        .await;
    assert_eq!(s, 201, "{v}");
    (
        v["id"].as_str().unwrap().to_owned(),
        v["key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_keys_reach_their_own_tenant_only() {
    let stack = Stack::builder().start().await;
    stack.tenant("alpha", json!({})).await;
    stack.tenant("beta", json!({})).await;
    let (alpha_key_id, alpha) = new_key(&stack, "alpha").await;
    let rx = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("beta", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let ev = stack
        .event(
            "beta",
            json!({"event_type": "a.b", "payload": {"secret_data": "beta-only"}}),
        )
        .await;
    let (ep_id, ev_id, dlv_id) = (
        ep["id"].as_str().unwrap(),
        ev["id"].as_str().unwrap(),
        ev["deliveries"][0]["id"].as_str().unwrap(),
    );
    let (_, beta_key) = new_key(&stack, "beta").await;
    let (s, _) = stack
        .call("GET", "/v1/tenants/beta", None, Some(&beta_key))
        .await;
    assert_eq!(s, 200, "beta's own key works");

    // Alpha's key against every route of beta's resources: never 2xx, never a leak.
    let body = json!({});
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/v1/tenants/beta".into(), None),
        ("PUT", "/v1/tenants/beta".into(), Some(body.clone())),
        ("POST", "/v1/tenants/beta/api-keys".into(), None),
        (
            "DELETE",
            format!("/v1/tenants/beta/api-keys/{alpha_key_id}"),
            None,
        ),
        ("GET", "/v1/tenants/beta/endpoints".into(), None),
        (
            "POST",
            "/v1/tenants/beta/endpoints".into(),
            Some(json!({"url": rx.url, "event_types": ["*"]})),
        ),
        ("GET", format!("/v1/tenants/beta/endpoints/{ep_id}"), None),
        (
            "PATCH",
            format!("/v1/tenants/beta/endpoints/{ep_id}"),
            Some(json!({"enabled": false})),
        ),
        (
            "DELETE",
            format!("/v1/tenants/beta/endpoints/{ep_id}"),
            None,
        ),
        (
            "POST",
            format!("/v1/tenants/beta/endpoints/{ep_id}/rotate-secret"),
            Some(body.clone()),
        ),
        (
            "GET",
            format!("/v1/tenants/beta/endpoints/{ep_id}/deliveries"),
            None,
        ),
        (
            "POST",
            format!("/v1/tenants/beta/endpoints/{ep_id}/recover"),
            Some(json!({"since": "2020-01-01T00:00:00Z"})),
        ),
        (
            "POST",
            "/v1/tenants/beta/events".into(),
            Some(json!({"event_type": "a.b", "payload": {}})),
        ),
        ("GET", format!("/v1/tenants/beta/events/{ev_id}"), None),
        ("GET", format!("/v1/tenants/beta/deliveries/{dlv_id}"), None),
        (
            "POST",
            format!("/v1/tenants/beta/deliveries/{dlv_id}/retry"),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let (s, v) = stack.call(method, path, body.as_ref(), Some(&alpha)).await;
        assert_eq!(s, 404, "{method} {path} -> {s} {v}");
        let text = v.to_string();
        for secret in [
            ep["secret"].as_str().unwrap(),
            "beta-only-payload-marker",
            ep_id,
            dlv_id,
        ] {
            assert!(!text.contains(secret), "{method} {path} leaked {secret}");
        }
    }
    let (s, _) = stack
        .call("POST", "/v1/admin/dlq/redrive", None, Some(&alpha))
        .await;
    assert_eq!(s, 403, "admin route with a tenant key");
    let (s, _) = stack
        .call("PUT", "/v1/tenants/alpha", Some(&json!({})), Some(&alpha))
        .await;
    assert_eq!(
        s, 403,
        "a tenant key cannot change its own tenant's settings"
    );
    // Beta's endpoint is untouched and got exactly the one event.
    let (s, v) = stack
        .admin("GET", &format!("/v1/tenants/beta/endpoints/{ep_id}"), None)
        .await;
    assert_eq!((s, &v["enabled"]), (200, &json!(true)));
    // Alpha's key on alpha works; revoked, it is refused.
    let (s, v) = stack
        .call(
            "POST",
            "/v1/tenants/alpha/endpoints",
            Some(&json!({"url": rx.url, "event_types": ["*"]})),
            Some(&alpha),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = stack
        .admin(
            "DELETE",
            &format!("/v1/tenants/alpha/api-keys/{alpha_key_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = stack
        .call("GET", "/v1/tenants/alpha", None, Some(&alpha))
        .await;
    assert_eq!(s, 401, "a revoked key is refused");
    let (s, _) = stack
        .admin(
            "DELETE",
            &format!("/v1/tenants/alpha/api-keys/{alpha_key_id}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_lifecycle_patch_delete_and_limit() {
    let stack = Stack::builder().poll(false).start().await;
    stack
        .tenant(
            "acme",
            json!({"max_endpoints": 1, "defaults": {"timeout_seconds": 7}}),
        )
        .await;
    let ep = stack
        .endpoint("acme", json!({"url": "https://example.com/a", "event_types": ["job.*"], "timeout_seconds": 3, "description": "d"}))
        .await;
    let id = ep["id"].as_str().unwrap();
    let path = format!("/v1/tenants/acme/endpoints/{id}");
    let (s, v) = stack
        .admin("PATCH", &path, Some(&json!({"url": "https://example.org/b", "event_types": ["*"], "timeout_seconds": null, "description": null, "enabled": false})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["url"], "https://example.org/b");
    assert_eq!(v["event_types"], json!(["*"]));
    assert!(v.get("timeout_seconds").is_none(), "override removed: {v}");
    assert_eq!(v["description"], Value::Null);
    assert_eq!(v["enabled"], false);
    assert_eq!(v["secret"], ep["secret"], "PATCH keeps the secret");
    let (s, v) = stack.admin("GET", &path, None).await;
    assert_eq!((s, &v["url"]), (200, &json!("https://example.org/b")));
    for (body, field) in [
        (json!({"url": "http://10.0.0.1/"}), "url"),
        (json!({"event_types": []}), "event_types"),
        (json!({"headers": {"Host": "x"}}), "headers.Host"),
        (json!({"secret": "whsec_x"}), ""),
    ] {
        let (s, v) = stack.admin("PATCH", &path, Some(&body)).await;
        assert_eq!(s, 422, "{body} -> {v}");
        if !field.is_empty() {
            assert_eq!(v["error"]["field"], field);
        }
    }
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(&json!({"url": "https://example.com/c", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("endpoint_limit_reached"))
    );
    let (s, _) = stack.admin("DELETE", &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = stack.admin("GET", &path, None).await;
    assert_eq!(s, 404);
    let (s, _) = stack.admin("DELETE", &path, None).await;
    assert_eq!(s, 404);
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(&json!({"url": "https://example.com/c", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(s, 201, "deleting freed the place: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_signs_with_both_secrets_during_the_grace_period() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let old = ep["secret"].as_str().unwrap().to_owned();
    let path = format!(
        "/v1/tenants/acme/endpoints/{}/rotate-secret",
        ep["id"].as_str().unwrap()
    );
    let (s, rotated) = stack
        .admin("POST", &path, Some(&json!({"grace_period_seconds": 3600})))
        .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    // The worker caches endpoints for 200 ms in tests (30 s deployed).
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 1}}))
        .await;
    let start = std::time::Instant::now();
    while rx.count() < 1 {
        assert!(start.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = rx.received()[0].clone();
    assert_eq!(
        got.header("webhook-signature").unwrap().split(' ').count(),
        2
    );
    let case = |secret: &str| json!([verifier_case(secret, &got)]);
    let python = venv_bin("python");
    let python = python.to_str().unwrap();
    for secret in [&old, &new] {
        assert_eq!(
            run_verifier(python, "verify.py", &case(secret))["verified"],
            1,
            "official library with {}",
            if secret == &old { "old" } else { "new" }
        );
        assert_eq!(
            run_verifier("node", "verify.mjs", &case(secret))["verified"],
            1
        );
    }
    // A rotation without grace: the old secret stops at once.
    let (s, rotated) = stack
        .admin("POST", &path, Some(&json!({"grace_period_seconds": 0})))
        .await;
    assert_eq!(s, 200);
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 2}}))
        .await;
    while rx.count() < 2 {
        assert!(start.elapsed() < Duration::from_secs(40));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got2 = rx.received()[1].clone();
    let sigs = got2.header("webhook-signature").unwrap();
    assert_eq!(
        sigs.split(' ').count(),
        2,
        "the grace-period secret still signs: {sigs}"
    );
    let case2 = |secret: &str| json!([verifier_case(secret, &got2)]);
    assert_eq!(
        run_verifier(python, "verify.py", &case2(&newest))["verified"],
        1
    );
    assert_eq!(
        run_verifier(python, "verify.py", &case2(&old))["verified"],
        1,
        "the first rotation gave the oldest secret an hour, which a later rotation does not cut"
    );
    assert_eq!(
        run_verifier(python, "verify.py", &case2(&new))["verified"],
        0,
        "rotated out with no grace: it stops at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_an_idempotent_event_make_one_set_of_deliveries() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], None).await;
    stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let body =
        json!({"event_type": "job.completed", "payload": {"job": "j1"}, "id": "job-j1-completed"});
    let calls = (0..8).map(|_| stack.admin("POST", "/v1/tenants/acme/events", Some(&body)));
    let results = futures::future::join_all(calls).await;
    let accepted: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, v)| v)
        .collect();
    let replayed: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(accepted.len(), 1, "{results:?}");
    assert_eq!(replayed.len(), 7, "{results:?}");
    assert!(
        replayed.iter().all(|v| *v == accepted[0]),
        "repeats get the first response"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(rx.count(), 1, "one delivery");
    let (s, v) = stack
        .admin("POST", "/v1/tenants/acme/events", Some(&body))
        .await;
    assert_eq!((s, &v), (200, accepted[0]));
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(&json!({"event_type": "job.completed", "payload": {}, "id": "other"})),
        )
        .await;
    assert_eq!(s, 202);
    assert_ne!(v["id"], accepted[0]["id"]);
    // Keys are per tenant.
    stack.tenant("other", json!({})).await;
    let (s, _) = stack
        .admin("POST", "/v1/tenants/other/events", Some(&body))
        .await;
    assert_eq!(s, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_deliveries_paginate_newest_first_under_concurrent_writes() {
    // A receiver that fails every attempt, with an hour until the retry: each delivery is
    // listed (its first attempt recorded) and stays pending.
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [3600]}),
        )
        .await;
    let ep_id = ep["id"].as_str().unwrap();
    let mut sent = Vec::new();
    for i in 0..45 {
        let v = stack
            .event("acme", json!({"event_type": "a.b", "payload": {"i": i}}))
            .await;
        sent.push(v["deliveries"][0]["id"].as_str().unwrap().to_owned());
    }
    let listed = |n: usize| {
        let stack = &stack;
        async move {
            let path = format!("/v1/tenants/acme/endpoints/{ep_id}/deliveries");
            let start = std::time::Instant::now();
            loop {
                let (s, v) = stack
                    .call_query("GET", &path, "status=pending&limit=100")
                    .await;
                assert_eq!(s, 200, "{v}");
                let got = v["data"].as_array().unwrap().len();
                if got >= n || start.elapsed() > Duration::from_secs(60) {
                    assert_eq!(v["next_cursor"], Value::Null);
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    assert_eq!(
        listed(45).await,
        45,
        "each listed once its first attempt is recorded"
    );
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=20&cursor={c}"),
            None => "?limit=20".into(),
        };
        let path = format!("/v1/tenants/acme/endpoints/{ep_id}/deliveries");
        let (s, v) = stack.call_query("GET", &path, &q[1..]).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        seen.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned()),
        );
        assert!(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d.get("attempts").is_none())
        );
        // A write between pages must not disturb the pages still to come.
        stack
            .event(
                "acme",
                json!({"event_type": "a.b", "payload": {"late": pages}}),
            )
            .await;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = sent.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every delivery once, newest first");
    let (s, v) = stack
        .call_query(
            "GET",
            &format!("/v1/tenants/acme/endpoints/{ep_id}/deliveries"),
            "status=delivered",
        )
        .await;
    assert_eq!((s, v["data"].as_array().unwrap().len()), (200, 0));
    assert_eq!(listed(48).await, 48, "the three written between pages");
    let (s, _) = stack
        .call_query(
            "GET",
            &format!("/v1/tenants/acme/endpoints/{ep_id}/deliveries"),
            "limit=500",
        )
        .await;
    assert_eq!(s, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn manual_retry_and_recover_replay_failed_deliveries() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [1]}),
        )
        .await;
    let ep_id = ep["id"].as_str().unwrap();
    let since = shared::domain::clock::rfc3339(shared::domain::clock::now_millis() - 1000);
    let a = stack
        .event("acme", json!({"event_type": "a.b", "payload": {"a": 1}}))
        .await;
    let b = stack
        .event("acme", json!({"event_type": "a.b", "payload": {"b": 1}}))
        .await;
    let (a_id, b_id) = (
        a["deliveries"][0]["id"].as_str().unwrap(),
        b["deliveries"][0]["id"].as_str().unwrap(),
    );
    for id in [a_id, b_id] {
        let d = stack
            .wait_delivery("acme", id, Duration::from_secs(20), final_status)
            .await;
        assert_eq!(
            (d["status"].as_str(), d["attempt_count"].as_u64()),
            (Some("failed"), Some(2)),
            "{d}"
        );
    }
    rx.set_fallback(Reply::Status(200));

    // Manual retry of A: one attempt now, recorded manual.
    let (s, v) = stack
        .admin(
            "POST",
            &format!("/v1/tenants/acme/deliveries/{a_id}/retry"),
            None,
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let d = stack
        .wait_delivery("acme", a_id, Duration::from_secs(20), |d| {
            d["status"] == "delivered"
        })
        .await;
    assert_eq!(d["attempt_count"], 3, "{d}");
    assert_eq!(d["attempts"][2]["manual"], true);
    assert_eq!(d["attempts"][1]["manual"], false);

    // Recover: B (still failed) goes through its schedule again; A is delivered and untouched.
    rx.set_fallback(Reply::Status(500));
    let (s, v) = stack
        .admin(
            "POST",
            &format!("/v1/tenants/acme/endpoints/{ep_id}/recover"),
            Some(&json!({"since": since})),
        )
        .await;
    // 202 with a job at once; the job runs behind the answer and is polled.
    assert_eq!(
        (s, v["kind"].as_str(), v["status"].as_str()),
        (202, Some("recover"), Some("running")),
        "{v}"
    );
    let job = stack
        .wait_job("acme", v["id"].as_str().unwrap(), Duration::from_secs(20))
        .await;
    assert_eq!(
        (job["status"].as_str(), job["requeued"].as_u64()),
        (Some("done"), Some(1)),
        "{job}"
    );
    let d = stack
        .wait_delivery("acme", b_id, Duration::from_secs(20), |d| {
            d["attempt_count"] == 4 && final_status(d)
        })
        .await;
    assert_eq!(
        d["status"], "failed",
        "the whole schedule again (2 attempts), then failed: {d}"
    );
    let starts: Vec<i64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| shared::domain::clock::parse_rfc3339(a["started_at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        starts[3] - starts[2] >= 900,
        "the restarted schedule's 1 s delay"
    );
    let (s, v) = stack
        .admin(
            "POST",
            &format!("/v1/tenants/acme/endpoints/{ep_id}/recover"),
            Some(&json!({"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let job = stack
        .wait_job("acme", v["id"].as_str().unwrap(), Duration::from_secs(20))
        .await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["requeued"].as_u64(),
            job["done"].as_u64()
        ),
        (Some("done"), Some(0), Some(0)),
        "nothing failed in that window: {job}"
    );
    let (s, _) = stack
        .admin(
            "POST",
            &format!("/v1/tenants/acme/endpoints/{ep_id}/recover"),
            Some(&json!({"since": "yesterday"})),
        )
        .await;
    assert_eq!(s, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dlq_redrive_moves_real_messages_back() {
    let mut stack = Stack::builder().poll(false).start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], None).await;
    stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let v = stack
            .event("acme", json!({"event_type": "a.b", "payload": {"i": i}}))
            .await;
        ids.push(v["deliveries"][0]["id"].as_str().unwrap().to_owned());
    }
    // Move the three messages to the DLQ, as repeated failures of the pipeline would.
    let mut moved = 0;
    while moved < 3 {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&stack.resources.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in got.messages.unwrap_or_default() {
            stack
                .sqs
                .send_message()
                .queue_url(&stack.resources.dlq_url)
                .message_body(m.body.unwrap())
                .send()
                .await
                .unwrap();
            stack
                .sqs
                .delete_message()
                .queue_url(&stack.resources.queue_url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
            moved += 1;
        }
    }
    assert_eq!(stack.queue_depth(&stack.resources.dlq_url).await.0, 3);
    let (s, v) = stack.admin("POST", "/v1/admin/dlq/redrive", None).await;
    assert_eq!((s, &v), (200, &json!({"moved": 3})));
    assert_eq!(stack.queue_depth(&stack.resources.dlq_url).await, (0, 0));
    stack.start_poller().await;
    for id in &ids {
        let d = stack
            .wait_delivery("acme", id, Duration::from_secs(20), final_status)
            .await;
        assert_eq!(d["status"], "delivered");
    }
    assert_eq!(rx.count(), 3);
    let (s, v) = stack.admin("POST", "/v1/admin/dlq/redrive", None).await;
    assert_eq!((s, &v), (200, &json!({"moved": 0})));
    let _ = ADMIN_KEY;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_endpoint_limit_holds_under_concurrent_creates_and_tenant_updates() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("acme", json!({"max_endpoints": 3})).await;
    let creates = (0..8).map(|i| {
        let body = json!({"url": format!("https://example.com/{i}"), "event_types": ["*"]});
        let stack = &stack;
        async move {
            stack
                .admin("POST", "/v1/tenants/acme/endpoints", Some(&body))
                .await
                .0
        }
    });
    let updates = (0..4).map(|i| {
        let stack = &stack;
        async move {
            stack
                .admin(
                    "PUT",
                    "/v1/tenants/acme",
                    Some(&json!({"name": format!("Acme {i}")})),
                )
                .await
                .0
        }
    });
    let (created, updated) = futures::join!(
        futures::future::join_all(creates),
        futures::future::join_all(updates)
    );
    assert!(updated.iter().all(|s| *s == 200), "{updated:?}");
    assert_eq!(
        created.iter().filter(|s| **s == 201).count(),
        3,
        "{created:?}"
    );
    assert_eq!(
        created.iter().filter(|s| **s == 409).count(),
        5,
        "{created:?}"
    );
    let (_, list) = stack.admin("GET", "/v1/tenants/acme/endpoints", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    // Deleting one frees exactly one place: the counter survived the updates.
    let id = list["data"][0]["id"].as_str().unwrap();
    stack
        .admin("DELETE", &format!("/v1/tenants/acme/endpoints/{id}"), None)
        .await;
    let (s, _) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(&json!({"url": "https://example.com/x", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(&json!({"url": "https://example.com/y", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(s, 409);
}
