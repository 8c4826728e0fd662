//! What happens to one received message: the value every stage hands the batch handler, which
//! only carries it out (see [`crate::schedule::visibility`] for the waits).

/// What happens to one received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Done (delivered, failed for good, or already final): let the message be deleted.
    Ack,
    /// Bring the message back after this many seconds (next attempt, not yet due, leased).
    Hide(u32),
    /// The message cannot be processed at all: fail it at once, again and again, until the
    /// queue's maxReceiveCount moves it to the DLQ.
    Poison(String),
    /// A store or queue error: fail it with back-off, so it comes back when things may be better.
    Transient(String),
}
