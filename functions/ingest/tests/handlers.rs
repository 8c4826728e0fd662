//! Handler tests through the whole router (layers included), on the in-memory store and queue:
//! authentication across tenants, error answers, idempotent events, endpoint CRUD. No moto.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use shared::domain::model::DeliveryStatus;
use shared::ports::EndpointRead;

mod support;
use support::*;

#[tokio::test]
async fn keys_reach_their_own_tenant_only() {
    let api = Api::new();
    let acme = api.tenant_with_key("acme").await;
    api.tenant_with_key("other").await;

    let (s, v) = api.call("GET", "/v1/tenants/acme", None, None).await;
    assert_eq!((s.as_u16(), code(&v)), (401, "unauthorized"));
    let (s, _) = api
        .call("GET", "/v1/tenants/acme", None, Some("wrong"))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = api.call("GET", "/v1/tenants/acme", None, Some(&acme)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["id"], "acme");

    // Another tenant's resources do not exist for this key, whatever the route.
    for (method, path) in [
        ("GET", "/v1/tenants/other"),
        ("GET", "/v1/tenants/other/endpoints"),
        ("POST", "/v1/tenants/other/events"),
        ("PUT", "/v1/tenants/other"),
        ("POST", "/v1/tenants/other/api-keys"),
    ] {
        let (s, v) = api.call(method, path, Some("{}"), Some(&acme)).await;
        assert_eq!(
            (s.as_u16(), code(&v)),
            (404, "not_found"),
            "{method} {path}"
        );
    }
    // Admin-only routes of its own tenant, and outside any tenant: 403.
    for (method, path) in [
        ("PUT", "/v1/tenants/acme"),
        ("POST", "/v1/tenants/acme/api-keys"),
        (
            "DELETE",
            "/v1/tenants/acme/api-keys/key_01JZZZZZZZZZZZZZZZZZZZZZZZ",
        ),
        ("POST", "/v1/admin/dlq/redrive"),
    ] {
        let (s, v) = api.call(method, path, Some("{}"), Some(&acme)).await;
        assert_eq!(
            (s.as_u16(), code(&v)),
            (403, "forbidden"),
            "{method} {path}"
        );
    }
    let (s, v) = api.admin("POST", "/v1/admin/dlq/redrive", None).await;
    assert_eq!((s, &v), (StatusCode::OK, &json!({"moved": 0})));
    // No key is needed for health and the document.
    let (s, v) = api.call("GET", "/v1/health", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = api.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[tokio::test]
async fn errors_have_the_api_shape() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    let (s, v) = api
        .call(
            "POST",
            "/v1/tenants/acme/events",
            Some("{\"event_type\": "),
            Some(ADMIN),
        )
        .await;
    assert_eq!((s.as_u16(), code(&v)), (400, "malformed_json"), "{v}");
    let (s, v) = api
        .admin(
            "PUT",
            "/v1/tenants/acme",
            Some(json!({"defaults": {"retry_schedule_seconds": [1, -1]}})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), code(&v), v["error"]["field"].as_str()),
        (
            422,
            "invalid_field",
            Some("defaults.retry_schedule_seconds[1]")
        ),
        "{v}"
    );
    let (s, v) = api.admin("GET", "/v1/tenants/acme/secrets", None).await;
    assert_eq!(
        (s.as_u16(), code(&v), v["error"]["message"].as_str()),
        (404, "not_found", Some("No such route."))
    );
    let (s, v) = api.admin("DELETE", "/v1/tenants/acme/events", None).await;
    assert_eq!((s.as_u16(), code(&v)), (405, "method_not_allowed"), "{v}");
    let (s, v) = api.call("POST", "/v1/health", None, None).await;
    assert_eq!((s.as_u16(), code(&v)), (405, "method_not_allowed"), "{v}");

    // Too large, with and without a content-length (the limit is 1 KiB + 16 KiB envelope).
    let big = json!({"event_type": "a.b", "payload": {"x": "y".repeat(20_000)}}).to_string();
    let (s, v) = api
        .call("POST", "/v1/tenants/acme/events", Some(&big), Some(ADMIN))
        .await;
    assert_eq!(
        (s.as_u16(), code(&v), v["error"]["field"].as_str()),
        (413, "too_large", Some("payload")),
        "{v}"
    );
    let request = Request::post("/v1/tenants/acme/events")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    let (s, v) = api.send(request).await;
    assert_eq!((s.as_u16(), code(&v)), (413, "too_large"), "{v}");
    // Over the payload limit but within the envelope: the payload's own 413.
    let over = json!({"event_type": "a.b", "payload": {"x": "y".repeat(2_000)}});
    let (s, v) = api
        .admin("POST", "/v1/tenants/acme/events", Some(over))
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (413, Some("payload")),
        "{v}"
    );
    let (s, v) = api
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(json!({"event_type": "bad type", "payload": {}})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("event_type")),
        "{v}"
    );
    assert!(
        api.queue.sent().is_empty(),
        "refused input enqueued nothing"
    );
}

#[tokio::test]
async fn a_repeated_event_id_gets_the_first_answer_and_sends_nothing() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    let (s, _) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/hook", "event_types": ["job.*"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let event = json!({"event_type": "job.done", "payload": {"n": 1}, "id": "job-1"});
    let (s, first) = api
        .admin("POST", "/v1/tenants/acme/events", Some(event.clone()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 1);
    let (s, repeat) = api
        .admin("POST", "/v1/tenants/acme/events", Some(event))
        .await;
    assert_eq!((s, &repeat), (StatusCode::OK, &first));
    assert_eq!(api.queue.sent().len(), 1, "one message in all");
    let id = first["id"].as_str().unwrap();
    let (s, v) = api
        .admin("GET", &format!("/v1/tenants/acme/events/{id}"), None)
        .await;
    assert_eq!((s, &v["payload"]), (StatusCode::OK, &json!({"n": 1})));
}

#[tokio::test]
async fn deliveries_that_could_not_be_enqueued_are_recorded_failed() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    api.admin(
        "POST",
        "/v1/tenants/acme/endpoints",
        Some(json!({"url": "https://example.com/hook", "event_types": ["*"]})),
    )
    .await;
    api.queue.set_rejecting(true);
    let (s, v) = api
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(json!({"event_type": "a", "payload": {}, "id": "k"})),
        )
        .await;
    assert_eq!((s.as_u16(), code(&v)), (503, "service_unavailable"), "{v}");
    let deliveries = api.store.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, DeliveryStatus::Failed);
    // A retry once the queue is back finishes the same event.
    api.queue.set_rejecting(false);
    let (s, _) = api
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(json!({"event_type": "a", "payload": {}, "id": "k"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn endpoint_crud() {
    let api = Api::new();
    let key = api.tenant_with_key("acme").await;
    let (s, created) = api
        .call(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(r#"{"url": "https://example.com/a", "event_types": ["*"]}"#),
            Some(&key),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/tenants/acme/endpoints/{id}");
    let (s, v) = api.admin("GET", "/v1/tenants/acme/endpoints/", None).await;
    assert_eq!(s, StatusCode::OK, "a trailing slash is ignored");
    assert_eq!(v["data"][0]["id"], id);
    let (s, v) = api
        .admin(
            "PATCH",
            &path,
            Some(json!({"description": "d", "timeout_seconds": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["description"], &v["timeout_seconds"]),
        (&json!("d"), &json!(5))
    );
    let (s, v) = api
        .admin("PATCH", &path, Some(json!({"timeout_seconds": 99})))
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("timeout_seconds"))
    );
    let (s, v) = api
        .call("POST", &format!("{path}/rotate-secret"), None, Some(&key))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "an empty body rotates with defaults: {v}"
    );
    assert_ne!(v["secret"], created["secret"]);
    let (s, _) = api.admin("DELETE", &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api.admin("GET", &path, None).await;
    assert_eq!(
        (s.as_u16(), v["error"]["message"].as_str()),
        (404, Some("No such endpoint."))
    );
    let (s, _) = api
        .admin("GET", "/v1/tenants/acme/endpoints/not-an-id", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// New tenant defaults are checked against the endpoints they reach: a scheme the endpoint's
/// secret cannot sign with, or a default header that collides with an endpoint's signature
/// header, is a 422 naming the endpoint, and nothing changes.
#[tokio::test]
async fn tenant_defaults_that_would_break_an_endpoint_are_refused() {
    let api = Api::new();
    let hex = json!({"defaults": {"signature": {"scheme": "hmac-sha256-hex", "header": "X-Sig"}}});
    let (s, v) = api
        .admin("PUT", "/v1/tenants/acme", Some(hex.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, ep) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/a", "event_types": ["*"], "secret": "a-plain-shared-secret"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    let id = ep["id"].as_str().unwrap();
    // Back to the Standard Webhooks default: the plain secret cannot sign with it.
    let (s, v) = api
        .admin("PUT", "/v1/tenants/acme", Some(json!({"defaults": {}})))
        .await;
    assert_eq!(s.as_u16(), 422, "{v}");
    assert_eq!(v["error"]["field"], "defaults");
    assert!(v["error"]["message"].as_str().unwrap().contains(id), "{v}");
    let (_, tenant) = api.admin("GET", "/v1/tenants/acme", None).await;
    assert_eq!(tenant["defaults"], hex["defaults"], "nothing changed");
    // A default header that another endpoint's own scheme writes.
    let (s, ep2) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/b", "event_types": ["*"], "secret": "another-shared-secret",
                        "signature": {"scheme": "secret-header", "header": "X-Webhook-Secret"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ep2}");
    let collide = json!({"defaults": {"signature": {"scheme": "hmac-sha256-hex", "header": "X-Sig"}, "headers": {"x-webhook-secret": "forged"}}});
    let (s, v) = api.admin("PUT", "/v1/tenants/acme", Some(collide)).await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("defaults")),
        "{v}"
    );
    let ep2_id = ep2["id"].as_str().unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains(ep2_id),
        "{v}"
    );
    // Defaults every endpoint can live with still go through; the endpoint still patches.
    let fine = json!({"defaults": {"signature": {"scheme": "hmac-sha256-hex", "header": "X-Sig"}, "timeout_seconds": 5}});
    let (s, v) = api.admin("PUT", "/v1/tenants/acme", Some(fine)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = api
        .admin(
            "PATCH",
            &format!("/v1/tenants/acme/endpoints/{id}"),
            Some(json!({"description": "d"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Rotating never drops a secret still in its grace period: past five, a 409 says what to do
/// (and a rotation without grace still works).
#[tokio::test]
async fn rotation_never_drops_a_secret_in_its_grace_period() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    let (_, ep) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/a", "event_types": ["*"]})),
        )
        .await;
    let path = format!(
        "/v1/tenants/acme/endpoints/{}/rotate-secret",
        ep["id"].as_str().unwrap()
    );
    let week = json!({"grace_period_seconds": 604800});
    for i in 0..5 {
        let (s, v) = api.admin("POST", &path, Some(week.clone())).await;
        assert_eq!(s, StatusCode::OK, "rotation {i}: {v}");
    }
    let (s, v) = api.admin("POST", &path, Some(week)).await;
    assert_eq!((s.as_u16(), code(&v)), (409, "too_many_secrets"), "{v}");
    let (s, v) = api
        .admin("POST", &path, Some(json!({"grace_period_seconds": 0})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let stored = api.store.list_endpoints("acme").await.unwrap();
    assert_eq!(
        stored[0].previous_secrets.len(),
        5,
        "the five in grace are kept"
    );
}

/// A fan-out the queue takes only part of (10 of 11 messages), then a retry with the same id:
/// the retry finishes the same event — the receivers never see a second event id — and sends
/// only what was not sent.
#[tokio::test]
async fn a_retry_after_a_partial_fan_out_resumes_the_same_event() {
    let api = Api::new();
    api.admin(
        "PUT",
        "/v1/tenants/acme",
        Some(json!({"max_endpoints": 11})),
    )
    .await;
    for i in 0..11 {
        let (s, v) = api
            .admin(
                "POST",
                "/v1/tenants/acme/endpoints",
                Some(json!({"url": format!("https://example.com/{i}"), "event_types": ["*"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let body = json!({"event_type": "job.completed", "payload": {"n": 1}, "id": "job-7"});
    api.queue.set_accept_budget(Some(10));
    let (s, v) = api
        .admin("POST", "/v1/tenants/acme/events", Some(body.clone()))
        .await;
    assert_eq!(s.as_u16(), 503, "{v}");
    assert_eq!(api.queue.sent().len(), 10);
    api.queue.set_accept_budget(None);
    let (s, resumed) = api
        .admin("POST", "/v1/tenants/acme/events", Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{resumed}");
    let sent = api.queue.sent();
    let event_ids: std::collections::BTreeSet<String> = sent
        .iter()
        .map(|m| {
            serde_json::from_str::<Value>(&m.body).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(event_ids.len(), 1, "one event id for the receivers");
    assert_eq!(event_ids.first().unwrap(), resumed["id"].as_str().unwrap());
    let delivery_ids: std::collections::BTreeSet<&str> =
        sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        (sent.len(), delivery_ids.len()),
        (11, 11),
        "each delivery enqueued once"
    );
    assert_eq!(resumed["deliveries"].as_array().unwrap().len(), 11);
    assert!(
        api.store
            .deliveries()
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending)
    );
    // Once done, a repeat gets the same answer and sends nothing.
    let (s, repeat) = api
        .admin("POST", "/v1/tenants/acme/events", Some(body))
        .await;
    assert_eq!((s, &repeat), (StatusCode::OK, &resumed));
    assert_eq!(api.queue.sent().len(), 11);
}

#[tokio::test]
async fn the_apis_own_hosts_are_refused_as_receivers() {
    let api = Api::new(); // OWN_API_HOSTS=api.hookrelay.test
    api.tenant_with_key("acme").await;
    let own = "https://API.hookrelay.test./v1/tenants/acme/events";
    let (s, v) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": own, "event_types": ["*"]})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("url")),
        "{v}"
    );
    let (s, v) = api
        .admin(
            "POST",
            "/v1/tenants/acme/events",
            Some(json!({"event_type": "a.b", "payload": {}, "webhook_url": own})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("webhook_url")),
        "{v}"
    );
    let (s, v) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/hook", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let path = format!("/v1/tenants/acme/endpoints/{}", v["id"].as_str().unwrap());
    let (s, v) = api.admin("PATCH", &path, Some(json!({"url": own}))).await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("url")),
        "{v}"
    );

    // A host API Gateway reports a request arrived on (a custom domain not configured) is
    // learned: from then on it is refused too.
    let learned = "https://hooks.custom.test/v1/tenants/acme/events";
    let body = json!({"url": learned, "event_types": ["*"]});
    let mut event = lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest::default();
    event.raw_path = Some("/v1/tenants/acme/endpoints".into());
    event.request_context.http.method = axum::http::Method::POST;
    event.request_context.domain_name = Some("hooks.custom.test".into());
    event.headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {ADMIN}").parse().unwrap(),
    );
    event.body = Some(body.to_string());
    let request = ingest::lambda::into_request(event).map(|b| Body::from(b.to_vec()));
    let (s, v) = api.send(request).await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("url")),
        "{v}"
    );
}

#[tokio::test]
async fn credential_headers_are_refused_unless_the_deployment_allows_them() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    for (body, field) in [
        (
            json!({"url": "https://example.com/h", "event_types": ["*"], "headers": {"Authorization": "Bearer k"}}),
            "headers.Authorization",
        ),
        (
            json!({"url": "https://example.com/h", "event_types": ["*"], "headers": {"x-API-key": "k"}}),
            "headers.x-API-key",
        ),
        (
            json!({"url": "https://example.com/h", "event_types": ["*"], "secret": "Bearer k",
                   "signature": {"scheme": "secret-header", "header": "authorization"}}),
            "signature.header",
        ),
    ] {
        let (s, v) = api
            .admin("POST", "/v1/tenants/acme/endpoints", Some(body))
            .await;
        assert_eq!(
            (s.as_u16(), v["error"]["field"].as_str()),
            (422, Some(field)),
            "{v}"
        );
    }
    let (s, v) = api
        .admin(
            "PUT",
            "/v1/tenants/acme",
            Some(json!({"defaults": {"headers": {"Cookie": "session=1"}}})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (422, Some("defaults.headers.Cookie")),
        "{v}"
    );

    let open = Api::with_config(|c| c.allow_credential_headers = true);
    open.tenant_with_key("acme").await;
    let (s, v) = open
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/h", "event_types": ["*"], "headers": {"Authorization": "Bearer k"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn requests_sent_by_our_deliveries_are_refused_on_every_route() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    let event = json!({"event_type": "a.b", "payload": {}}).to_string();
    for (method, path, body) in [
        ("POST", "/v1/tenants/acme/events", Some(event.as_str())),
        (
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(r#"{"url": "https://example.com/", "event_types": ["*"]}"#),
        ),
        ("PUT", "/v1/tenants/other", Some("{}")),
        ("GET", "/v1/tenants/acme", None),
    ] {
        for agent in [
            shared::adapters::http::USER_AGENT,
            "relay/1.0 hookrelay/0.0.1",
        ] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header(header::USER_AGENT, agent)
                .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
                .unwrap();
            let (s, v) = api.send(request).await;
            assert_eq!(
                (s.as_u16(), code(&v)),
                (403, "delivery_loop"),
                "{method} {path}: {v}"
            );
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Hookrelay")
            );
        }
    }
    assert!(api.queue.sent().is_empty(), "no event was accepted");
    let (s, _) = api.admin("GET", "/v1/tenants/other", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no tenant was created");
}

/// Recover is long work: it answers 202 with a Job (API.md's shape) at once, leaves the work to
/// a job message, and the job is readable by its own tenant only.
#[tokio::test]
async fn recover_answers_a_job_its_tenant_alone_can_read() {
    let api = Api::new();
    let acme = api.tenant_with_key("acme").await;
    let beta = api.tenant_with_key("beta").await;
    let (_, ep) = api
        .admin(
            "POST",
            "/v1/tenants/acme/endpoints",
            Some(json!({"url": "https://example.com/hook", "event_types": ["*"]})),
        )
        .await;
    let ep = ep["id"].as_str().unwrap().to_owned();
    api.queue.set_rejecting(true);
    let event = json!({"event_type": "a", "payload": {}}).to_string();
    let (s, _) = api
        .call("POST", "/v1/tenants/acme/events", Some(&event), Some(&acme))
        .await;
    assert_eq!(s.as_u16(), 503);
    api.queue.set_rejecting(false);
    let sent_before = api.queue.sent().len();
    let since = shared::domain::clock::now_millis() - 3_600_000;
    let body = json!({"since": shared::domain::clock::rfc3339(since)});
    let path = format!("/v1/tenants/acme/endpoints/{ep}/recover");
    let (s, job) = api
        .call("POST", &path, Some(&body.to_string()), Some(&acme))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("job_"), "{job}");
    assert_eq!(job["kind"], "recover");
    assert_eq!(job["status"], "running");
    assert_eq!(
        (job["done"].clone(), job["total"].clone()),
        (json!(0), Value::Null)
    );
    for field in ["requeued", "created_at", "updated_at"] {
        assert!(job.get(field).is_some(), "{field} missing: {job}");
    }
    // Nothing was requeued inside the request: one job message went to the queue.
    let sent = api.queue.sent();
    assert_eq!(sent.len(), sent_before + 1);
    assert!(shared::domain::job::JobMessage::parse(&sent[sent_before].body).is_some());
    assert_eq!(api.store.deliveries()[0].status, DeliveryStatus::Failed);
    let job_path = format!("/v1/tenants/acme/jobs/{id}");
    let (s, read) = api.call("GET", &job_path, None, Some(&acme)).await;
    assert_eq!((s, read), (StatusCode::OK, job.clone()));
    let (s, _) = api.call("GET", &job_path, None, Some(ADMIN)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api.call("GET", &job_path, None, Some(&beta)).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = api
        .call(
            "GET",
            &format!("/v1/tenants/beta/jobs/{id}"),
            None,
            Some(&beta),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, _) = api
        .call("GET", "/v1/tenants/acme/jobs/job_nope", None, Some(&acme))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
