//! Group commit for the queue: the events of one batch request run [`super::intake::submit`]
//! side by side, and their sends are held until every running submit has either reached its
//! send or finished; then one [`Enqueue::send`] carries all their messages (so SendMessageBatch
//! calls are filled across events: 100 events with one delivery each take 10 calls, not 100).
//! Each submit gets back its own part of the result — only its own messages named not enqueued
//! — so intake's compensation (record those failed, answer 503) works per event, unchanged.
//!
//! A submit must be run inside [`Coalesced::enter`]'s guard, taken when the submit is created
//! (before its first poll): the guard counts it as running until it ends (or is dropped), and
//! the held sends go when every counted submit is waiting in a send or has ended. A submit that
//! waits on another submit of the same group (other than through this queue) would hold the
//! group until it ends: the batch never runs two submits of one idempotency key together.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::{Notify, oneshot};

use shared::ports::{Enqueue, OutgoingMessage, QueueError};

/// A queue whose sends, made by the submits running under it, go out together.
pub struct Coalesced<'q, Q: ?Sized> {
    queue: &'q Q,
    state: Mutex<Held>,
    /// Wakes the held senders when a submit ends (the last running one may have just ended).
    wake: Notify,
}

#[derive(Default)]
struct Held {
    /// Submits running under an [`Entered`] guard.
    running: usize,
    /// Sends waiting for the others; at most one per running submit.
    waiting: Vec<Waiter>,
}

struct Waiter {
    messages: Vec<OutgoingMessage>,
    reply: oneshot::Sender<Result<(), QueueError>>,
}

/// Counts one submit as running until dropped.
pub struct Entered<'a, 'q, Q: ?Sized> {
    owner: &'a Coalesced<'q, Q>,
}

impl<Q: ?Sized> Drop for Entered<'_, '_, Q> {
    fn drop(&mut self) {
        self.owner.held().running -= 1;
        self.owner.wake.notify_waiters();
    }
}

impl<Q: ?Sized> Coalesced<'_, Q> {
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent counts.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<'q, Q: Enqueue + ?Sized> Coalesced<'q, Q> {
    pub fn new(queue: &'q Q) -> Self {
        Self {
            queue,
            state: Mutex::new(Held::default()),
            wake: Notify::new(),
        }
    }

    /// Counts a submit as running: take it when the submit is created, keep it until it ends.
    pub fn enter(&self) -> Entered<'_, 'q, Q> {
        self.held().running += 1;
        Entered { owner: self }
    }

    /// Every held send, once every running submit is waiting in one.
    fn take_when_all_wait(&self) -> Option<Vec<Waiter>> {
        let mut held = self.held();
        (!held.waiting.is_empty() && held.waiting.len() >= held.running)
            .then(|| std::mem::take(&mut held.waiting))
    }

    /// One send for all the held ones; each waiter gets its own part of the result.
    async fn flush(&self, waiters: Vec<Waiter>) {
        let all: Vec<OutgoingMessage> = waiters
            .iter()
            .flat_map(|w| w.messages.iter().cloned())
            .collect();
        let result = self.queue.send(&all).await;
        for waiter in waiters {
            let own = share(&result, &waiter.messages);
            // A waiter that went away (its request was dropped) needs no answer.
            let _ = waiter.reply.send(own);
        }
    }
}

/// The part of a shared send's result that concerns `messages`.
fn share(result: &Result<(), QueueError>, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
    match result {
        Ok(()) => Ok(()),
        Err(QueueError::Unavailable(reason)) => Err(QueueError::Unavailable(reason.clone())),
        Err(QueueError::NotEnqueued { failed, reason }) => {
            let own: Vec<String> = failed
                .iter()
                .filter(|id| messages.iter().any(|m| &m.id == *id))
                .cloned()
                .collect();
            if own.is_empty() {
                Ok(())
            } else {
                Err(QueueError::NotEnqueued {
                    failed: own,
                    reason: reason.clone(),
                })
            }
        }
    }
}

#[async_trait]
impl<Q: Enqueue + ?Sized> Enqueue for Coalesced<'_, Q> {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        let (reply, mut answer) = oneshot::channel();
        self.held().waiting.push(Waiter {
            messages: messages.to_vec(),
            reply,
        });
        loop {
            // Registered before the check, so an end between the check and the wait wakes it.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(waiters) = self.take_when_all_wait() {
                self.flush(waiters).await;
            }
            tokio::select! {
                biased;
                own = &mut answer => {
                    return own.unwrap_or_else(|_| {
                        Err(QueueError::Unavailable("the shared send was abandoned".into()))
                    });
                }
                () = &mut woken => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts calls; names the messages whose id starts with `x` not enqueued.
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
        sent: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Enqueue for Counting {
        async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            let failed: Vec<String> = messages
                .iter()
                .filter(|m| m.id.starts_with('x'))
                .map(|m| m.id.clone())
                .collect();
            let mut sent = self.sent.lock().unwrap();
            sent.extend(messages.iter().map(|m| m.id.clone()));
            if failed.is_empty() {
                Ok(())
            } else {
                Err(QueueError::NotEnqueued {
                    failed,
                    reason: "test".into(),
                })
            }
        }
    }

    fn msgs(ids: &[&str]) -> Vec<OutgoingMessage> {
        ids.iter()
            .map(|id| OutgoingMessage {
                id: (*id).into(),
                body: "{}".into(),
            })
            .collect()
    }

    /// A submit counted from its creation: maybe some work first, then one send (or none).
    fn submit<'a>(
        c: &'a Coalesced<'_, Counting>,
        ids: &'a [&str],
        yields: usize,
    ) -> impl Future<Output = Option<bool>> + 'a {
        let running = c.enter();
        async move {
            let sent = work_then_send(c, ids, yields).await;
            drop(running);
            sent
        }
    }

    async fn work_then_send(
        c: &Coalesced<'_, Counting>,
        ids: &[&str],
        yields: usize,
    ) -> Option<bool> {
        for _ in 0..yields {
            tokio::task::yield_now().await;
        }
        if ids.is_empty() {
            return None;
        }
        Some(c.send(&msgs(ids)).await.is_ok())
    }

    #[tokio::test]
    async fn sends_of_every_running_submit_go_out_as_one_and_each_gets_its_own_result() {
        let queue = Counting::default();
        let c = Coalesced::new(&queue);
        let (a, b, none, x) = tokio::join!(
            submit(&c, &["a1", "a2"], 0),
            submit(&c, &["b1"], 3),
            submit(&c, &[], 5),
            submit(&c, &["x1"], 1),
        );
        assert_eq!(queue.calls.load(Ordering::SeqCst), 1, "one send for all");
        assert_eq!(queue.sent.lock().unwrap().len(), 4);
        assert_eq!(
            (a, b, none, x),
            (Some(true), Some(true), None, Some(false)),
            "only x1's submit hears it was not enqueued"
        );
    }

    #[tokio::test]
    async fn a_lone_send_is_not_held() {
        let queue = Counting::default();
        let c = Coalesced::new(&queue);
        assert_eq!(submit(&c, &["a"], 0).await, Some(true));
        assert_eq!(submit(&c, &["b"], 0).await, Some(true));
        assert_eq!(queue.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_submit_ending_without_a_send_lets_the_held_ones_go() {
        let queue = Counting::default();
        let c = Coalesced::new(&queue);
        // The one without a send ends last: the held send must not wait for it forever.
        let (a, none) = tokio::join!(submit(&c, &["a"], 0), submit(&c, &[], 20));
        assert_eq!((a, none), (Some(true), None));
        assert_eq!(queue.calls.load(Ordering::SeqCst), 1);
    }
}
