// shape: test support (compiled for tests and the `memory` feature only)
//! MemoryStore: tenants, endpoints, API keys, idempotency keys, events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[async_trait]
impl TenantRead for MemoryStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.with("get_tenant", |s| {
            Ok(s.tenants.get(tenant_id).map(|(t, _)| t.clone()))
        })
    }
}

#[async_trait]
impl TenantWrite for MemoryStore {
    async fn put_tenant(&self, tenant: &Tenant, create: bool) -> Result<(), StoreError> {
        self.with("put_tenant", |s| {
            match (s.tenants.get_mut(&tenant.id), create) {
                (Some(_), true) | (None, false) => conflict(),
                (None, true) => {
                    s.tenants.insert(tenant.id.clone(), (tenant.clone(), 0));
                    Ok(())
                }
                (Some((t, _)), false) => {
                    t.name = tenant.name.clone();
                    t.defaults = tenant.defaults.clone();
                    t.max_endpoints = tenant.max_endpoints;
                    t.https_only = tenant.https_only;
                    t.updated_at = tenant.updated_at;
                    Ok(())
                }
            }
        })
    }
}

#[async_trait]
impl EndpointRead for MemoryStore {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.with("get_endpoint", |s| {
            Ok(s.endpoints.get(&k(tenant_id, endpoint_id)).cloned())
        })
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        self.with("list_endpoints", |s| {
            Ok(s.endpoints
                .iter()
                .filter(|((t, _), _)| t == tenant_id)
                .map(|(_, e)| e.clone())
                .collect())
        })
    }
}

#[async_trait]
impl EndpointWrite for MemoryStore {
    async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> Result<(), StoreError> {
        self.with("create_endpoint", |s| {
            let key = k(&endpoint.tenant_id, &endpoint.id);
            let Some((_, count)) = s.tenants.get_mut(&endpoint.tenant_id) else {
                return conflict();
            };
            if *count >= max_endpoints || s.endpoints.contains_key(&key) {
                return conflict();
            }
            *count += 1;
            s.endpoints.insert(key, endpoint.clone());
            Ok(())
        })
    }

    async fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("update_endpoint", |s| {
            match s.endpoints.get_mut(&k(&endpoint.tenant_id, &endpoint.id)) {
                Some(e) if e.updated_at == expected_updated_at => {
                    *e = endpoint.clone();
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn delete_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.with("delete_endpoint", |s| {
            let key = k(tenant_id, endpoint_id);
            match s.tenants.get_mut(tenant_id) {
                Some((_, count)) if *count > 0 && s.endpoints.contains_key(&key) => {
                    *count -= 1;
                    s.endpoints.remove(&key);
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl EndpointHealth for MemoryStore {
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("disable_endpoint", |s| {
            match s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                Some(e) if e.enabled => {
                    e.enabled = false;
                    e.disabled_reason = Some(reason.to_owned());
                    e.disabled_at = Some(now);
                    e.updated_at = now;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError> {
        self.with("mark_failing", |s| {
            match s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                Some(e) => Ok(*e.failing_since.get_or_insert(now)),
                None => conflict(),
            }
        })
    }

    async fn clear_failing(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.with("clear_failing", |s| {
            if let Some(e) = s.endpoints.get_mut(&k(tenant_id, endpoint_id)) {
                e.failing_since = None;
            }
            Ok(())
        })
    }
}

#[async_trait]
impl ApiKeys for MemoryStore {
    async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with("put_api_key", |s| {
            let by_id = k(&key.tenant_id, &key.id);
            if s.keys_by_hash.contains_key(&key.key_sha256) || s.keys_by_id.contains_key(&by_id) {
                return conflict();
            }
            s.keys_by_hash.insert(key.key_sha256.clone(), key.clone());
            s.keys_by_id.insert(by_id, key.clone());
            Ok(())
        })
    }

    async fn find_api_key(&self, key_sha256: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with("find_api_key", |s| {
            Ok(s.keys_by_hash.get(key_sha256).cloned())
        })
    }

    async fn delete_api_key(&self, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
        self.with("delete_api_key", |s| {
            let Some(record) = s.keys_by_id.remove(&k(tenant_id, key_id)) else {
                return conflict();
            };
            s.keys_by_hash.remove(&record.key_sha256);
            Ok(())
        })
    }
}

#[async_trait]
impl Idempotency for MemoryStore {
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        now: EpochMillis,
        response: Option<&str>,
    ) -> Result<IdempotencyClaim, StoreError> {
        self.with("claim_idempotency", |s| {
            let id = k(tenant_id, key);
            match s.idempotency.get(&id) {
                Some(r) if r.created_at >= now - IDEMPOTENCY_WINDOW_MS => {
                    Ok(IdempotencyClaim::Existing(r.clone()))
                }
                _ => {
                    let record = IdempotencyRecord {
                        tenant_id: tenant_id.to_owned(),
                        key: key.to_owned(),
                        response: response.map(str::to_owned),
                        created_at: now,
                        expires_at: (now + IDEMPOTENCY_WINDOW_MS) / 1000,
                    };
                    s.idempotency.insert(id, record);
                    Ok(IdempotencyClaim::Claimed)
                }
            }
        })
    }

    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.with("get_idempotency", |s| {
            Ok(s.idempotency.get(&k(tenant_id, key)).cloned())
        })
    }

    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.with("complete_idempotency", |s| {
            if let Some(r) = s.idempotency.get_mut(&k(tenant_id, key)) {
                r.response = Some(response.to_owned());
            }
            Ok(())
        })
    }

    async fn replace_idempotency_response(
        &self,
        tenant_id: &str,
        key: &str,
        expected: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.with("replace_idempotency_response", |s| {
            match s.idempotency.get_mut(&k(tenant_id, key)) {
                Some(r) if r.response.as_deref() == Some(expected) => {
                    r.response = Some(response.to_owned());
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn release_idempotency(&self, tenant_id: &str, key: &str) -> Result<(), StoreError> {
        self.with("release_idempotency", |s| {
            s.idempotency.remove(&k(tenant_id, key));
            Ok(())
        })
    }
}
