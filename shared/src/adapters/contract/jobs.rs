// shape: test support (part of the store contract)
//! Jobs (JobStore), the window pages jobs read (DeliveryRead::window_page) and the reconcile
//! index (Reconcile): which writes put a delivery on it and take it off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::job::{JobKind, JobRecord, JobStatus};
use crate::domain::model::DeliveryStatus;
use crate::ports::store::{Reconcile, Store};

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
        let mut es: Vec<_> = (0..9)
            .map(|i| event_at(t, T0 + i, &["ep_1"], None))
            .collect();
        es.push(event_at(t, T0 + 50, &["ep_1"], None)); // outside the window
        es.push(event_at(t, T0 + 3, &["ep_2"], None)); // another endpoint
        es
    })
    .await;
    let mut recorded = Vec::new();
    for (i, d) in ds.iter().enumerate() {
        let update = if i == 4 { failed() } else { retry_at(T0) };
        recorded.push(attempted(store, d, &update).await);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .window_page(&t, "ep_1", (T0, T0 + 8), after.as_deref(), 4)
            .await
            .unwrap();
        assert!(page.deliveries.len() <= 4);
        seen.extend(page.deliveries);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, recorded[..9].to_vec());
    assert_eq!(seen[4].status, DeliveryStatus::Failed);
}

/// The reconciler's lease is held by one run at a time; a minute's events with deliveries
/// that have nothing recorded are found, and only those deliveries.
pub async fn reconcile_finds_unrecorded_deliveries_by_minute<S: Store + ?Sized>(store: &S) {
    // A minute of its own, far from other checks' events (T0 is shared).
    let base = T0 - 1_000 * 60_000 - (rand::random::<u32>() % 100_000) as i64 * 60_000;
    let minute = crate::domain::reconcile::minute_of(base);
    let (t, ds) = seeded(store, "reconcile", |t| {
        vec![
            event_at(
                t,
                base + 1,
                &["ep_1", "ep_2"],
                Some("https://once.example/"),
            ),
            event_at(t, base + 2, &["ep_1"], None),
            event_at(t, base + 60_000, &["ep_1"], None), // the next minute
        ]
    })
    .await;
    attempted(store, &ds[0], &delivered()).await; // recorded: not returned
    store
        .fail_delivery(&ds[3], "not enqueued", base)
        .await
        .unwrap(); // recorded too
    let found = store.unrecorded_in_minute(minute).await.unwrap();
    let mine: Vec<_> = found.iter().filter(|u| u.event.tenant_id == t).collect();
    assert_eq!(mine.len(), 1, "the second event has nothing unrecorded");
    let ids: Vec<&str> = mine[0].deliveries.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [ds[1].id.as_str(), ds[2].id.as_str()]);
    assert_eq!(mine[0].deliveries[1].url, "https://once.example/");
    assert_eq!(mine[0].deliveries[0].endpoint_id.as_deref(), Some("ep_2"));
    let next = store.unrecorded_in_minute(minute + 1).await.unwrap();
    assert_eq!(next.iter().filter(|u| u.event.tenant_id == t).count(), 1);
}

/// Two runs at once: the second cannot take the lease until the first's expires or is released.
pub async fn reconcile_lease_is_held_once<S: Reconcile + ?Sized>(store: &S) {
    // The cursor is shared by the whole table: wait out any lease a previous check left.
    let now = crate::domain::clock::now_millis() + 10 * 60_000;
    let _ = store.take_reconcile_lease(now, now + 1_000).await;
    let last = store
        .take_reconcile_lease(now + 2_000, now + 3_000)
        .await
        .unwrap();
    assert_conflict(
        store.take_reconcile_lease(now + 2_500, now + 9_000).await,
        "held",
    );
    let m = last.unwrap_or(0) + 1;
    store.save_reconcile_cursor(m, 0).await.unwrap();
    assert_eq!(
        store.take_reconcile_lease(now + 2_600, 0).await.unwrap(),
        Some(m)
    );
}
