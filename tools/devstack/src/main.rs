//! `devstack poller`: the local SQS event source mapping for the delivery function served by
//! `cargo lambda watch`; `devstack every`: the local EventBridge schedule (the reconciler).

use clap::{Parser, Subcommand};
use devstack::poller::{HttpInvoker, Poller, PollerConfig};

#[derive(Parser)]
#[command(about = "Local stand-ins for the AWS pieces around the functions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Long-poll the delivery queue and invoke the delivery function with each batch.
    Poller {
        #[arg(long, env = "QUEUE_URL")]
        queue_url: String,
        /// The `cargo lambda watch` server.
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        invoke_url: String,
        #[arg(long, default_value = "delivery")]
        function: String,
        #[arg(long, default_value_t = 10)]
        batch_size: i32,
        #[arg(long, default_value_t = 1)]
        wait_seconds: i32,
    },
    /// Invoke a function on a timer, as an EventBridge schedule does.
    Every {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        invoke_url: String,
        #[arg(long, default_value = "reconciler")]
        function: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let cli = Cli::parse();
    match cli.command {
        Command::Poller {
            queue_url,
            invoke_url,
            function,
            batch_size,
            wait_seconds,
        } => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let region = aws
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into());
            let config = PollerConfig {
                queue_url,
                batch_size,
                wait_seconds,
                region,
            };
            let poller = Poller::new(
                aws_sdk_sqs::Client::new(&aws),
                config,
                HttpInvoker::new(&invoke_url, &function)?,
            )
            .await?;
            tracing::info!("polling; invoking {function} at {invoke_url}");
            poller.run().await;
        }
        Command::Every {
            seconds,
            invoke_url,
            function,
        } => {
            tracing::info!("invoking {function} at {invoke_url} every {seconds} s");
            let period = std::time::Duration::from_secs(seconds.max(1));
            devstack::schedule::every(&invoke_url, &function, period).await?;
        }
    }
    Ok(())
}
