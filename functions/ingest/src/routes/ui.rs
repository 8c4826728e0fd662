//! The web pages: the customer portal (`/portal`) and the operator console (`/console`), static
//! assets compiled into the binary. Not part of the OpenAPI document (they are not API).

use axum::Router;

use crate::state::AppState;

/// The pages and their assets.
pub fn router() -> Router<AppState> {
    Router::new()
}
