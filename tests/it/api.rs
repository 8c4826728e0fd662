//! The API's refusals and edges through the real stack: auth, validation (400/422/413/404/409),
//! URL rules, base64 bodies.

use serde_json::json;

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;

use crate::harness::{ADMIN_KEY, Stack};

fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_required_and_checked() {
    let stack = Stack::builder().poll(false).start().await;
    let (s, v) = stack.call("GET", "/v1/tenants/acme", None, None).await;
    assert_eq!((s, code(&v)), (401, "unauthorized"));
    let (s, _) = stack
        .call("GET", "/v1/tenants/acme", None, Some("wrong-key"))
        .await;
    assert_eq!(s, 401);
    let (s, v) = stack
        .call("GET", "/v1/tenants/acme", None, Some(ADMIN_KEY))
        .await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    assert!(!v.to_string().contains(ADMIN_KEY));
    let (s, v) = stack.call("GET", "/v1/health", None, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["table"], "ok");
    assert_eq!(v["queue"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_create_then_update() {
    let stack = Stack::builder().poll(false).start().await;
    let (s, v) = stack
        .admin(
            "PUT",
            "/v1/tenants/acme.co_1",
            Some(&json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert!(v["signing_secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(v["max_endpoints"], 10);
    let (s, v) = stack
        .admin(
            "PUT",
            "/v1/tenants/acme.co_1",
            Some(&json!({"https_only": true})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v.get("signing_secret").is_none(),
        "the secret is shown once"
    );
    assert_eq!(v["name"], "Acme");
    assert_eq!(v["https_only"], true);
    let (s, v) = stack
        .admin("PUT", "/v1/tenants/bad%20id", Some(&json!({})))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("tenant_id")));
    let (s, v) = stack
        .admin(
            "PUT",
            "/v1/tenants/t2",
            Some(&json!({"defaults": {"timeout_seconds": 99}})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("defaults.timeout_seconds"))
    );
    let (s, v) = stack
        .admin("PUT", "/v1/tenants/t2", Some(&json!({"max_endpoint": 3})))
        .await;
    assert_eq!(s, 422, "unknown fields are refused: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_validation_and_url_rules() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("acme", json!({"max_endpoints": 2})).await;
    let post = |body: serde_json::Value| {
        let stack = &stack;
        async move {
            stack
                .admin("POST", "/v1/tenants/acme/endpoints", Some(&body))
                .await
        }
    };
    for (body, field) in [
        (
            json!({"url": "ftp://example.com", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://[::ffff:127.0.0.1]:9/x", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://0x7f.1/", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://169.254.169.254/latest", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://10.1.2.3/", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://[::1]:9/", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2048)), "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com", "event_types": []}),
            "event_types",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["job..x"]}),
            "event_types[0]",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["*"], "secret": "whsec_c2hvcnQ="}),
            "secret",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["*"], "timeout_seconds": 31}),
            "timeout_seconds",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["*"], "headers": {"webhook-id": "x"}}),
            "headers.webhook-id",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["*"], "retry_schedule_seconds": [1, -1]}),
            "retry_schedule_seconds[1]",
        ),
    ] {
        let (s, v) = post(body.clone()).await;
        assert_eq!(s, 422, "{body} -> {v}");
        assert_eq!(v["error"]["field"], field, "{body} -> {v}");
    }
    let (s, v) = post(json!({"url": "https://example.com/a", "event_types": ["job.*"], "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["secret"], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(v["id"].as_str().unwrap().starts_with("ep_"));
    let (s, v) = post(json!({"url": "https://example.com/b", "event_types": ["*"], "signature": {"scheme": "secret-header", "header": "X-Webhook-Secret"}, "secret": "cloudglue-shared-secret"})).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = post(json!({"url": "https://example.com/c", "event_types": ["*"]})).await;
    assert_eq!((s, code(&v)), (409, "endpoint_limit_reached"));
    let (s, v) = stack.admin("GET", "/v1/tenants/acme/endpoints", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let id = v["data"][0]["id"].as_str().unwrap();
    let (s, _) = stack
        .admin("GET", &format!("/v1/tenants/acme/endpoints/{id}"), None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = stack
        .admin(
            "GET",
            "/v1/tenants/acme/endpoints/ep_01JZZZZZZZZZZZZZZZZZZZZZZZ",
            None,
        )
        .await;
    assert_eq!(s, 404);

    stack.tenant("strict", json!({"https_only": true})).await;
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/strict/endpoints",
            Some(&json!({"url": "http://example.com", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (422, Some("must use https"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_validation_changes_nothing() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("acme", json!({})).await;
    let key = Some(ADMIN_KEY);
    let (s, v) = stack
        .call_raw(
            "POST",
            "/v1/tenants/acme/events",
            Some("{\"event_type\": "),
            key,
        )
        .await;
    assert_eq!((s, code(&v)), (400, "malformed_json"));
    for (body, status, field) in [
        (
            json!({"event_type": "bad type", "payload": {}}),
            422,
            "event_type",
        ),
        (json!({"event_type": "a.b", "payload": [1]}), 422, "payload"),
        (json!({"event_type": "a.b"}), 422, ""),
        (
            json!({"event_type": "a.b", "payload": {}, "webhook_url": "http://192.168.1.1/"}),
            422,
            "webhook_url",
        ),
        (
            json!({"event_type": "a.b", "payload": {}, "metadata": {"k": "x".repeat(5000)}}),
            413,
            "metadata",
        ),
        (
            json!({"event_type": "a.b", "payload": {"big": "x".repeat(300 * 1024)}}),
            413,
            "payload",
        ),
        (
            json!({"event_type": "a.b", "payload": {}, "extra": 1}),
            422,
            "",
        ),
    ] {
        let (s, v) = stack
            .admin("POST", "/v1/tenants/acme/events", Some(&body))
            .await;
        assert_eq!(s, status, "{v}");
        if !field.is_empty() {
            assert_eq!(v["error"]["field"], field, "{v}");
        }
    }
    let (s, _) = stack
        .admin(
            "POST",
            "/v1/tenants/nobody/events",
            Some(&json!({"event_type": "a", "payload": {}})),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        stack.queue_depth(&stack.resources.queue_url).await,
        (0, 0),
        "refused input enqueued nothing"
    );
    // An event that matches nothing is still accepted.
    let (s, v) = stack
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(&json!({"event_type": "a.b", "payload": {}})),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["deliveries"], json!([]));
    assert!(v["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_bodies_of_function_urls_are_decoded() {
    use base64::Engine;
    let stack = Stack::builder().poll(false).start().await;
    let body = base64::engine::general_purpose::STANDARD.encode(br#"{"name": "b64"}"#);
    let event = json!({
        "version": "2.0",
        "rawPath": "/v1/tenants/b64",
        "rawQueryString": "",
        "headers": {"authorization": format!("Bearer {ADMIN_KEY}"), "content-type": "application/json"},
        "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": "x.lambda-url.us-east-1.on.aws",
            "http": {"method": "PUT", "path": "/v1/tenants/b64", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "curl"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "22/Nov/2026:14:00:00 +0000", "timeEpoch": 0},
        "body": body,
        "isBase64Encoded": true
    });
    let event_json = event;
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event_json.clone()).unwrap();
    let (status, body) = stack.send(event).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("\"name\":\"b64\""));

    // Bytes that are not UTF-8 (API Gateway sends them base64-encoded): a clear 400.
    let mut bad: ApiGatewayV2httpRequest = serde_json::from_value(event_json.clone()).unwrap();
    bad.body = Some(base64::engine::general_purpose::STANDARD.encode([0xffu8, 0xfe, 0x7b]));
    let (status, body) = stack.send(bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("malformed_json"));
    // A body that is not even base64: also 400, nothing else.
    let mut garbled: ApiGatewayV2httpRequest = serde_json::from_value(event_json).unwrap();
    garbled.body = Some("%%% not base64 %%%".into());
    let (status, body) = stack.send(garbled).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_a_real_route() {
    let stack = Stack::builder().poll(false).start().await;
    let (s, doc) = stack.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (template, item) in paths {
        let path = template
            .replace("{tenant_id}", "acme")
            .replace("{endpoint_id}", "ep_01JZZZZZZZZZZZZZZZZZZZZZZZ")
            .replace("{event_id}", "evt_01JZZZZZZZZZZZZZZZZZZZZZZZ")
            .replace("{delivery_id}", "dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ")
            .replace("{key_id}", "key_01JZZZZZZZZZZZZZZZZZZZZZZZ")
            .replace("{job_id}", "job_01JZZZZZZZZZZZZZZZZZZZZZZZ");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let (s, v) = stack
                .call(
                    &method.to_uppercase(),
                    &path,
                    Some(&json!({})),
                    Some(ADMIN_KEY),
                )
                .await;
            let no_route = s == 405 || (s == 404 && v["error"]["message"] == "No such route.");
            assert!(
                !no_route,
                "{method} {template} is documented but not routed: {s} {v}"
            );
        }
    }
    assert_eq!(operations, 34, "with issue 10's and issue 12's routes");
    // And an undocumented path is not routed.
    let (s, _) = stack.admin("GET", "/v1/tenants/acme/secrets", None).await;
    assert_eq!(s, 404);
}
