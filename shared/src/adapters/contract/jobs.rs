// shape: test support (part of the store contract)
//! Jobs (JobStore), the window pages jobs read (DeliveryRead::window_page) and the reconcile
//! index (Reconcile): which writes put a delivery on it and take it off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::job::{JobKind, JobRecord, JobStatus};
use crate::domain::model::DeliveryStatus;
use crate::ports::store::{Reconcile, StaleCandidate, Store};

/// A job is created once, read back as written, and saved only from the progress it was read
/// at while it runs (two copies of a job message never both save a page).
pub async fn jobs_create_get_and_save_conditionally<S: Store + ?Sized>(store: &S) {
    let t = unique_tenant("jobs");
    let job = JobRecord::new(&t, "ep_1", JobKind::Recover, (T0, T0 + 10), T0);
    store.create_job(&job).await.unwrap();
    assert_conflict(store.create_job(&job).await, "created twice");
    assert_eq!(store.get_job(&t, &job.id).await.unwrap(), Some(job.clone()));
    assert_eq!(store.get_job("other-tenant", &job.id).await.unwrap(), None);
    let page = job.after_page(100, 3, Some("dlv_x".into()), T0 + 1);
    store.save_job(&page, 0).await.unwrap();
    assert_conflict(store.save_job(&page, 0).await, "same page saved twice");
    let last = page.after_page(2, 0, None, T0 + 2);
    store.save_job(&last, 100).await.unwrap();
    let read = store.get_job(&t, &job.id).await.unwrap().unwrap();
    assert_eq!(
        (read.status, read.done, read.requeued),
        (JobStatus::Done, 102, 3)
    );
    assert_conflict(store.save_job(&last, 102).await, "saved after done");
}

/// A window read page by page, oldest first, every status, each delivery once.
pub async fn window_pages_oldest_first_every_status<S: Store + ?Sized>(store: &S) {
    let (t, ds) = seeded(store, "window", |t| {
        let mut ds: Vec<_> = (0..9)
            .map(|i| delivery(t, "evt_1", Some("ep_1"), T0 + i, 0))
            .collect();
        ds.push(delivery(t, "evt_1", Some("ep_1"), T0 + 50, 0)); // outside the window
        ds.push(delivery(t, "evt_1", Some("ep_2"), T0 + 3, 1)); // another endpoint
        ds
    })
    .await;
    store.fail_delivery(&t, &ds[4].id, "x", T0).await.unwrap();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .window_page(&t, "ep_1", (T0, T0 + 8), after.as_deref(), 4)
            .await
            .unwrap();
        assert!(page.deliveries.len() <= 4);
        seen.extend(page.deliveries.iter().map(|d| d.id.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = ds[..9].iter().map(|d| d.id.clone()).collect();
    assert_eq!(seen, expected);
}

async fn marks_of<S: Reconcile + ?Sized>(store: &S, t: &str) -> Vec<StaleCandidate> {
    let all = store
        .stale_candidates(T0 + 1_000_000, 100_000)
        .await
        .unwrap();
    all.into_iter().filter(|c| c.tenant_id == t).collect()
}

/// A delivery is on the reconcile index exactly while it is pending: written pending (mark =
/// when written), kept through a retry, taken off when failed or delivered, put back by a
/// restart (mark = the restart); a mark moves only from the value it has.
pub async fn reconcile_index_holds_pending_deliveries_only<S: Store + ?Sized>(store: &S) {
    let d = one_delivery(store, "reconcile").await;
    let t = d.tenant_id.clone();
    let mark = |m| StaleCandidate {
        tenant_id: t.clone(),
        delivery_id: d.id.clone(),
        mark: m,
    };
    assert_eq!(marks_of(store, &t).await, vec![mark(T0)]);
    assert!(
        store
            .stale_candidates(T0, 100_000)
            .await
            .unwrap()
            .iter()
            .all(|c| c.tenant_id != t),
        "a mark at T0 is not before T0"
    );
    store.claim(&d, "w", T0, T0 + 30, false).await.unwrap();
    let first = attempt(&d.id, 1, false);
    store
        .record_attempt(&t, &first, &retry_at(T0 + 60), "w")
        .await
        .unwrap();
    assert_eq!(
        marks_of(store, &t).await,
        vec![mark(T0)],
        "a retry leaves the mark"
    );
    store.move_mark(&t, &d.id, T0, T0 + 60).await.unwrap();
    assert_conflict(
        store.move_mark(&t, &d.id, T0, T0 + 90).await,
        "moved from a stale mark",
    );
    assert_eq!(marks_of(store, &t).await, vec![mark(T0 + 60)]);
    store
        .fail_delivery(&t, &d.id, "gone", T0 + 70)
        .await
        .unwrap();
    assert_eq!(marks_of(store, &t).await, vec![]);
    assert_conflict(store.move_mark(&t, &d.id, T0 + 60, T0 + 90).await, "failed");
    let failed = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    store.restart_delivery(&failed, T0 + 100).await.unwrap();
    assert_eq!(marks_of(store, &t).await, vec![mark(T0 + 100)]);
    let again = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(again.status, DeliveryStatus::Pending);
    store
        .claim(&again, "w", T0 + 200, T0 + 230, false)
        .await
        .unwrap();
    let second = attempt(&d.id, 2, false);
    store
        .record_attempt(&t, &second, &delivered(), "w")
        .await
        .unwrap();
    assert_eq!(
        marks_of(store, &t).await,
        vec![],
        "delivered: off the index"
    );
}
