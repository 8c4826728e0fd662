//! Wiring only: configuration, clients built once per cold start, and the runtime loop. The
//! function runs on an EventBridge schedule; the event's content is not used.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use reconciler::ReconcilerConfig;
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::sealer::SecretSealer;
use shared::adapters::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = ReconcilerConfig::from_env()?;
    let aws = shared::adapters::aws::load_config().await;
    // It reads and writes no secret: a sealer without keys, and no KMS permission.
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        &config.table_name,
        SecretSealer::without_keys(),
    );
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), &config.queue_url);
    let wired = Arc::new((store, queue, config));
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let wired = Arc::clone(&wired);
        async move {
            let (store, queue, config) = &*wired;
            let now = shared::domain::clock::now_millis();
            let (stale, limit) = (config.stale_after, config.max_minutes);
            let report = reconciler::sweep(store, queue, now, stale, limit).await?;
            tracing::info!(?report, "reconciled");
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
