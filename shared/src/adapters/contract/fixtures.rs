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
use crate::ports::store::{DeliveryUpdate, EventWrite, StoreError, TenantWrite};

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

pub fn event(tenant_id: &str, id: &str) -> EventRecord {
    let mut metadata = serde_json::Map::new();
    metadata.insert("job".into(), serde_json::json!({"n": 1.5, "tags": ["a"]}));
    EventRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        event_type: "job.completed".into(),
        payload: r#"{"job": 7, "ok": true}"#.into(),
        metadata: Some(metadata),
        idempotency_key: None,
        created_at: T0,
    }
}

/// A delivery id created at `ms`; `seq` orders ids of the same millisecond.
pub fn delivery_id(ms: EpochMillis, seq: u128) -> String {
    format!(
        "dlv_{}",
        ulid::Ulid::from_parts(u64::try_from(ms).unwrap(), seq)
    )
}

/// A pending delivery with no attempt yet, created at `ms`.
pub fn delivery(
    tenant_id: &str,
    event_id: &str,
    endpoint_id: Option<&str>,
    ms: EpochMillis,
    seq: u128,
) -> DeliveryRecord {
    DeliveryRecord {
        id: delivery_id(ms, seq),
        tenant_id: tenant_id.to_owned(),
        event_id: event_id.to_owned(),
        event_type: "job.completed".into(),
        endpoint_id: endpoint_id.map(str::to_owned),
        url: "https://example.com/hook".into(),
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        retry_base: 0,
        next_attempt_at: Some(ms),
        last_error: None,
        lease_until: None,
        lease_owner: None,
        created_at: ms,
        updated_at: ms,
    }
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

/// A tenant that exists, with an event holding `deliveries` (written through `put_event`).
pub async fn seeded<S: TenantWrite + EventWrite + ?Sized>(
    store: &S,
    label: &str,
    deliveries: impl FnOnce(&str) -> Vec<DeliveryRecord>,
) -> (String, Vec<DeliveryRecord>) {
    let t = unique_tenant(label);
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    let ds = deliveries(&t);
    store.put_event(&event(&t, "evt_1"), &ds).await.unwrap();
    (t, ds)
}

pub async fn one_delivery<S: TenantWrite + EventWrite + ?Sized>(
    store: &S,
    label: &str,
) -> DeliveryRecord {
    let (_, mut ds) = seeded(store, label, |t| {
        vec![delivery(t, "evt_1", Some("ep_1"), T0, 1)]
    })
    .await;
    ds.remove(0)
}

pub fn api_key(tenant_id: &str, id: &str, hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        key_sha256: hash.to_owned(),
        created_at: T0,
    }
}

/// The delivery as a worker would hold it after `count` attempts.
pub fn d_at(d: &DeliveryRecord, count: u32) -> DeliveryRecord {
    DeliveryRecord {
        attempt_count: count,
        ..d.clone()
    }
}
