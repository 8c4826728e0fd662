//! `bench`: runs issue 9's benchmark and prints one goals table (see the crate docs and
//! `scripts/bench`). Exits non-zero only when the benchmark itself breaks, not on a missed goal
//! (unless `--strict`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bench::baseline;
use bench::esm::Esm;
use bench::function::FunctionSpec;
use bench::report::{self, Results};
use bench::scenario::{self, Plan, Receiving};
use bench::stack::{Paths, Stack};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Issue 9's benchmark: units, dollars and speed per delivery")]
struct Cli {
    /// Tiny counts: checks that everything runs (goals may fail).
    #[arg(long)]
    smoke: bool,
    /// Where the function binaries and baselines are (default: target/release, or target/debug
    /// with --smoke).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The batch-concurrency example binary (default: target/debug/examples/batch_concurrency).
    #[arg(long)]
    example: Option<PathBuf>,
    /// Lambda memory size the cost model assumes.
    #[arg(long, default_value_t = 128)]
    memory_mb: u32,
    /// Events of the fan-out 10 scenario (default 60; smoke 3).
    #[arg(long)]
    events_fanout10: Option<u64>,
    /// Events of the fan-out 1 scenario, one per request (default 300; smoke 10).
    #[arg(long)]
    events_fanout1: Option<u64>,
    /// Events of the fan-out 1 batch-route scenario, 100 per request (default 1000; smoke 110).
    #[arg(long)]
    events_fanout1_batch: Option<u64>,
    /// Events of the retry scenario (default 100; smoke 3).
    #[arg(long)]
    events_retry: Option<u64>,
    /// Measured cold starts of each binary (default 7; smoke 2).
    #[arg(long)]
    cold_starts: Option<usize>,
    /// POSTs of the bare reqwest baseline, one part after each scenario (default 6000; smoke
    /// 300).
    #[arg(long)]
    bare_posts: Option<u64>,
    /// Also replace the README's section between the bench markers.
    #[arg(long)]
    write_readme: bool,
    /// Do not measure: render the README section from this earlier JSON file.
    #[arg(long)]
    from_json: Option<PathBuf>,
    /// Exit 2 when a goal is missed.
    #[arg(long)]
    strict: bool,
}

fn pick<T>(value: Option<T>, full: T, smoke: T, is_smoke: bool) -> T {
    value.unwrap_or(if is_smoke { smoke } else { full })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = bench::stack::find_root()?;
    if let Some(json) = &cli.from_json {
        let text = std::fs::read_to_string(json).with_context(|| json.display().to_string())?;
        let value: serde_json::Value = serde_json::from_str(&text)?;
        // The measured results rendered by this code (so a change to the report or the model
        // shows without measuring again); a file whose results no longer read keeps its text.
        let rendered = serde_json::from_value::<report::Results>(value["results"].clone())
            .ok()
            .map(|results| report::markdown(&results, &results.goals()));
        let snippet = match &rendered {
            Some(text) => text.as_str(),
            None => value["markdown"]
                .as_str()
                .context("no `markdown` in the JSON")?,
        };
        report::write_readme(&root.join("README.md"), snippet)?;
        println!(
            "README.md: section between the bench markers replaced from {}",
            json.display()
        );
        return Ok(());
    }
    let results = measure(&cli, &root).await?;
    let goals = results.goals();
    println!("\n{}", report::table(&goals));
    let snippet = report::markdown(&results, &goals);
    let out_dir = root.join("bench/out");
    std::fs::create_dir_all(&out_dir)?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let json_path = out_dir.join(format!(
        "bench-{}-{}-{stamp}.json",
        results.date, results.mode
    ));
    let json = serde_json::json!({
        "results": results,
        "goals": goals,
        "summaries": results.scenarios.iter().map(|s| (s.name.clone(), scenario::summary(s))).collect::<serde_json::Map<_, _>>(),
        "costs": costs(&results),
        "left_out_of_the_model": bench::cost::LEFT_OUT,
        "markdown": snippet,
    });
    let text = serde_json::to_string_pretty(&json)?;
    std::fs::write(&json_path, &text)?;
    std::fs::write(out_dir.join("latest.json"), &text)?;
    std::fs::write(out_dir.join("readme-section.md"), &snippet)?;
    println!(
        "wrote {} (and bench/out/latest.json, bench/out/readme-section.md)",
        json_path.display()
    );
    if cli.write_readme {
        report::write_readme(&root.join("README.md"), &snippet)?;
        println!("README.md: section between the bench markers replaced");
    }
    println!("the cost model leaves out:");
    for item in bench::cost::LEFT_OUT {
        println!("  - {item}");
    }
    if cli.strict && goals.iter().any(|g| g.pass == Some(false)) {
        std::process::exit(2);
    }
    Ok(())
}

fn costs(r: &Results) -> serde_json::Value {
    use bench::cost::FrontDoor::{FunctionUrl, HttpApi};
    let mut out = serde_json::Map::new();
    for (name, front) in [
        ("fanout10", HttpApi),
        ("fanout10", FunctionUrl),
        ("fanout1", HttpApi),
        ("fanout1", FunctionUrl),
        ("fanout1_batch", HttpApi),
        ("fanout1_batch", FunctionUrl),
    ] {
        let (inputs, dollars) = r.cost(name, front);
        out.insert(
            format!("{name}_{front:?}"),
            serde_json::json!({"per_delivery": inputs, "dollars_per_million": dollars}),
        );
    }
    serde_json::Value::Object(out)
}

async fn measure(cli: &Cli, root: &std::path::Path) -> anyhow::Result<Results> {
    let smoke = cli.smoke;
    let profile = if smoke { "debug" } else { "release" };
    let paths = Paths {
        root: root.to_path_buf(),
        bin_dir: cli
            .bin_dir
            .clone()
            .unwrap_or_else(|| root.join("target").join(profile)),
        out_dir: root.join("bench/out/run"),
        python: std::env::var("HOOKRELAY_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join(".venv"))
            .join("bin/python"),
    };
    let _ = std::fs::remove_dir_all(&paths.out_dir);
    let load_at_start = load_average();
    eprintln!(
        "bench: starting moto, the proxy, receivers and the functions ({})",
        paths.bin_dir.display()
    );
    let stack = Stack::start(&paths, cli.memory_mb).await?;
    let outcome = run_all(cli, &paths, &stack).await;
    stack.stop().await;
    let (scenarios, cold_starts, bare_posts) = outcome?;
    eprintln!("bench: batch concurrency (in-memory worker example)");
    let example = cli
        .example
        .clone()
        .unwrap_or_else(|| root.join("target/debug/examples/batch_concurrency"));
    let batch = baseline::batch_concurrency(&example).await?;
    Ok(Results {
        date: time::OffsetDateTime::now_utc().date().to_string(),
        commit: commit(root),
        mode: if smoke { "smoke" } else { "full" }.to_owned(),
        memory_mb: cli.memory_mb,
        template_memory_mb: template_memory(root),
        machine: format!(
            "{} cores, load average {load_at_start} at the start and {} at the end",
            std::thread::available_parallelism().map_or(0, usize::from),
            load_average()
        ),
        scenarios,
        cold_starts,
        bare_posts,
        batch,
    })
}

/// The measured scenarios, with the counts of the mode. Fan-out 10 is fed as HTTP API events
/// (its goal is priced behind the HTTP API), the fan-out 1 ones as function URL events.
fn plans(cli: &Cli) -> [Plan<'static>; 4] {
    use bench::cost::FrontDoor::{FunctionUrl, HttpApi};
    let smoke = cli.smoke;
    let plan = |name, fanout, events, receiving, front, batch| Plan {
        name,
        fanout,
        events,
        receiving,
        front,
        batch,
    };
    let batch = Some(scenario::BATCH_EVENTS);
    let (first, retry) = (Receiving::FirstTry, Receiving::RetryOnce);
    [
        plan(
            "fanout10",
            10,
            pick(cli.events_fanout10, 60, 3, smoke),
            first,
            HttpApi,
            None,
        ),
        plan(
            "fanout1",
            1,
            pick(cli.events_fanout1, 300, 10, smoke),
            first,
            FunctionUrl,
            None,
        ),
        plan(
            "fanout1_batch",
            1,
            pick(cli.events_fanout1_batch, 1000, 110, smoke),
            first,
            FunctionUrl,
            batch,
        ),
        plan(
            "retry",
            1,
            pick(cli.events_retry, 100, 3, smoke),
            retry,
            FunctionUrl,
            None,
        ),
    ]
}

type Measured = (
    Vec<scenario::Scenario>,
    baseline::ColdStarts,
    baseline::BarePosts,
);

async fn run_all(cli: &Cli, paths: &Paths, stack: &Stack) -> anyhow::Result<Measured> {
    let smoke = cli.smoke;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let checked = bench::selfcheck::run(
        &bench::ddb::Dynamo::new(http.clone(), &stack.moto.url),
        &bench::ddb::Dynamo::new(http, &stack.proxy.functions_url),
        &stack.proxy.shared.meter,
    )
    .await?;
    eprintln!("bench: proxy self-check: {checked} known operations billed as worked out by hand");
    let esm = Esm::new(
        &stack.proxy.esm_url,
        &stack.moto.url,
        &stack.resources.queue_url,
        10,
    )
    .await?;
    let plans = plans(cli);
    // The bare POST loop runs in parts, one after each scenario, so that its CPU time is sampled
    // across the run as the delivery function's is (the machine may be shared).
    let posts = pick(cli.bare_posts, 6000, 300, smoke) / plans.len() as u64;
    let mut bare = baseline::BarePosts::default();
    let mut scenarios = Vec::new();
    for plan in &plans {
        eprintln!(
            "bench: scenario {} ({} events × fan-out {}, {} per request, {:?} events)",
            plan.name,
            plan.events,
            plan.fanout,
            plan.batch.unwrap_or(1),
            plan.front
        );
        let s = scenario::run(stack, &esm, plan).await?;
        eprintln!("bench:   {:.1} s, {}", s.wall_s, scenario::summary(&s));
        scenarios.push(s);
        eprintln!("bench: bare reqwest baseline ({posts} POSTs)");
        let part = baseline::bare_posts(
            &paths.binary("bare-post"),
            &format!("{}/ok/bare", stack.receiver.url),
            posts,
            scenario::PAYLOAD_BYTES,
        )
        .await?;
        bare.add(&part);
    }
    let starts = pick(cli.cold_starts, 7, 2, smoke);
    eprintln!("bench: cold starts ({starts} of each, after one unmeasured)");
    let hello = FunctionSpec {
        name: "hello-lambda".into(),
        binary: paths.binary("hello-lambda"),
        env: Vec::new(),
        memory_mb: cli.memory_mb,
        timeout: Duration::from_secs(3),
        log: paths.out_dir.join("hello-lambda.log"),
    };
    let cold_log = |s: &FunctionSpec| FunctionSpec {
        log: paths.out_dir.join(format!("{}-cold.log", s.name)),
        ..s.clone()
    };
    let cold = baseline::cold_starts(
        &cold_log(&stack.specs[0]),
        &cold_log(&stack.specs[1]),
        &hello,
        starts,
    )
    .await?;
    Ok((scenarios, cold, bare))
}

/// The functions' `MemorySize` in the template (the first one, in `Globals`).
fn template_memory(root: &std::path::Path) -> Option<u32> {
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).ok()?;
    template
        .lines()
        .find_map(|l| l.trim().strip_prefix("MemorySize:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The 1-minute load average.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The commit measured (`+dirty` when the work tree has changes).
fn commit(root: &std::path::Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let sha = git(&["rev-parse", "--short=12", "HEAD"]);
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    format!("{sha}{}", if dirty { "+dirty" } else { "" })
}
