// shape: test support (compiled for tests and the `memory` feature only)
//! The store contract: checks every storage port's documented behaviour, run against
//! [`crate::adapters::memory::MemoryStore`] (this crate's unit tests) and against
//! [`crate::adapters::dynamo::DynamoStore`] on moto (`tests/it/contract.rs`), so the fake cannot
//! drift from the real adapter. The DynamoDB adapter is the reference for what is right.
//!
//! Each check is generic over the roles it needs and uses its own tenant ids, so all checks can
//! share one table. [`run_all`] runs every check in turn.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::domain::attempt::Outcome;
use crate::domain::clock::{EpochMillis, now_millis};
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord, Tenant,
};
use crate::domain::secret::Secret;
use crate::domain::settings::SettingsPatch;
use crate::ports::store::{
    ApiKeys, AttemptLog, DeliveryControl, DeliveryRead, DeliveryUpdate, EndpointHealth,
    EndpointRead, EndpointWrite, EventRead, EventWrite, IDEMPOTENCY_WINDOW_MS, Idempotency,
    IdempotencyClaim, Ping, Store, StoreError, TenantRead, TenantWrite,
};

/// A time for records (any fixed instant works: nothing here expires by the wall clock).
const T0: EpochMillis = 1_700_000_000_000;

// ---------- fixtures ----------

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

fn retry_at(at: EpochMillis) -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(at),
        last_error: Some("receiver answered HTTP 503".into()),
    }
}

fn delivered() -> DeliveryUpdate {
    DeliveryUpdate {
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
        last_error: None,
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

/// A tenant that exists, with an event holding `deliveries` (written through `put_event`).
async fn seeded<S: TenantWrite + EventWrite + ?Sized>(
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

async fn one_delivery<S: TenantWrite + EventWrite + ?Sized>(
    store: &S,
    label: &str,
) -> DeliveryRecord {
    let (_, mut ds) = seeded(store, label, |t| {
        vec![delivery(t, "evt_1", Some("ep_1"), T0, 1)]
    })
    .await;
    ds.remove(0)
}

// ---------- tenants ----------

/// `put_tenant(create)` refuses an existing tenant; an update refuses a missing one.
pub async fn tenant_create_conflicts_when_it_exists<S: TenantRead + TenantWrite + ?Sized>(
    store: &S,
) {
    let t = tenant(&unique_tenant("tenant-create"), 10);
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), None);
    store.put_tenant(&t, true).await.unwrap();
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), Some(t.clone()));
    let again = Tenant {
        name: Some("Other".into()),
        ..tenant(&t.id, 3)
    };
    assert_conflict(store.put_tenant(&again, true).await, "create twice");
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), Some(t));
    let missing = tenant(&unique_tenant("tenant-missing"), 10);
    assert_conflict(store.put_tenant(&missing, false).await, "update missing");
    assert_eq!(store.get_tenant(&missing.id).await.unwrap(), None);
}

/// An update sets name, defaults, max_endpoints, https_only and updated_at (a field left out
/// is removed), keeps signing_secret and created_at, and never touches the endpoint count.
pub async fn tenant_update_keeps_secret_and_endpoint_count<
    S: TenantRead + TenantWrite + EndpointWrite + ?Sized,
>(
    store: &S,
) {
    let original = tenant(&unique_tenant("tenant-update"), 2);
    store.put_tenant(&original, true).await.unwrap();
    for ep in ["ep_1", "ep_2"] {
        store
            .create_endpoint(&endpoint(&original.id, ep), 2)
            .await
            .unwrap();
    }
    let update = Tenant {
        name: None,
        defaults: SettingsPatch {
            retry_schedule_seconds: Some(vec![1, 3]),
            ..Default::default()
        },
        max_endpoints: 2,
        https_only: true,
        signing_secret: Secret::generate(),
        created_at: T0 + 50,
        updated_at: T0 + 100,
        ..original.clone()
    };
    store.put_tenant(&update, false).await.unwrap();
    let stored = store.get_tenant(&original.id).await.unwrap().unwrap();
    let expected = Tenant {
        signing_secret: original.signing_secret.clone(),
        created_at: original.created_at,
        ..update
    };
    assert_eq!(stored, expected);
    assert_conflict(
        store
            .create_endpoint(&endpoint(&original.id, "ep_3"), 2)
            .await,
        "the count survived the update",
    );
}

// ---------- endpoints ----------

/// `create_endpoint` needs the tenant, refuses a duplicate id and stops at `max_endpoints`;
/// a refused create does not use up a place. `list_endpoints` lists endpoints only, by id.
pub async fn create_endpoint_respects_max_endpoints<
    S: TenantWrite + EndpointRead + EndpointWrite + ApiKeys + ?Sized,
>(
    store: &S,
) {
    let t = unique_tenant("ep-limit");
    assert_conflict(
        store.create_endpoint(&endpoint(&t, "ep_1"), 5).await,
        "no tenant",
    );
    store.put_tenant(&tenant(&t, 2), true).await.unwrap();
    store
        .put_api_key(&api_key(&t, "key_1", &format!("{t}-hash")))
        .await
        .unwrap();
    let b = endpoint(&t, "ep_b");
    store.create_endpoint(&b, 2).await.unwrap();
    assert_conflict(store.create_endpoint(&b, 2).await, "duplicate id");
    let a = endpoint(&t, "ep_a");
    store.create_endpoint(&a, 2).await.unwrap();
    assert_conflict(
        store.create_endpoint(&endpoint(&t, "ep_c"), 2).await,
        "over the limit",
    );
    store
        .create_endpoint(&endpoint(&t, "ep_c"), 3)
        .await
        .unwrap();
    let listed = store.list_endpoints(&t).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["ep_a", "ep_b", "ep_c"]);
    assert_eq!(listed[0], a);
    assert_eq!(store.get_endpoint(&t, "ep_b").await.unwrap(), Some(b));
    assert_eq!(store.get_endpoint(&t, "ep_x").await.unwrap(), None);
    assert!(
        store
            .list_endpoints(&unique_tenant("none"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// `update_endpoint` replaces the endpoint only if it was last updated at the given time.
pub async fn update_endpoint_is_an_optimistic_lock<
    S: TenantWrite + EndpointRead + EndpointWrite + ?Sized,
>(
    store: &S,
) {
    let t = unique_tenant("ep-update");
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    let ep = endpoint(&t, "ep_1");
    store.create_endpoint(&ep, 10).await.unwrap();
    let changed = Endpoint {
        url: "https://example.com/v2".into(),
        description: Some("second".into()),
        updated_at: T0 + 10,
        ..ep.clone()
    };
    assert_conflict(
        store.update_endpoint(&changed, T0 - 1).await,
        "stale updated_at",
    );
    assert_eq!(store.get_endpoint(&t, "ep_1").await.unwrap(), Some(ep));
    store.update_endpoint(&changed, T0).await.unwrap();
    assert_eq!(
        store.get_endpoint(&t, "ep_1").await.unwrap(),
        Some(changed.clone())
    );
    assert_conflict(
        store.update_endpoint(&changed, T0).await,
        "the same expected time twice",
    );
    let missing = endpoint(&t, "ep_missing");
    assert_conflict(store.update_endpoint(&missing, T0).await, "missing");
    assert_eq!(store.get_endpoint(&t, "ep_missing").await.unwrap(), None);
}

/// `delete_endpoint` frees a place under the limit and answers Conflict when absent.
pub async fn delete_endpoint_frees_the_limit<
    S: TenantWrite + EndpointRead + EndpointWrite + ?Sized,
>(
    store: &S,
) {
    let t = unique_tenant("ep-delete");
    assert_conflict(store.delete_endpoint(&t, "ep_1").await, "no tenant");
    store.put_tenant(&tenant(&t, 1), true).await.unwrap();
    assert_conflict(store.delete_endpoint(&t, "ep_1").await, "no endpoint");
    store
        .create_endpoint(&endpoint(&t, "ep_1"), 1)
        .await
        .unwrap();
    assert_conflict(
        store.create_endpoint(&endpoint(&t, "ep_2"), 1).await,
        "full",
    );
    store.delete_endpoint(&t, "ep_1").await.unwrap();
    assert_eq!(store.get_endpoint(&t, "ep_1").await.unwrap(), None);
    assert_conflict(store.delete_endpoint(&t, "ep_1").await, "deleted twice");
    store
        .create_endpoint(&endpoint(&t, "ep_2"), 1)
        .await
        .unwrap();
    assert_eq!(store.list_endpoints(&t).await.unwrap().len(), 1);
}

/// `disable_endpoint` disables an enabled endpoint, saying why and when; Conflict otherwise.
pub async fn disable_endpoint_only_when_enabled<
    S: TenantWrite + EndpointRead + EndpointWrite + EndpointHealth + ?Sized,
>(
    store: &S,
) {
    let t = unique_tenant("ep-disable");
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    assert_conflict(
        store.disable_endpoint(&t, "ep_1", "gone", T0).await,
        "missing",
    );
    assert_eq!(store.get_endpoint(&t, "ep_1").await.unwrap(), None);
    let ep = endpoint(&t, "ep_1");
    store.create_endpoint(&ep, 10).await.unwrap();
    let reason = "receiver answered 410 Gone";
    store
        .disable_endpoint(&t, "ep_1", reason, T0 + 5)
        .await
        .unwrap();
    let expected = Endpoint {
        enabled: false,
        disabled_reason: Some(reason.into()),
        disabled_at: Some(T0 + 5),
        updated_at: T0 + 5,
        ..ep
    };
    assert_eq!(
        store.get_endpoint(&t, "ep_1").await.unwrap(),
        Some(expected.clone())
    );
    assert_conflict(
        store.disable_endpoint(&t, "ep_1", "again", T0 + 9).await,
        "already disabled",
    );
    assert_eq!(
        store.get_endpoint(&t, "ep_1").await.unwrap(),
        Some(expected)
    );
}

/// `mark_failing` keeps the first time and returns it (Conflict when the endpoint is
/// missing); `clear_failing` removes it and never fails for a missing clock or endpoint.
pub async fn failing_clock_marks_once_and_clears<
    S: TenantWrite + EndpointRead + EndpointWrite + EndpointHealth + ?Sized,
>(
    store: &S,
) {
    let t = unique_tenant("ep-failing");
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    assert_conflict(store.mark_failing(&t, "ep_1", T0).await, "missing");
    store.clear_failing(&t, "ep_1").await.unwrap();
    assert_eq!(store.get_endpoint(&t, "ep_1").await.unwrap(), None);
    let ep = endpoint(&t, "ep_1");
    store.create_endpoint(&ep, 10).await.unwrap();
    store.clear_failing(&t, "ep_1").await.unwrap();
    assert_eq!(
        store.mark_failing(&t, "ep_1", T0 + 1).await.unwrap(),
        T0 + 1
    );
    assert_eq!(
        store.mark_failing(&t, "ep_1", T0 + 2).await.unwrap(),
        T0 + 1
    );
    let stored = store.get_endpoint(&t, "ep_1").await.unwrap().unwrap();
    assert_eq!(stored.failing_since, Some(T0 + 1));
    assert_eq!(stored.updated_at, ep.updated_at);
    store.clear_failing(&t, "ep_1").await.unwrap();
    assert_eq!(store.get_endpoint(&t, "ep_1").await.unwrap(), Some(ep));
    assert_eq!(
        store.mark_failing(&t, "ep_1", T0 + 3).await.unwrap(),
        T0 + 3
    );
}

// ---------- API keys ----------

pub fn api_key(tenant_id: &str, id: &str, hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        key_sha256: hash.to_owned(),
        created_at: T0,
    }
}

/// Keys are found by hash, refused twice (same hash or same id), deleted by tenant and id
/// (Conflict when that tenant has no such key).
pub async fn api_keys_put_find_delete<S: ApiKeys + ?Sized>(store: &S) {
    let t = unique_tenant("keys");
    let other = unique_tenant("keys-other");
    let k = api_key(&t, "key_1", &format!("{t}-h1"));
    assert_eq!(store.find_api_key(&k.key_sha256).await.unwrap(), None);
    store.put_api_key(&k).await.unwrap();
    assert_eq!(
        store.find_api_key(&k.key_sha256).await.unwrap(),
        Some(k.clone())
    );
    assert_conflict(store.put_api_key(&k).await, "same key twice");
    let same_hash = api_key(&t, "key_2", &k.key_sha256);
    assert_conflict(store.put_api_key(&same_hash).await, "same hash");
    let same_id = api_key(&t, "key_1", &format!("{t}-h2"));
    assert_conflict(store.put_api_key(&same_id).await, "same id");
    assert_eq!(store.find_api_key(&same_id.key_sha256).await.unwrap(), None);
    assert_conflict(
        store.delete_api_key(&other, "key_1").await,
        "another tenant's key",
    );
    assert_eq!(
        store.find_api_key(&k.key_sha256).await.unwrap(),
        Some(k.clone())
    );
    store.delete_api_key(&t, "key_1").await.unwrap();
    assert_eq!(store.find_api_key(&k.key_sha256).await.unwrap(), None);
    assert_conflict(store.delete_api_key(&t, "key_1").await, "deleted twice");
    store.put_api_key(&same_id).await.unwrap();
    assert_eq!(
        store.find_api_key(&same_id.key_sha256).await.unwrap(),
        Some(same_id)
    );
}

// ---------- idempotency ----------

/// The first claim wins for 24 h (later ones see the record, with the response once it is
/// complete); a released key or one older than the window can be claimed again; keys are
/// per tenant.
pub async fn idempotency_claim_complete_release<S: Idempotency + ?Sized>(store: &S) {
    let t = unique_tenant("idem");
    let now = now_millis();
    assert_eq!(store.get_idempotency(&t, "job-1").await.unwrap(), None);
    assert_eq!(
        store.claim_idempotency(&t, "job-1", now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    let first = store.get_idempotency(&t, "job-1").await.unwrap().unwrap();
    assert_eq!(
        (first.tenant_id.as_str(), first.key.as_str()),
        (t.as_str(), "job-1")
    );
    assert_eq!(first.response, None);
    assert_eq!(first.created_at, now);
    assert_eq!(first.expires_at, (now + IDEMPOTENCY_WINDOW_MS) / 1000);
    assert_eq!(
        store.claim_idempotency(&t, "job-1", now + 1).await.unwrap(),
        IdempotencyClaim::Existing(first.clone())
    );
    store
        .complete_idempotency(&t, "job-1", r#"{"status":202}"#)
        .await
        .unwrap();
    let done = store.get_idempotency(&t, "job-1").await.unwrap().unwrap();
    assert_eq!(done.response.as_deref(), Some(r#"{"status":202}"#));
    let at_window_end = now + IDEMPOTENCY_WINDOW_MS;
    assert_eq!(
        store
            .claim_idempotency(&t, "job-1", at_window_end)
            .await
            .unwrap(),
        IdempotencyClaim::Existing(done)
    );
    let other = unique_tenant("idem-other");
    assert_eq!(
        store.claim_idempotency(&other, "job-1", now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency(&t, "job-1", at_window_end + 1)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    let renewed = store.get_idempotency(&t, "job-1").await.unwrap().unwrap();
    assert_eq!(
        (renewed.created_at, renewed.response),
        (at_window_end + 1, None)
    );
    store.release_idempotency(&t, "job-1").await.unwrap();
    assert_eq!(store.get_idempotency(&t, "job-1").await.unwrap(), None);
    store.release_idempotency(&t, "job-1").await.unwrap();
    assert_eq!(
        store.claim_idempotency(&t, "job-1", now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
}

// ---------- events ----------

/// `put_event` writes the event and every delivery (more than one batch of 25 here);
/// `list_event_deliveries` returns that event's deliveries (one-off ones too) by id.
pub async fn events_and_their_deliveries<S: EventWrite + EventRead + DeliveryRead + ?Sized>(
    store: &S,
) {
    let t = unique_tenant("events");
    let e = event(&t, "evt_1");
    let mut ds: Vec<DeliveryRecord> = (0..30)
        .map(|i| delivery(&t, "evt_1", Some("ep_1"), T0 + 29 - i, 0))
        .collect();
    ds.push(delivery(&t, "evt_1", None, T0 + 100, 0));
    store.put_event(&e, &ds).await.unwrap();
    store
        .put_event(
            &event(&t, "evt_2"),
            &[delivery(&t, "evt_2", Some("ep_1"), T0 + 200, 0)],
        )
        .await
        .unwrap();
    assert_eq!(store.get_event(&t, "evt_1").await.unwrap(), Some(e));
    assert_eq!(store.get_event(&t, "evt_9").await.unwrap(), None);
    assert_eq!(
        store.get_delivery(&t, &ds[30].id).await.unwrap(),
        Some(ds[30].clone())
    );
    let mut expected = ds.clone();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        store.list_event_deliveries(&t, "evt_1").await.unwrap(),
        expected
    );
    assert_eq!(
        store
            .list_event_deliveries(&t, "evt_2")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .list_event_deliveries(&t, "evt_9")
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------- a delivery and its attempts ----------

/// A delivery reads back as written; its attempts come in number order; `get_attempt` finds
/// one attempt by number.
pub async fn get_delivery_and_attempts<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "attempts").await;
    let t = d.tenant_id.clone();
    assert_eq!(
        store.get_delivery(&t, &d.id).await.unwrap(),
        Some(d.clone())
    );
    assert_eq!(store.get_delivery(&t, "dlv_missing").await.unwrap(), None);
    assert!(store.get_attempts(&t, &d.id).await.unwrap().is_empty());
    let mut recorded = Vec::new();
    for number in 1..=3 {
        store
            .claim(&d_at(&d, number - 1), "w", T0, T0 + 1, false)
            .await
            .unwrap();
        let a = attempt(&d.id, number, false);
        store
            .record_attempt(&t, &a, &retry_at(T0 + 9), "w")
            .await
            .unwrap();
        recorded.push(a);
    }
    assert_eq!(store.get_attempts(&t, &d.id).await.unwrap(), recorded);
    assert_eq!(
        store.get_attempt(&t, &d.id, 2).await.unwrap(),
        Some(recorded[1].clone())
    );
    assert_eq!(store.get_attempt(&t, &d.id, 4).await.unwrap(), None);
    assert!(
        store
            .get_attempts(&t, "dlv_missing")
            .await
            .unwrap()
            .is_empty()
    );
}

/// The delivery as a worker would hold it after `count` attempts.
fn d_at(d: &DeliveryRecord, count: u32) -> DeliveryRecord {
    DeliveryRecord {
        attempt_count: count,
        ..d.clone()
    }
}

// ---------- the lease ----------

/// A scheduled claim needs a pending delivery with exactly `attempt_count` attempts and no
/// unexpired lease (whoever holds it, even the same owner; a lease ending exactly now is still
/// live); a manual claim may follow any status. A missing delivery cannot be claimed.
pub async fn claim_requires_pending_exact_count_and_no_live_lease<
    S: TenantWrite + EventWrite + DeliveryRead + AttemptLog + DeliveryControl + ?Sized,
>(
    store: &S,
) {
    let d = one_delivery(store, "claim").await;
    let t = d.tenant_id.clone();
    assert_conflict(
        store.claim(&d_at(&d, 1), "a", T0, T0 + 30, false).await,
        "count",
    );
    store.claim(&d, "a", T0, T0 + 30, false).await.unwrap();
    let held = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(
        (held.lease_owner.as_deref(), held.lease_until),
        (Some("a"), Some(T0 + 30))
    );
    assert_eq!(
        held,
        DeliveryRecord {
            lease_owner: Some("a".into()),
            lease_until: Some(T0 + 30),
            ..d.clone()
        }
    );
    assert_conflict(
        store.claim(&d, "b", T0 + 10, T0 + 40, false).await,
        "live lease",
    );
    assert_conflict(
        store.claim(&d, "a", T0 + 10, T0 + 40, false).await,
        "own live lease",
    );
    assert_conflict(
        store.claim(&d, "b", T0 + 30, T0 + 60, true).await,
        "lease ends now",
    );
    store.claim(&d, "b", T0 + 31, T0 + 60, false).await.unwrap();
    let held = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(held.lease_owner.as_deref(), Some("b"));

    let missing = DeliveryRecord {
        id: delivery_id(T0, 99),
        ..d.clone()
    };
    assert_conflict(
        store.claim(&missing, "a", T0, T0 + 1, false).await,
        "missing",
    );
    assert_conflict(
        store.claim(&missing, "a", T0, T0 + 1, true).await,
        "missing, manual",
    );
    assert_eq!(store.get_delivery(&t, &missing.id).await.unwrap(), None);

    // Ended deliveries: only a manual claim.
    for end in [DeliveryStatus::Failed, DeliveryStatus::Delivered] {
        let e = one_delivery(store, "claim-ended").await;
        store.claim(&e, "w", T0, T0 + 1, false).await.unwrap();
        let a = attempt(&e.id, 1, false);
        let update = DeliveryUpdate {
            status: end,
            next_attempt_at: None,
            last_error: None,
        };
        store
            .record_attempt(&e.tenant_id, &a, &update, "w")
            .await
            .unwrap();
        let ended = d_at(&e, 1);
        assert_conflict(
            store.claim(&ended, "m", T0 + 5, T0 + 9, false).await,
            "ended",
        );
        store
            .claim(&ended, "m", T0 + 5, T0 + 9, true)
            .await
            .unwrap();
        let held = store
            .get_delivery(&e.tenant_id, &e.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((held.status, held.lease_owner.as_deref()), (end, Some("m")));
    }
}

/// `record_attempt` writes attempt n (Conflict if one of that number exists) and then moves
/// the delivery on if the owner holds it; an attempt recorded by a worker that lost its lease
/// stays recorded, and the holder carries it forward with `advance_delivery`.
pub async fn record_attempt_conflicts_on_duplicate_number_and_foreign_owner<S: Store + ?Sized>(
    store: &S,
) {
    let d = one_delivery(store, "record").await;
    let t = d.tenant_id.clone();
    let a1 = attempt(&d.id, 1, false);
    assert_conflict(
        store
            .record_attempt(&t, &a1, &retry_at(T0 + 5_000), "a")
            .await,
        "no lease",
    );
    assert_eq!(
        store.get_attempt(&t, &d.id, 1).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(
        store.get_delivery(&t, &d.id).await.unwrap(),
        Some(d.clone())
    );

    store.claim(&d, "a", T0, T0 + 30, false).await.unwrap();
    assert_conflict(
        store
            .record_attempt(&t, &a1, &retry_at(T0 + 5_000), "a")
            .await,
        "duplicate",
    );
    assert_conflict(
        store
            .advance_delivery(&t, &a1, &retry_at(T0 + 5_000), "b")
            .await,
        "not the owner",
    );
    store
        .advance_delivery(&t, &a1, &retry_at(T0 + 5_000), "a")
        .await
        .unwrap();
    let moved = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    let expected = DeliveryRecord {
        attempt_count: 1,
        next_attempt_at: Some(T0 + 5_000),
        last_error: Some("receiver answered HTTP 503".into()),
        updated_at: a1.started_at + 120,
        ..d.clone()
    };
    assert_eq!(moved, expected);
    assert_conflict(
        store
            .advance_delivery(&t, &a1, &retry_at(T0 + 6_000), "a")
            .await,
        "lease gone",
    );

    store
        .claim(&moved, "b", T0 + 40, T0 + 70, false)
        .await
        .unwrap();
    let a2 = attempt(&d.id, 2, false);
    assert_conflict(
        store.record_attempt(&t, &a2, &delivered(), "a").await,
        "other owner",
    );
    assert_eq!(
        store.get_attempts(&t, &d.id).await.unwrap(),
        vec![a1, a2.clone()]
    );
    let still = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(
        (still.attempt_count, still.lease_owner.as_deref()),
        (1, Some("b"))
    );
    let a3 = attempt(&d.id, 3, false);
    assert_conflict(
        store.record_attempt(&t, &a3, &delivered(), "b").await,
        "skips a number",
    );
    store
        .advance_delivery(&t, &a2, &delivered(), "b")
        .await
        .unwrap();
    let done = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    let expected = DeliveryRecord {
        status: DeliveryStatus::Delivered,
        attempt_count: 2,
        next_attempt_at: None,
        last_error: None,
        updated_at: a2.started_at + 120,
        ..d
    };
    assert_eq!(done, expected);
}

/// `advance_delivery` sets count, status, next time and error (absent ones removed), ends the
/// lease, and a manual attempt adds one to `retry_base` (it takes no place in the schedule).
pub async fn advance_delivery_and_manual_attempts<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "advance").await;
    let t = d.tenant_id.clone();
    store.claim(&d, "w", T0, T0 + 30, false).await.unwrap();
    let a1 = attempt(&d.id, 1, false);
    store
        .record_attempt(&t, &a1, &retry_at(T0 + 9_000), "w")
        .await
        .unwrap();
    let after_1 = d_at(&d, 1);
    store
        .claim(&after_1, "m", T0 + 40, T0 + 70, true)
        .await
        .unwrap();
    let a2 = attempt(&d.id, 2, true);
    store
        .record_attempt(&t, &a2, &retry_at(T0 + 9_000), "m")
        .await
        .unwrap();
    let stored = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.attempt_count,
            stored.retry_base,
            stored.next_attempt_at
        ),
        (2, 1, Some(T0 + 9_000))
    );
    assert_eq!((stored.lease_owner, stored.lease_until), (None, None));
    let after_2 = d_at(&d, 2);
    store
        .claim(&after_2, "m", T0 + 80, T0 + 99, true)
        .await
        .unwrap();
    let a3 = attempt(&d.id, 3, true);
    let failed = DeliveryUpdate {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        last_error: Some("gave up".into()),
    };
    store.record_attempt(&t, &a3, &failed, "m").await.unwrap();
    let stored = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    let expected = DeliveryRecord {
        status: DeliveryStatus::Failed,
        attempt_count: 3,
        retry_base: 2,
        next_attempt_at: None,
        last_error: Some("gave up".into()),
        updated_at: a3.started_at + 120,
        ..d
    };
    assert_eq!(stored, expected);
}

// ---------- an endpoint's deliveries ----------

/// Newest first, `status` as a filter, pages cut at `limit` (at least 1) with `next_after`
/// only when more follow, and a cursor that continues exactly after the last one returned.
pub async fn list_endpoint_deliveries_newest_first_with_cursor<
    S: TenantWrite + EventWrite + DeliveryRead + DeliveryControl + ?Sized,
>(
    store: &S,
) {
    let (t, ds) = seeded(store, "list", |t| {
        let mut ds: Vec<DeliveryRecord> = (0..40)
            .map(|i| delivery(t, "evt_1", Some("ep_1"), T0 + i, 0))
            .collect();
        ds.push(delivery(t, "evt_1", Some("ep_2"), T0 + 500, 0));
        ds.push(delivery(t, "evt_1", None, T0 + 501, 0));
        ds
    })
    .await;
    let failed: Vec<&DeliveryRecord> = ds[..40]
        .iter()
        .filter(|d| (d.created_at - T0) % 7 == 0)
        .collect();
    for d in &failed {
        store
            .fail_delivery(&t, &d.id, "gone", T0 + 999)
            .await
            .unwrap();
    }
    let newest_first: Vec<String> = ds[..40].iter().rev().map(|d| d.id.clone()).collect();
    let t = t.as_str();
    let walk = |status: Option<DeliveryStatus>, limit: usize| async move {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .list_endpoint_deliveries(t, "ep_1", status, limit, after.as_deref())
                .await
                .unwrap();
            assert!(page.deliveries.len() <= limit.max(1));
            seen.extend(page.deliveries.iter().map(|d| d.id.clone()));
            match page.next_after {
                Some(next) => {
                    assert_eq!(Some(&next), page.deliveries.last().map(|d| &d.id));
                    after = Some(next);
                }
                None => return seen,
            }
        }
    };
    assert_eq!(walk(None, 7).await, newest_first);
    assert_eq!(walk(None, 40).await, newest_first);
    assert_eq!(walk(None, 0).await, newest_first);
    let failed_ids: Vec<String> = failed.iter().rev().map(|d| d.id.clone()).collect();
    assert_eq!(walk(Some(DeliveryStatus::Failed), 2).await, failed_ids);
    assert_eq!(
        walk(Some(DeliveryStatus::Delivered), 5).await,
        Vec::<String>::new()
    );
    let page = store
        .list_endpoint_deliveries(&t, "ep_1", None, 40, None)
        .await
        .unwrap();
    assert_eq!(page.next_after, None);
    assert_eq!(page.deliveries[0], ds[39]);
    let page = store
        .list_endpoint_deliveries(
            &t,
            "ep_1",
            Some(DeliveryStatus::Pending),
            3,
            Some(&ds[10].id),
        )
        .await
        .unwrap();
    let ids: Vec<&str> = page.deliveries.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [ds[9].id.as_str(), ds[8].id.as_str(), ds[6].id.as_str()]
    );
    assert_eq!(page.next_after.as_deref(), Some(ds[6].id.as_str()));
    let other = store
        .list_endpoint_deliveries(&t, "ep_2", None, 10, None)
        .await
        .unwrap();
    assert_eq!(
        (other.deliveries, other.next_after),
        (vec![ds[40].clone()], None)
    );
}

/// `failed_deliveries_between` finds the endpoint's failed deliveries created in the window,
/// both ends included, oldest first.
pub async fn failed_deliveries_between_includes_both_bounds<
    S: TenantWrite + EventWrite + DeliveryRead + DeliveryControl + ?Sized,
>(
    store: &S,
) {
    let (t, ds) = seeded(store, "window", |t| {
        [999, 1_000, 2_000, 2_000, 3_000, 3_001]
            .into_iter()
            .enumerate()
            .map(|(i, ms)| delivery(t, "evt_1", Some("ep_1"), T0 + ms, i as u128))
            .chain([delivery(t, "evt_1", Some("ep_2"), T0 + 2_000, 9)])
            .collect()
    })
    .await;
    for (i, d) in ds.iter().enumerate() {
        if i != 3 {
            store
                .fail_delivery(&t, &d.id, "gone", T0 + 5_000)
                .await
                .unwrap();
        }
    }
    let found = store
        .failed_deliveries_between(&t, "ep_1", T0 + 1_000, T0 + 3_000)
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [ds[1].id.as_str(), ds[2].id.as_str(), ds[4].id.as_str()]
    );
    assert_eq!(found[0].status, DeliveryStatus::Failed);
    let one_ms = store
        .failed_deliveries_between(&t, "ep_1", T0 + 3_001, T0 + 3_001)
        .await
        .unwrap();
    assert_eq!(one_ms.len(), 1);
    assert!(
        store
            .failed_deliveries_between(&t, "ep_1", T0 + 4_000, T0 + 9_000)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------- ending and restarting ----------

/// `fail_delivery` ends a pending delivery (reason kept; schedule and lease removed);
/// Conflict for one that is not pending or missing.
pub async fn fail_delivery_only_pending<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "fail").await;
    let t = d.tenant_id.clone();
    store.claim(&d, "w", T0, T0 + 30, false).await.unwrap();
    store
        .fail_delivery(&t, &d.id, "endpoint deleted", T0 + 7)
        .await
        .unwrap();
    let expected = DeliveryRecord {
        status: DeliveryStatus::Failed,
        last_error: Some("endpoint deleted".into()),
        next_attempt_at: None,
        updated_at: T0 + 7,
        ..d.clone()
    };
    assert_eq!(
        store.get_delivery(&t, &d.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_conflict(
        store.fail_delivery(&t, &d.id, "again", T0 + 8).await,
        "failed",
    );
    assert_eq!(store.get_delivery(&t, &d.id).await.unwrap(), Some(expected));
    assert_conflict(
        store.fail_delivery(&t, "dlv_missing", "x", T0).await,
        "missing",
    );
    assert_eq!(store.get_delivery(&t, "dlv_missing").await.unwrap(), None);

    let e = one_delivery(store, "fail-delivered").await;
    store.claim(&e, "w", T0, T0 + 30, false).await.unwrap();
    let a = attempt(&e.id, 1, false);
    store
        .record_attempt(&e.tenant_id, &a, &delivered(), "w")
        .await
        .unwrap();
    assert_conflict(
        store.fail_delivery(&e.tenant_id, &e.id, "x", T0).await,
        "delivered",
    );
}

/// `restart_delivery` puts a failed delivery back to pending with its schedule restarted
/// (`retry_base` = attempts made; no next time, error or lease); Conflict unless failed.
pub async fn restart_delivery_only_failed<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "restart").await;
    let t = d.tenant_id.clone();
    assert_conflict(store.restart_delivery(&d, T0).await, "pending");
    store.claim(&d, "w", T0, T0 + 30, false).await.unwrap();
    for number in 1..=2 {
        if number == 2 {
            store
                .claim(&d_at(&d, 1), "w", T0 + 40, T0 + 70, false)
                .await
                .unwrap();
        }
        let update = DeliveryUpdate {
            status: if number == 2 {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Pending
            },
            next_attempt_at: (number == 1).then_some(T0 + 35),
            last_error: Some("receiver answered HTTP 503".into()),
        };
        store
            .record_attempt(&t, &attempt(&d.id, number, false), &update, "w")
            .await
            .unwrap();
    }
    store.restart_delivery(&d, T0 + 100).await.unwrap();
    let expected = DeliveryRecord {
        status: DeliveryStatus::Pending,
        attempt_count: 2,
        retry_base: 2,
        next_attempt_at: None,
        last_error: None,
        updated_at: T0 + 100,
        ..d.clone()
    };
    assert_eq!(store.get_delivery(&t, &d.id).await.unwrap(), Some(expected));
    assert_conflict(
        store.restart_delivery(&d, T0 + 101).await,
        "restarted twice",
    );
    store
        .claim(&d_at(&d, 2), "w", T0 + 200, T0 + 230, false)
        .await
        .unwrap();
    let missing = DeliveryRecord {
        id: delivery_id(T0, 77),
        ..d
    };
    assert_conflict(store.restart_delivery(&missing, T0).await, "missing");
    assert_eq!(store.get_delivery(&t, &missing.id).await.unwrap(), None);
}

pub async fn ping_answers<S: Ping + ?Sized>(store: &S) {
    store.ping().await.unwrap();
}

/// Every check, one after the other, on one store.
pub async fn run_all<S: Store + ?Sized>(store: &S) {
    tenant_create_conflicts_when_it_exists(store).await;
    tenant_update_keeps_secret_and_endpoint_count(store).await;
    create_endpoint_respects_max_endpoints(store).await;
    update_endpoint_is_an_optimistic_lock(store).await;
    delete_endpoint_frees_the_limit(store).await;
    disable_endpoint_only_when_enabled(store).await;
    failing_clock_marks_once_and_clears(store).await;
    api_keys_put_find_delete(store).await;
    idempotency_claim_complete_release(store).await;
    events_and_their_deliveries(store).await;
    get_delivery_and_attempts(store).await;
    claim_requires_pending_exact_count_and_no_live_lease(store).await;
    record_attempt_conflicts_on_duplicate_number_and_foreign_owner(store).await;
    advance_delivery_and_manual_attempts(store).await;
    list_endpoint_deliveries_newest_first_with_cursor(store).await;
    failed_deliveries_between_includes_both_bounds(store).await;
    fail_delivery_only_pending(store).await;
    restart_delivery_only_failed(store).await;
    ping_answers(store).await;
}

#[cfg(test)]
mod memory_store {
    use super::*;
    use crate::adapters::memory::MemoryStore;

    macro_rules! on_memory {
        ($($check:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $check() {
                super::$check(&MemoryStore::new()).await;
            }
        )*};
    }

    on_memory!(
        tenant_create_conflicts_when_it_exists,
        tenant_update_keeps_secret_and_endpoint_count,
        create_endpoint_respects_max_endpoints,
        update_endpoint_is_an_optimistic_lock,
        delete_endpoint_frees_the_limit,
        disable_endpoint_only_when_enabled,
        failing_clock_marks_once_and_clears,
        api_keys_put_find_delete,
        idempotency_claim_complete_release,
        events_and_their_deliveries,
        get_delivery_and_attempts,
        claim_requires_pending_exact_count_and_no_live_lease,
        record_attempt_conflicts_on_duplicate_number_and_foreign_owner,
        advance_delivery_and_manual_attempts,
        list_endpoint_deliveries_newest_first_with_cursor,
        failed_deliveries_between_includes_both_bounds,
        fail_delivery_only_pending,
        restart_delivery_only_failed,
        ping_answers,
    );

    #[tokio::test]
    async fn all_checks_share_one_store() {
        let store = MemoryStore::new();
        run_all(&store).await;
        run_all(&store).await;
    }

    #[tokio::test]
    async fn all_checks_run_on_a_dyn_store() {
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(MemoryStore::new());
        run_all(store.as_ref()).await;
    }
}
