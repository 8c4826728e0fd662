//! The measured scenarios: a tenant with `fanout` endpoints on the receiver, `events` events of
//! a 300-byte payload posted through ingest (one per request, or up to 100 per request on the
//! batch route), fed as its front door's events, the queue drained by the event source mapping
//! stand-in; what the proxy counted, the functions' invocations, handler time, CPU and log
//! bytes between the snapshots around it. Setup (tenant, endpoints) is outside the snapshots.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{Answer, Api, event_body};
use crate::cost::FrontDoor;
use crate::esm::Esm;
use crate::function::Instance;
use crate::meter::Tally;
use crate::stack::Stack;

pub const PAYLOAD_BYTES: usize = 300;
/// Events per request of the batch scenario (the batch route's most).
pub const BATCH_EVENTS: u64 = 100;

/// What one function did during a scenario.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Usage {
    pub invocations: u64,
    /// Sum of handler wall times (from the event's hand-out to the answer).
    pub handler_ms: f64,
    /// Sum of handler times rounded up to whole milliseconds, as Lambda bills them.
    pub billed_ms: u64,
    /// CPU time of the process over the scenario.
    pub cpu_ms: f64,
    pub log_bytes: u64,
}

impl Usage {
    fn add_invocation(&mut self, handler: Duration) {
        self.invocations += 1;
        let ms = handler.as_secs_f64() * 1000.0;
        self.handler_ms += ms;
        self.billed_ms += ms.ceil() as u64;
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Scenario {
    pub name: String,
    pub fanout: u64,
    pub events: u64,
    /// The front door whose events fed ingest.
    pub front: FrontDoor,
    /// Events per request on the batch route (none: the single-event route).
    pub batch: Option<u64>,
    /// HTTP requests to ingest (one invocation each).
    pub requests: u64,
    /// Deliveries (each ends delivered).
    pub deliveries: u64,
    /// Attempts the receiver answered (500s included).
    pub posts: u64,
    pub tally: Tally,
    pub ingest: Usage,
    pub delivery: Usage,
    pub wall_s: f64,
}

impl Scenario {
    pub fn per_delivery(&self, x: f64) -> f64 {
        x / self.deliveries.max(1) as f64
    }
}

/// How a scenario's endpoints answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiving {
    /// 200 at once.
    FirstTry,
    /// 500 to the first attempt of each delivery, 200 to the second (retry after 1 s).
    RetryOnce,
}

pub struct Plan<'a> {
    pub name: &'a str,
    pub fanout: u64,
    pub events: u64,
    pub receiving: Receiving,
    /// The shape of the events ingest gets.
    pub front: FrontDoor,
    /// Events per request on the batch route; none: one request per event on the single route.
    pub batch: Option<u64>,
}

/// The number of events in each request: `per_request` (at least 1) at a time, the rest last.
pub fn request_sizes(events: u64, per_request: u64) -> Vec<u64> {
    let per = per_request.max(1);
    let mut sizes = vec![per; (events / per) as usize];
    if !events.is_multiple_of(per) {
        sizes.push(events % per);
    }
    sizes
}

struct Marks {
    tally: Tally,
    ingest_cpu: u64,
    delivery_cpu: u64,
    ingest_log: u64,
    delivery_log: u64,
}

fn marks(stack: &Stack) -> Marks {
    Marks {
        tally: stack.proxy.shared.meter.snapshot(),
        ingest_cpu: stack.ingest.cpu_ticks(),
        delivery_cpu: stack.delivery.cpu_ticks(),
        ingest_log: stack.ingest.log_bytes(),
        delivery_log: stack.delivery.log_bytes(),
    }
}

fn cpu_ms(instance: &Instance, since: u64) -> f64 {
    let ticks = instance.cpu_ticks().saturating_sub(since);
    crate::procstat::ticks_to_duration(ticks).as_secs_f64() * 1000.0
}

/// Runs one scenario on the stack.
pub async fn run(stack: &Stack, esm: &Esm, plan: &Plan<'_>) -> anyhow::Result<Scenario> {
    let api = Api::new(&stack.ingest, &stack.admin_key).behind(plan.front);
    let tenant = format!("bench-{}-{}", plan.name, std::process::id());
    let (kind, settings) = match plan.receiving {
        Receiving::FirstTry => ("ok", json!({})),
        Receiving::RetryOnce => ("flaky", json!({"retry_schedule_seconds": [1]})),
    };
    let urls: Vec<String> = (0..plan.fanout)
        .map(|i| format!("{}/{kind}/{tenant}/{i}", stack.receiver.url))
        .collect();
    api.tenant_with_endpoints(&tenant, &urls, &settings).await?;

    let (posts0, ok0) = (stack.receiver.posts(), stack.receiver.delivered());
    let start = Instant::now();
    let before = marks(stack);
    let (mut ingest, requests) = post_events(&api, &tenant, plan).await?;
    let deliveries = plan.events * plan.fanout;
    let receiver = &stack.receiver;
    let done = || receiver.delivered() - ok0 >= deliveries;
    let drained = esm
        .drain(&stack.delivery, done, Duration::from_secs(120 + deliveries))
        .await?;
    // Let the last log lines reach the pipes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = marks(stack);
    ingest.cpu_ms = cpu_ms(&stack.ingest, before.ingest_cpu);
    ingest.log_bytes = after.ingest_log - before.ingest_log;
    let delivery = Usage {
        invocations: drained.invocations,
        handler_ms: drained.handler_ms,
        billed_ms: drained.billed_ms,
        cpu_ms: cpu_ms(&stack.delivery, before.delivery_cpu),
        log_bytes: after.delivery_log - before.delivery_log,
    };
    Ok(Scenario {
        name: plan.name.to_owned(),
        fanout: plan.fanout,
        events: plan.events,
        front: plan.front,
        batch: plan.batch,
        requests,
        deliveries,
        posts: receiver.posts() - posts0,
        tally: after.tally.since(&before.tally),
        ingest,
        delivery,
        wall_s: start.elapsed().as_secs_f64(),
    })
}

/// Posts the plan's events, each of which must be accepted with `fanout` deliveries: the ingest
/// function's usage (one invocation per request) and the number of requests.
async fn post_events(api: &Api<'_>, tenant: &str, plan: &Plan<'_>) -> anyhow::Result<(Usage, u64)> {
    let mut ingest = Usage::default();
    let sizes = match plan.batch {
        Some(per) => request_sizes(plan.events, per),
        None => vec![1; plan.events as usize],
    };
    let mut n = 0;
    for &size in &sizes {
        let mut bodies: Vec<Value> = (n..n + size)
            .map(|i| event_body(i, PAYLOAD_BYTES))
            .collect();
        n += size;
        let events = match plan.batch {
            Some(_) => {
                let path = format!("/v1/tenants/{tenant}/events/batch");
                let body = json!({ "events": bodies });
                let answer = api.expect(207, "POST", &path, Some(&body)).await?;
                ingest.add_invocation(answer.outcome.handler);
                accepted_in_batch(&answer, size)?
            }
            None => {
                let path = format!("/v1/tenants/{tenant}/events");
                let body = bodies.pop().unwrap_or_default();
                let answer = api.expect(202, "POST", &path, Some(&body)).await?;
                ingest.add_invocation(answer.outcome.handler);
                vec![answer.body]
            }
        };
        for event in events {
            let planned = event["deliveries"].as_array().map_or(0, Vec::len) as u64;
            anyhow::ensure!(
                planned == plan.fanout,
                "event got {planned} deliveries, want {}",
                plan.fanout
            );
        }
    }
    Ok((ingest, sizes.len() as u64))
}

/// The accepted events of a 207 answer to `sent` events; an error if any was not accepted.
fn accepted_in_batch(answer: &Answer, sent: u64) -> anyhow::Result<Vec<Value>> {
    let results = answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(
        results.len() as u64 == sent,
        "batch of {sent} answered {} results",
        results.len()
    );
    results
        .into_iter()
        .map(|r| match r["status"].as_u64() {
            Some(202) => Ok(r["event"].clone()),
            _ => Err(anyhow::anyhow!("batch event not accepted: {r}")),
        })
        .collect()
}

/// A scenario's figures per delivery, for the JSON report.
pub fn summary(s: &Scenario) -> Value {
    json!({
        "wru_per_delivery": s.per_delivery(s.tally.wru()),
        "rru_per_delivery": s.per_delivery(s.tally.rru()),
        "moto_reported_units_per_delivery": s.per_delivery(s.tally.moto_units()),
        "sqs_requests_per_delivery": s.per_delivery(s.tally.sqs_billed() as f64),
        "kms_calls_per_delivery": s.per_delivery(s.tally.kms_calls() as f64),
        "log_bytes_per_delivery": s.per_delivery((s.ingest.log_bytes + s.delivery.log_bytes) as f64),
        "delivery_cpu_ms_per_delivery": s.per_delivery(s.delivery.cpu_ms),
        "ingest_requests_per_delivery": s.per_delivery(s.requests as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_into_full_requests_then_the_rest() {
        assert_eq!(request_sizes(1000, 100), vec![100; 10]);
        assert_eq!(request_sizes(110, 100), vec![100, 10]);
        assert_eq!(request_sizes(7, 100), vec![7]);
        assert_eq!(request_sizes(0, 100), Vec::<u64>::new());
        assert_eq!(request_sizes(3, 0), vec![1, 1, 1]);
        assert_eq!(request_sizes(250, 100).iter().sum::<u64>(), 250);
    }
}
