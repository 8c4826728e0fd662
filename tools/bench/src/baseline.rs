//! The measurements made against a baseline: cold start to the first Runtime API poll (vs a
//! hello-world `lambda_runtime` binary), delivery CPU per message (vs a bare reqwest POST
//! loop), and batch concurrency (the in-memory worker example).

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::function::{FunctionSpec, Instance};

pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

/// Milliseconds from spawn to the first `next` poll, per start.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ColdStarts {
    pub ingest_ms: Vec<f64>,
    pub delivery_ms: Vec<f64>,
    pub hello_ms: Vec<f64>,
}

async fn one_cold_start(spec: &FunctionSpec) -> anyhow::Result<f64> {
    let instance = Instance::start(spec).await?;
    let polled = instance.runtime.first_poll(Duration::from_secs(30)).await?;
    let ms = polled.duration_since(instance.spawned).as_secs_f64() * 1000.0;
    instance.stop().await;
    Ok(ms)
}

/// `starts` cold starts of each, interleaved (so a busy moment hits all three alike); one
/// unmeasured start of each first, to take the binaries into the page cache.
pub async fn cold_starts(
    ingest: &FunctionSpec,
    delivery: &FunctionSpec,
    hello: &FunctionSpec,
    starts: usize,
) -> anyhow::Result<ColdStarts> {
    let mut out = ColdStarts::default();
    for spec in [ingest, delivery, hello] {
        one_cold_start(spec).await?;
    }
    for _ in 0..starts {
        out.ingest_ms.push(one_cold_start(ingest).await?);
        out.delivery_ms.push(one_cold_start(delivery).await?);
        out.hello_ms.push(one_cold_start(hello).await?);
    }
    Ok(out)
}

/// What the bare POST loop reported.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BarePosts {
    pub posts: u64,
    pub cpu_ticks: u64,
    pub clock_ticks: u64,
    pub wall_ms: f64,
}

impl BarePosts {
    pub fn add(&mut self, part: &Self) {
        self.posts += part.posts;
        self.cpu_ticks += part.cpu_ticks;
        self.clock_ticks = part.clock_ticks;
        self.wall_ms += part.wall_ms;
    }

    pub fn cpu_ms_per_post(&self) -> f64 {
        self.cpu_ticks as f64 * 1000.0 / self.clock_ticks.max(1) as f64 / self.posts.max(1) as f64
    }
}

/// Runs the bare reqwest binary: `posts` sequential POSTs of `bytes` to `url`.
pub async fn bare_posts(
    binary: &Path,
    url: &str,
    posts: u64,
    bytes: usize,
) -> anyhow::Result<BarePosts> {
    let out = tokio::process::Command::new(binary)
        .args([url, &posts.to_string(), &bytes.to_string()])
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", binary.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "bare-post failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// What the batch-concurrency example reported: one invocation's wall time per batch size.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchTimes {
    pub one_ms: f64,
    pub ten_ms: f64,
    pub hundred_ms: f64,
    pub concurrency: usize,
    pub receiver_delay_ms: f64,
}

pub async fn batch_concurrency(example: &Path) -> anyhow::Result<BatchTimes> {
    let out = tokio::process::Command::new(example)
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run {} (build it with `cargo build -p bench --example batch_concurrency`): {e}", example.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "batch_concurrency failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rfind(|l| l.starts_with('{'))
        .map(str::to_owned)
        .unwrap_or_default();
    Ok(serde_json::from_str(&last)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
