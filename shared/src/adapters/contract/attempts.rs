// shape: test support (part of the store contract)
//! The attempt log (AttemptLog): each record is written once, in order, and carries the
//! delivery's state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::DeliveryStatus;
use crate::ports::store::Store;

/// Record n+1 is written once: a second copy of the same attempt gets Conflict and changes
/// nothing; the state read back is the latest record's, attempts come back in order.
pub async fn record_attempt_appends_once<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "append").await;
    let t = d.tenant_id.clone();
    assert_eq!(
        store.delivery_state(&t, Some("ep_1"), &d.id).await.unwrap(),
        None
    );
    let first = attempted(store, &d, &retry_at(T0 + 9)).await;
    let dup = attempt(&d.id, 1, false);
    assert_conflict(
        store.record_attempt(&d, &dup, &delivered()).await,
        "the same record twice",
    );
    let state = store.delivery_state(&t, Some("ep_1"), &d.id).await.unwrap();
    assert_eq!(state.as_ref(), Some(&first));
    assert_eq!(
        (
            first.seq,
            first.attempt_count,
            first.status,
            first.next_attempt_at
        ),
        (1, 1, DeliveryStatus::Pending, Some(T0 + 9))
    );
    assert_eq!(
        store.get_delivery(&t, &d.id).await.unwrap(),
        Some(first.clone())
    );
    // A stale `before` (a copy that read before the first record) cannot write either.
    assert_conflict(
        store
            .record_attempt(&d, &attempt(&d.id, 1, false), &retry_at(T0))
            .await,
        "stale before",
    );
    let second = attempted(store, &first, &delivered()).await;
    let attempts = store.get_attempts(&t, &d.id).await.unwrap();
    let numbers: Vec<u32> = attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(attempts[0], attempt(&d.id, 1, false));
    let read = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(read, second);
    assert_eq!((read.status, read.seq), (DeliveryStatus::Delivered, 2));
}

/// A manual attempt may follow any state and moves the schedule's base; the log of another
/// endpoint holds nothing of the delivery.
pub async fn manual_attempts_and_where_the_log_is<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "manual").await;
    let t = d.tenant_id.clone();
    let done = attempted(store, &d, &delivered()).await;
    let manual = attempt(&d.id, 2, true);
    store
        .record_attempt(&done, &manual, &delivered())
        .await
        .unwrap();
    let read = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!((read.attempt_count, read.retry_base, read.seq), (2, 1, 2));
    assert!(store.get_attempts(&t, &d.id).await.unwrap()[1].manual);
    assert_eq!(
        store.delivery_state(&t, Some("ep_2"), &d.id).await.unwrap(),
        None
    );
    assert_eq!(store.delivery_state(&t, None, &d.id).await.unwrap(), None);
}
