// shape: test support (part of the store contract)
//! What the checks build their records from, and small assertions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::domain::attempt::Outcome;
use crate::domain::clock::EpochMillis;
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord, Tenant,
};
use crate::domain::secret::Secret;
use crate::domain::settings::SettingsPatch;
use crate::ports::store::{AttemptLog, DeliveryUpdate, EventWrite, StoreError, TenantWrite};

pub const T0: EpochMillis = 1_700_000_000_000;

/// A tenant id no other check (or earlier run on the same table) uses.
pub fn unique_tenant(label: &str) -> String {
    format!(
        "ct-{label}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

pub fn tenant(id: &str, max_endpoints: u32) -> Tenant {
    Tenant {
        id: id.to_owned(),
        name: Some("Acme".into()),
        defaults: SettingsPatch {
            timeout_seconds: Some(10),
            ..Default::default()
        },
        max_endpoints,
        https_only: false,
        signing_secret: Secret::generate(),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn endpoint(tenant_id: &str, id: &str) -> Endpoint {
    Endpoint {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        url: format!("https://example.com/{id}"),
        event_types: vec!["job.*".into()],
        description: None,
        enabled: true,
        secret: Secret::generate(),
        previous_secrets: Vec::new(),
        settings: SettingsPatch::default(),
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        created_at: T0,
        updated_at: T0,
    }
}

/// An event made at `ms` (its id carries the time) with deliveries to `endpoints`, then
/// `one_off` when given.
pub fn event_at(
    tenant_id: &str,
    ms: EpochMillis,
    endpoints: &[&str],
    one_off: Option<&str>,
) -> EventRecord {
    let mut metadata = serde_json::Map::new();
    metadata.insert("job".into(), serde_json::json!({"n": 1.5, "tags": ["a"]}));
    let random: u128 = rand::random::<u128>() & !((1u128 << crate::domain::ids::INDEX_BITS) - 1);
    let ulid = ulid::Ulid::from_parts(u64::try_from(ms).unwrap(), random);
    EventRecord {
        id: format!("evt_{ulid}"),
        tenant_id: tenant_id.to_owned(),
        event_type: "job.completed".into(),
        payload: r#"{"job": 7, "ok": true}"#.into(),
        metadata: Some(metadata),
        idempotency_key: None,
        created_at: ms,
        endpoint_ids: endpoints.iter().map(|e| (*e).to_owned()).collect(),
        webhook_url: one_off.map(str::to_owned),
    }
}

/// An event's deliveries as they stand before anything is recorded (endpoint URLs as
/// [`endpoint`] makes them; no endpoint item needs to exist: its URL is then empty).
pub fn deliveries_of(e: &EventRecord, endpoints_exist: bool) -> Vec<DeliveryRecord> {
    (0..e.delivery_count())
        .map(|i| {
            let url = match e.endpoint_ids.get(i) {
                Some(ep) if endpoints_exist => format!("https://example.com/{ep}"),
                Some(_) => String::new(),
                None => e.webhook_url.clone().unwrap_or_default(),
            };
            e.unrecorded_delivery(i, url).unwrap()
        })
        .collect()
}

pub fn attempt(delivery_id: &str, number: u32, manual: bool) -> AttemptRecord {
    AttemptRecord {
        id: format!("att_{number}_{delivery_id}"),
        delivery_id: delivery_id.to_owned(),
        number,
        url: "https://example.com/hook".into(),
        started_at: T0 + i64::from(number) * 1_000,
        duration_ms: 120,
        status_code: Some(503),
        outcome: Outcome::HttpError,
        error: Some("receiver answered HTTP 503".into()),
        response_excerpt: Some("busy".into()),
        manual,
    }
}

pub fn retry_at(at: EpochMillis) -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(at),
        last_error: Some("receiver answered HTTP 503".into()),
    }
}

pub fn delivered() -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
        last_error: None,
    }
}

pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

/// A tenant that exists, with `events` written.
pub async fn seeded<S: TenantWrite + EventWrite + ?Sized>(
    store: &S,
    label: &str,
    events: impl FnOnce(&str) -> Vec<EventRecord>,
) -> (String, Vec<DeliveryRecord>) {
    let t = unique_tenant(label);
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    let mut ds = Vec::new();
    for e in events(&t) {
        store.put_event(&e).await.unwrap();
        ds.extend(deliveries_of(&e, false));
    }
    (t, ds)
}

/// One pending delivery to endpoint `ep_1` (no endpoint item).
pub async fn one_delivery<S: TenantWrite + EventWrite + ?Sized>(
    store: &S,
    label: &str,
) -> DeliveryRecord {
    let (_, mut ds) = seeded(store, label, |t| vec![event_at(t, T0, &["ep_1"], None)]).await;
    ds.remove(0)
}

/// Records attempt `before.attempt_count + 1` on `before`, leaving the delivery `update` says;
/// the state after it.
pub async fn attempted<S: AttemptLog + ?Sized>(
    store: &S,
    before: &DeliveryRecord,
    update: &DeliveryUpdate,
) -> DeliveryRecord {
    let a = attempt(&before.id, before.attempt_count + 1, false);
    store.record_attempt(before, &a, update).await.unwrap();
    crate::domain::log::after_attempt(before, &a, update).state
}

pub fn api_key(tenant_id: &str, id: &str, hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        key_sha256: hash.to_owned(),
        created_at: T0,
        expires_at: None,
    }
}

pub fn failed() -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        last_error: Some("receiver answered HTTP 503".into()),
    }
}
