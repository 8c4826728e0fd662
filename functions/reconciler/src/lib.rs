//! The reconciler: a scheduled function that heals the one gap a message can be lost in —
//! ingest stopped between writing an event and sending its deliveries' messages. Events are
//! kept by the minute they were made in; each run reads the minutes that became old enough
//! since the last run (one Query per event shard, then one read of each delivery's first
//! record), and enqueues every delivery that has nothing recorded. One run at a time holds a
//! lease; a message sent twice is harmless (each attempt is recorded once). Every later record
//! is written before the message that carries the delivery is acknowledged or hidden, so no
//! later step can lose a delivery.

pub mod config;
pub mod sweep;

pub use config::ReconcilerConfig;
pub use sweep::{Report, sweep};
