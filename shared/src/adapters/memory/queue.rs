// shape: test support (compiled for tests and the `memory` feature only)
//! MemoryQueue: the delivery queue and its DLQ, in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// The delivery queue and its DLQ, in memory: what was sent, which visibility changes were
/// asked for, and what a redrive moves back.
#[derive(Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<OutgoingMessage>>,
    dead: Mutex<Vec<OutgoingMessage>>,
    visibility: Mutex<Vec<(String, u32)>>,
    unavailable: AtomicBool,
    rejecting: AtomicBool,
    /// When set, how many more messages are accepted; the rest are named not enqueued.
    accept_budget: Mutex<Option<usize>>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// While set, every call fails with `QueueError::Unavailable`.
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::SeqCst);
    }

    /// While set, `send` accepts nothing and names every message as not enqueued.
    pub fn set_rejecting(&self, rejecting: bool) {
        self.rejecting.store(rejecting, Ordering::SeqCst);
    }

    /// Accepts `n` more messages, then names every further one as not enqueued (a queue that
    /// fails part-way through a fan-out); `None` accepts everything again.
    pub fn set_accept_budget(&self, n: Option<usize>) {
        *self.accept_budget.lock().unwrap() = n;
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// Every visibility change asked for: (receipt handle, seconds).
    pub fn visibility_changes(&self) -> Vec<(String, u32)> {
        self.visibility.lock().unwrap().clone()
    }

    /// Puts a message in the dead-letter queue.
    pub fn dead_letter(&self, message: OutgoingMessage) {
        self.dead.lock().unwrap().push(message);
    }

    fn check(&self) -> Result<(), QueueError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(QueueError::Unavailable(
                "memory queue set unavailable".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Enqueue for MemoryQueue {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        self.check()?;
        if self.rejecting.load(Ordering::SeqCst) {
            return Err(QueueError::NotEnqueued {
                failed: messages.iter().map(|m| m.id.clone()).collect(),
                reason: "memory queue set rejecting".into(),
            });
        }
        let mut budget = self.accept_budget.lock().unwrap();
        let take = budget.map_or(messages.len(), |n| n.min(messages.len()));
        if let Some(n) = budget.as_mut() {
            *n -= take;
        }
        self.sent
            .lock()
            .unwrap()
            .extend_from_slice(&messages[..take]);
        if take < messages.len() {
            return Err(QueueError::NotEnqueued {
                failed: messages[take..].iter().map(|m| m.id.clone()).collect(),
                reason: "memory queue accept budget spent".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Visibility for MemoryQueue {
    async fn change_visibility(&self, receipt: &str, seconds: u32) -> Result<(), QueueError> {
        self.check()?;
        self.visibility
            .lock()
            .unwrap()
            .push((receipt.to_owned(), seconds));
        Ok(())
    }
}

#[async_trait]
impl Redrive for MemoryQueue {
    async fn redrive(&self) -> Result<usize, QueueError> {
        self.check()?;
        let moved: Vec<OutgoingMessage> = std::mem::take(&mut *self.dead.lock().unwrap());
        let n = moved.len();
        self.sent.lock().unwrap().extend(moved);
        Ok(n)
    }

    async fn depth(&self) -> Result<crate::ports::queue::QueueDepth, QueueError> {
        self.check()?;
        Ok(crate::ports::queue::QueueDepth {
            waiting: self.dead.lock().unwrap().len() as u64,
            in_flight: 0,
        })
    }
}

#[async_trait]
impl Ping for MemoryQueue {
    async fn ping(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }
}

/// The rejected-events queue, in memory: every rejection kept in order; a receive that hides
/// messages hides them until [`MemoryRejections::reveal`].
#[derive(Default)]
pub struct MemoryRejections {
    held: Mutex<Vec<(crate::ports::queue::Held, bool)>>,
    unavailable: AtomicBool,
}

impl MemoryRejections {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::SeqCst);
    }

    /// Every rejection body held, in order.
    pub fn bodies(&self) -> Vec<String> {
        self.held
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| h.body.clone())
            .collect()
    }

    /// Makes hidden rejections visible again (their visibility timeout ran out).
    pub fn reveal(&self) {
        for (_, hidden) in self.held.lock().unwrap().iter_mut() {
            *hidden = false;
        }
    }

    fn check(&self) -> Result<(), QueueError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable(
                "memory rejections set unavailable".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl crate::ports::queue::Rejections for MemoryRejections {
    async fn reject(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        self.check()?;
        let mut held = self.held.lock().unwrap();
        for m in messages {
            let id = ulid::Ulid::new().to_string();
            held.push((
                crate::ports::queue::Held {
                    message_id: id.clone(),
                    receipt: format!("r-{id}"),
                    body: m.body.clone(),
                },
                false,
            ));
        }
        Ok(())
    }

    async fn receive(
        &self,
        max: usize,
        hide_seconds: u32,
    ) -> Result<Vec<crate::ports::queue::Held>, QueueError> {
        self.check()?;
        let mut held = self.held.lock().unwrap();
        let mut out = Vec::new();
        for (h, hidden) in held.iter_mut().filter(|(_, hidden)| !*hidden).take(max) {
            *hidden = hide_seconds > 0;
            out.push(h.clone());
        }
        Ok(out)
    }

    async fn remove(&self, receipt: &str) -> Result<(), QueueError> {
        self.check()?;
        self.held
            .lock()
            .unwrap()
            .retain(|(h, _)| h.receipt != receipt);
        Ok(())
    }
}
