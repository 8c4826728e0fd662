//! SQS adapter for the delivery queue.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use async_trait::async_trait;

use crate::ports::queue::{Enqueue, OutgoingMessage, QueueError, Redrive, Visibility};
use crate::ports::store::Ping;

/// SendMessageBatch takes at most 10 entries.
const BATCH_MAX: usize = 10;
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

#[async_trait]
impl Enqueue for SqsQueue {
    async fn send(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        let mut not_sent: Vec<String> = Vec::new();
        for chunk in messages.chunks(BATCH_MAX) {
            let mut pending: Vec<&OutgoingMessage> = chunk.iter().collect();
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

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
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
}

#[async_trait]
impl Ping for SqsQueue {
    async fn ping(&self) -> Result<(), String> {
        self.check_reachable().await.map_err(|e| e.to_string())
    }
}
