//! The CPU baseline: `bare-post URL COUNT BYTES` makes COUNT sequential POSTs of a BYTES-long
//! JSON body with one reqwest client, and prints its own CPU time over the loop (from
//! `/proc/self/stat`, so start-up is not counted) as JSON.

use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, count, bytes] = args.as_slice() else {
        anyhow::bail!("usage: bare-post URL COUNT BYTES");
    };
    let count: u64 = count.parse()?;
    let bytes: usize = bytes.parse()?;
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(bytes.saturating_sub(10)));
    let client = reqwest::Client::builder().no_proxy().build()?;
    // One request first: connection set-up is not what is compared.
    client
        .post(url)
        .body(body.clone())
        .send()
        .await?
        .bytes()
        .await?;
    let cpu0 = bench::procstat::own_cpu_ticks().unwrap_or(0);
    let start = Instant::now();
    for _ in 0..count {
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "receiver answered {}",
            response.status()
        );
        response.bytes().await?;
    }
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let cpu_ticks = bench::procstat::own_cpu_ticks()
        .unwrap_or(0)
        .saturating_sub(cpu0);
    println!(
        "{}",
        serde_json::json!({
            "posts": count,
            "cpu_ticks": cpu_ticks,
            "clock_ticks": bench::procstat::clock_ticks(),
            "wall_ms": wall_ms,
        })
    );
    Ok(())
}
