// shape: test support (the API on the in-memory store, for the handler tests)
//! The whole router on the in-memory store and queue, called like a client would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use ingest::config::IngestConfig;
use ingest::{App, AppState};
use shared::adapters::memory::{MemoryQueue, MemoryRejections, MemoryStore};
use shared::domain::address_policy::AddressPolicy;

pub const ADMIN: &str = "admin-key-for-handler-tests";

pub struct Api {
    pub app: App,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    pub redrive: Arc<MemoryQueue>,
    pub rejections: Arc<MemoryRejections>,
    pub state: AppState,
}

impl Api {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(change: impl FnOnce(&mut IngestConfig)) -> Self {
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(MemoryQueue::new());
        let config = IngestConfig {
            table_name: "t".into(),
            queue_url: "q".into(),
            dlq_url: "d".into(),
            admin_key_sha256: hex::encode(Sha256::digest(ADMIN)).into(),
            address_policy: AddressPolicy::with_allowlist(
                AddressPolicy::parse_allowlist("").unwrap(),
            ),
            https_only: false,
            max_payload_bytes: 1024,
            own_hosts: shared::domain::own_hosts::OwnHosts::parse("api.hookrelay.test").unwrap(),
            allow_credential_headers: false,
            secrets_key_id: "unused-by-the-memory-store".into(),
            strict_event_types: false,
            portal: Default::default(),
            sources: Default::default(),
        };
        let mut config = config;
        change(&mut config);
        let redrive = Arc::new(MemoryQueue::new());
        let rejections = Arc::new(MemoryRejections::new());
        let state = AppState {
            store: store.clone(),
            queue: queue.clone(),
            redrive: redrive.clone(),
            config: Arc::new(config),
            catalog: Default::default(),
            rejections: Some(rejections.clone() as Arc<dyn shared::ports::Rejections>),
        };
        Self {
            app: ingest::app(state.clone()),
            store,
            queue,
            redrive,
            rejections,
            state,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {k}"));
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_owned()));
        self.send(request.body(body).unwrap()).await
    }

    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        self.call(method, path, body.as_deref(), Some(ADMIN)).await
    }

    /// A tenant and a key of its own.
    pub async fn tenant_with_key(&self, id: &str) -> String {
        let (s, v) = self
            .admin("PUT", &format!("/v1/tenants/{id}"), Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = self
            .admin("POST", &format!("/v1/tenants/{id}/api-keys"), None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["key"].as_str().unwrap().to_owned()
    }
}

pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}
