//! Wiring only: configuration, clients built once per cold start, and the runtime loop.

use std::sync::Arc;

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use ingest::App;
use ingest::config::IngestConfig;
use ingest::http::ApiRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::dynamo::DynamoStore;
use shared::queue::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = IngestConfig::from_env()?;
    let aws = shared::aws::load_config().await;
    let app = Arc::new(App::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name),
        SqsQueue::new(aws_sdk_sqs::Client::new(&aws), &config.queue_url),
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
