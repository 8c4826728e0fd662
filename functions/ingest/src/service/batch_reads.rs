//! The reads one batch request shares: its events all belong to one tenant, so the tenant and
//! its endpoints are read once for the request (the first event's read; the others reuse it)
//! instead of once per event. Everything else goes to the store as it is. Within one request,
//! that is what a single request would have seen anyway (it reads them once too).

use async_trait::async_trait;
use tokio::sync::OnceCell;

use shared::domain::clock::EpochMillis;
use shared::domain::model::{DeliveryRecord, Endpoint, EventRecord, IdempotencyRecord, Tenant};
use shared::ports::{
    DeliveryControl, EndpointRead, EventRead, EventWrite, Idempotency, IdempotencyClaim,
    StoreError, TenantRead,
};

/// `store`, with the tenant and its endpoint list read at most once.
pub struct SharedReads<'s, S: ?Sized> {
    store: &'s S,
    tenant: OnceCell<Option<Tenant>>,
    endpoints: OnceCell<Vec<Endpoint>>,
}

impl<'s, S: ?Sized> SharedReads<'s, S> {
    pub fn new(store: &'s S) -> Self {
        Self {
            store,
            tenant: OnceCell::new(),
            endpoints: OnceCell::new(),
        }
    }
}

#[async_trait]
impl<S: TenantRead + ?Sized> TenantRead for SharedReads<'_, S> {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        let read = self
            .tenant
            .get_or_try_init(|| self.store.get_tenant(tenant_id))
            .await?;
        Ok(read.clone().filter(|t| t.id == tenant_id))
    }
}

#[async_trait]
impl<S: EndpointRead + ?Sized> EndpointRead for SharedReads<'_, S> {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.store.get_endpoint(tenant_id, endpoint_id).await
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let read = self
            .endpoints
            .get_or_try_init(|| self.store.list_endpoints(tenant_id))
            .await?;
        Ok(read
            .iter()
            .filter(|e| e.tenant_id == tenant_id)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl<S: EventWrite + ?Sized> EventWrite for SharedReads<'_, S> {
    async fn put_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        self.store.put_event(event).await
    }
}

#[async_trait]
impl<S: EventRead + ?Sized> EventRead for SharedReads<'_, S> {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.store.get_event(tenant_id, event_id).await
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.store.list_event_deliveries(tenant_id, event_id).await
    }
}

#[async_trait]
impl<S: DeliveryControl + ?Sized> DeliveryControl for SharedReads<'_, S> {
    async fn restart_delivery(
        &self,
        d: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.store.restart_delivery(d, now).await
    }

    async fn fail_delivery(
        &self,
        d: &DeliveryRecord,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.store.fail_delivery(d, reason, now).await
    }
}

#[async_trait]
impl<S: Idempotency + ?Sized> Idempotency for SharedReads<'_, S> {
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
        response: Option<&str>,
    ) -> Result<IdempotencyClaim, StoreError> {
        self.store
            .claim_idempotency(tenant_id, key, now, response)
            .await
    }

    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.store.get_idempotency(tenant_id, key).await
    }

    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.store
            .complete_idempotency(tenant_id, key, response)
            .await
    }

    async fn replace_idempotency_response(
        &self,
        tenant_id: &str,
        key: &str,
        expected: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.store
            .replace_idempotency_response(tenant_id, key, expected, response)
            .await
    }

    async fn release_idempotency(&self, tenant_id: &str, key: &str) -> Result<(), StoreError> {
        self.store.release_idempotency(tenant_id, key).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::adapters::contract::fixtures::{endpoint, tenant};
    use shared::adapters::memory::MemoryStore;
    use shared::ports::{EndpointWrite, TenantWrite};

    #[tokio::test]
    async fn the_tenant_and_its_endpoints_are_read_once_per_request() {
        let store = MemoryStore::new();
        store.put_tenant(&tenant("acme", 10), true).await.unwrap();
        store
            .create_endpoint(&endpoint("acme", "ep_1"), 10)
            .await
            .unwrap();
        let shared = SharedReads::new(&store);
        for _ in 0..5 {
            assert!(shared.get_tenant("acme").await.unwrap().is_some());
            assert_eq!(shared.list_endpoints("acme").await.unwrap().len(), 1);
        }
        assert_eq!(store.calls("get_tenant"), 1);
        assert_eq!(store.calls("list_endpoints"), 1);
        assert_eq!(
            shared.get_tenant("other").await.unwrap(),
            None,
            "one tenant only"
        );
    }
}
