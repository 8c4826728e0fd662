//! What a first-try delivery logs at INFO, through the functions' own subscriber. A binary of
//! its own: tracing caches per call site whether anyone listens, and tests running beside it
//! with no subscriber could make that answer "no" for this one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use delivery::{Worker, WorkerOptions};
use serde_json::value::RawValue;
use shared::adapters::contract::fixtures::{endpoint, tenant};
use shared::adapters::memory::{MemoryQueue, MemoryStore};
use shared::domain::attempt::AttemptResult;
use shared::domain::clock::now_millis;
use shared::domain::event_type::EventType;
use shared::domain::fanout::{NewEvent, plan};
use shared::ports::{EndpointWrite, EventWrite, OutboundRequest, Sender, TenantWrite};

struct Ok200;

#[async_trait]
impl Sender for Ok200 {
    async fn send(&self, _: OutboundRequest) -> AttemptResult {
        AttemptResult::from_status(200, 3)
    }
}

/// The lines written, as the subscriber writes them.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_first_try_delivery_logs_one_short_line_with_its_ids_and_outcome() {
    let store = MemoryStore::new();
    store.put_tenant(&tenant("acme", 10), true).await.unwrap();
    let mut ep = endpoint("acme", "ep_1");
    ep.event_types = vec!["*".into()];
    store.create_endpoint(&ep, 10).await.unwrap();
    let ty = EventType::parse("job.completed").unwrap();
    let payload = RawValue::from_string(r#"{"a":1}"#.into()).unwrap();
    let new = NewEvent {
        tenant_id: "acme",
        event_type: &ty,
        payload: &payload,
        metadata: None,
        idempotency_key: None,
    };
    let fan_out = plan(new, &[ep], None, now_millis());
    store.put_event(&fan_out.event).await.unwrap();
    let message = fan_out.messages().unwrap().remove(0);
    let id = fan_out.deliveries[0].id.clone();
    let w = Worker::new(store, MemoryQueue::new(), Ok200, WorkerOptions::default());

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        shared::telemetry::subscriber(tracing_subscriber::EnvFilter::new("info"), move || {
            writer.clone()
        });
    let _logs = tracing::dispatcher::set_default(&tracing::Dispatch::new(subscriber));
    let mut record = SqsMessage::default();
    record.message_id = Some("059f36b4-87a3-44ab-83d2-661975830a7d".into()); // as SQS makes them
    record.receipt_handle = Some("rh".into());
    record.body = Some(message.body);
    record
        .attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    let mut batch = SqsEvent::default();
    batch.records = vec![record];
    let response = w.handle_batch(batch, now_millis() + 60_000).await;
    assert!(response.batch_item_failures.is_empty());
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(text.len() <= 200, "{} bytes: {text}", text.len());
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["delivery_id"], id.as_str());
    assert_eq!(line["attempt"], 1);
    assert_eq!(line["outcome"], "Delivered");
    assert_eq!(line["status_code"], 200);
}
