// shape: test support (part of the store contract)
//! An endpoint's deliveries (DeliveryRead's listings) and DeliveryControl.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::{DeliveryRecord, DeliveryStatus};
use crate::ports::store::{
    DeliveryControl, DeliveryRead, DeliveryUpdate, EventWrite, Store, TenantWrite,
};

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
        .list_endpoint_deliveries(t, "ep_1", None, 40, None)
        .await
        .unwrap();
    assert_eq!(page.next_after, None);
    assert_eq!(page.deliveries[0], ds[39]);
    let page = store
        .list_endpoint_deliveries(
            t,
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
        .list_endpoint_deliveries(t, "ep_2", None, 10, None)
        .await
        .unwrap();
    assert_eq!(
        (other.deliveries, other.next_after),
        (vec![ds[40].clone()], None)
    );
}

/// Reading stops at the store's scan budget (set to `budget` by the caller, who built the
/// store): a filter that matches little gives short (even empty) pages whose cursor continues
/// where reading stopped, so a caller walks the history in bounded steps and misses nothing.
pub async fn listing_reads_at_most_its_scan_budget<
    S: TenantWrite + EventWrite + DeliveryRead + DeliveryControl + ?Sized,
>(
    store: &S,
    budget: usize,
) {
    let total = 3 * budget + budget / 2;
    let (t, ds) = seeded(store, "window", |t| {
        (0..total)
            .map(|i| delivery(t, "evt_1", Some("ep_1"), T0 + i as i64, 0))
            .collect()
    })
    .await;
    // The oldest and one in the middle are failed; everything else pending.
    for d in [&ds[0], &ds[total / 2]] {
        store.fail_delivery(&t, &d.id, "gone", T0).await.unwrap();
    }
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
    // The first call found nothing in its window and says where to go on.
    let first = store
        .list_endpoint_deliveries(&t, "ep_1", Some(DeliveryStatus::Failed), 1, None)
        .await
        .unwrap();
    assert!(first.deliveries.is_empty());
    assert_eq!(
        first.next_after.as_deref(),
        Some(ds[total - budget].id.as_str()),
        "the last delivery read"
    );
    // Unfiltered pages are cut at the limit as before.
    let page = store
        .list_endpoint_deliveries(&t, "ep_1", None, 3, None)
        .await
        .unwrap();
    assert_eq!(page.deliveries.len(), 3);
    assert_eq!(page.next_after.as_deref(), Some(ds[total - 3].id.as_str()));
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
