// shape: test support (compiled for tests and the `memory` feature only)
//! MemoryStore: the event-type catalog, the tenant list, portal links and sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::domain::catalog::EventTypeRecord;
use crate::ports::console::{
    EventTypes, PortalLink, PortalSessions, TenantDirectory, TenantPage, TenantSummary,
};

#[async_trait]
impl EventTypes for MemoryStore {
    async fn put_event_type(
        &self,
        entry: &EventTypeRecord,
    ) -> Result<(EventTypeRecord, bool), StoreError> {
        self.with("put_event_type", |s| {
            let mut stored = entry.clone();
            let created = match s.event_types.get(&entry.name) {
                Some(old) => {
                    stored.created_at = old.created_at;
                    false
                }
                None => true,
            };
            s.event_types.insert(entry.name.clone(), stored.clone());
            Ok((stored, created))
        })
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventTypeRecord>, StoreError> {
        self.with("get_event_type", |s| Ok(s.event_types.get(name).cloned()))
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        self.with("delete_event_type", |s| match s.event_types.remove(name) {
            Some(_) => Ok(()),
            None => conflict(),
        })
    }

    async fn list_event_types(&self) -> Result<Vec<EventTypeRecord>, StoreError> {
        self.with("list_event_types", |s| {
            Ok(s.event_types.values().cloned().collect())
        })
    }
}

#[async_trait]
impl TenantDirectory for MemoryStore {
    async fn list_tenants(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<TenantPage, StoreError> {
        self.with("list_tenants", |s| {
            let limit = limit.clamp(1, 1_000);
            let mut all: Vec<TenantSummary> = s
                .tenants
                .values()
                .filter(|(t, _)| after.is_none_or(|a| t.id.as_str() > a))
                .map(|(t, _)| TenantSummary {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    created_at: t.created_at,
                    updated_at: t.updated_at,
                })
                .collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            let more = all.len() > limit;
            all.truncate(limit);
            let next_after = more.then(|| all.last().map(|t| t.id.clone())).flatten();
            Ok(TenantPage {
                tenants: all,
                next_after,
            })
        })
    }
}

#[async_trait]
impl PortalSessions for MemoryStore {
    async fn put_portal_link(
        &self,
        token_sha256: &str,
        link: &PortalLink,
    ) -> Result<(), StoreError> {
        self.with("put_portal_link", |s| {
            if s.portal_links.contains_key(token_sha256) {
                return conflict();
            }
            s.portal_links.insert(token_sha256.to_owned(), link.clone());
            Ok(())
        })
    }

    async fn take_portal_link(&self, token_sha256: &str) -> Result<Option<PortalLink>, StoreError> {
        self.with("take_portal_link", |s| {
            Ok(s.portal_links.remove(token_sha256))
        })
    }

    async fn put_session(&self, session: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with("put_session", |s| {
            if s.keys_by_hash.contains_key(&session.key_sha256) {
                return conflict();
            }
            s.keys_by_hash
                .insert(session.key_sha256.clone(), session.clone());
            Ok(())
        })
    }

    async fn end_session(&self, key_sha256: &str) -> Result<(), StoreError> {
        self.with("end_session", |s| {
            if s.keys_by_hash
                .get(key_sha256)
                .is_some_and(|k| k.expires_at.is_some())
            {
                s.keys_by_hash.remove(key_sha256);
            }
            Ok(())
        })
    }
}
