//! Batch concurrency, goal (f) of `scripts/bench`: one delivery-worker invocation with 1, 10
//! and 100 records, each to a receiver that answers after 200 ms, on the in-memory store and
//! queue (`shared` feature `memory`) and the real HTTP sender. Prints one JSON line with the
//! wall time of each invocation. Only this file knows the worker's API (the integrator fixes
//! the call site when it changes).

use std::time::Instant;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use delivery::{Worker, WorkerOptions};
use serde_json::value::RawValue;
use shared::adapters::http::HttpSender;
use shared::adapters::memory::{MemoryQueue, MemoryStore};
use shared::domain::address_policy::AddressPolicy;
use shared::domain::clock::now_millis;
use shared::domain::event_type::EventType;
use shared::domain::fanout::{NewEvent, plan};
use shared::domain::model::{Endpoint, Tenant};
use shared::domain::secret::Secret;
use shared::domain::settings::SettingsPatch;
use shared::ports::{EndpointWrite, EventWrite, TenantWrite};

type BenchWorker = Worker<MemoryStore, MemoryQueue, HttpSender>;

fn tenant() -> Tenant {
    Tenant {
        id: "bench".into(),
        name: None,
        defaults: SettingsPatch::default(),
        max_endpoints: 10,
        https_only: false,
        signing_secret: Secret::generate(),
        created_at: 0,
        updated_at: 0,
    }
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint {
        id: "ep_slow".into(),
        tenant_id: "bench".into(),
        url: url.into(),
        event_types: vec!["*".into()],
        description: None,
        enabled: true,
        secret: Secret::generate(),
        previous_secrets: Vec::new(),
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        settings: SettingsPatch::default(),
        created_at: 0,
        updated_at: 0,
    }
}

/// `n` events with one delivery each to the slow endpoint, stored, and the batch of their
/// messages (ingest's, on their first receive).
async fn batch(worker: &BenchWorker, url: &str, tag: &str, n: usize) -> anyhow::Result<SqsEvent> {
    let ty = EventType::parse("job.completed").map_err(anyhow::Error::msg)?;
    let payload = RawValue::from_string(r#"{"a":1}"#.into())?;
    let ep = endpoint(url);
    let mut sqs = SqsEvent::default();
    for i in 0..n {
        let new = NewEvent {
            tenant_id: "bench",
            event_type: &ty,
            payload: &payload,
            metadata: None,
            idempotency_key: None,
        };
        let fan_out = plan(new, std::slice::from_ref(&ep), None, now_millis());
        worker.store().put_event(&fan_out.event).await?;
        for m in fan_out.messages()? {
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("m-{tag}-{i}"));
            record.receipt_handle = Some(format!("rh-{tag}-{i}"));
            record.body = Some(m.body);
            record
                .attributes
                .insert("ApproximateReceiveCount".into(), "1".into());
            sqs.records.push(record);
        }
    }
    Ok(sqs)
}

/// One invocation's wall time in ms; every record must end delivered.
async fn timed(worker: &BenchWorker, url: &str, tag: &str, n: usize) -> anyhow::Result<f64> {
    let event = batch(worker, url, tag, n).await?;
    let start = Instant::now();
    let response = worker.handle_batch(event, now_millis() + 60_000).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        response.batch_item_failures.is_empty(),
        "batch {tag}: {} records failed",
        response.batch_item_failures.len()
    );
    Ok(ms)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let receiver = bench::receiver::Receiver::start().await?;
    let url = format!("{}/slow/bench", receiver.url);
    let store = MemoryStore::new();
    store.put_tenant(&tenant(), true).await?;
    store.create_endpoint(&endpoint(&url), 10).await?;
    let policy = AddressPolicy::with_allowlist(
        AddressPolicy::parse_allowlist("127.0.0.2/32").map_err(anyhow::Error::msg)?,
    );
    // What the deployed function runs with: the template's DeliveryConcurrency (16), unless
    // DELIVERY_CONCURRENCY says otherwise.
    let concurrency = std::env::var("DELIVERY_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(WorkerOptions::default().concurrency);
    let options = WorkerOptions {
        concurrency,
        ..WorkerOptions::default()
    };
    let worker = Worker::new(store, MemoryQueue::new(), HttpSender::new(policy)?, options);
    timed(&worker, &url, "warm", 1).await?;
    let one_ms = timed(&worker, &url, "one", 1).await?;
    let ten_ms = timed(&worker, &url, "ten", 10).await?;
    let hundred_ms = timed(&worker, &url, "hundred", 100).await?;
    anyhow::ensure!(
        receiver.delivered() == 112,
        "receiver got {} POSTs, want 112",
        receiver.delivered()
    );
    println!(
        "{}",
        serde_json::json!({
            "one_ms": one_ms,
            "ten_ms": ten_ms,
            "hundred_ms": hundred_ms,
            "concurrency": concurrency,
            "receiver_delay_ms": bench::receiver::SLOW.as_secs_f64() * 1000.0,
        })
    );
    Ok(())
}
