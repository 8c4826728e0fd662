//! The delivery function: consumes the delivery queue (SQS event source mapping with partial
//! batch responses), makes one signed attempt per due delivery, records it, and schedules the
//! next one through the message's visibility timeout.

pub mod config;
pub mod ops;
pub mod worker;

pub use worker::{Worker, WorkerOptions};
