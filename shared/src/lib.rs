//! The webhook service's library, in three rooms:
//! - [`domain`]: the pure core (ids, event types, URL and address rules, settings, signing,
//!   attempt outcomes, the fan-out planner). No AWS, Lambda or reqwest types.
//! - [`ports`]: the small role traits the functions need from storage, the queue and the
//!   outbound HTTP client.
//! - [`adapters`]: their implementations (DynamoDB, SQS, the hardened HTTP sender) and, behind
//!   the `memory` feature, an in-memory store for tests.

pub mod adapters;
pub mod domain;
pub mod ports;
pub mod telemetry;
