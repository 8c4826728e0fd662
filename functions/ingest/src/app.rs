//! The API: routing, authentication, and the shared state of the routes.

use http::Method;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use shared::store::{DeliveryQueue, DeliveryStore, EndpointStore, EventStore, Ping, TenantStore};

use crate::config::IngestConfig;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The deployment's admin key: every route.
    Admin,
}

pub struct App<S, Q> {
    pub store: S,
    pub queue: Q,
    pub config: IngestConfig,
}

/// What the routes need from storage, in one bound.
pub trait Store: TenantStore + EndpointStore + EventStore + DeliveryStore + Ping {}
impl<T: TenantStore + EndpointStore + EventStore + DeliveryStore + Ping> Store for T {}

impl<S: Store, Q: DeliveryQueue + Ping> App<S, Q> {
    pub fn new(store: S, queue: Q, config: IngestConfig) -> Self {
        Self {
            store,
            queue,
            config,
        }
    }

    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        let method = request.method.clone();
        let path = request.path.clone();
        let response = match self.route(&request).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        tracing::info!(method = %method, path = %redact_path(&path), status = response.status, "request");
        response
    }

    async fn route(&self, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
        let segments: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
        let m = &req.method;
        match segments.as_slice() {
            ["v1", "health"] if m == Method::GET => return Ok(routes::health(self).await),
            ["v1", "health"] => return Err(method_not_allowed()),
            ["v1", "tenants", ..] => {}
            _ => return Err(ApiError::new(404, "not_found", "No such route.")),
        }
        let principal = self.authenticate(req)?;
        match segments.as_slice() {
            ["v1", "tenants", tenant] => match *m {
                Method::PUT => routes::tenants::put(self, &principal, tenant, &req.body).await,
                Method::GET => routes::tenants::get(self, &principal, tenant).await,
                _ => Err(method_not_allowed()),
            },
            ["v1", "tenants", tenant, "endpoints"] => match *m {
                Method::POST => {
                    routes::endpoints::create(self, &principal, tenant, &req.body).await
                }
                Method::GET => routes::endpoints::list(self, &principal, tenant).await,
                _ => Err(method_not_allowed()),
            },
            ["v1", "tenants", tenant, "endpoints", endpoint] => match *m {
                Method::GET => routes::endpoints::get(self, &principal, tenant, endpoint).await,
                _ => Err(method_not_allowed()),
            },
            ["v1", "tenants", tenant, "events"] => match *m {
                Method::POST => routes::events::create(self, &principal, tenant, &req.body).await,
                _ => Err(method_not_allowed()),
            },
            ["v1", "tenants", tenant, "events", event] => match *m {
                Method::GET => routes::events::get(self, &principal, tenant, event).await,
                _ => Err(method_not_allowed()),
            },
            ["v1", "tenants", tenant, "deliveries", delivery] => match *m {
                Method::GET => routes::deliveries::get(self, &principal, tenant, delivery).await,
                _ => Err(method_not_allowed()),
            },
            _ => Err(ApiError::new(404, "not_found", "No such route.")),
        }
    }

    fn authenticate(&self, req: &ApiRequest) -> Result<Principal, ApiError> {
        let key = req.bearer().ok_or_else(ApiError::unauthorized)?;
        let presented = hex::encode(Sha256::digest(key.as_bytes()));
        let expected = self.config.admin_key_sha256.expose_secret();
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Principal::Admin);
        }
        Err(ApiError::unauthorized())
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        "This route does not take that method.",
    )
}

/// The path as logged: ids are fine, nothing else is in paths.
fn redact_path(path: &str) -> &str {
    path
}

/// Whether `principal` may act on `tenant_id`.
pub fn authorize(principal: &Principal, _tenant_id: &str) -> Result<(), ApiError> {
    match principal {
        Principal::Admin => Ok(()),
    }
}
