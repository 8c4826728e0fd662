// shape: test support (part of the store contract)
//! Events and their deliveries: EventWrite, EventRead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::model::DeliveryRecord;
use crate::ports::store::{DeliveryRead, EventRead, EventWrite};

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
