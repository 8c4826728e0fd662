//! The typed API client: one method per route of API.md (and of the routes being added in
//! v1.1: tenant list, event-type catalog, DLQ status, failing endpoints, test events, portal
//! sessions). Hand-written over [`Client`]: see the README for why it is not generated.

use serde_json::{Value, json};

use crate::client::{Client, Method, seg};
use crate::exit::CliResult;
use crate::model::{
    Accepted, ApiKey, BatchResults, Delivery, DlqStatus, Endpoint, Event, EventType, EventTypeList,
    Job, Moved, Object, Page, RetryQueued, Tenant,
};

const NO_BODY: Option<&Value> = None;

pub struct Api {
    pub client: Client,
}

fn tenant_path(tenant: &str) -> String {
    format!("/v1/tenants/{}", seg(tenant))
}

impl Api {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    // Tenants and keys.
    pub async fn put_tenant(&self, tenant: &str, body: &Value) -> CliResult<Tenant> {
        let path = tenant_path(tenant);
        self.client.call(Method::PUT, &path, &[], Some(body)).await
    }

    pub async fn get_tenant(&self, tenant: &str) -> CliResult<Tenant> {
        let path = tenant_path(tenant);
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn list_tenants(&self, limit: u32, cursor: Option<&str>) -> CliResult<Page<Tenant>> {
        let mut query = vec![("limit", limit.to_string())];
        query.extend(cursor.map(|c| ("cursor", c.to_owned())));
        self.client
            .call(Method::GET, "/v1/tenants", &query, NO_BODY)
            .await
    }

    pub async fn create_key(&self, tenant: &str) -> CliResult<ApiKey> {
        let path = format!("{}/api-keys", tenant_path(tenant));
        self.client.call(Method::POST, &path, &[], NO_BODY).await
    }

    pub async fn revoke_key(&self, tenant: &str, key_id: &str) -> CliResult<()> {
        let path = format!("{}/api-keys/{}", tenant_path(tenant), seg(key_id));
        self.client.call(Method::DELETE, &path, &[], NO_BODY).await
    }

    // Endpoints.
    fn endpoint_path(tenant: &str, endpoint: &str) -> String {
        format!("{}/endpoints/{}", tenant_path(tenant), seg(endpoint))
    }

    pub async fn create_endpoint(&self, tenant: &str, body: &Value) -> CliResult<Endpoint> {
        let path = format!("{}/endpoints", tenant_path(tenant));
        self.client.call(Method::POST, &path, &[], Some(body)).await
    }

    pub async fn list_endpoints(&self, tenant: &str) -> CliResult<Page<Endpoint>> {
        let path = format!("{}/endpoints", tenant_path(tenant));
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn get_endpoint(&self, tenant: &str, endpoint: &str) -> CliResult<Endpoint> {
        let path = Self::endpoint_path(tenant, endpoint);
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn patch_endpoint(
        &self,
        tenant: &str,
        endpoint: &str,
        body: &Value,
    ) -> CliResult<Endpoint> {
        let path = Self::endpoint_path(tenant, endpoint);
        self.client
            .call(Method::PATCH, &path, &[], Some(body))
            .await
    }

    pub async fn delete_endpoint(&self, tenant: &str, endpoint: &str) -> CliResult<()> {
        let path = Self::endpoint_path(tenant, endpoint);
        self.client.call(Method::DELETE, &path, &[], NO_BODY).await
    }

    pub async fn rotate_secret(
        &self,
        tenant: &str,
        endpoint: &str,
        body: &Value,
    ) -> CliResult<Endpoint> {
        let path = format!("{}/rotate-secret", Self::endpoint_path(tenant, endpoint));
        self.client.call(Method::POST, &path, &[], Some(body)).await
    }

    pub async fn test_endpoint(
        &self,
        tenant: &str,
        endpoint: &str,
        event_type: Option<&str>,
        payload: Option<Value>,
    ) -> CliResult<Accepted> {
        let path = format!("{}/test", Self::endpoint_path(tenant, endpoint));
        let mut body = serde_json::Map::new();
        if let Some(t) = event_type {
            body.insert("event_type".into(), t.into());
        }
        if let Some(p) = payload {
            body.insert("payload".into(), p);
        }
        let body = Value::Object(body);
        self.client
            .call(Method::POST, &path, &[], Some(&body))
            .await
    }

    pub async fn endpoint_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        status: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> CliResult<Page<Delivery>> {
        let path = format!("{}/deliveries", Self::endpoint_path(tenant, endpoint));
        let mut query = vec![("limit", limit.to_string())];
        query.extend(status.map(|s| ("status", s.to_owned())));
        query.extend(cursor.map(|c| ("cursor", c.to_owned())));
        self.client.call(Method::GET, &path, &query, NO_BODY).await
    }

    pub async fn recover(&self, tenant: &str, endpoint: &str, body: &Value) -> CliResult<Job> {
        let path = format!("{}/recover", Self::endpoint_path(tenant, endpoint));
        self.client.call(Method::POST, &path, &[], Some(body)).await
    }

    // Events and deliveries.
    pub async fn send_event(&self, tenant: &str, body: &Value) -> CliResult<Accepted> {
        let path = format!("{}/events", tenant_path(tenant));
        self.client.call(Method::POST, &path, &[], Some(body)).await
    }

    pub async fn send_batch(&self, tenant: &str, events: &[Value]) -> CliResult<BatchResults> {
        let path = format!("{}/events/batch", tenant_path(tenant));
        let body = json!({ "events": events });
        self.client
            .call(Method::POST, &path, &[], Some(&body))
            .await
    }

    pub async fn get_event(&self, tenant: &str, event: &str) -> CliResult<Event> {
        let path = format!("{}/events/{}", tenant_path(tenant), seg(event));
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn get_delivery(&self, tenant: &str, delivery: &str) -> CliResult<Delivery> {
        let path = format!("{}/deliveries/{}", tenant_path(tenant), seg(delivery));
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn retry(&self, tenant: &str, delivery: &str) -> CliResult<RetryQueued> {
        let path = format!("{}/deliveries/{}/retry", tenant_path(tenant), seg(delivery));
        self.client.call(Method::POST, &path, &[], NO_BODY).await
    }

    pub async fn get_job(&self, tenant: &str, job: &str) -> CliResult<Job> {
        let path = format!("{}/jobs/{}", tenant_path(tenant), seg(job));
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn portal_session(&self, tenant: &str, body: &Value) -> CliResult<Object> {
        let path = format!("{}/portal-sessions", tenant_path(tenant));
        self.client.call(Method::POST, &path, &[], Some(body)).await
    }

    // The event-type catalog.
    pub async fn list_event_types(&self) -> CliResult<EventTypeList> {
        self.client
            .call(Method::GET, "/v1/event-types", &[], NO_BODY)
            .await
    }

    pub async fn get_event_type(&self, name: &str) -> CliResult<EventType> {
        let path = format!("/v1/event-types/{}", seg(name));
        self.client.call(Method::GET, &path, &[], NO_BODY).await
    }

    pub async fn put_event_type(&self, name: &str, body: &Value) -> CliResult<EventType> {
        let path = format!("/v1/event-types/{}", seg(name));
        self.client.call(Method::PUT, &path, &[], Some(body)).await
    }

    pub async fn delete_event_type(&self, name: &str) -> CliResult<()> {
        let path = format!("/v1/event-types/{}", seg(name));
        self.client.call(Method::DELETE, &path, &[], NO_BODY).await
    }

    // Operations (admin).
    pub async fn redrive(&self) -> CliResult<Moved> {
        self.client
            .call(Method::POST, "/v1/admin/dlq/redrive", &[], NO_BODY)
            .await
    }

    pub async fn rejected(&self, limit: u32) -> CliResult<Object> {
        let query = [("limit", limit.to_string())];
        self.client
            .call(Method::GET, "/v1/admin/rejected", &query, NO_BODY)
            .await
    }

    pub async fn resubmit_rejected(&self) -> CliResult<Object> {
        self.client
            .call(Method::POST, "/v1/admin/rejected/resubmit", &[], NO_BODY)
            .await
    }

    pub async fn dlq_status(&self) -> CliResult<DlqStatus> {
        self.client
            .call(Method::GET, "/v1/admin/dlq", &[], NO_BODY)
            .await
    }

    pub async fn endpoints_in_state(
        &self,
        state: Option<&str>,
        cursor: Option<&str>,
    ) -> CliResult<Page<Object>> {
        let mut query = vec![("limit", "25".to_owned())];
        query.extend(state.map(|s| ("state", s.to_owned())));
        query.extend(cursor.map(|c| ("cursor", c.to_owned())));
        self.client
            .call(Method::GET, "/v1/admin/endpoints", &query, NO_BODY)
            .await
    }

    pub async fn health(&self) -> CliResult<Object> {
        let (status, body) = self
            .client
            .send(Method::GET, "/v1/health", &[], None)
            .await?;
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) if status == 200 || status == 503 => {
                Ok(json!({"http_status": status, "health": v}))
            }
            _ => Err(crate::client::api_error(status, &body)),
        }
    }
}
