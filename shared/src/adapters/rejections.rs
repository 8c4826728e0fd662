//! SQS adapter for the rejected-events queue: rejections are sent as any message is
//! ([`SqsQueue`]'s batching and retries), looked at and taken with ReceiveMessage, removed with
//! DeleteMessage.

use std::collections::HashSet;

use async_trait::async_trait;

use crate::adapters::sqs::{SqsQueue, unavailable};
use crate::ports::queue::{Enqueue, Held, OutgoingMessage, QueueError, Rejections};

/// ReceiveMessage calls one look makes at most (a look at a queue is a sample: SQS answers
/// from a subset of its servers, so a few calls are made and their answers merged).
const LOOK_CALLS: usize = 10;

#[derive(Clone, Debug)]
pub struct SqsRejections {
    queue: SqsQueue,
}

impl SqsRejections {
    pub fn new(queue: SqsQueue) -> Self {
        Self { queue }
    }
}

#[async_trait]
impl Rejections for SqsRejections {
    async fn reject(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        self.queue.send(messages).await
    }

    async fn receive(&self, max: usize, hide_seconds: u32) -> Result<Vec<Held>, QueueError> {
        let mut found: Vec<Held> = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..LOOK_CALLS {
            if found.len() >= max {
                break;
            }
            let want = (max - found.len()).min(10);
            let out = self
                .queue
                .client()
                .receive_message()
                .queue_url(self.queue.queue_url())
                .max_number_of_messages(i32::try_from(want).unwrap_or(10))
                .visibility_timeout(i32::try_from(hide_seconds).unwrap_or(0))
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(unavailable)?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let before = found.len();
            for m in messages {
                let (Some(id), Some(receipt)) = (m.message_id, m.receipt_handle) else {
                    continue;
                };
                if seen.insert(id.clone()) {
                    found.push(Held {
                        message_id: id,
                        receipt,
                        body: m.body.unwrap_or_default(),
                    });
                }
            }
            if found.len() == before && hide_seconds == 0 {
                break; // a look that finds nothing new has seen what there is
            }
        }
        found.truncate(max);
        Ok(found)
    }

    async fn remove(&self, receipt: &str) -> Result<(), QueueError> {
        self.queue
            .client()
            .delete_message()
            .queue_url(self.queue.queue_url())
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}
