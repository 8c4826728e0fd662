//! The README's cost section: the goals, the dollars by service, and what they rest on.

use std::fmt::Write as _;

use crate::cost::{self, FrontDoor};
use crate::report::{Goal, Results, number, verdict};
use crate::scenario::Scenario;

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
    md.push_str(&fan_out_1_note(r));
    if let (Some(single), Some(batch)) = (r.scenario("fanout1"), r.scenario("fanout1_batch")) {
        md.push('\n');
        md.push_str(&crate::doors::markdown(&crate::doors::doors(
            single,
            batch,
            r.memory_mb,
        )));
    }
    let _ = writeln!(md, "\nThe model leaves out:\n");
    for item in cost::LEFT_OUT {
        let _ = writeln!(md, "- {item}");
    }
    md
}

/// The priced columns: scenario, front door, heading.
const COLUMNS: [(&str, FrontDoor, &str); 4] = [
    ("fanout10", FrontDoor::HttpApi, "fan-out 10, HTTP API"),
    (
        "fanout10",
        FrontDoor::FunctionUrl,
        "fan-out 10, function URL",
    ),
    (
        "fanout1_batch",
        FrontDoor::FunctionUrl,
        "fan-out 1, batch route, function URL",
    ),
    (
        "fanout1",
        FrontDoor::FunctionUrl,
        "fan-out 1, single-event, function URL",
    ),
];

fn cost_table(r: &Results) -> String {
    let mut md = String::new();
    let costs: Vec<_> = COLUMNS
        .iter()
        .map(|(name, front, _)| r.cost(name, *front).1)
        .collect();
    let _ = writeln!(
        md,
        "\nDollars per million first-try deliveries, us-east-1 on-demand list prices \
         (`tools/bench/src/cost.rs`, {}):\n",
        cost::PRICES_AS_OF
    );
    let headings: Vec<&str> = COLUMNS.iter().map(|c| c.2).collect();
    let _ = writeln!(
        md,
        "| | {} |\n|---{}|",
        headings.join(" | "),
        "|---".repeat(4)
    );
    type Part = fn(&cost::PerMillion) -> f64;
    let parts: [(&str, Part); 7] = [
        ("DynamoDB", |m| m.dynamodb),
        ("SQS", |m| m.sqs),
        ("Lambda requests", |m| m.lambda_requests),
        ("Lambda duration", |m| m.lambda_duration),
        ("API Gateway", |m| m.api_gateway),
        ("CloudWatch Logs", |m| m.logs),
        ("**total**", |m| m.total),
    ];
    for (name, part) in parts {
        let cells: Vec<String> = costs.iter().map(|m| format!("${:.3}", part(m))).collect();
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
    }
    if let Some(template) = r.template_memory_mb.filter(|m| *m != r.memory_mb) {
        let at: Vec<String> = COLUMNS
            .iter()
            .map(|(name, front, heading)| {
                let total = r.cost_at(name, *front, template).1.total;
                format!("${total:.3} ({heading})")
            })
            .collect();
        let _ = writeln!(
            md,
            "\nAt the template's `MemorySize` ({template} MB) instead of {} MB: {}.",
            r.memory_mb,
            at.join(", ")
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
    let (k10, k1, kb) = (kms("fanout10"), kms("fanout1"), kms("fanout1_batch"));
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
        "\nHow: events with a 300-byte payload are posted through ingest, fan-out 10 as HTTP API v2 \
         events, the fan-out 1 and retry scenarios as Lambda function URL events (the same payload \
         format 2.0, which `lambda_http` parses as the same `ApiGatewayV2` request); the fan-out 10 \
         figures are priced behind both front doors. The queue is drained in batches of 10; tenant and endpoint setup is not counted; retries \
         use a 1 s schedule. Log bytes are what the functions write to stdout and stderr at INFO \
         (the platform's START/END/REPORT lines are off: the template's SystemLogLevel is WARN). \
         Handler times are wall times on this machine against moto through the \
         proxy (which reads each written item before and after the write): an upper bound of the \
         I/O part; the CPU part is stretched to the CPU share Lambda gives at {} MB. Measured but \
         left out of the totals: KMS requests, {k10:.2} per delivery at fan-out 10, {k1:.2} at \
         fan-out 1 and {kb:.2} on the batch route (${:.2}, ${:.2} and ${:.2} per million at $0.03 \
         per 10,000). moto's own \
         `ConsumedCapacity` for the fan-out 10 calls adds up to {moto10:.2} units per delivery \
         against our {ours10:.2} (WRU + RRU): it reports a flat 1 per write call and 0.5 or 1 per \
         read call, without item sizes, index writes or the transaction factor, and matches ours \
         on {agree} of {calls} calls.",
        r.memory_mb,
        k10 * cost::KMS_PER_REQUEST * 1e6,
        k1 * cost::KMS_PER_REQUEST * 1e6,
        kb * cost::KMS_PER_REQUEST * 1e6,
    );
    md
}

/// Why fan-out 1's dollar goal is read on the batch route, in the measured figures.
fn fan_out_1_note(r: &Results) -> String {
    let (Some(single), Some(batch)) = (r.scenario("fanout1"), r.scenario("fanout1_batch")) else {
        return String::new();
    };
    let front = |s: &Scenario| FrontShare::of(s, r.memory_mb);
    let (a, b) = (front(single), front(batch));
    let dollars = |name| r.cost(name, FrontDoor::FunctionUrl).1.total;
    format!(
        "\nFan-out 1 is measured twice, both fed as function URL events: {} events posted one per \
         request (`POST /v1/tenants/{{tenant_id}}/events`) and {} posted {} per request (`POST \
         .../events/batch`, answered 207, its SQS sends coalesced across the request's events). \
         The ≤ $1.50 goal is read on the batch route; the single-event row is information: one \
         HTTP request per event pays the front door for each event (an ingest invocation and its \
         handler time, the request's own reads) and a log line per event. Per delivery, single \
         event against batch route: {:.2} against {:.2} ingest invocations, {:.1} against {:.1} \
         ingest ms billed at {} MB, {:.2} against {:.2} RRU, {:.0} B against {:.0} B of ingest \
         logs; ${:.2} against ${:.2} per million (an HTTP API in front would add ${:.2} and \
         ${:.2}).\n",
        single.events,
        batch.events,
        batch.batch.unwrap_or(1),
        a.invocations,
        b.invocations,
        a.billed_ms,
        b.billed_ms,
        r.memory_mb,
        a.rru,
        b.rru,
        a.log_bytes,
        b.log_bytes,
        dollars("fanout1"),
        dollars("fanout1_batch"),
        a.api_fee,
        b.api_fee,
    )
}

/// What a scenario's front door requests cost per delivery: ingest invocations, billed ingest
/// milliseconds, RRU (both functions), ingest log bytes, and the HTTP API's fee per million.
#[derive(Debug)]
struct FrontShare {
    invocations: f64,
    billed_ms: f64,
    rru: f64,
    log_bytes: f64,
    api_fee: f64,
}

impl FrontShare {
    fn of(s: &Scenario, memory_mb: u32) -> Self {
        Self {
            invocations: s.per_delivery(s.ingest.invocations as f64),
            billed_ms: s.per_delivery(cost::billed_seconds(&s.ingest, memory_mb) * 1000.0),
            rru: s.per_delivery(s.tally.rru()),
            log_bytes: s.per_delivery(s.ingest.log_bytes as f64),
            api_fee: s.per_delivery(s.requests as f64) * cost::HTTP_API_PER_REQUEST * 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Usage;

    #[test]
    fn the_front_share_is_counted_per_delivery() {
        let s = Scenario {
            name: "fanout1_batch".into(),
            fanout: 1,
            events: 200,
            front: FrontDoor::FunctionUrl,
            batch: Some(100),
            requests: 2,
            deliveries: 200,
            posts: 200,
            tally: crate::meter::Tally::default(),
            ingest: Usage {
                invocations: 2,
                billed_ms: 400,
                log_bytes: 300,
                ..Usage::default()
            },
            delivery: Usage::default(),
            wall_s: 1.0,
        };
        let share = FrontShare::of(&s, 1769);
        let want = [0.01, 2.0, 0.0, 1.5, 0.01];
        let got = [
            share.invocations,
            share.billed_ms,
            share.rru,
            share.log_bytes,
            share.api_fee,
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{got:?} against {want:?}");
        }
    }
}
