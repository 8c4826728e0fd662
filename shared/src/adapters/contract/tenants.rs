// shape: test support (part of the store contract)
//! Tenants and endpoints: TenantRead/TenantWrite, EndpointRead/EndpointWrite/EndpointHealth.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::{Endpoint, Tenant};
use crate::domain::secret::Secret;
use crate::domain::settings::SettingsPatch;
use crate::ports::store::{
    ApiKeys, EndpointHealth, EndpointRead, EndpointWrite, TenantRead, TenantWrite,
};

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
