//! Which way in is cheapest for which producer (issue 12): dollars per million first-try
//! deliveries at fan-out 1, for every front door and AWS source. The HTTP rows are the measured
//! scenarios; the others are **modelled** from them: the same delivery pipeline (DynamoDB, the
//! delivery queue and function, logs) and ingest's measured handler time per event, with the
//! ingest invocations and the door's own fees of that source. Every assumption is a named
//! constant below.

use serde::Serialize;

use crate::cost::{FrontDoor, PerDelivery, per_delivery, per_million};
use crate::scenario::Scenario;

/// EventBridge custom events: $1.00 per million PutEvents entries (64 KB chunks).
/// Source: https://aws.amazon.com/eventbridge/pricing/
pub const EVENTBRIDGE_PER_EVENT: f64 = 1.00 / 1e6;
/// SNS standard topics: $0.50 per million publishes (64 KB chunks); delivery to Lambda is free.
/// Source: https://aws.amazon.com/sns/pricing/
pub const SNS_PER_PUBLISH: f64 = 0.50 / 1e6;
/// Producer queue, per event: the producer's SendMessageBatch (10 per call: 0.1), the event
/// source mapping's ReceiveMessage (10 per call: 0.1) and DeleteMessageBatch (0.1), SQS
/// requests at $0.40 per million.
pub const PRODUCER_QUEUE_REQUESTS_PER_EVENT: f64 = 0.3;
/// Events per ingest invocation from the producer queue (the mapping's batch size).
pub const QUEUE_EVENTS_PER_INVOCATION: f64 = 10.0;
/// Events per direct invocation (a batch, as the batch route takes).
pub const DIRECT_EVENTS_PER_INVOCATION: f64 = 100.0;

#[derive(Debug, Clone, Serialize)]
pub struct Door {
    pub door: &'static str,
    /// Who it suits.
    pub producer: &'static str,
    /// Measured, or modelled from the measured scenarios.
    pub measured: bool,
    pub per_million: f64,
}

/// `base` with ingest invoked `per_event` times per event instead of as measured (fan-out 1:
/// one delivery per event).
fn with_ingest_invocations(s: &Scenario, memory_mb: u32, per_event: f64) -> PerDelivery {
    let mut p = per_delivery(s, memory_mb);
    let measured = s.per_delivery(s.ingest.invocations as f64);
    p.lambda_requests += per_event - measured;
    p.api_requests = 0.0;
    p
}

/// The rows, from the measured fan-out 1 scenarios: `single` (one event per request) and
/// `batch` (100 per request).
pub fn doors(single: &Scenario, batch: &Scenario, memory_mb: u32) -> Vec<Door> {
    let m = 1e6;
    let price = |p: &PerDelivery, front| per_million(p, front).total;
    let single_p = per_delivery(single, memory_mb);
    let batch_p = per_delivery(batch, memory_mb);
    // One event per invocation, as SNS and EventBridge invoke: the single route's handler time.
    let one_per_call = with_ingest_invocations(single, memory_mb, 1.0);
    let mut queue = with_ingest_invocations(batch, memory_mb, 1.0 / QUEUE_EVENTS_PER_INVOCATION);
    queue.sqs_requests += PRODUCER_QUEUE_REQUESTS_PER_EVENT;
    let direct = with_ingest_invocations(batch, memory_mb, 1.0 / DIRECT_EVENTS_PER_INVOCATION);
    let url = FrontDoor::FunctionUrl;
    vec![
        Door {
            door: "HTTP API, one event per request",
            producer: "any HTTP client",
            measured: true,
            per_million: price(&single_p, FrontDoor::HttpApi),
        },
        Door {
            door: "function URL, one event per request",
            producer: "any HTTP client",
            measured: true,
            per_million: price(&single_p, url),
        },
        Door {
            door: "HTTP API, batch route (100 per request)",
            producer: "an HTTP producer that can batch",
            measured: true,
            per_million: price(&batch_p, FrontDoor::HttpApi),
        },
        Door {
            door: "function URL, batch route (100 per request)",
            producer: "an HTTP producer that can batch",
            measured: true,
            per_million: price(&batch_p, url),
        },
        Door {
            door: "direct Invoke, 100 events per call",
            producer: "an internal producer with IAM access to the function",
            measured: false,
            per_million: price(&direct, url),
        },
        Door {
            door: "producer SQS queue (batches of 10)",
            producer: "a producer already on SQS, or one that wants a buffer",
            measured: false,
            per_million: price(&queue, url),
        },
        Door {
            door: "SNS topic → the function",
            producer: "a producer publishing to a topic",
            measured: false,
            per_million: price(&one_per_call, url) + m * SNS_PER_PUBLISH,
        },
        Door {
            door: "EventBridge rule",
            producer: "a producer already putting events on a bus",
            measured: false,
            per_million: price(&one_per_call, url) + m * EVENTBRIDGE_PER_EVENT,
        },
    ]
}

/// The README's table and its assumptions.
pub fn markdown(doors: &[Door]) -> String {
    let mut out = String::from(
        "Which way in is cheapest, fan-out 1, dollars per million first-try deliveries (the \
         measured rows are the scenarios above; the modelled ones take the same pipeline and \
         ingest's measured handler time per event — the single route's for one event per \
         invocation, the batch route's otherwise — and add that door's invocations and fees: \
         SNS $0.50 per million publishes, EventBridge $1.00 per million events, the producer \
         queue 0.3 SQS requests per event (batched send, receive, delete) and one ingest \
         invocation per 10 events, direct Invoke one per 100):\n\n| way in | suits | $ per million | |\n|---|---|---|---|\n",
    );
    for d in doors {
        out.push_str(&format!(
            "| {} | {} | ${:.2} | {} |\n",
            d.door,
            d.producer,
            d.per_million,
            if d.measured { "measured" } else { "modelled" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Usage;

    fn scenario(name: &str, requests: u64, ingest_ms: u64) -> Scenario {
        Scenario {
            name: name.into(),
            fanout: 1,
            events: 100,
            front: FrontDoor::FunctionUrl,
            batch: None,
            requests,
            deliveries: 100,
            posts: 100,
            tally: crate::meter::Tally::default(),
            ingest: Usage {
                invocations: requests,
                billed_ms: ingest_ms,
                ..Usage::default()
            },
            delivery: Usage {
                invocations: 10,
                billed_ms: 100,
                ..Usage::default()
            },
            wall_s: 1.0,
        }
    }

    #[test]
    fn each_door_adds_its_own_invocations_and_fees() {
        let single = scenario("fanout1", 100, 1000);
        let batch = scenario("fanout1_batch", 1, 300);
        let rows = doors(&single, &batch, 1769);
        let at = |name: &str| {
            rows.iter()
                .find(|d| d.door.starts_with(name))
                .unwrap()
                .per_million
        };
        // The HTTP API costs $1 per million requests more than the function URL, per request.
        assert!((at("HTTP API, one") - at("function URL, one") - 1.0).abs() < 1e-6);
        assert!((at("HTTP API, batch") - at("function URL, batch") - 0.01).abs() < 1e-6);
        // SNS and EventBridge: one invocation per event, plus their fee.
        assert!((at("EventBridge") - at("SNS") - 0.5).abs() < 1e-6);
        assert!((at("SNS") - at("function URL, one") - 0.5).abs() < 1e-6);
        // The queue: 0.1 invocations and 0.3 SQS requests per event over the batch route's 0.01.
        let queue_extra =
            1e6 * (0.09 * crate::cost::LAMBDA_PER_REQUEST + 0.3 * crate::cost::SQS_PER_REQUEST);
        assert!((at("producer SQS") - at("function URL, batch") - queue_extra).abs() < 1e-6);
        assert!(
            (at("direct") - at("function URL, batch")).abs() < 1e-9,
            "direct = 100 per call"
        );
    }
}
