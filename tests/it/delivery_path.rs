//! The delivery path end to end: fan-out, exact bytes, retries on the schedule, failure after
//! the schedule, timeouts, poison messages to the DLQ, duplicates without a second POST.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Stack;
use crate::receiver::{Reply, TestReceiver};

fn delivery_id_for(accepted: &Value, endpoint_id: &str) -> String {
    accepted["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["endpoint_id"] == endpoint_id)
        .unwrap_or_else(|| panic!("no delivery for {endpoint_id} in {accepted}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn is_final(d: &Value) -> bool {
    d["status"] != "pending"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_reaches_subscribed_endpoints_only_with_the_exact_payload_bytes() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let (a, b, c) = tokio::join!(
        TestReceiver::start(vec![], None),
        TestReceiver::start(vec![], None),
        TestReceiver::start(vec![], None)
    );
    let ep_a = stack
        .endpoint("acme", json!({"url": a.url, "event_types": ["job.*"]}))
        .await;
    let ep_b = stack
        .endpoint(
            "acme",
            json!({"url": b.url, "event_types": ["job.completed"]}),
        )
        .await;
    stack
        .endpoint(
            "acme",
            json!({"url": c.url, "event_types": ["file.*", "job.failed"]}),
        )
        .await;
    stack
        .endpoint(
            "acme",
            json!({"url": c.url, "event_types": ["*"], "enabled": false}),
        )
        .await;

    // Odd spacing, key order, escapes and non-ASCII: the receiver must get these bytes exactly.
    let payload = "{ \"job_id\":\"job_1\",  \"status\" : \"completed\", \"n\": 1.50, \"s\": \"\\u00e9é\\n\" }";
    let body = format!(r#"{{"event_type": "job.completed", "payload": {payload}}}"#);
    let (status, accepted) = stack
        .call_raw(
            "POST",
            "/v1/tenants/acme/events",
            Some(&body),
            Some(crate::harness::ADMIN_KEY),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(
        accepted["deliveries"].as_array().unwrap().len(),
        2,
        "{accepted}"
    );
    let event_id = accepted["id"].as_str().unwrap().to_owned();
    for (ep, rx) in [(&ep_a, &a), (&ep_b, &b)] {
        let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());
        let d = stack
            .wait_delivery("acme", &id, Duration::from_secs(20), is_final)
            .await;
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempt_count"], 1);
        assert_eq!(d["attempts"][0]["status_code"], 200);
        assert_eq!(d["attempts"][0]["outcome"], "delivered");
        let got = rx.received();
        assert_eq!(got.len(), 1);
        assert_eq!(
            &got[0].body[..],
            payload.as_bytes(),
            "body must be the payload's exact bytes"
        );
        assert_eq!(got[0].header("content-type"), Some("application/json"));
        assert!(
            got[0]
                .header("user-agent")
                .unwrap()
                .starts_with("Hookrelay/")
        );
        assert_eq!(got[0].header("webhook-id"), Some(event_id.as_str()));
        assert!(
            got[0]
                .header("webhook-signature")
                .unwrap()
                .starts_with("v1,")
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        c.count(),
        0,
        "an unsubscribed or disabled endpoint got the event"
    );

    let (status, event) = stack
        .admin("GET", &format!("/v1/tenants/acme/events/{event_id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        event["payload"],
        serde_json::from_str::<Value>(payload).unwrap()
    );
    assert_eq!(event["deliveries"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_fails_twice_gets_three_attempts_at_the_schedules_delays() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![Reply::Status(500), Reply::Status(503)], None).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [1, 3]}),
        )
        .await;
    let accepted = stack
        .event(
            "acme",
            json!({"event_type": "job.completed", "payload": {"a": 1}}),
        )
        .await;
    let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());
    let d = stack
        .wait_delivery("acme", &id, Duration::from_secs(30), is_final)
        .await;
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempt_count"], 3);
    let attempts = d["attempts"].as_array().unwrap();
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
    let outcomes: Vec<&Value> = attempts.iter().map(|a| &a["outcome"]).collect();
    assert_eq!(
        outcomes,
        [
            &json!("http_error"),
            &json!("http_error"),
            &json!("delivered")
        ]
    );
    let numbers: Vec<&Value> = attempts.iter().map(|a| &a["number"]).collect();
    assert_eq!(numbers, [&json!(1), &json!(2), &json!(3)]);

    let got = rx.received();
    assert_eq!(got.len(), 3, "exactly three POSTs");
    // Delays 1 s and 3 s, ±20 % jitter rounded to whole seconds, plus up to ~1.5 s of polling.
    let gap1 = got[1].at - got[0].at;
    let gap2 = got[2].at - got[1].at;
    assert!(
        gap1 >= Duration::from_millis(900) && gap1 <= Duration::from_millis(2700),
        "{gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(2300) && gap2 <= Duration::from_millis(5200),
        "{gap2:?}"
    );
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().all(|i| i == &ids[0]),
        "webhook-id is the same across retries"
    );
    assert_eq!(ids[0], accepted["id"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_never_succeeds_ends_failed_after_the_schedule() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(503))).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [1, 1]}),
        )
        .await;
    let accepted = stack
        .event("acme", json!({"event_type": "job.failed", "payload": {}}))
        .await;
    let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());
    let d = stack
        .wait_delivery("acme", &id, Duration::from_secs(30), is_final)
        .await;
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["attempt_count"], 3);
    assert!(
        d["last_error"].as_str().unwrap().contains("exhausted"),
        "{d}"
    );
    assert!(d["next_attempt_at"].is_null());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.count(), 3, "no attempt after the schedule ended");
    assert_eq!(
        stack.queue_depth(&stack.resources.queue_url).await,
        (0, 0),
        "message deleted"
    );
    assert_eq!(
        stack.queue_depth(&stack.resources.dlq_url).await,
        (0, 0),
        "a failed delivery is not a DLQ case"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timeout_is_recorded_as_a_timeout() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![Reply::Hang(Duration::from_secs(4))], None).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "timeout_seconds": 1, "retry_schedule_seconds": []}),
        )
        .await;
    let accepted = stack
        .event(
            "acme",
            json!({"event_type": "job.completed", "payload": {}}),
        )
        .await;
    let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());
    let d = stack
        .wait_delivery("acme", &id, Duration::from_secs(20), is_final)
        .await;
    assert_eq!(d["status"], "failed", "{d}");
    let attempt = &d["attempts"][0];
    assert_eq!(attempt["outcome"], "timeout", "{d}");
    assert!(attempt["status_code"].is_null());
    let ms = attempt["duration_ms"].as_u64().unwrap();
    assert!(
        (900..3000).contains(&ms),
        "attempt stopped at its 1 s timeout, took {ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_messages_end_in_the_dlq() {
    let stack = Stack::builder()
        .params(&["MaxReceiveCount=50"])
        .start()
        .await;
    assert_eq!(stack.resources.max_receive_count, 50);
    for body in [
        "not json at all".to_owned(),
        json!({"v": 1, "tenant_id": "acme", "delivery_id": "dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ", "event_id": "evt_x", "event_type": "a", "payload": {}}).to_string(),
        json!({"v": 9}).to_string(),
    ] {
        stack.sqs.send_message().queue_url(&stack.resources.queue_url).message_body(body).send().await.unwrap();
    }
    let start = std::time::Instant::now();
    loop {
        let (visible, _) = stack.queue_depth(&stack.resources.dlq_url).await;
        if visible == 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "poison messages did not reach the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(stack.queue_depth(&stack.resources.queue_url).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicated_messages_record_the_attempt_once_and_nothing_follows_a_success() {
    let mut stack = Stack::builder().poll(false).start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let accepted = stack
        .event(
            "acme",
            json!({"event_type": "job.completed", "payload": {"x": 1}}),
        )
        .await;
    let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());

    // Take the message's body and put two more copies next to it: all three arrive in one batch.
    let got = stack
        .sqs
        .receive_message()
        .queue_url(&stack.resources.queue_url)
        .send()
        .await
        .unwrap();
    let message = got.messages.unwrap().pop().unwrap();
    let body = message.body.unwrap();
    for _ in 0..2 {
        stack
            .sqs
            .send_message()
            .queue_url(&stack.resources.queue_url)
            .message_body(&body)
            .send()
            .await
            .unwrap();
    }
    stack
        .sqs
        .change_message_visibility()
        .queue_url(&stack.resources.queue_url)
        .receipt_handle(message.receipt_handle.unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    stack.start_poller().await;
    let d = stack
        .wait_delivery("acme", &id, Duration::from_secs(20), is_final)
        .await;
    assert_eq!(d["status"], "delivered", "{d}");
    // Three first receives of ingest's message may each make attempt 1 (receivers dedupe by
    // webhook-id); the log records it once.
    let copies = rx.count();
    assert!((1..=3).contains(&copies), "{copies}");
    let ids: std::collections::HashSet<String> = rx
        .received()
        .iter()
        .map(|r| r.header("webhook-id").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one webhook-id for every copy");

    // One more copy after the success, as any message but ingest's first receive is (a
    // retry, a redrive, a recovered delivery): it reads the log first and POSTs nothing.
    let mut later: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(later["initial"], true);
    later["initial"] = json!(false);
    stack
        .sqs
        .send_message()
        .queue_url(&stack.resources.queue_url)
        .message_body(later.to_string())
        .send()
        .await
        .unwrap();
    let start = std::time::Instant::now();
    while stack.queue_depth(&stack.resources.queue_url).await != (0, 0) {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "duplicates were not consumed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        rx.count(),
        copies,
        "a delivery recorded delivered was POSTed again"
    );
    let d = stack
        .wait_delivery("acme", &id, Duration::ZERO, |_| true)
        .await;
    assert_eq!(d["attempt_count"], 1);
    assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_retry_delay_hides_the_message_until_it_is_due() {
    // A retry due in 2 hours: the message stays hidden, nothing is attempted early.
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![Reply::Status(500)], None).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": [7200]}),
        )
        .await;
    let accepted = stack
        .event(
            "acme",
            json!({"event_type": "job.completed", "payload": {}}),
        )
        .await;
    let id = delivery_id_for(&accepted, ep["id"].as_str().unwrap());
    let d = stack
        .wait_delivery("acme", &id, Duration::from_secs(20), |d| {
            d["attempt_count"] == 1
        })
        .await;
    assert_eq!(d["status"], "pending");
    let next =
        shared::domain::clock::parse_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap();
    let wait = next - shared::domain::clock::now_millis();
    assert!(
        (5_700_000..=8_700_000).contains(&wait),
        "next attempt in {wait} ms, want 2 h ± 20 %"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        stack.queue_depth(&stack.resources.queue_url).await,
        (0, 1),
        "hidden, not dropped"
    );
    assert_eq!(rx.count(), 1);
}
