//! Wiring only: configuration, clients built once per cold start, and the runtime loop.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use delivery::Worker;
use delivery::config::DeliveryConfig;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::http::{HttpSender, PoolOptions};
use shared::adapters::kms::KmsVault;
use shared::adapters::sealer::SecretSealer;
use shared::adapters::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = DeliveryConfig::from_env()?;
    let aws = shared::adapters::aws::load_config().await;
    let worker = Arc::new(Worker::new(
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.table_name,
            SecretSealer::new(Arc::new(KmsVault::from_config(
                &aws,
                &config.secrets_key_id,
            ))),
        ),
        SqsQueue::new(aws_sdk_sqs::Client::new(&aws), &config.queue_url),
        // Idle connections per receiver ≥ the records attempted at once.
        HttpSender::with_pool(
            config.address_policy()?,
            PoolOptions::for_concurrency(config.concurrency),
        )?,
        config.worker_options(),
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = Arc::clone(&worker);
        async move {
            let deadline = delivery::effective_deadline(
                event.context.deadline,
                shared::domain::clock::now_millis(),
            );
            Ok::<_, lambda_runtime::Error>(worker.handle_batch(event.payload, deadline).await)
        }
    }))
    .await
}
