//! Wiring only: configuration, clients built once per cold start, and the runtime loop.

use std::sync::Arc;

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use ingest::App;
use ingest::config::IngestConfig;
use ingest::http::ApiRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::sqs::{SqsQueue, SqsRedrive};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = IngestConfig::from_env()?;
    let aws = shared::adapters::aws::load_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let app = Arc::new(App::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name),
        SqsQueue::new(sqs.clone(), &config.queue_url),
        // Within the function's 29 s timeout; the caller calls again for the rest.
        SqsRedrive::new(
            sqs,
            &config.dlq_url,
            &config.queue_url,
            Duration::from_secs(20),
        ),
        config,
    ));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let app = Arc::clone(&app);
            async move {
                let response = app.handle(ApiRequest::from_apigw(event.payload)).await;
                Ok::<_, lambda_runtime::Error>(response.into_apigw())
            }
        },
    ))
    .await
}
