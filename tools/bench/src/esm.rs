//! What the Lambda SQS event source mapping does, through the counting proxy: receive up to a
//! batch, invoke the delivery function with the `SqsEvent`, delete the records it did not
//! report in `batchItemFailures` (nothing if the invocation failed as a whole).

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};

use crate::function::Instance;

/// An SQS client with dummy credentials for an emulated endpoint.
pub async fn sqs_client(endpoint: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .load()
        .await;
    Client::new(&config)
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Drained {
    pub invocations: u64,
    pub records: u64,
    pub reported_failures: u64,
    /// Handler wall time of the invocations, and the same rounded up per invocation to whole
    /// milliseconds (Lambda's billed duration).
    pub handler_ms: f64,
    pub billed_ms: u64,
}

impl Drained {
    fn add(&mut self, o: &Self) {
        self.invocations += o.invocations;
        self.records += o.records;
        self.reported_failures += o.reported_failures;
        self.handler_ms += o.handler_ms;
        self.billed_ms += o.billed_ms;
    }
}

pub struct Esm {
    client: Client,
    /// Straight to moto, uncounted: only for "is the queue empty".
    moto: Client,
    queue_url: String,
    queue_arn: String,
    batch_size: i32,
}

impl Esm {
    pub async fn new(
        proxy_url: &str,
        moto_url: &str,
        queue_url: &str,
        batch_size: i32,
    ) -> anyhow::Result<Self> {
        let moto = sqs_client(moto_url).await;
        let attrs = moto
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?;
        let queue_arn = attrs
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap_or_default();
        Ok(Self {
            client: sqs_client(proxy_url).await,
            moto,
            queue_url: queue_url.to_owned(),
            queue_arn,
            batch_size,
        })
    }

    /// Polls and invokes until `done()` holds and the queue holds nothing (visible or hidden).
    pub async fn drain(
        &self,
        delivery: &Instance,
        done: impl Fn() -> bool,
        timeout: Duration,
    ) -> anyhow::Result<Drained> {
        let start = Instant::now();
        let mut total = Drained::default();
        loop {
            let got = self.poll_once(delivery).await?;
            total.add(&got);
            if got.records == 0 && done() && self.queue_is_empty().await? {
                return Ok(total);
            }
            anyhow::ensure!(
                start.elapsed() < timeout,
                "the queue did not drain within {timeout:?} ({total:?})"
            );
        }
    }

    async fn queue_is_empty(&self) -> anyhow::Result<bool> {
        let out = self
            .moto
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?;
        let attrs = out.attributes.unwrap_or_default();
        Ok(attrs.values().all(|v| v == "0"))
    }

    /// One receive, one invocation, one delete.
    pub async fn poll_once(&self, delivery: &Instance) -> anyhow::Result<Drained> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(Drained::default());
        }
        let mut handles = Vec::new();
        let mut event = SqsEvent::default();
        for m in messages {
            let record = devstack::poller::sqs_record(&m, &self.queue_arn, "us-east-1");
            handles.push((
                m.message_id.unwrap_or_default(),
                m.receipt_handle.unwrap_or_default(),
            ));
            event.records.push(record);
        }
        let records = handles.len() as u64;
        let outcome = delivery.invoke(&serde_json::to_value(&event)?).await?;
        let ms = outcome.handler.as_secs_f64() * 1000.0;
        let mut done = Drained {
            invocations: 1,
            records,
            reported_failures: records,
            handler_ms: ms,
            billed_ms: ms.ceil() as u64,
        };
        if !outcome.ok {
            eprintln!(
                "bench: delivery invocation failed: {}",
                String::from_utf8_lossy(&outcome.body)
            );
            return Ok(done);
        }
        let response: SqsBatchResponse = serde_json::from_slice(&outcome.body)?;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        handles.retain(|(id, _)| !failed.contains(&id.as_str()));
        self.delete(&handles).await?;
        done.reported_failures = failed.len() as u64;
        Ok(done)
    }

    async fn delete(&self, handles: &[(String, String)]) -> anyhow::Result<()> {
        for chunk in handles.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (_, handle))| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await?;
        }
        Ok(())
    }
}
