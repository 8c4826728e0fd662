//! SQS adapter for the delivery queue.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use async_trait::async_trait;

use crate::ports::queue::{Enqueue, OutgoingMessage, QueueError, Redrive, Visibility};
use crate::ports::store::Ping;

/// SendMessageBatch takes at most 10 entries...
const BATCH_MAX: usize = 10;
/// ...whose bodies add up to at most 1 MiB (the queue's MaximumMessageSize, set in the template).
pub const BATCH_MAX_BYTES: usize = 1_048_576;
/// Failed entries of a batch are sent again this many times at most.
const SEND_TRIES: u32 = 4;
/// SQS refuses a visibility timeout above 12 hours.
pub const MAX_VISIBILITY_SECONDS: u32 = 43_200;

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A cheap call proving the queue is reachable (health check).
    pub async fn check_reachable(&self) -> Result<(), QueueError> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })
    }

    /// Sends one batch (≤ 10), returning the ids of entries that were not accepted and the
    /// reason given for the last of them.
    async fn send_batch(&self, batch: &[&OutgoingMessage]) -> Result<Vec<String>, QueueError> {
        let entries = batch
            .iter()
            .map(|m| {
                SendMessageBatchRequestEntry::builder()
                    .id(m.id.clone())
                    .message_body(m.body.clone())
                    .build()
                    .map_err(|e| QueueError::Unavailable(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
        Ok(out.failed.into_iter().map(|f| f.id).collect())
    }
}

/// Cuts `messages` into batches (in order) of at most `max_count` entries whose bodies add up
/// to at most `max_bytes`; a message larger than `max_bytes` on its own goes alone (and SQS
/// names it refused).
fn batches(
    messages: &[OutgoingMessage],
    max_count: usize,
    max_bytes: usize,
) -> Vec<Vec<&OutgoingMessage>> {
    let mut out: Vec<Vec<&OutgoingMessage>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let size = m.body.len();
        match out.last_mut() {
            Some(batch) if batch.len() < max_count && bytes + size <= max_bytes => {
                batch.push(m);
                bytes += size;
            }
            _ => {
                out.push(vec![m]);
                bytes = size;
            }
        }
    }
    out
}

#[async_trait]
impl Enqueue for SqsQueue {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        let mut not_sent: Vec<String> = Vec::new();
        for chunk in batches(messages, BATCH_MAX, BATCH_MAX_BYTES) {
            let mut pending = chunk;
            let mut last_reason = String::new();
            for attempt in 0..SEND_TRIES {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                match self.send_batch(&pending).await {
                    Ok(failed) => {
                        pending.retain(|m| failed.contains(&m.id));
                        last_reason = "entries refused by SendMessageBatch".into();
                    }
                    Err(e) => last_reason = e.to_string(),
                }
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                tracing::error!(count = pending.len(), reason = %last_reason, "messages not enqueued");
                not_sent.extend(pending.iter().map(|m| m.id.clone()));
                // Keep going: the other chunks may still get through; the caller learns exactly
                // which messages did not.
                if not_sent.len() == messages.len() {
                    return Err(QueueError::NotEnqueued {
                        failed: not_sent,
                        reason: last_reason,
                    });
                }
            }
        }
        if not_sent.is_empty() {
            Ok(())
        } else {
            Err(QueueError::NotEnqueued {
                failed: not_sent,
                reason: "some batches failed".into(),
            })
        }
    }
}

#[async_trait]
impl Visibility for SqsQueue {
    async fn change_visibility(
        &self,
        receipt_handle: &str,
        seconds: u32,
    ) -> Result<(), QueueError> {
        let secs = i32::try_from(seconds.min(MAX_VISIBILITY_SECONDS)).unwrap_or(i32::MAX);
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })
    }
}

/// DLQ redrive by receive / send / delete (moto does not implement StartMessageMoveTask, and
/// this works the same on AWS). A message is deleted from the DLQ only after the delivery queue
/// accepted it, so a crash mid-way can duplicate a message (harmless: deliveries are idempotent)
/// but never lose one.
#[derive(Clone, Debug)]
pub struct SqsRedrive {
    client: Client,
    dlq_url: String,
    queue_url: String,
    /// Stop after this long; the caller can call again for the rest.
    budget: Duration,
}

impl SqsRedrive {
    pub fn new(
        client: Client,
        dlq_url: impl Into<String>,
        queue_url: impl Into<String>,
        budget: Duration,
    ) -> Self {
        Self {
            client,
            dlq_url: dlq_url.into(),
            queue_url: queue_url.into(),
            budget,
        }
    }
}

pub(crate) fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> QueueError {
    QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
}

#[async_trait]
impl Redrive for SqsRedrive {
    async fn redrive(&self) -> Result<usize, QueueError> {
        let started = std::time::Instant::now();
        let mut moved = 0;
        while started.elapsed() < self.budget {
            let received = self
                .client
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(unavailable)?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let entries = messages
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(m.body.clone().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(unavailable)?;
            let deletes = sent
                .successful
                .iter()
                .filter_map(|ok| ok.id.parse::<usize>().ok())
                .filter_map(|i| messages.get(i))
                .enumerate()
                .filter_map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            if deletes.is_empty() {
                break;
            }
            let deleted = self
                .client
                .delete_message_batch()
                .queue_url(&self.dlq_url)
                .set_entries(Some(deletes))
                .send()
                .await
                .map_err(unavailable)?;
            moved += deleted.successful.len();
        }
        Ok(moved)
    }

    /// One GetQueueAttributes call on the dead-letter queue.
    async fn depth(&self) -> Result<crate::ports::queue::QueueDepth, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.dlq_url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(unavailable)?;
        let count = |name: Name| {
            out.attributes
                .as_ref()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(crate::ports::queue::QueueDepth {
            waiting: count(Name::ApproximateNumberOfMessages),
            in_flight: count(Name::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

#[async_trait]
impl Ping for SqsQueue {
    async fn ping(&self) -> Result<(), String> {
        self.check_reachable().await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: usize, size: usize) -> OutgoingMessage {
        OutgoingMessage {
            id: id.to_string(),
            body: "x".repeat(size),
        }
    }

    fn shape(batches: &[Vec<&OutgoingMessage>]) -> Vec<Vec<String>> {
        batches
            .iter()
            .map(|b| b.iter().map(|m| m.id.clone()).collect())
            .collect()
    }

    #[test]
    fn batches_are_cut_by_count_and_by_bytes_in_order() {
        let small: Vec<_> = (0..23).map(|i| msg(i, 100)).collect();
        let cut = batches(&small, 10, BATCH_MAX_BYTES);
        assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);

        // 25 messages of 256 KiB + envelope: 4 × 262,444 > 1 MiB, so three a batch.
        let big: Vec<_> = (0..25).map(|i| msg(i, 262_144 + 300)).collect();
        let cut = batches(&big, 10, BATCH_MAX_BYTES);
        assert!(
            cut.iter()
                .all(|b| b.iter().map(|m| m.body.len()).sum::<usize>() <= BATCH_MAX_BYTES)
        );
        assert_eq!(
            cut.iter().map(Vec::len).collect::<Vec<_>>(),
            [3, 3, 3, 3, 3, 3, 3, 3, 1]
        );
        let ids: Vec<String> = shape(&cut).concat();
        assert_eq!(
            ids,
            (0..25).map(|i| i.to_string()).collect::<Vec<_>>(),
            "order kept"
        );

        // 10 × 110,000 bytes (the hostile-tenant case) no longer goes as one batch.
        let ten: Vec<_> = (0..10).map(|i| msg(i, 110_000)).collect();
        assert_eq!(shape(&batches(&ten, 10, BATCH_MAX_BYTES)).len(), 2);

        // A message over the limit on its own goes alone.
        let odd = vec![msg(0, 10), msg(1, 2_000_000), msg(2, 10)];
        assert_eq!(
            shape(&batches(&odd, 10, BATCH_MAX_BYTES)),
            [
                vec!["0".to_owned()],
                vec!["1".to_owned()],
                vec!["2".to_owned()]
            ]
        );
        assert!(batches(&[], 10, BATCH_MAX_BYTES).is_empty());
    }
}
