//! The reconciler: a scheduled function that heals deliveries left pending with no message
//! behind them (a process killed between a write and a send, a lost message, an operator
//! mistake). It reads only the sparse reconcile index — pending deliveries by their reconcile
//! mark ([`shared::domain::reconcile`]) — never the table, and judges each candidate from the
//! delivery as stored now. A stale one is claimed by moving its mark to now (conditional: of two
//! reconcilers running at once only one wins) and then enqueued; a copy of a message that was
//! not lost after all is harmless, because the worker's claim is conditional.

pub mod config;
pub mod sweep;

pub use config::ReconcilerConfig;
pub use sweep::{Report, sweep};
