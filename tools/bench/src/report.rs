//! The goals table (printed), the JSON file, and the README's cost section.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::baseline::{BarePosts, BatchTimes, ColdStarts, median};
use crate::cost::{self, FrontDoor, PerDelivery, PerMillion};
use crate::scenario::Scenario;
pub use crate::snippet::markdown;

pub const BEGIN: &str = "<!-- bench:begin -->";
pub const END: &str = "<!-- bench:end -->";

/// Everything one run measured.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
        let mut rows = self.unit_rows();
        rows.extend(self.dollar_rows());
        rows.extend(self.other_rows());
        rows.into_iter()
            .map(|(name, measured, unit, target)| goal(name, measured, unit, target))
            .collect()
    }

    /// `f` of the named scenario (NaN when it did not run).
    fn per(&self, name: &str, f: fn(&Scenario) -> f64) -> f64 {
        self.scenario(name).map_or(f64::NAN, f)
    }

    fn unit_rows(&self) -> Vec<Row> {
        vec![
            (
                FIRST_TRY_WRU_10,
                self.per("fanout10", wru),
                "WRU",
                Some(1.1),
            ),
            (
                FIRST_TRY_RRU_10,
                self.per("fanout10", rru),
                "RRU",
                Some(0.5),
            ),
            (FIRST_TRY_WRU_1, self.per("fanout1", wru), "WRU", Some(2.2)),
            (FIRST_TRY_RRU_1, self.per("fanout1", rru), "RRU", None),
            (BATCH_WRU_1, self.per("fanout1_batch", wru), "WRU", None),
            (BATCH_RRU_1, self.per("fanout1_batch", rru), "RRU", None),
            (RETRY_WRU, self.wru_per_retry(), "WRU", Some(1.5)),
        ]
    }

    /// Fan-out 1's goal is met through the batch route: the single-event figure is information.
    fn dollar_rows(&self) -> Vec<Row> {
        let dollars = |name: &str, front| self.cost(name, front).1.total;
        let (api, url) = (FrontDoor::HttpApi, FrontDoor::FunctionUrl);
        vec![
            (DOLLARS_10, dollars("fanout10", api), "$", Some(1.0)),
            (DOLLARS_10_URL, dollars("fanout10", url), "$", None),
            (
                DOLLARS_1_BATCH,
                dollars("fanout1_batch", url),
                "$",
                Some(1.5),
            ),
            (DOLLARS_1, dollars("fanout1", url), "$", None),
        ]
    }

    fn other_rows(&self) -> Vec<Row> {
        let cold = |x: &[f64]| median(x) / median(&self.cold_starts.hello_ms);
        let b = &self.batch;
        vec![
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
            (LOGS_10, self.per("fanout10", log_bytes), "B", Some(200.0)),
            (LOGS_1, self.per("fanout1", log_bytes), "B", Some(200.0)),
            (
                BATCH_LOGS_1,
                self.per("fanout1_batch", log_bytes),
                "B",
                None,
            ),
            (BATCH_10, b.ten_ms / b.one_ms, "x", Some(1.2)),
            (BATCH_100, b.hundred_ms / b.one_ms, "x", Some(1.5)),
        ]
    }
}

/// A goal row: name, measured, unit, target.
type Row = (&'static str, f64, &'static str, Option<f64>);

fn wru(s: &Scenario) -> f64 {
    s.per_delivery(s.tally.wru())
}

fn rru(s: &Scenario) -> f64 {
    s.per_delivery(s.tally.rru())
}

fn log_bytes(s: &Scenario) -> f64 {
    s.per_delivery((s.ingest.log_bytes + s.delivery.log_bytes) as f64)
}

const FIRST_TRY_WRU_10: &str = "DynamoDB WRU per first-try delivery, fan-out 10";
const FIRST_TRY_RRU_10: &str = "DynamoDB RRU per first-try delivery, fan-out 10";
const FIRST_TRY_WRU_1: &str = "DynamoDB WRU per first-try delivery, fan-out 1";
const FIRST_TRY_RRU_1: &str = "DynamoDB RRU per first-try delivery, fan-out 1";
const BATCH_WRU_1: &str = "DynamoDB WRU per first-try delivery, fan-out 1, batch route";
const BATCH_RRU_1: &str = "DynamoDB RRU per first-try delivery, fan-out 1, batch route";
const RETRY_WRU: &str = "DynamoDB WRU per retry (500 once, then 200)";
const DOLLARS_10: &str = "$ per million first-try deliveries, fan-out 10, HTTP API";
const DOLLARS_10_URL: &str = "$ per million first-try deliveries, fan-out 10, function URL";
const DOLLARS_1_BATCH: &str =
    "$ per million first-try deliveries, fan-out 1, batch route (100 per request), function URL";
const DOLLARS_1: &str =
    "$ per million first-try deliveries, fan-out 1, single-event POSTs, function URL";
const CPU: &str = "delivery CPU per message vs a bare reqwest POST";
const COLD_INGEST: &str = "cold start to first poll, ingest vs hello-world";
const COLD_DELIVERY: &str = "cold start to first poll, delivery vs hello-world";
const LOGS_10: &str = "log bytes per first-try delivery (both functions), fan-out 10";
const LOGS_1: &str = "log bytes per first-try delivery (both functions), fan-out 1";
const BATCH_LOGS_1: &str =
    "log bytes per first-try delivery (both functions), fan-out 1, batch route";
const BATCH_10: &str = "batch of 10 records vs 1, receiver answering in 200 ms";
const BATCH_100: &str = "batch of 100 records vs 1, receiver answering in 200 ms";

pub(crate) fn number(x: f64, unit: &str) -> String {
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

pub(crate) fn verdict(g: &Goal) -> &'static str {
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

    #[test]
    fn fan_out_1_is_held_to_its_dollar_goal_on_the_batch_route() {
        let scenario = |name: &str, events, requests| Scenario {
            name: name.into(),
            fanout: 1,
            events,
            front: FrontDoor::FunctionUrl,
            batch: (requests < events).then_some(100),
            requests,
            deliveries: events,
            posts: events,
            tally: crate::meter::Tally::default(),
            ingest: crate::scenario::Usage {
                invocations: requests,
                ..Default::default()
            },
            delivery: crate::scenario::Usage::default(),
            wall_s: 1.0,
        };
        let r = Results {
            date: String::new(),
            commit: String::new(),
            mode: "smoke".into(),
            memory_mb: 128,
            template_memory_mb: None,
            machine: String::new(),
            scenarios: vec![
                scenario("fanout1", 10, 10),
                scenario("fanout1_batch", 200, 2),
            ],
            cold_starts: ColdStarts::default(),
            bare_posts: BarePosts::default(),
            batch: BatchTimes::default(),
        };
        let goals = r.goals();
        let row = |name: &str| {
            goals
                .iter()
                .find(|g| g.goal == name)
                .map(|g| (g.target, g.measured))
        };
        assert_eq!(row(DOLLARS_1_BATCH).map(|r| r.0), Some(Some(1.5)));
        assert_eq!(row(DOLLARS_1).map(|r| r.0), Some(None));
        assert_eq!(row(DOLLARS_10_URL).map(|r| r.0), Some(None));
        // Lambda requests only: 0.01 ingest invocations per delivery at $0.20 per million.
        let batch = row(DOLLARS_1_BATCH).map_or(f64::NAN, |r| r.1);
        assert!((batch - 0.002).abs() < 1e-9, "{batch}");
        let single = row(DOLLARS_1).map_or(f64::NAN, |r| r.1);
        assert!((single - 0.2).abs() < 1e-9, "{single}");
        let http = r.cost("fanout1_batch", FrontDoor::HttpApi).1.api_gateway;
        assert!((http - 0.01).abs() < 1e-9, "{http}");
    }
}
