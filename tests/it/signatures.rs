//! What receivers get, checked by code that is not ours: captured Standard Webhooks deliveries
//! are verified by the official Python and JS libraries (and tampered copies are rejected);
//! the other schemes are recomputed here from the received bytes.

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::{Stack, repo_root, venv_bin};
use crate::receiver::TestReceiver;

fn wait_for(rx: &TestReceiver, n: usize) {
    let start = std::time::Instant::now();
    while rx.count() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "receiver got {} of {n}",
            rx.count()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One case for the official verifiers (verify.py / verify.mjs): a received delivery and the
/// secret to check it with.
pub fn verifier_case(secret: &str, r: &crate::receiver::Received) -> Value {
    json!({
        "secret": secret,
        "headers": {
            "webhook-id": r.header("webhook-id").unwrap(),
            "webhook-timestamp": r.header("webhook-timestamp").unwrap(),
            "webhook-signature": r.header("webhook-signature").unwrap(),
        },
        "body_b64": base64::engine::general_purpose::STANDARD.encode(&r.body),
    })
}

pub fn run_verifier(program: &str, script: &str, cases: &Value) -> Value {
    let file = std::env::temp_dir().join(format!("hookrelay-sig-{}.json", ulid::Ulid::new()));
    std::fs::write(&file, cases.to_string()).unwrap();
    let out = Command::new(program)
        .arg(repo_root().join("tests/verify").join(script))
        .arg(&file)
        .current_dir(repo_root().join("tests/verify"))
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_verify_with_the_official_standard_webhooks_libraries() {
    let stack = Stack::builder().start().await;
    let tenant = stack.tenant("acme", json!({})).await;
    let rx = TestReceiver::start(vec![], None).await;
    let one_off = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    let payloads = [
        r#"{"job_id": "job_1", "status": "completed"}"#,
        "{\"text\":\"caf\u{e9} \u{1f600} \\u00e9\",\"n\":[1,2.5e3,null]}",
        r#"{  "spaced"  :  true  }"#,
    ];
    for p in payloads {
        let body = format!(r#"{{"event_type":"job.completed","payload":{p}}}"#);
        let (s, v) = stack
            .call_raw(
                "POST",
                "/v1/tenants/acme/events",
                Some(&body),
                Some(crate::harness::ADMIN_KEY),
            )
            .await;
        assert_eq!(s, 202, "{v}");
    }
    // A one-off webhook_url is signed with the tenant's signing secret.
    stack
        .event("acme", json!({"event_type": "job.completed", "payload": {"once": true}, "webhook_url": one_off.url}))
        .await;
    wait_for(&rx, 4);
    wait_for(&one_off, 1);

    let case = verifier_case;
    let mut cases: Vec<Value> = rx
        .received()
        .iter()
        .map(|r| case(ep["secret"].as_str().unwrap(), r))
        .collect();
    cases.push(case(
        tenant["signing_secret"].as_str().unwrap(),
        &one_off.received()[0],
    ));
    let cases = Value::Array(cases);
    let expected = json!({"verified": 5, "tampered_rejected": 10, "total": 5});
    let py = run_verifier(venv_bin("python").to_str().unwrap(), "verify.py", &cases);
    assert_eq!(py, expected, "official Python library");
    let js = run_verifier("node", "verify.mjs", &cases);
    assert_eq!(js, expected, "official JS library");
    // The same deliveries do not verify under another endpoint's secret.
    let wrong = Value::Array(
        cases
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c["secret"] = json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
                c
            })
            .collect(),
    );
    assert_eq!(
        run_verifier(venv_bin("python").to_str().unwrap(), "verify.py", &wrong)["verified"],
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hex_hmac_and_secret_header_schemes() {
    use hmac::{Hmac, KeyInit, Mac};
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let itty = TestReceiver::start(vec![], None).await;
    let cloud = TestReceiver::start(vec![], None).await;
    stack
        .endpoint(
            "acme",
            json!({
                "url": itty.url, "event_types": ["*"], "secret": "ittybit-webhook-secret",
                "signature": {"scheme": "hmac-sha256-hex", "header": "Ittybit-Signature"}
            }),
        )
        .await;
    stack
        .endpoint(
            "acme",
            json!({
                "url": cloud.url, "event_types": ["*"], "secret": "cloudglue-endpoint-secret",
                "signature": {"scheme": "secret-header", "header": "X-Webhook-Secret"},
                "headers": {"X-Custom": "yes"}
            }),
        )
        .await;
    stack.event("acme", json!({"event_type": "task.succeeded", "payload": {"id": "task_a1b2c3d4", "status": "succeeded"}})).await;
    wait_for(&itty, 1);
    wait_for(&cloud, 1);
    let r = &itty.received()[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(b"ittybit-webhook-secret").unwrap();
    mac.update(&r.body);
    assert_eq!(
        r.header("ittybit-signature").unwrap(),
        hex::encode(mac.finalize().into_bytes())
    );
    assert!(
        r.header("webhook-signature").is_none(),
        "only the configured scheme's headers"
    );
    let r = &cloud.received()[0];
    assert_eq!(
        r.header("x-webhook-secret"),
        Some("cloudglue-endpoint-secret")
    );
    assert_eq!(r.header("x-custom"), Some("yes"));
}
