//! The ingest function: the HTTP API (HTTP API v2 / function URL events). It validates events,
//! finds the subscribed endpoints, records the event and its deliveries, and enqueues one SQS
//! message per delivery before it answers 202.

pub mod app;
pub mod config;
pub mod error;
pub mod http;
pub mod routes;

pub use app::App;
