//! What the web pages need beyond the API's resources: the event-type catalog, the list of
//! tenants, and portal links and sessions.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::catalog::EventTypeRecord;
use crate::domain::clock::EpochMillis;
use crate::domain::model::ApiKeyRecord;
use crate::ports::store::StoreError;

#[async_trait]
pub trait EventTypes: Send + Sync {
    /// Creates or replaces an entry (an existing one keeps its `created_at`); returns the entry
    /// as stored and whether it was created.
    async fn put_event_type(
        &self,
        entry: &EventTypeRecord,
    ) -> Result<(EventTypeRecord, bool), StoreError>;
    async fn get_event_type(&self, name: &str) -> Result<Option<EventTypeRecord>, StoreError>;
    /// Conflict when there is no such entry.
    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError>;
    /// Every entry, by name.
    async fn list_event_types(&self) -> Result<Vec<EventTypeRecord>, StoreError>;
}

/// A tenant as the tenant list shows it (no secrets, nothing to open).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// One page of tenants, by id.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantPage {
    pub tenants: Vec<TenantSummary>,
    /// The last tenant of this page, when more may follow.
    pub next_after: Option<String>,
}

#[async_trait]
pub trait TenantDirectory: Send + Sync {
    /// Up to `limit` tenants in id order, after tenant `after` (exclusive). Every tenant created
    /// or updated through [`crate::ports::TenantWrite`] is listed.
    async fn list_tenants(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<TenantPage, StoreError>;
}

/// A portal link not yet used: which tenant it opens and until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalLink {
    pub tenant_id: String,
    /// Epoch seconds (the table's TTL attribute).
    pub expires_at: i64,
}

#[async_trait]
pub trait PortalSessions: Send + Sync {
    /// Stores a link by its token's SHA-256 (Conflict if that hash exists).
    async fn put_portal_link(
        &self,
        token_sha256: &str,
        link: &PortalLink,
    ) -> Result<(), StoreError>;
    /// Takes the link: it is gone afterwards, so only the first call gets it.
    async fn take_portal_link(&self, token_sha256: &str) -> Result<Option<PortalLink>, StoreError>;
    /// Stores a session: a tenant key with an `expires_at`, found by
    /// [`crate::ports::ApiKeys::find_api_key`] and not listed under the tenant.
    async fn put_session(&self, session: &ApiKeyRecord) -> Result<(), StoreError>;
    /// Ends a session early (nothing happens if there is none).
    async fn end_session(&self, key_sha256: &str) -> Result<(), StoreError>;
}
