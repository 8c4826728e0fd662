//! The API: routing, authentication, and the shared state of the routes.

use http::Method;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use shared::ports::Store;
use shared::ports::{Enqueue, Ping, Redrive};

use crate::config::IngestConfig;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The deployment's admin key: every route.
    Admin,
    /// A tenant API key: that tenant's resources only.
    Tenant(String),
}

pub struct App<S, Q, R> {
    pub store: S,
    pub queue: Q,
    pub redrive: R,
    pub config: IngestConfig,
}

/// What the routes need from the queue side.
pub trait Queue: Enqueue + Ping {}
impl<T: Enqueue + Ping> Queue for T {}

impl<S: Store, Q: Queue, R: Redrive> App<S, Q, R> {
    pub fn new(store: S, queue: Q, redrive: R, config: IngestConfig) -> Self {
        Self {
            store,
            queue,
            redrive,
            config,
        }
    }

    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        let response = match self.route(&request).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        // Paths hold ids only; bodies, queries and headers (keys) are never logged.
        tracing::info!(method = %request.method, path = %request.path, status = response.status, "request");
        response
    }

    async fn route(&self, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
        let segments: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
        let m = &req.method;
        match segments.as_slice() {
            ["v1", "health"] if m == Method::GET => return Ok(routes::health(self).await),
            ["v1", "openapi.json"] if m == Method::GET => return Ok(routes::openapi::document()),
            ["v1", "health"] | ["v1", "openapi.json"] => return Err(method_not_allowed()),
            ["v1", "tenants", ..] | ["v1", "admin", ..] => {}
            _ => return Err(no_route()),
        }
        let who = self.authenticate(req).await?;
        let body = &req.body;
        use routes::{admin, api_keys, deliveries, endpoints, events, tenants};
        match (segments.as_slice(), m.clone()) {
            (["v1", "admin", "dlq", "redrive"], Method::POST) => admin::redrive(self, &who).await,
            (["v1", "tenants", t], Method::PUT) => tenants::put(self, &who, t, body).await,
            (["v1", "tenants", t], Method::GET) => tenants::get(self, &who, t).await,
            (["v1", "tenants", t, "api-keys"], Method::POST) => {
                api_keys::create(self, &who, t).await
            }
            (["v1", "tenants", t, "api-keys", k], Method::DELETE) => {
                api_keys::delete(self, &who, t, k).await
            }
            (["v1", "tenants", t, "endpoints"], Method::POST) => {
                endpoints::create(self, &who, t, body).await
            }
            (["v1", "tenants", t, "endpoints"], Method::GET) => {
                endpoints::list(self, &who, t).await
            }
            (["v1", "tenants", t, "endpoints", e], Method::GET) => {
                endpoints::get(self, &who, t, e).await
            }
            (["v1", "tenants", t, "endpoints", e], Method::PATCH) => {
                endpoints::patch(self, &who, t, e, body).await
            }
            (["v1", "tenants", t, "endpoints", e], Method::DELETE) => {
                endpoints::delete(self, &who, t, e).await
            }
            (["v1", "tenants", t, "endpoints", e, "rotate-secret"], Method::POST) => {
                endpoints::rotate_secret(self, &who, t, e, body).await
            }
            (["v1", "tenants", t, "endpoints", e, "deliveries"], Method::GET) => {
                deliveries::list(self, &who, t, e, &req.query).await
            }
            (["v1", "tenants", t, "endpoints", e, "recover"], Method::POST) => {
                deliveries::recover(self, &who, t, e, body).await
            }
            (["v1", "tenants", t, "events"], Method::POST) => {
                events::create(self, &who, t, body).await
            }
            (["v1", "tenants", t, "events", e], Method::GET) => events::get(self, &who, t, e).await,
            (["v1", "tenants", t, "deliveries", d], Method::GET) => {
                deliveries::get(self, &who, t, d).await
            }
            (["v1", "tenants", t, "deliveries", d, "retry"], Method::POST) => {
                deliveries::retry(self, &who, t, d).await
            }
            (path, _) if routes::is_known_path(path) => Err(method_not_allowed()),
            _ => Err(no_route()),
        }
    }

    async fn authenticate(&self, req: &ApiRequest) -> Result<Principal, ApiError> {
        let key = req.bearer().ok_or_else(ApiError::unauthorized)?;
        let presented = hex::encode(Sha256::digest(key.as_bytes()));
        let expected = self.config.admin_key_sha256.expose_secret();
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Principal::Admin);
        }
        match self.store.find_api_key(&presented).await? {
            Some(record) => Ok(Principal::Tenant(record.tenant_id)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        "This route does not take that method.",
    )
}

fn no_route() -> ApiError {
    ApiError::new(404, "not_found", "No such route.")
}

/// Whether `principal` may act on `tenant_id`: another tenant's resources are answered as if
/// they did not exist.
pub fn authorize(principal: &Principal, tenant_id: &str) -> Result<(), ApiError> {
    match principal {
        Principal::Admin => Ok(()),
        Principal::Tenant(own) if own == tenant_id => Ok(()),
        Principal::Tenant(_) => Err(ApiError::not_found("tenant")),
    }
}

/// Routes only the admin key may call; a tenant key gets 404 for another tenant and 403 for
/// its own.
pub fn admin_only(principal: &Principal, tenant_id: Option<&str>) -> Result<(), ApiError> {
    match (principal, tenant_id) {
        (Principal::Admin, _) => Ok(()),
        (Principal::Tenant(own), Some(t)) if own != t => Err(ApiError::not_found("tenant")),
        (Principal::Tenant(_), _) => Err(ApiError::new(
            403,
            "forbidden",
            "This route needs the admin key.",
        )),
    }
}
