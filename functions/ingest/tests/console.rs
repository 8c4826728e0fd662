//! Handler tests of what the web pages use, through the whole router on the in-memory store:
//! the event-type catalog (and its strict option), the tenant list, unhealthy endpoints across
//! tenants, the DLQ's depth, portal links and sessions, and test events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use serde_json::{Value, json};

use shared::ports::{EndpointHealth, OutgoingMessage, PortalLink, PortalSessions};

mod support;
use support::*;

impl Api {
    async fn tenant_call(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        self.call(method, path, body.as_deref(), Some(key)).await
    }

    async fn endpoint(&self, tenant: &str, types: Value) -> (StatusCode, Value) {
        self.admin(
            "POST",
            &format!("/v1/tenants/{tenant}/endpoints"),
            Some(json!({"url": "https://example.com/hook", "event_types": types})),
        )
        .await
    }

    async fn catalog(&self, name: &str, example: Value) {
        let (s, v) = self
            .admin(
                "PUT",
                &format!("/v1/event-types/{name}"),
                Some(json!({"description": format!("{name} happened"), "example": example})),
            )
            .await;
        assert!(s.is_success(), "{v}");
    }
}

#[tokio::test]
async fn the_catalog_is_written_by_the_admin_and_read_by_any_key() {
    let api = Api::new();
    let key = api.tenant_with_key("acme").await;
    let body = json!({"description": "An invoice was paid.",
                      "schema": {"type": "object", "required": ["id"]},
                      "example": {"id": "in_1", "amount": 1250}});
    let (s, v) = api
        .admin("PUT", "/v1/event-types/invoice.paid", Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["example"], json!({"id": "in_1", "amount": 1250}));
    let (s, again) = api
        .admin("PUT", "/v1/event-types/invoice.paid", Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "a replacement is 200");
    assert_eq!(again["created_at"], v["created_at"]);
    let (s, v) = api
        .tenant_call(&key, "PUT", "/v1/event-types/user.created", Some(body))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, v) = api.tenant_call(&key, "GET", "/v1/event-types", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["strict"], false);
    assert_eq!(v["data"][0]["name"], "invoice.paid");
    assert_eq!(v["data"][0]["schema"]["required"], json!(["id"]));
    let (s, _) = api.call("GET", "/v1/event-types", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    for (body, field) in [
        (json!({"description": ""}), "description"),
        (json!({"description": "d", "schema": [1]}), "schema"),
        (json!({"description": "d", "example": "text"}), "example"),
    ] {
        let (s, v) = api.admin("PUT", "/v1/event-types/a.b", Some(body)).await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        );
    }
    let (s, v) = api
        .admin(
            "PUT",
            "/v1/event-types/a.*",
            Some(json!({"description": "d"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
    let (s, _) = api
        .admin("DELETE", "/v1/event-types/invoice.paid", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api.admin("GET", "/v1/event-types/invoice.paid", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .admin("DELETE", "/v1/event-types/invoice.paid", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Not strict: endpoints subscribe to anything and events of any type are taken.
    let (s, v) = api.endpoint("acme", json!(["order.*"])).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = api
        .tenant_call(
            &key,
            "POST",
            "/v1/tenants/acme/events",
            Some(json!({"event_type": "order.created", "payload": {}})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_strict_catalog_refuses_unknown_types_and_subscriptions() {
    let api = Api::with_config(|c| c.strict_event_types = true);
    let key = api.tenant_with_key("acme").await;
    api.catalog("invoice.paid", json!({"id": "in_1"})).await;
    let (_, v) = api.tenant_call(&key, "GET", "/v1/event-types", None).await;
    assert_eq!(v["strict"], true);
    let (s, v) = api.endpoint("acme", json!(["invoice.*", "order.*"])).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event_types[1]"))
    );
    let (s, ep) = api.endpoint("acme", json!(["invoice.*"])).await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    let path = format!("/v1/tenants/acme/endpoints/{}", ep["id"].as_str().unwrap());
    let (s, v) = api
        .admin(
            "PATCH",
            &path,
            Some(json!({"event_types": ["user.created"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event_types[0]"))
    );
    let event = |t: &str| json!({"event_type": t, "payload": {"id": 1}});
    let (s, v) = api
        .tenant_call(
            &key,
            "POST",
            "/v1/tenants/acme/events",
            Some(event("order.created")),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event_type"))
    );
    assert!(api.queue.sent().is_empty(), "a refused event sends nothing");
    let (s, v) = api
        .tenant_call(
            &key,
            "POST",
            "/v1/tenants/acme/events/batch",
            Some(json!({"events": [event("invoice.paid"), event("order.created")]})),
        )
        .await;
    assert_eq!(s, StatusCode::MULTI_STATUS, "{v}");
    assert_eq!(v["results"][0]["status"], 202);
    assert_eq!(v["results"][1]["status"], 422);
    assert_eq!(v["results"][1]["error"]["field"], "event_type");
    assert_eq!(
        api.queue.sent().len(),
        1,
        "only the catalogued event is sent"
    );
    // A type added now is known at once on the instance that added it.
    api.catalog("order.created", json!({})).await;
    let (s, _) = api
        .tenant_call(
            &key,
            "POST",
            "/v1/tenants/acme/events",
            Some(event("order.created")),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn tenants_are_listed_by_id_in_pages_for_the_admin_only() {
    let api = Api::new();
    let key = api.tenant_with_key("c-tenant").await;
    for id in ["a-tenant", "b-tenant"] {
        api.admin(
            "PUT",
            &format!("/v1/tenants/{id}"),
            Some(json!({"name": id.to_uppercase()})),
        )
        .await;
    }
    let (s, first) = api.admin("GET", "/v1/tenants?limit=2", None).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let ids: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-tenant", "b-tenant"]);
    assert_eq!(first["data"][0]["name"], "A-TENANT");
    assert!(
        first["data"][0].get("signing_secret").is_none(),
        "no secret in the list"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = api
        .admin("GET", &format!("/v1/tenants?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(second["data"][0]["id"], "c-tenant");
    assert_eq!(second["next_cursor"], Value::Null);
    let (s, _) = api.tenant_call(&key, "GET", "/v1/tenants", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in ["limit=0", "limit=x", "cursor=%21%21"] {
        let (s, _) = api.admin("GET", &format!("/v1/tenants?{bad}"), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn unhealthy_endpoints_are_listed_across_tenants_without_secrets() {
    let api = Api::new();
    let mut ids = Vec::new();
    for t in ["t1", "t2"] {
        api.tenant_with_key(t).await;
        for _ in 0..2 {
            let (_, ep) = api.endpoint(t, json!(["*"])).await;
            ids.push((t, ep["id"].as_str().unwrap().to_owned()));
        }
    }
    api.store
        .mark_failing(ids[0].0, &ids[0].1, 1_700_000_000_000)
        .await
        .unwrap();
    let (s, _) = api
        .admin(
            "PATCH",
            &format!("/v1/tenants/{}/endpoints/{}", ids[3].0, ids[3].1),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, failing) = api
        .admin("GET", "/v1/admin/endpoints?state=failing", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{failing}");
    assert_eq!(failing["data"].as_array().unwrap().len(), 1);
    assert_eq!(failing["data"][0]["id"], ids[0].1.as_str());
    assert_eq!(failing["data"][0]["tenant_id"], "t1");
    assert_eq!(
        failing["data"][0]["failing_since"],
        "2023-11-14T22:13:20.000Z"
    );
    assert!(
        failing["data"][0].get("secret").is_none(),
        "no secret across tenants"
    );
    let (_, disabled) = api
        .admin("GET", "/v1/admin/endpoints?state=disabled", None)
        .await;
    assert_eq!(disabled["data"].as_array().unwrap().len(), 1);
    assert_eq!(disabled["data"][0]["id"], ids[3].1.as_str());
    let (_, both) = api.admin("GET", "/v1/admin/endpoints", None).await;
    assert_eq!(both["data"].as_array().unwrap().len(), 2);
    let (_, paged) = api.admin("GET", "/v1/admin/endpoints?limit=1", None).await;
    assert_eq!(paged["data"].as_array().unwrap().len(), 1, "t1's only");
    assert!(paged["next_cursor"].is_string());
    let (s, _) = api
        .admin("GET", "/v1/admin/endpoints?state=sad", None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_dlq_depth_counts_what_it_holds() {
    let api = Api::new();
    for i in 0..3 {
        api.redrive.dead_letter(OutgoingMessage {
            id: i.to_string(),
            body: "{}".into(),
        });
    }
    let (s, v) = api.admin("GET", "/v1/admin/dlq", None).await;
    assert_eq!(
        (s, &v["depth"], &v["in_flight"]),
        (StatusCode::OK, &json!(3), &json!(0))
    );
    let (_, moved) = api.admin("POST", "/v1/admin/dlq/redrive", None).await;
    assert_eq!(moved["moved"], 3);
    let (_, v) = api.admin("GET", "/v1/admin/dlq", None).await;
    assert_eq!(v["depth"], 0);
    let key = api.tenant_with_key("acme").await;
    let (s, _) = api.tenant_call(&key, "GET", "/v1/admin/dlq", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// The token of a portal link's URL (after `#token=`).
fn link_token(url: &str) -> String {
    url.split_once("#token=").unwrap().1.to_owned()
}

#[tokio::test]
async fn a_portal_link_is_used_once_and_opens_its_tenant_only() {
    let api = Api::with_config(|c| {
        c.portal.public_url = Some("http://127.0.0.1:9000/lambda-url/ingest".into());
    });
    let b_key = api.tenant_with_key("tenant-b").await;
    let (_, b_ep) = api.endpoint("tenant-b", json!(["*"])).await;
    api.tenant_with_key("tenant-a").await;
    let (s, link) = api
        .admin(
            "POST",
            "/v1/tenants/tenant-a/portal-sessions",
            Some(json!({"ttl_seconds": 600})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:9000/lambda-url/ingest/portal#token=hrl_"),
        "{url}"
    );
    let token = link_token(url);
    let (s, _) = api
        .tenant_call(
            &b_key,
            "POST",
            "/v1/tenants/tenant-b/portal-sessions",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a tenant key cannot make links");
    let exchange = json!({"token": token}).to_string();
    let (s, session) = api
        .call("POST", "/v1/portal/exchange", Some(&exchange), None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{session}");
    assert_eq!(session["tenant_id"], "tenant-a");
    assert_eq!(session["expires_at"], link["expires_at"]);
    let (s, _) = api
        .call("POST", "/v1/portal/exchange", Some(&exchange), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a link is used once");
    let sess = session["session_token"].as_str().unwrap();
    let (s, _) = api
        .tenant_call(sess, "GET", "/v1/tenants/tenant-a/endpoints", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let b_path = format!(
        "/v1/tenants/tenant-b/endpoints/{}",
        b_ep["id"].as_str().unwrap()
    );
    let (s, v) = api.tenant_call(sess, "GET", &b_path, None).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "not_found"),
        "another tenant is not there"
    );
    let (s, _) = api
        .tenant_call(sess, "POST", "/v1/tenants/tenant-a/api-keys", None)
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a session is no more than a tenant key"
    );
    let (s, _) = api
        .tenant_call(sess, "DELETE", "/v1/portal/session", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .tenant_call(sess, "GET", "/v1/tenants/tenant-a/endpoints", None)
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an ended session opens nothing"
    );
    let (s, _) = api
        .tenant_call(&b_key, "DELETE", "/v1/portal/session", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .tenant_call(&b_key, "GET", "/v1/tenants/tenant-b", None)
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "ending a session never revokes a tenant key"
    );
    for ttl in [0, 4, 86_401] {
        let (s, v) = api
            .admin(
                "POST",
                "/v1/tenants/tenant-a/portal-sessions",
                Some(json!({"ttl_seconds": ttl})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("ttl_seconds"))
        );
    }
    let (s, _) = api
        .admin(
            "POST",
            "/v1/tenants/nobody/portal-sessions",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn expired_links_and_sessions_open_nothing() {
    let api = Api::new();
    api.tenant_with_key("acme").await;
    let past = 1_600_000_000;
    let token = "hrl_expired-link-token";
    let sha = |t: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(t.as_bytes()))
    };
    let link = PortalLink {
        tenant_id: "acme".into(),
        expires_at: past,
    };
    api.store.put_portal_link(&sha(token), &link).await.unwrap();
    let body = json!({"token": token}).to_string();
    let (s, v) = api
        .call("POST", "/v1/portal/exchange", Some(&body), None)
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let session = shared::domain::model::ApiKeyRecord {
        id: "ses_1".into(),
        tenant_id: "acme".into(),
        key_sha256: sha("hrs_old-session"),
        created_at: 0,
        expires_at: Some(past),
    };
    api.store.put_session(&session).await.unwrap();
    let (s, _) = api
        .tenant_call("hrs_old-session", "GET", "/v1/tenants/acme", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Without PUBLIC_URL the link is on the request's host, over HTTPS.
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/tenants/acme/portal-sessions")
        .header("host", "abc.lambda-url.eu-west-1.on.aws")
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let (s, v) = api.send(request).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        v["url"]
            .as_str()
            .unwrap()
            .starts_with("https://abc.lambda-url.eu-west-1.on.aws/portal#token=")
    );
}

#[tokio::test]
async fn a_test_event_reaches_that_endpoint_only_with_the_catalogs_example() {
    let api = Api::new();
    let key = api.tenant_with_key("acme").await;
    api.catalog("invoice.paid", json!({"id": "in_1", "total": 1250}))
        .await;
    let (_, one) = api.endpoint("acme", json!(["invoice.*"])).await;
    let (_, other) = api.endpoint("acme", json!(["*"])).await;
    let path = format!(
        "/v1/tenants/acme/endpoints/{}/test",
        one["id"].as_str().unwrap()
    );
    let (s, v) = api.tenant_call(&key, "POST", &path, Some(json!({}))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["event_type"], "invoice.paid");
    assert_eq!(v["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(v["deliveries"][0]["endpoint_id"], one["id"]);
    assert_eq!(api.queue.sent().len(), 1, "the other endpoint gets nothing");
    let (_, event) = api
        .tenant_call(
            &key,
            "GET",
            &format!("/v1/tenants/acme/events/{}", v["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(event["payload"], json!({"id": "in_1", "total": 1250}));
    assert_eq!(event["metadata"]["test"], true);
    // Any type and payload may be given; a type outside the catalog has the fallback payload.
    let (s, v) = api
        .tenant_call(
            &key,
            "POST",
            &path,
            Some(json!({"event_type": "ping", "payload": {"a": 1}})),
        )
        .await;
    assert_eq!(
        (s, &v["event_type"]),
        (StatusCode::ACCEPTED, &json!("ping"))
    );
    let other_path = format!(
        "/v1/tenants/acme/endpoints/{}",
        other["id"].as_str().unwrap()
    );
    api.admin(
        "PUT",
        "/v1/event-types/invoice.paid",
        Some(json!({"description": "d"})),
    )
    .await;
    let (s, v) = api
        .tenant_call(&key, "POST", &format!("{other_path}/test"), Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    api.admin("DELETE", "/v1/event-types/invoice.paid", None)
        .await;
    let (s, v) = api
        .tenant_call(&key, "POST", &format!("{other_path}/test"), Some(json!({})))
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event_type"))
    );
    api.admin("PATCH", &other_path, Some(json!({"enabled": false})))
        .await;
    let (s, v) = api
        .tenant_call(
            &key,
            "POST",
            &format!("{other_path}/test"),
            Some(json!({"event_type": "ping"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "endpoint_disabled"));
}

#[tokio::test]
async fn catalog_limits_names_and_strict_test_events() {
    let api = Api::with_config(|c| c.strict_event_types = true);
    let key = api.tenant_with_key("acme").await;
    for bad in ["x".repeat(2000), "a.*".into(), "no good".into()] {
        let path = format!("/v1/event-types/{}", bad.replace(' ', "%20"));
        assert_eq!(
            api.admin("GET", &path, None).await.0,
            StatusCode::NOT_FOUND,
            "{bad:.20}"
        );
        assert_eq!(
            api.admin("DELETE", &path, None).await.0,
            StatusCode::NOT_FOUND
        );
    }
    api.catalog("invoice.paid", json!({"id": 1})).await;
    let (_, ep) = api.endpoint("acme", json!(["invoice.*"])).await;
    let path = format!(
        "/v1/tenants/acme/endpoints/{}/test",
        ep["id"].as_str().unwrap()
    );
    let (s, v) = api
        .tenant_call(
            &key,
            "POST",
            &path,
            Some(json!({"event_type": "not.catalogued"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event_type"))
    );
    assert!(
        api.queue.sent().is_empty(),
        "a strict deployment sends no uncatalogued test event"
    );
    for i in 1..150 {
        api.catalog(&format!("t.n{i}"), json!({})).await;
    }
    let (s, v) = api
        .admin(
            "PUT",
            "/v1/event-types/t.one_more",
            Some(json!({"description": "d"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "catalog_full"));
    let (s, _) = api
        .admin(
            "PUT",
            "/v1/event-types/t.n1",
            Some(json!({"description": "replaced"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a full catalog still takes replacements");
    for id in [".", ".."] {
        let (s, v) = api
            .admin("PUT", &format!("/v1/tenants/{id}"), Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "tenant id {id:?}: {v}");
    }
}
