//! The API's domain layer: what each request does, over the narrowest port roles it needs, with
//! no HTTP types in it. Request bodies are parsed here into types that cannot be invalid; the
//! route modules only extract, call one function here and render a view.

pub mod api_keys;
pub mod batch;
pub mod batch_reads;
pub mod catalog;
pub mod coalesce;
pub mod console;
pub mod delivery_log;
pub mod endpoints;
pub mod idempotency;
pub mod intake;
pub mod jobs;
pub mod portal;
pub mod requeue;
pub mod resume;
pub mod tenants;
pub mod test_event;

use shared::domain::ids::IdKind;

use crate::error::ApiError;

/// A tenant id: `^[A-Za-z0-9_.-]{1,64}$`.
pub fn valid_tenant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        // `.` and `..` would be dot-segments in a URL path (the pages build URLs from ids).
        && !id.bytes().all(|b| b == b'.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A malformed tenant id or resource id in a path names nothing: 404 without a table read.
pub fn require_ids(
    tenant_id: &str,
    kind: IdKind,
    id: &str,
    what: &'static str,
) -> Result<(), ApiError> {
    if kind.is_valid(id) && valid_tenant_id(tenant_id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(what))
    }
}
