//! Secrets at rest: what the table holds for tenants and endpoints, read raw through the SDK
//! (as a table export would show it), contains no signing secret in clear; secrets written
//! before sealing still read and are sealed at the next write; a sealed secret moved to another
//! item does not open. KMS is moto's, through the real SDK, with the template's key.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::adapters::dynamo::item::{Item, endpoint_item, tenant_item};
use shared::adapters::dynamo::keys;
use shared::domain::model::{Endpoint, PreviousSecret, Tenant};
use shared::domain::secret::Secret;
use shared::ports::store::{EndpointRead, EndpointWrite, StoreError, TenantRead, TenantWrite};

use crate::harness::{Stack, aws_config, dynamo_store, provision};

/// Every string and binary value of every item in the table, as text.
async fn table_text(table: &str) -> String {
    fn walk(value: &AttributeValue, out: &mut String) {
        match value {
            AttributeValue::S(v) => out.push_str(v),
            AttributeValue::B(b) => out.push_str(&String::from_utf8_lossy(b.as_ref())),
            AttributeValue::M(m) => m.values().for_each(|v| walk(v, out)),
            AttributeValue::L(l) => l.iter().for_each(|v| walk(v, out)),
            AttributeValue::Ss(l) => l.iter().for_each(|v| out.push_str(v)),
            _ => {}
        }
        out.push('\n');
    }
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    let items = client
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut out = String::new();
    for item in &items {
        item.values().for_each(|v| walk(v, &mut out));
    }
    out
}

async fn raw_item(table: &str, key: keys::Key) -> Item {
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key.item()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

async fn put_raw(table: &str, item: Item) {
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// The parts of a secret that must never show: the whole value and, for `whsec_` secrets, the
/// base64 key after the prefix.
fn secret_parts(secret: &str) -> Vec<String> {
    let mut parts = vec![secret.to_owned()];
    parts.extend(secret.strip_prefix("whsec_").map(str::to_owned));
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_table_holds_no_signing_secret_in_clear() {
    let stack = Stack::builder().start().await;
    let tenant = stack.tenant("acme", json!({})).await;
    let mut secrets = vec![tenant["signing_secret"].as_str().unwrap().to_owned()];
    let shared = "plain-shared-secret-for-hmac-123";
    let hmac = stack
        .endpoint(
            "acme",
            json!({"url": "https://example.com/a", "event_types": ["*"], "secret": shared,
                   "signature": {"scheme": "hmac-sha256-hex", "header": "X-Sig"}}),
        )
        .await;
    secrets.push(shared.to_owned());
    let std = stack
        .endpoint(
            "acme",
            json!({"url": "https://example.com/b", "event_types": ["*"]}),
        )
        .await;
    secrets.push(std["secret"].as_str().unwrap().to_owned());
    // A rotation keeps the old secret signing for its grace period: in previous_secrets.
    let (status, rotated) = stack
        .admin(
            "POST",
            &format!(
                "/v1/tenants/acme/endpoints/{}/rotate-secret",
                std["id"].as_str().unwrap()
            ),
            Some(&json!({"grace_period_seconds": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    secrets.push(rotated["secret"].as_str().unwrap().to_owned());

    let table = &stack.resources.table_name;
    let text = table_text(table).await;
    for secret in &secrets {
        for part in secret_parts(secret) {
            assert!(!text.contains(&part), "a secret is in clear in the table");
        }
    }
    // The sealed form names the template's key; an endpoint's previous secret is sealed too.
    let ep = raw_item(table, keys::endpoint("acme", std["id"].as_str().unwrap())).await;
    let sealed = ep["secret"].as_m().unwrap();
    assert_eq!(
        sealed["kid"].as_s().unwrap(),
        &stack.resources.secrets_key_id
    );
    assert_eq!(sealed["iv"].as_b().unwrap().as_ref().len(), 12);
    let previous = ep["previous_secrets"].as_l().unwrap();
    assert!(previous[0].as_m().unwrap()["secret"].as_m().is_ok());
    let t = raw_item(table, keys::tenant("acme")).await;
    assert!(t["signing_secret"].as_m().is_ok());

    // And the API still reads them back through the seal.
    let (status, got) = stack
        .admin(
            "GET",
            &format!(
                "/v1/tenants/acme/endpoints/{}",
                hmac["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["id"], hmac["id"]);
}

fn legacy_tenant() -> Tenant {
    Tenant {
        id: format!("legacy-{}", ulid::Ulid::new().to_string().to_lowercase()),
        name: None,
        defaults: Default::default(),
        max_endpoints: 10,
        https_only: false,
        signing_secret: Secret::generate(),
        created_at: 1,
        updated_at: 1,
    }
}

fn legacy_endpoint(tenant: &str, id: &str) -> Endpoint {
    Endpoint {
        id: id.into(),
        tenant_id: tenant.into(),
        url: "https://example.com/legacy".into(),
        event_types: vec!["*".into()],
        description: None,
        enabled: true,
        secret: Secret::generate(),
        previous_secrets: vec![PreviousSecret {
            secret: Secret::generate(),
            expires_at: i64::MAX,
        }],
        settings: Default::default(),
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn clear_secrets_from_before_sealing_read_and_are_sealed_at_the_next_write() {
    let aws = aws_config().await;
    let resources = provision(&[]);
    let table = &resources.table_name;
    let store = dynamo_store(&aws, &resources);
    // Items as an older version wrote them: secrets as plain strings.
    let tenant = legacy_tenant();
    let endpoint = legacy_endpoint(&tenant.id, "ep_old");
    put_raw(table, tenant_item(&tenant).unwrap()).await;
    put_raw(table, endpoint_item(&endpoint).unwrap()).await;
    assert!(raw_item(table, keys::tenant(&tenant.id)).await["signing_secret"].is_s());

    assert_eq!(
        store.get_tenant(&tenant.id).await.unwrap(),
        Some(tenant.clone())
    );
    assert_eq!(
        store.get_endpoint(&tenant.id, "ep_old").await.unwrap(),
        Some(endpoint.clone())
    );
    assert_eq!(
        store.list_endpoints(&tenant.id).await.unwrap(),
        vec![endpoint.clone()]
    );

    // The next writes seal them, and they still read the same.
    let renamed = Tenant {
        name: Some("renamed".into()),
        updated_at: 2,
        ..tenant.clone()
    };
    store.put_tenant(&renamed, false).await.unwrap();
    let changed = Endpoint {
        description: Some("changed".into()),
        updated_at: 2,
        ..endpoint.clone()
    };
    store.update_endpoint(&changed, 1).await.unwrap();
    let text = table_text(table).await;
    for secret in [
        &tenant.signing_secret,
        &endpoint.secret,
        &endpoint.previous_secrets[0].secret,
    ] {
        for part in secret_parts(secret.expose()) {
            assert!(!text.contains(&part), "still in clear after the write");
        }
    }
    assert!(raw_item(table, keys::tenant(&tenant.id)).await["signing_secret"].is_m());
    assert_eq!(store.get_tenant(&tenant.id).await.unwrap(), Some(renamed));
    assert_eq!(
        store.get_endpoint(&tenant.id, "ep_old").await.unwrap(),
        Some(changed)
    );
}

#[tokio::test]
async fn a_sealed_secret_moved_to_another_item_does_not_open() {
    let aws = aws_config().await;
    let resources = provision(&[]);
    let table = &resources.table_name;
    let store = dynamo_store(&aws, &resources);
    let tenant = legacy_tenant();
    store.put_tenant(&tenant, true).await.unwrap();
    for id in ["ep_1", "ep_2"] {
        store
            .create_endpoint(&legacy_endpoint(&tenant.id, id), 10)
            .await
            .unwrap();
    }
    // Someone with write access to the table copies ep_1's sealed secret into ep_2, and the
    // tenant's into ep_2's previous secrets: moto's KMS refuses both contexts.
    let one = raw_item(table, keys::endpoint(&tenant.id, "ep_1")).await;
    let mut two = raw_item(table, keys::endpoint(&tenant.id, "ep_2")).await;
    two.insert("secret".into(), one["secret"].clone());
    put_raw(table, two).await;
    assert!(matches!(
        store.get_endpoint(&tenant.id, "ep_2").await,
        Err(StoreError::Corrupt(_))
    ));
    let mut three = raw_item(table, keys::endpoint(&tenant.id, "ep_1")).await;
    let tenant_raw = raw_item(table, keys::tenant(&tenant.id)).await;
    three.insert("secret".into(), tenant_raw["signing_secret"].clone());
    put_raw(table, three).await;
    assert!(store.list_endpoints(&tenant.id).await.is_err());
    // A fresh store (a cold start: nothing cached) still opens the untouched tenant.
    let cold = dynamo_store(&aws, &resources);
    assert_eq!(cold.get_tenant(&tenant.id).await.unwrap(), Some(tenant));
}

/// The signing path end to end with sealed secrets: the receiver's official library verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_sign_with_the_opened_secret() {
    let stack = Stack::builder().start().await;
    stack.tenant("acme", json!({})).await;
    let rx = crate::receiver::TestReceiver::start(vec![], None).await;
    let ep: Value = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    stack
        .event("acme", json!({"event_type": "a.b", "payload": {"n": 1}}))
        .await;
    let start = std::time::Instant::now();
    while rx.count() < 1 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got = rx.received()[0].clone();
    let secret = ep["secret"].as_str().unwrap();
    let case = json!([crate::signatures::verifier_case(secret, &got)]);
    let python = crate::harness::venv_bin("python");
    let verdict = crate::signatures::run_verifier(python.to_str().unwrap(), "verify.py", &case);
    assert_eq!(verdict["verified"], 1);
}
