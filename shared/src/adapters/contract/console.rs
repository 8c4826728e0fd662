// shape: test support (part of the store contract)
//! The web pages' storage: the event-type catalog, the tenant directory, portal links and
//! sessions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fixtures::*;
use crate::domain::catalog::EventTypeRecord;
use crate::ports::console::{EventTypes, PortalLink, PortalSessions, TenantDirectory};
use crate::ports::store::{ApiKeys, TenantWrite};

fn entry(name: &str, at: i64, example: Option<&str>) -> EventTypeRecord {
    EventTypeRecord {
        name: name.to_owned(),
        description: format!("{name} happened"),
        schema: Some(r#"{"type":"object","properties":{"id":{"type":"string"}}}"#.into()),
        example: example.map(str::to_owned),
        created_at: at,
        updated_at: at,
    }
}

/// An entry is created once and replaced after (keeping `created_at`; a field left out is
/// removed), listed by name, deleted once (Conflict after).
pub async fn event_types_put_replace_list_delete<S: EventTypes + ?Sized>(store: &S) {
    let base = unique_tenant("et").replace('-', "_");
    let (a, b) = (format!("{base}.b_paid"), format!("{base}.a_created"));
    let first = entry(&a, T0, Some(r#"{"id":"in_1","amount":12.50}"#));
    let (stored, created) = store.put_event_type(&first).await.unwrap();
    assert!(created);
    assert_eq!(stored, first);
    assert_eq!(store.get_event_type(&a).await.unwrap(), Some(first.clone()));
    let mut second = entry(&a, T0 + 5, None);
    second.schema = None;
    second.description = "replaced".into();
    let (stored, created) = store.put_event_type(&second).await.unwrap();
    assert!(!created, "a replacement is not a creation");
    assert_eq!(stored.created_at, T0, "created_at is kept");
    let read = store.get_event_type(&a).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert_eq!(
        (read.schema, read.example, read.description.as_str()),
        (None, None, "replaced")
    );
    store
        .put_event_type(&entry(&b, T0, Some("{}")))
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_event_types()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n.starts_with(&base))
        .collect();
    assert_eq!(names, vec![b.clone(), a.clone()], "listed by name");
    store.delete_event_type(&a).await.unwrap();
    assert_eq!(store.get_event_type(&a).await.unwrap(), None);
    assert_conflict(store.delete_event_type(&a).await, "deleted twice");
    store.delete_event_type(&b).await.unwrap();
}

/// Every created tenant is listed by id, paged with an exclusive `after`; an update shows
/// its new name.
pub async fn tenant_directory_lists_and_pages<S: TenantWrite + TenantDirectory + ?Sized>(
    store: &S,
) {
    let base = unique_tenant("dir");
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|s| format!("{base}-{s}"))
        .collect();
    for id in ids.iter().rev() {
        store.put_tenant(&tenant(id, 5), true).await.unwrap();
    }
    let mut renamed = tenant(&ids[1], 5);
    renamed.name = Some("Renamed".into());
    renamed.updated_at = T0 + 9;
    store.put_tenant(&renamed, false).await.unwrap();
    // Other checks' tenants share the table: start right before this check's ids.
    let first = store.list_tenants(2, Some(&base)).await.unwrap();
    let got: Vec<&str> = first.tenants.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(got, vec![ids[0].as_str(), ids[1].as_str()]);
    assert_eq!(first.next_after.as_deref(), Some(ids[1].as_str()));
    assert_eq!(first.tenants[1].name.as_deref(), Some("Renamed"));
    assert_eq!(
        (first.tenants[1].created_at, first.tenants[1].updated_at),
        (T0, T0 + 9)
    );
    let second = store.list_tenants(1, Some(&ids[1])).await.unwrap();
    assert_eq!(second.tenants[0].id, ids[2]);
}

/// A link is taken once; a session is found like a key, with its end, and ended early; ending
/// never removes a tenant key.
pub async fn portal_links_once_and_sessions<S: PortalSessions + ApiKeys + ?Sized>(store: &S) {
    let t = unique_tenant("portal");
    let link = PortalLink {
        tenant_id: t.clone(),
        expires_at: T0 / 1000 + 3600,
    };
    let hash = format!("{t}-link");
    store.put_portal_link(&hash, &link).await.unwrap();
    assert_conflict(store.put_portal_link(&hash, &link).await, "same link twice");
    assert_eq!(store.take_portal_link(&hash).await.unwrap(), Some(link));
    assert_eq!(store.take_portal_link(&hash).await.unwrap(), None);
    let mut session = api_key(&t, "ses_1", &format!("{t}-session"));
    session.expires_at = Some(T0 / 1000 + 3600);
    store.put_session(&session).await.unwrap();
    assert_eq!(
        store.find_api_key(&session.key_sha256).await.unwrap(),
        Some(session.clone())
    );
    store.end_session(&session.key_sha256).await.unwrap();
    assert_eq!(store.find_api_key(&session.key_sha256).await.unwrap(), None);
    store.end_session(&session.key_sha256).await.unwrap();
    let key = api_key(&t, "key_1", &format!("{t}-key"));
    store.put_api_key(&key).await.unwrap();
    store.end_session(&key.key_sha256).await.unwrap();
    assert_eq!(
        store.find_api_key(&key.key_sha256).await.unwrap(),
        Some(key),
        "a tenant key is not a session"
    );
}
