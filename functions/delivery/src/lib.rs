//! The delivery function: consumes the delivery queue (SQS event source mapping with partial
//! batch responses), makes one signed attempt per due delivery, records it, and schedules the
//! next one through the message's visibility timeout.
//!
//! One record goes through stages, each its own module with a typed hand-off:
//! [`record`] (load: the delivery before the attempt) → [`gate`] (pure) → [`prepare`]
//! (resolve, sign, build: a [`prepare::Dispatch`]) → [`send`] (the POST: a
//! [`send::Completed`]) → [`transition`] (pure: decision, record update, queue action) →
//! [`record`] (one conditional write) → [`effects`]. [`worker`] strings them together,
//! [`batch`] runs a batch of records and carries out each [`Action`]; every wait is computed in
//! [`schedule`].

pub mod action;
pub mod batch;
pub mod config;
pub mod effects;
pub mod gate;
pub mod jobs;
pub mod ops;
pub mod prepare;
pub mod record;
pub mod schedule;
pub mod send;
pub mod transition;
pub mod worker;

pub use action::Action;
pub use batch::effective_deadline;
pub use worker::{Worker, WorkerOptions};
