// shape: test support (part of the store contract)
//! Events (EventWrite, EventRead): one event names its deliveries; each is pending until its
//! log has a record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::ids::delivery_id;
use crate::domain::model::DeliveryStatus;
use crate::ports::store::Store;

/// An event reads back as written; its deliveries (endpoints in order, then the one-off URL)
/// are pending with nothing recorded, each found by its id, and only under its tenant.
pub async fn events_and_their_deliveries<S: Store + ?Sized>(store: &S) {
    let t = unique_tenant("events");
    store.put_tenant(&tenant(&t, 10), true).await.unwrap();
    store
        .create_endpoint(&endpoint(&t, "ep_a"), 10)
        .await
        .unwrap();
    let e = event_at(&t, T0, &["ep_a", "ep_b"], Some("https://once.example/"));
    store.put_event(&e).await.unwrap();
    assert_eq!(store.get_event(&t, &e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(store.get_event("other", &e.id).await.unwrap(), None);
    assert_eq!(store.get_event(&t, "evt_nope").await.unwrap(), None);

    let listed = store.list_event_deliveries(&t, &e.id).await.unwrap();
    let urls: Vec<(Option<&str>, &str)> = listed
        .iter()
        .map(|d| (d.endpoint_id.as_deref(), d.url.as_str()))
        .collect();
    assert_eq!(
        urls,
        [
            (Some("ep_a"), "https://example.com/ep_a"),
            (Some("ep_b"), ""), // no such endpoint (any more): no URL
            (None, "https://once.example/"),
        ]
    );
    for (i, d) in listed.iter().enumerate() {
        assert_eq!(d.id, delivery_id(&e.id, i).unwrap());
        assert_eq!(
            (d.status, d.seq, d.attempt_count),
            (DeliveryStatus::Pending, 0, 0)
        );
        assert_eq!(
            store.get_delivery(&t, &d.id).await.unwrap().as_ref(),
            Some(d)
        );
        assert_eq!(store.get_delivery("other", &d.id).await.unwrap(), None);
    }
    assert_eq!(
        store
            .get_delivery(&t, &delivery_id(&e.id, 3).unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.get_delivery(&t, "dlv_nope").await.unwrap(), None);

    // Written again (a resumed intake), it stays as first written.
    let again = crate::domain::model::EventRecord {
        payload: "{}".into(),
        ..e.clone()
    };
    store.put_event(&again).await.unwrap();
    assert_eq!(store.get_event(&t, &e.id).await.unwrap(), Some(e.clone()));

    // A recorded delivery reads as its latest record, in the event's list too.
    let after = attempted(store, &listed[1], &delivered()).await;
    assert_eq!(
        store.get_delivery(&t, &after.id).await.unwrap(),
        Some(after.clone())
    );
    let listed = store.list_event_deliveries(&t, &e.id).await.unwrap();
    assert_eq!(listed[1], after);
    assert_eq!(listed[0].status, DeliveryStatus::Pending);
}
