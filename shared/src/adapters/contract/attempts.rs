// shape: test support (part of the store contract)
//! A delivery's attempts and lease: AttemptLog (with DeliveryRead to see the effect).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::{DeliveryRecord, DeliveryStatus};
use crate::ports::store::{
    AttemptLog, DeliveryControl, DeliveryRead, DeliveryUpdate, EventWrite, Store, TenantWrite,
};

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
