//! What the Lambda SQS event source mapping does, for the local stack: long-poll the queue,
//! hand a batch to the delivery function as an `SqsEvent`, delete the records it did not report
//! in `batchItemFailures`, and leave the others (they come back when their visibility ends). If
//! the invocation fails as a whole, nothing is deleted, as with the real mapping.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

/// Runs the delivery function on one batch.
pub trait Invoke: Send + Sync {
    fn invoke(
        &self,
        event: SqsEvent,
    ) -> impl Future<Output = anyhow::Result<SqsBatchResponse>> + Send;
}

/// Invokes a function served by `cargo lambda watch` through its Lambda invoke API.
pub struct HttpInvoker {
    client: reqwest::Client,
    url: String,
}

impl HttpInvoker {
    /// `base` is the watch server (e.g. `http://127.0.0.1:9000`), `function` the binary name.
    pub fn new(base: &str, function: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()?,
            url: format!(
                "{}/2015-03-31/functions/{function}/invocations",
                base.trim_end_matches('/')
            ),
        })
    }
}

impl Invoke for HttpInvoker {
    async fn invoke(&self, event: SqsEvent) -> anyhow::Result<SqsBatchResponse> {
        let response = self.client.post(&self.url).json(&event).send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            anyhow::bail!("invocation failed with HTTP {status}: {text}");
        }
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("not a batch response ({e}): {text}"))
    }
}

#[derive(Debug, Clone)]
pub struct PollerConfig {
    pub queue_url: String,
    pub batch_size: i32,
    pub wait_seconds: i32,
    pub region: String,
}

/// Counts of what one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollStats {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

pub struct Poller<I> {
    client: Client,
    config: PollerConfig,
    invoker: I,
    queue_arn: String,
}

impl<I: Invoke> Poller<I> {
    pub async fn new(client: Client, config: PollerConfig, invoker: I) -> anyhow::Result<Self> {
        let attrs = client
            .get_queue_attributes()
            .queue_url(&config.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?;
        let queue_arn = attrs
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap_or_default();
        Ok(Self {
            client,
            config,
            invoker,
            queue_arn,
        })
    }

    /// Polls until the task is dropped or aborted.
    pub async fn run(&self) {
        loop {
            match self.poll_once().await {
                Ok(stats) if stats.received > 0 => tracing::info!(?stats, "batch handled"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "poll failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// One receive, one invocation, one delete.
    pub async fn poll_once(&self) -> anyhow::Result<PollStats> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(self.config.batch_size)
            .wait_time_seconds(self.config.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(PollStats::default());
        }
        let (event, mut handles) = self.to_event(messages);
        let received = event.records.len();
        let response = match self.invoker.invoke(event).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "invocation failed; the whole batch comes back later");
                return Ok(PollStats {
                    received,
                    deleted: 0,
                    failed: received,
                });
            }
        };
        for failure in &response.batch_item_failures {
            handles.remove(&failure.item_identifier);
        }
        let failed = received - handles.len();
        let deleted = self.delete(handles.into_values()).await?;
        Ok(PollStats {
            received,
            deleted,
            failed,
        })
    }

    /// The Lambda event the event source mapping would send, and each message's receipt handle.
    fn to_event(
        &self,
        messages: Vec<aws_sdk_sqs::types::Message>,
    ) -> (SqsEvent, HashMap<String, String>) {
        let mut handles: HashMap<String, String> = HashMap::new();
        let mut event = SqsEvent::default();
        for m in messages {
            let record = sqs_record(&m, &self.queue_arn, &self.config.region);
            if let (Some(id), Some(handle)) = (m.message_id, m.receipt_handle) {
                handles.insert(id, handle);
            }
            event.records.push(record);
        }
        (event, handles)
    }

    /// Deletes the messages whose work is done, 10 a call; returns how many were deleted.
    async fn delete(&self, handles: impl Iterator<Item = String>) -> anyhow::Result<usize> {
        let entries: Vec<_> = handles
            .enumerate()
            .filter_map(|(i, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect();
        let mut deleted = 0;
        for chunk in entries.chunks(10) {
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.config.queue_url)
                .set_entries(Some(chunk.to_vec()))
                .send()
                .await?;
            deleted += out.successful.len();
        }
        Ok(deleted)
    }
}

/// A received SQS message as the record the event source mapping hands Lambda: its ids,
/// body, system attributes (ApproximateReceiveCount, SentTimestamp…) and source.
pub fn sqs_record(m: &aws_sdk_sqs::types::Message, queue_arn: &str, region: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = m.message_id.clone();
    record.receipt_handle = m.receipt_handle.clone();
    record.body = m.body.clone();
    record.md5_of_body = m.md5_of_body.clone();
    record.attributes = m
        .attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(queue_arn.to_owned());
    record.aws_region = Some(region.to_owned());
    record
}
