//! Loops and the stack's own services.
//!
//! - A delivery to the API's own events route, with a bearer key in its headers, must never
//!   become an event: the API refuses requests carrying the delivery user-agent (403
//!   `delivery_loop`), whatever host they came through. Here the API is served on the receivers'
//!   address so that only that refusal is between a delivery and a new event.
//! - The stack's own services (moto, the API, the functions' invoke API: all on 127.0.0.1) are
//!   never receivers: the allowlist opens the receivers' address (127.0.0.2) only, so they are
//!   refused at registration and blocked at connect time, while the test receivers still work.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use shared::adapters::http::Lookup;

use crate::harness::{RECEIVER_IP, Stack, moto_url};
use crate::receiver::TestReceiver;
// A listener standing for one of the stack's own services, counting connections.
use crate::ssrf::listener;

fn port_of(url: &str) -> u16 {
    let rest = url.split("://").nth(1).unwrap();
    let authority = rest.split('/').next().unwrap();
    authority.rsplit(':').next().unwrap().parse().unwrap()
}

async fn wait_done(stack: &Stack, tenant: &str, id: &str) -> Value {
    stack
        .wait_delivery(tenant, id, Duration::from_secs(20), |d| {
            d["status"] != "pending"
        })
        .await
}

async fn endpoint_deliveries(stack: &Stack, tenant: &str, ep: &str) -> usize {
    let (s, v) = stack
        .call_query(
            "GET",
            &format!("/v1/tenants/{tenant}/endpoints/{ep}/deliveries"),
            "limit=100",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["data"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_to_our_own_events_route_never_becomes_an_event() {
    // Credential headers allowed, the API on an allowlisted address, no own host configured:
    // only the delivery marker stands between a delivery and a new event.
    let stack = Stack::builder()
        .ingest_config(|c| c.allow_credential_headers = true)
        .start()
        .await;
    let api = stack.serve_api(RECEIVER_IP).await;
    stack.tenant("acme", json!({})).await;
    let (s, key) = stack.admin("POST", "/v1/tenants/acme/api-keys", None).await;
    assert_eq!(s, 201, "{key}");
    let key = key["key"].as_str().unwrap();
    let events_route = format!("{api}/v1/tenants/acme/events");
    let mut endpoints = Vec::new();
    for _ in 0..2 {
        let ep = stack
            .endpoint(
                "acme",
                json!({"url": events_route, "event_types": ["*"], "retry_schedule_seconds": [],
                       "headers": {"Authorization": format!("Bearer {key}")}}),
            )
            .await;
        endpoints.push(ep["id"].as_str().unwrap().to_owned());
    }
    // Three levels of nesting: unchecked, 1 request would become 7 events and 14 deliveries.
    let nested = json!({"event_type": "loop.2", "payload":
                 {"event_type": "loop.3", "payload": {"event_type": "loop.4", "payload": {}}}});
    let v = stack
        .event("acme", json!({"event_type": "loop.1", "payload": nested}))
        .await;
    for d in v["deliveries"].as_array().unwrap() {
        let d = wait_done(&stack, "acme", d["id"].as_str().unwrap()).await;
        assert_eq!(d["status"], "failed", "{d}");
        let attempt = &d["attempts"][0];
        assert_eq!(attempt["status_code"], 403, "{d}");
        assert!(
            attempt["response_excerpt"]
                .as_str()
                .unwrap()
                .contains("delivery_loop"),
            "{d}"
        );
    }
    // Time for a second level to appear, if one could.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for ep in &endpoints {
        assert_eq!(
            endpoint_deliveries(&stack, "acme", ep).await,
            1,
            "endpoint {ep}: a delivery became an event (a second-level delivery exists)"
        );
    }
}

fn table(entries: Vec<(&'static str, &'static str)>) -> Lookup {
    Arc::new(move |name: String| {
        let found = entries
            .iter()
            .find(|(n, _)| *n == name.trim_end_matches('.'))
            .map(|(_, ip)| vec![ip.parse().unwrap()]);
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stacks_own_services_are_never_receivers() {
    let lookup = table(vec![
        ("moto.test", "127.0.0.1"),
        ("api.test", "127.0.0.1"),
        ("invoke.test", "127.0.0.1"),
        ("rx.test", RECEIVER_IP),
    ]);
    let stack = Stack::builder().lookup(lookup).start().await;
    // The stack's own services, all on 127.0.0.1: moto, the API, and the functions' invoke API
    // (`cargo lambda watch` serves it; a counting listener stands for it here).
    let moto = port_of(moto_url());
    let api = port_of(&stack.serve_api("127.0.0.1").await);
    let (invoke, invoked) = listener("127.0.0.1").await;
    let rx = TestReceiver::start(vec![], None).await;
    stack.tenant("acme", json!({})).await;

    for url in [
        format!("http://127.0.0.1:{moto}/"),
        format!("http://localhost:{moto}/"),
        format!("http://127.0.0.1:{api}/v1/tenants/acme/events"),
        format!("http://[::ffff:127.0.0.1]:{api}/v1/tenants/acme/events"),
        format!("http://127.0.0.1:{invoke}/2015-03-31/functions/delivery/invocations"),
        format!("http://2130706433:{invoke}/2015-03-31/functions/delivery/invocations"),
    ] {
        let (s, v) = stack
            .admin(
                "POST",
                "/v1/tenants/acme/endpoints",
                Some(&json!({"url": url, "event_types": ["*"]})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("url")),
            "{url}: {v}"
        );
        let (s, v) = stack
            .admin(
                "POST",
                "/v1/tenants/acme/events",
                Some(&json!({"event_type": "a.b", "payload": {}, "webhook_url": url})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("webhook_url")),
            "{url}: {v}"
        );
    }

    // Names that resolve to them pass registration and are blocked at connect time; the test
    // receiver, on its own address, still gets its delivery.
    let rx_port = port_of(&rx.url);
    let targets = [
        (format!("http://moto.test:{moto}/"), "blocked"),
        (
            format!("http://api.test:{api}/v1/tenants/acme/events"),
            "blocked",
        ),
        (
            format!("http://invoke.test:{invoke}/2015-03-31/functions/delivery/invocations"),
            "blocked",
        ),
        (format!("http://rx.test:{rx_port}/hook"), "delivered"),
    ];
    for (url, _) in &targets {
        stack
            .endpoint(
                "acme",
                json!({"url": url, "event_types": ["*"], "retry_schedule_seconds": [1]}),
            )
            .await;
    }
    // The payload a forged invocation would carry: an SQS event naming another delivery.
    let forged = json!({"Records": [{"messageId": "m", "body": "{\"delivery_id\": \"dlv_x\"}"}]});
    let v = stack
        .event("acme", json!({"event_type": "a.b", "payload": forged}))
        .await;
    for d in v["deliveries"].as_array().unwrap() {
        let url = d["url"].as_str().unwrap();
        let d = wait_done(&stack, "acme", d["id"].as_str().unwrap()).await;
        let expected = targets
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, o)| *o)
            .unwrap();
        assert_eq!(d["attempts"][0]["outcome"], expected, "{url}: {d}");
        assert_eq!(d["attempt_count"], 1, "{url}: blocked is not retried");
    }
    assert_eq!(rx.count(), 1, "the test receiver still works");
    assert_eq!(
        invoked.load(Ordering::SeqCst),
        0,
        "the invoke API was reached"
    );
}
