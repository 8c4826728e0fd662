//! What the web pages use, through the real stack on moto: the strict catalog on DynamoDB, the
//! tenant list, a portal link exchanged once for a session that reads its tenant only, and the
//! DLQ's depth from SQS itself.

use serde_json::json;

use crate::harness::Stack;

fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_strict_catalog_tenants_and_portal_sessions_on_dynamodb() {
    let stack = Stack::builder()
        .poll(false)
        .ingest_config(|c| {
            c.strict_event_types = true;
            c.portal.public_url = Some("http://127.0.0.1:9/base".into());
        })
        .start()
        .await;
    let (s, v) = stack
        .admin(
            "PUT",
            "/v1/event-types/invoice.paid",
            Some(&json!({"description": "An invoice was paid.", "example": {"id": "in_1", "amount": 12.5}})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    stack.tenant("portal-a", json!({"name": "A"})).await;
    stack.tenant("portal-b", json!({"name": "B"})).await;
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/portal-a/endpoints",
            Some(&json!({"url": "http://127.0.0.2:9/x", "event_types": ["order.*"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("event_types[0]"))
    );
    let b_ep = stack
        .endpoint(
            "portal-b",
            json!({"url": "http://127.0.0.2:9/b", "event_types": ["invoice.*"]}),
        )
        .await;
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/portal-b/events",
            Some(&json!({"event_type": "order.created", "payload": {}})),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("event_type")));

    let (s, tenants) = stack.admin("GET", "/v1/tenants?limit=10", None).await;
    assert_eq!(s, 200, "{tenants}");
    let ids: Vec<&str> = tenants["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["portal-a", "portal-b"]);

    let (s, link) = stack
        .admin(
            "POST",
            "/v1/tenants/portal-a/portal-sessions",
            Some(&json!({"ttl_seconds": 60})),
        )
        .await;
    assert_eq!(s, 201, "{link}");
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:9/base/portal#token=hrl_")
    );
    let token = link["url"]
        .as_str()
        .unwrap()
        .split_once("#token=")
        .unwrap()
        .1
        .to_owned();
    crate::harness::record_secret(&token);
    let body = json!({"token": token});
    let (s, session) = stack
        .call("POST", "/v1/portal/exchange", Some(&body), None)
        .await;
    assert_eq!(s, 201, "{session}");
    let (s, _) = stack
        .call("POST", "/v1/portal/exchange", Some(&body), None)
        .await;
    assert_eq!(s, 401, "the link is used once");
    let key = session["session_token"].as_str().unwrap();
    crate::harness::record_secret(key);
    let (s, v) = stack.call("GET", "/v1/event-types", None, Some(key)).await;
    assert_eq!((s, &v["strict"]), (200, &json!(true)));
    assert_eq!(
        v["data"][0]["example"],
        json!({"id": "in_1", "amount": 12.5})
    );
    let (s, _) = stack
        .call("GET", "/v1/tenants/portal-a/endpoints", None, Some(key))
        .await;
    assert_eq!(s, 200);
    let b_path = format!(
        "/v1/tenants/portal-b/endpoints/{}",
        b_ep["id"].as_str().unwrap()
    );
    let (s, v) = stack.call("GET", &b_path, None, Some(key)).await;
    assert_eq!((s, code(&v)), (404, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dlq_depth_is_what_sqs_holds() {
    let stack = Stack::builder().poll(false).start().await;
    for i in 0..3 {
        stack
            .sqs
            .send_message()
            .queue_url(&stack.resources.dlq_url)
            .message_body(format!("{{\"dead\": {i}}}"))
            .send()
            .await
            .unwrap();
    }
    let (s, v) = stack.admin("GET", "/v1/admin/dlq", None).await;
    assert_eq!((s, &v["depth"]), (200, &json!(3)), "{v}");
    let (_, moved) = stack.admin("POST", "/v1/admin/dlq/redrive", None).await;
    assert_eq!(moved["moved"], 3);
    let (_, v) = stack.admin("GET", "/v1/admin/dlq", None).await;
    assert_eq!(v["depth"], 0);
}
