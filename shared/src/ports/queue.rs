//! What the functions need from the delivery queue and its dead-letter queue.
//! Adapter: [`crate::adapters::sqs`].

use async_trait::async_trait;

/// One message to enqueue: an id unique within the batch and the body.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub id: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Some messages could not be enqueued after retries: their ids.
    #[error("{} message(s) could not be enqueued: {reason}", failed.len())]
    NotEnqueued { failed: Vec<String>, reason: String },
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Enqueue: Send + Sync {
    /// Enqueues every message (in batches, retrying failed entries) or reports which could not
    /// be enqueued.
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError>;
}

#[async_trait]
pub trait Visibility: Send + Sync {
    /// Hides a received message for `seconds` (0 = visible again now).
    async fn change_visibility(&self, receipt_handle: &str, seconds: u32)
    -> Result<(), QueueError>;
}

/// Moves what the dead-letter queue holds back to the delivery queue.
#[async_trait]
pub trait Redrive: Send + Sync {
    /// Returns how many messages were moved.
    async fn redrive(&self) -> Result<usize, QueueError>;
    /// What the dead-letter queue holds now (SQS's approximate counts).
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
}

/// A queue's approximate size: messages waiting, and messages received but not yet deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    pub waiting: u64,
    pub in_flight: u64,
}

/// A message received from a queue: its id, the handle that deletes it, and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
}

/// The rejected-events queue: events an asynchronous source brought that could not be accepted
/// (bad type, unknown tenant, too large…), each with the reason, kept until re-submitted.
#[async_trait]
pub trait Rejections: Send + Sync {
    /// Adds rejections (each body names the source record and the reason).
    async fn reject(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError>;
    /// Up to `max` held rejections, hidden for `hide_seconds` (0: a look that leaves them
    /// where they are).
    async fn receive(&self, max: usize, hide_seconds: u32) -> Result<Vec<Held>, QueueError>;
    /// Removes a received rejection.
    async fn remove(&self, receipt: &str) -> Result<(), QueueError>;
}
