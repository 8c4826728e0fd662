//! What an EventBridge schedule does, for the local stack: invoke a function served by
//! `cargo lambda watch` every so often with a scheduled event (the reconciler ignores its
//! content). A failed run is logged; the next one comes at the next tick, as with the real
//! schedule (retries are off in the template).

use std::time::Duration;

/// Invokes `function` at `base` every `period`, forever.
pub async fn every(base: &str, function: &str, period: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        base.trim_end_matches('/')
    );
    let event = serde_json::json!({
        "source": "aws.scheduler",
        "detail-type": "Scheduled Event",
        "detail": {}
    });
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        match client.post(&url).json(&event).send().await {
            Ok(r) if r.status().is_success() => {
                let report = r.text().await.unwrap_or_default();
                tracing::info!(%function, %report, "scheduled run done");
            }
            Ok(r) => tracing::warn!(%function, status = %r.status(), "scheduled run failed"),
            Err(e) => tracing::warn!(%function, error = %e, "scheduled run not started"),
        }
    }
}
