//! Wiring only: configuration, clients built once per cold start, then the Lambda runtime loop
//! (the default) or, with `--listen ADDR` (or `INGEST_LISTEN`), a plain local HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ingest::AppState;
use ingest::config::IngestConfig;
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsVault;
use shared::adapters::rejections::SqsRejections;
use shared::adapters::sealer::SecretSealer;
use shared::adapters::sqs::{SqsQueue, SqsRedrive};

#[derive(Parser)]
#[command(name = "ingest", about = "The webhook service's HTTP API")]
struct Args {
    /// Serve HTTP on this address instead of running as a Lambda function.
    #[arg(long, env = "INGEST_LISTEN")]
    listen: Option<SocketAddr>,
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let args = Args::parse();
    shared::telemetry::init();
    let config = IngestConfig::from_env()?;
    let aws = shared::adapters::aws::load_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let sqs_client = sqs.clone();
    let config_rejected = config.sources.rejected_queue_url.clone();
    let state = AppState::new(
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.table_name,
            SecretSealer::new(Arc::new(KmsVault::from_config(
                &aws,
                &config.secrets_key_id,
            ))),
        ),
        SqsQueue::new(sqs.clone(), &config.queue_url),
        // Within the function's 29 s timeout; the caller calls again for the rest.
        SqsRedrive::new(
            sqs,
            &config.dlq_url,
            &config.queue_url,
            Duration::from_secs(20),
        ),
        config,
    );
    let state = match &config_rejected {
        Some(url) => {
            state.with_rejections(SqsRejections::new(SqsQueue::new(sqs_client.clone(), url)))
        }
        None => state,
    };
    let app = ingest::app(state.clone());
    match args.listen {
        None => ingest::lambda::run(app, state).await,
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "serving HTTP");
            let service = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
            Ok(axum::serve(listener, service).await?)
        }
    }
}
