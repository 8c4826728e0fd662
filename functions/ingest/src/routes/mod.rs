//! One module per API resource.

pub mod admin;
pub mod api_keys;
pub mod deliveries;
pub mod endpoints;
pub mod events;
pub mod openapi;
pub mod tenants;
pub mod views;

use shared::ports::Redrive;

use crate::app::{App, Queue, Store};

/// Paths the API serves (with any method), to tell 405 from 404.
pub fn is_known_path(path: &[&str]) -> bool {
    matches!(
        path,
        ["v1", "admin", "dlq", "redrive"]
            | ["v1", "tenants", _]
            | ["v1", "tenants", _, "api-keys"]
            | ["v1", "tenants", _, "api-keys", _]
            | ["v1", "tenants", _, "endpoints"]
            | ["v1", "tenants", _, "endpoints", _]
            | [
                "v1",
                "tenants",
                _,
                "endpoints",
                _,
                "rotate-secret" | "deliveries" | "recover"
            ]
            | ["v1", "tenants", _, "events"]
            | ["v1", "tenants", _, "events", _]
            | ["v1", "tenants", _, "deliveries", _]
            | ["v1", "tenants", _, "deliveries", _, "retry"]
    )
}
use crate::http::ApiResponse;

pub async fn health<S: Store, Q: Queue, R: Redrive>(app: &App<S, Q, R>) -> ApiResponse {
    let (table, queue) = futures::join!(app.store.ping(), app.queue.ping());
    let ok = table.is_ok() && queue.is_ok();
    if let Err(e) = &table {
        tracing::error!(error = %e, "health: table unreachable");
    }
    if let Err(e) = &queue {
        tracing::error!(error = %e, "health: queue unreachable");
    }
    let state = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "unreachable" };
    ApiResponse::json(
        if ok { 200 } else { 503 },
        &views::Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            table: state(&table).into(),
            queue: state(&queue).into(),
        },
    )
}

/// A malformed tenant id or resource id in a path names nothing: 404 without a table read.
pub fn require_ids(
    tenant_id: &str,
    kind: shared::domain::ids::IdKind,
    id: &str,
    what: &str,
) -> Result<(), crate::error::ApiError> {
    if kind.is_valid(id) && valid_tenant_id(tenant_id) {
        Ok(())
    } else {
        Err(crate::error::ApiError::not_found(what))
    }
}

/// A tenant id from the path: `^[A-Za-z0-9_.-]{1,64}$`.
pub fn valid_tenant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
