//! The ingest function: the HTTP API, and the entry of events from EventBridge, SQS, SNS and
//! direct invocation ([`sources`]). It validates events, finds the subscribed endpoints,
//! records the event and its deliveries, and enqueues one SQS message per delivery before it
//! answers 202.
//!
//! - [`app`]: the axum router and its layers, served by [`lambda`] (HTTP API v2 / function URL
//!   events) or by a local HTTP server;
//! - [`routes`]: one module per resource, thin handlers, the OpenAPI document;
//! - [`sources`]: the other invocation shapes, through the batch route's intake;
//! - [`service`]: what each request does, over the narrowest port roles;
//! - [`auth`], [`extract`], [`error`]: extractors and the one error type;
//! - [`loop_guard`]: refuses requests made by our own deliveries, learns the API's own hosts.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod lambda;
pub mod loop_guard;
pub mod routes;
pub mod service;
pub mod sources;
pub mod state;
pub mod views;

pub use app::{App, app};
/// The Lambda invocation types [`lambda::handle`] takes (for callers without `lambda_runtime`).
pub mod lambda_event {
    pub use lambda_http::lambda_runtime::{Context, LambdaEvent};
}
pub use state::AppState;
