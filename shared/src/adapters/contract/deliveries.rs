// shape: test support (part of the store contract)
//! An endpoint's deliveries (DeliveryRead listing) and DeliveryControl (restart, failure).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::{DeliveryRecord, DeliveryStatus};
use crate::ports::store::{
    AttemptLog, DeliveryControl, DeliveryRead, EventWrite, Store, TenantWrite,
};

/// `n` events a millisecond apart, each with one delivery to `ep_1` (and one to `ep_2`), every
/// `ep_1` delivery recorded once (so it is listed), the states `state(i)` says.
async fn recorded_history<S: Store + ?Sized>(
    store: &S,
    label: &str,
    n: usize,
    state: impl Fn(usize) -> crate::ports::store::DeliveryUpdate,
) -> (String, Vec<DeliveryRecord>) {
    let (t, ds) = seeded(store, label, |t| {
        (0..n)
            .map(|i| event_at(t, T0 + i as i64, &["ep_1", "ep_2"], None))
            .collect()
    })
    .await;
    let mut out = Vec::new();
    for (i, d) in ds
        .iter()
        .filter(|d| d.endpoint_id.as_deref() == Some("ep_1"))
        .enumerate()
    {
        out.push(attempted(store, d, &state(i)).await);
    }
    (t, out)
}

/// Newest first, cut at the limit with a cursor that continues exactly after the last one;
/// a status filter; deliveries with nothing recorded are not listed; other endpoints' neither.
pub async fn list_endpoint_deliveries_newest_first_with_cursor<S: Store + ?Sized>(store: &S) {
    let (t, ds) = recorded_history(store, "list", 7, |i| {
        if i % 3 == 0 {
            failed()
        } else {
            retry_at(T0 + 99)
        }
    })
    .await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_endpoint_deliveries(&t, "ep_1", None, 3, after.as_deref())
            .await
            .unwrap();
        assert!(page.deliveries.len() <= 3);
        seen.extend(page.deliveries);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut newest_first = ds.clone();
    newest_first.reverse();
    assert_eq!(
        seen, newest_first,
        "every recorded delivery once, newest first, latest state"
    );
    let failed_only = store
        .list_endpoint_deliveries(&t, "ep_1", Some(DeliveryStatus::Failed), 10, None)
        .await
        .unwrap();
    let ids: Vec<&str> = failed_only
        .deliveries
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [ds[6].id.as_str(), ds[3].id.as_str(), ds[0].id.as_str()]
    );
    assert_eq!(failed_only.next_after, None);
    let none = store
        .list_endpoint_deliveries(&t, "ep_2", None, 10, None)
        .await
        .unwrap();
    assert!(
        none.deliveries.is_empty(),
        "nothing recorded for ep_2: not listed"
    );
    // A delivery with several records is listed once, as its latest.
    let again = attempted(store, &ds[6], &delivered()).await;
    let top = store
        .list_endpoint_deliveries(&t, "ep_1", None, 1, None)
        .await
        .unwrap();
    assert_eq!(top.deliveries, [again]);
    assert_eq!(top.next_after.as_deref(), Some(ds[6].id.as_str()));
}

/// Reading stops at the store's scan budget (set to `budget` by the caller, who built the
/// store): a filter that matches little gives short (even empty) pages whose cursor continues
/// where reading stopped, so a caller walks the history in bounded steps and misses nothing.
pub async fn listing_reads_at_most_its_scan_budget<S: Store + ?Sized>(store: &S, budget: usize) {
    let total = 3 * budget + budget / 2;
    let (t, ds) = recorded_history(store, "budget", total, |i| {
        if i == 0 || i == total / 2 {
            failed()
        } else {
            retry_at(T0)
        }
    })
    .await;
    let mut calls = 0;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        calls += 1;
        let page = store
            .list_endpoint_deliveries(
                &t,
                "ep_1",
                Some(DeliveryStatus::Failed),
                1,
                after.as_deref(),
            )
            .await
            .unwrap();
        assert!(calls <= total / budget + 3, "the walk never ends");
        seen.extend(page.deliveries.iter().map(|d| d.id.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [ds[total / 2].id.clone(), ds[0].id.clone()]);
    assert!(
        calls >= total / budget,
        "each call read at most {budget}: {calls} calls"
    );
    let first = store
        .list_endpoint_deliveries(&t, "ep_1", Some(DeliveryStatus::Failed), 1, None)
        .await
        .unwrap();
    assert!(
        first.deliveries.is_empty(),
        "nothing failed among the newest {budget}"
    );
    assert!(first.next_after.is_some(), "and it says where to go on");
}

/// A failure without an attempt ends a pending delivery only (and only from its latest
/// state); a restart re-opens a failed one only.
pub async fn fail_and_restart_follow_the_latest_state<
    S: TenantWrite + EventWrite + DeliveryRead + DeliveryControl + AttemptLog + ?Sized,
>(
    store: &S,
) {
    let d = one_delivery(store, "control").await;
    let t = d.tenant_id.clone();
    assert_conflict(
        store.restart_delivery(&d, T0).await,
        "restart of a pending one",
    );
    store.fail_delivery(&d, "gone", T0 + 1).await.unwrap();
    assert_conflict(
        store.fail_delivery(&d, "again", T0 + 2).await,
        "stale state",
    );
    let failed = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.seq, failed.last_error.as_deref()),
        (DeliveryStatus::Failed, 1, Some("gone"))
    );
    assert_conflict(
        store.fail_delivery(&failed, "x", T0 + 2).await,
        "fail of a failed one",
    );
    store.restart_delivery(&failed, T0 + 3).await.unwrap();
    assert_conflict(
        store.restart_delivery(&failed, T0 + 4).await,
        "restarted twice",
    );
    let again = store.get_delivery(&t, &d.id).await.unwrap().unwrap();
    assert_eq!(
        (
            again.status,
            again.seq,
            again.restarted_at,
            again.last_error
        ),
        (DeliveryStatus::Pending, 2, Some(T0 + 3), None)
    );
    assert!(
        store.get_attempts(&t, &d.id).await.unwrap().is_empty(),
        "no attempt recorded"
    );
}
