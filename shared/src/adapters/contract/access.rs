// shape: test support (part of the store contract)
//! API keys and idempotency keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::clock::now_millis;
use crate::ports::store::{
    ApiKeys, IDEMPOTENCY_WINDOW_MS, Idempotency, IdempotencyClaim, StoreError,
};

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

/// The first claim wins for 24 h (later ones see the record, with the response once it is
/// complete); a released key or one older than the window can be claimed again; keys are
/// per tenant.
pub async fn idempotency_claim_complete_release<S: Idempotency + ?Sized>(store: &S) {
    let t = unique_tenant("idem");
    let now = now_millis();
    assert_eq!(store.get_idempotency(&t, "job-1").await.unwrap(), None);
    assert_eq!(
        store
            .claim_idempotency(&t, "job-1", now, None)
            .await
            .unwrap(),
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
        store
            .claim_idempotency(&t, "job-1", now + 1, None)
            .await
            .unwrap(),
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
            .claim_idempotency(&t, "job-1", at_window_end, None)
            .await
            .unwrap(),
        IdempotencyClaim::Existing(done)
    );
    let other = unique_tenant("idem-other");
    assert_eq!(
        store
            .claim_idempotency(&other, "job-1", now, None)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency(&t, "job-1", at_window_end + 1, None)
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
        store
            .claim_idempotency(&t, "job-1", now, None)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    // A claim can start with a response; a take-over replaces it only if it is unchanged.
    assert_eq!(
        store
            .claim_idempotency(&t, "job-2", now, Some("working"))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    let held = store.get_idempotency(&t, "job-2").await.unwrap().unwrap();
    assert_eq!(held.response.as_deref(), Some("working"));
    assert!(matches!(
        store
            .replace_idempotency_response(&t, "job-2", "stale", "mine")
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .replace_idempotency_response(&t, "job-2", "working", "mine")
        .await
        .unwrap();
    let taken = store.get_idempotency(&t, "job-2").await.unwrap().unwrap();
    assert_eq!(
        (taken.response.as_deref(), taken.created_at),
        (Some("mine"), now)
    );
    assert!(matches!(
        store
            .replace_idempotency_response(&t, "job-3", "working", "mine")
            .await,
        Err(StoreError::Conflict)
    ));
}
