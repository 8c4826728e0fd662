//! The goals table (printed), the JSON file, and the README's cost section.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::baseline::{BarePosts, BatchTimes, ColdStarts, median};
use crate::cost::{self, FrontDoor, PerDelivery, PerMillion};
use crate::scenario::Scenario;

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub date: String,
    pub commit: String,
    pub mode: String,
    pub memory_mb: u32,
    /// `MemorySize` in infra/template.yaml, when it can be read.
    pub template_memory_mb: Option<u32>,
    /// Cores and `/proc/loadavg` at the start and the end (the machine may be shared).
    pub machine: String,
    pub scenarios: Vec<Scenario>,
    pub cold_starts: ColdStarts,
    pub bare_posts: BarePosts,
    pub batch: BatchTimes,
}

#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: f64,
    pub unit: &'static str,
    /// At most this (none: shown for information).
    pub target: Option<f64>,
    pub pass: Option<bool>,
}

fn goal(goal: &str, measured: f64, unit: &'static str, target: Option<f64>) -> Goal {
    Goal {
        goal: goal.to_owned(),
        measured,
        unit,
        target,
        pass: target.map(|t| measured.is_finite() && measured <= t + 1e-9),
    }
}

impl Results {
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    pub fn cost(&self, name: &str, front: FrontDoor) -> (PerDelivery, PerMillion) {
        self.cost_at(name, front, self.memory_mb)
    }

    pub fn cost_at(
        &self,
        name: &str,
        front: FrontDoor,
        memory_mb: u32,
    ) -> (PerDelivery, PerMillion) {
        let p = self
            .scenario(name)
            .map(|s| cost::per_delivery(s, memory_mb))
            .unwrap_or_default();
        let m = cost::per_million(&p, front);
        (p, m)
    }

    /// WRU per retry: the retried scenario's WRU per delivery minus the first-try one's (same
    /// fan-out), i.e. what the failed attempt and its retry add.
    pub fn wru_per_retry(&self) -> f64 {
        match (self.scenario("retry"), self.scenario("fanout1")) {
            (Some(r), Some(f)) => r.per_delivery(r.tally.wru()) - f.per_delivery(f.tally.wru()),
            _ => f64::NAN,
        }
    }

    pub fn cpu_ratio(&self) -> (f64, f64) {
        let (cpu, n) = self
            .scenarios
            .iter()
            .filter(|s| s.name.starts_with("fanout"))
            .fold((0.0, 0u64), |(c, n), s| {
                (c + s.delivery.cpu_ms, n + s.deliveries)
            });
        let per_message = cpu / n.max(1) as f64;
        (per_message, per_message / self.bare_posts.cpu_ms_per_post())
    }

    pub fn goals(&self) -> Vec<Goal> {
        let per =
            |name: &str, f: &dyn Fn(&Scenario) -> f64| self.scenario(name).map_or(f64::NAN, f);
        let wru = |s: &Scenario| s.per_delivery(s.tally.wru());
        let rru = |s: &Scenario| s.per_delivery(s.tally.rru());
        let logs =
            |s: &Scenario| s.per_delivery((s.ingest.log_bytes + s.delivery.log_bytes) as f64);
        let cold = |x: &[f64]| median(x) / median(&self.cold_starts.hello_ms);
        let dollars = |name: &str, front| self.cost(name, front).1.total;
        let b = &self.batch;
        let rows: [(&str, f64, &'static str, Option<f64>); 14] = [
            (FIRST_TRY_WRU_10, per("fanout10", &wru), "WRU", Some(1.1)),
            (FIRST_TRY_RRU_10, per("fanout10", &rru), "RRU", Some(0.5)),
            (FIRST_TRY_WRU_1, per("fanout1", &wru), "WRU", Some(2.2)),
            (FIRST_TRY_RRU_1, per("fanout1", &rru), "RRU", None),
            (RETRY_WRU, self.wru_per_retry(), "WRU", Some(1.5)),
            (
                DOLLARS_10,
                dollars("fanout10", FrontDoor::HttpApi),
                "$",
                Some(1.0),
            ),
            (
                DOLLARS_1,
                dollars("fanout1", FrontDoor::FunctionUrl),
                "$",
                Some(1.5),
            ),
            (CPU, self.cpu_ratio().1, "x", Some(12.0)),
            (
                COLD_INGEST,
                cold(&self.cold_starts.ingest_ms),
                "x",
                Some(2.0),
            ),
            (
                COLD_DELIVERY,
                cold(&self.cold_starts.delivery_ms),
                "x",
                Some(2.0),
            ),
            (LOGS_10, per("fanout10", &logs), "B", Some(200.0)),
            (LOGS_1, per("fanout1", &logs), "B", Some(200.0)),
            (BATCH_10, b.ten_ms / b.one_ms, "x", Some(1.2)),
            (BATCH_100, b.hundred_ms / b.one_ms, "x", Some(1.5)),
        ];
        rows.into_iter()
            .map(|(name, measured, unit, target)| goal(name, measured, unit, target))
            .collect()
    }
}

const FIRST_TRY_WRU_10: &str = "DynamoDB WRU per first-try delivery, fan-out 10";
const FIRST_TRY_RRU_10: &str = "DynamoDB RRU per first-try delivery, fan-out 10";
const FIRST_TRY_WRU_1: &str = "DynamoDB WRU per first-try delivery, fan-out 1";
const FIRST_TRY_RRU_1: &str = "DynamoDB RRU per first-try delivery, fan-out 1";
const RETRY_WRU: &str = "DynamoDB WRU per retry (500 once, then 200)";
const DOLLARS_10: &str = "$ per million first-try deliveries, fan-out 10, HTTP API";
const DOLLARS_1: &str = "$ per million first-try deliveries, fan-out 1, function URL";
const CPU: &str = "delivery CPU per message vs a bare reqwest POST";
const COLD_INGEST: &str = "cold start to first poll, ingest vs hello-world";
const COLD_DELIVERY: &str = "cold start to first poll, delivery vs hello-world";
const LOGS_10: &str = "log bytes per first-try delivery (both functions), fan-out 10";
const LOGS_1: &str = "log bytes per first-try delivery (both functions), fan-out 1";
const BATCH_10: &str = "batch of 10 records vs 1, receiver answering in 200 ms";
const BATCH_100: &str = "batch of 100 records vs 1, receiver answering in 200 ms";

fn number(x: f64, unit: &str) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    match unit {
        "$" => format!("${x:.2}"),
        "x" => format!("{x:.2}×"),
        "B" => format!("{x:.0} B"),
        _ => format!("{x:.2} {unit}"),
    }
}

fn verdict(g: &Goal) -> &'static str {
    match g.pass {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "info",
    }
}

/// The goals as an aligned text table.
pub fn table(goals: &[Goal]) -> String {
    let rows: Vec<[String; 4]> = goals
        .iter()
        .map(|g| {
            let target = g
                .target
                .map_or("—".to_owned(), |t| format!("≤ {}", number(t, g.unit)));
            [
                g.goal.clone(),
                number(g.measured, g.unit),
                target,
                verdict(g).to_owned(),
            ]
        })
        .collect();
    let header = ["goal", "measured", "target", "result"].map(str::to_owned);
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// The README section between the markers.
pub fn markdown(r: &Results, goals: &[Goal]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Measured by `scripts/bench` on {} at commit `{}` ({} run, {} builds, {}; DynamoDB and \
         SQS on moto behind the counting proxy; Lambda priced at {} MB arm64).\n",
        r.date,
        r.commit,
        r.mode,
        if r.mode == "smoke" {
            "debug"
        } else {
            "release"
        },
        r.machine,
        r.memory_mb
    );
    let _ = writeln!(
        md,
        "| goal | measured | target | result |\n|---|---|---|---|"
    );
    for g in goals {
        let target = g
            .target
            .map_or("—".to_owned(), |t| format!("≤ {}", number(t, g.unit)));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            g.goal,
            number(g.measured, g.unit),
            target,
            verdict(g)
        );
    }
    md.push_str(&cost_table(r));
    md.push_str(&notes(r));
    let _ = writeln!(md, "\nThe model leaves out:\n");
    for item in cost::LEFT_OUT {
        let _ = writeln!(md, "- {item}");
    }
    md
}

fn cost_table(r: &Results) -> String {
    let mut md = String::new();
    let (_, f10) = r.cost("fanout10", FrontDoor::HttpApi);
    let (_, f1) = r.cost("fanout1", FrontDoor::FunctionUrl);
    let _ = writeln!(
        md,
        "\nDollars per million first-try deliveries, us-east-1 on-demand list prices \
         (`tools/bench/src/cost.rs`, {}):\n",
        cost::PRICES_AS_OF
    );
    let _ = writeln!(
        md,
        "| | fan-out 10, HTTP API | fan-out 1, function URL |\n|---|---|---|"
    );
    for (name, a, b) in [
        ("DynamoDB", f10.dynamodb, f1.dynamodb),
        ("SQS", f10.sqs, f1.sqs),
        ("Lambda requests", f10.lambda_requests, f1.lambda_requests),
        ("Lambda duration", f10.lambda_duration, f1.lambda_duration),
        ("API Gateway", f10.api_gateway, f1.api_gateway),
        ("CloudWatch Logs", f10.logs, f1.logs),
        ("**total**", f10.total, f1.total),
    ] {
        let _ = writeln!(md, "| {name} | ${a:.3} | ${b:.3} |");
    }
    if let Some(template) = r.template_memory_mb.filter(|m| *m != r.memory_mb) {
        let a = r.cost_at("fanout10", FrontDoor::HttpApi, template).1.total;
        let b = r
            .cost_at("fanout1", FrontDoor::FunctionUrl, template)
            .1
            .total;
        let _ = writeln!(
            md,
            "\nAt the template's `MemorySize` ({template} MB) instead of {} MB: ${a:.3} (fan-out 10, HTTP API) and ${b:.3} (fan-out 1, function URL).",
            r.memory_mb
        );
    }
    md
}

/// What the numbers rest on, and what was measured but left out of the totals.
fn notes(r: &Results) -> String {
    let mut md = String::new();
    let kms = |name: &str| {
        r.scenario(name)
            .map_or(f64::NAN, |s| s.per_delivery(s.tally.kms_calls() as f64))
    };
    let (k10, k1) = (kms("fanout10"), kms("fanout1"));
    let (agree, calls, moto10, ours10) = r.scenario("fanout10").map_or((0, 0, 0.0, 0.0), |s| {
        let agree = s
            .tally
            .dynamodb
            .values()
            .map(|o| o.moto_agrees)
            .sum::<u64>();
        let calls = s.tally.dynamodb.values().map(|o| o.calls).sum::<u64>();
        (
            agree,
            calls,
            s.per_delivery(s.tally.moto_units()),
            s.per_delivery(s.tally.wru() + s.tally.rru()),
        )
    });
    let _ = writeln!(
        md,
        "\nHow: events with a 300-byte payload are posted through ingest (HTTP API v2 events), then \
         the queue is drained in batches of 10; tenant and endpoint setup is not counted; retries \
         use a 1 s schedule. Log bytes are what the functions write to stdout and stderr at INFO \
         (the platform's START/END/REPORT lines are off: the template's SystemLogLevel is WARN). \
         Handler times are wall times on this machine against moto through the \
         proxy (which reads each written item before and after the write): an upper bound of the \
         I/O part; the CPU part is stretched to the CPU share Lambda gives at {} MB. Measured but \
         left out of the totals: KMS requests, {k10:.2} per delivery at fan-out 10 and {k1:.2} at \
         fan-out 1 (${:.2} and ${:.2} per million at $0.03 per 10,000). moto's own \
         `ConsumedCapacity` for the fan-out 10 calls adds up to {moto10:.2} units per delivery \
         against our {ours10:.2} (WRU + RRU): it reports a flat 1 per write call and 0.5 or 1 per \
         read call, without item sizes, index writes or the transaction factor, and matches ours \
         on {agree} of {calls} calls.",
        r.memory_mb,
        k10 * cost::KMS_PER_REQUEST * 1e6,
        k1 * cost::KMS_PER_REQUEST * 1e6,
    );
    md
}

/// Replaces what lies between the markers of `readme` with `snippet`.
pub fn replace_between_markers(readme: &str, snippet: &str) -> anyhow::Result<String> {
    let start = readme
        .find(BEGIN)
        .ok_or_else(|| anyhow::anyhow!("README has no {BEGIN} marker"))?;
    let end = readme
        .find(END)
        .filter(|e| *e > start)
        .ok_or_else(|| anyhow::anyhow!("README has no {END} marker after {BEGIN}"))?;
    Ok(format!(
        "{}{BEGIN}\n{}\n{}",
        &readme[..start],
        snippet.trim_end(),
        &readme[end..]
    ))
}

pub fn write_readme(path: &Path, snippet: &str) -> anyhow::Result<()> {
    let readme = std::fs::read_to_string(path)?;
    std::fs::write(path, replace_between_markers(&readme, snippet)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_text_between_the_markers_is_replaced() {
        let readme = format!("a\n{BEGIN}\nold\n{END}\nb\n");
        let out = replace_between_markers(&readme, "new\n").unwrap();
        assert_eq!(out, format!("a\n{BEGIN}\nnew\n{END}\nb\n"));
        assert!(replace_between_markers("no markers", "x").is_err());
    }

    #[test]
    fn the_table_marks_each_goal() {
        let goals = vec![
            goal("w", 1.5, "WRU", Some(1.1)),
            goal("r", 0.4, "RRU", None),
        ];
        let t = table(&goals);
        assert!(t.contains("FAIL") && t.contains("info") && t.contains("≤ 1.10 WRU"));
    }
}
