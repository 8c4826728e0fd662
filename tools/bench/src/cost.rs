//! The cost model: measured units, requests, billed durations and log bytes per delivery,
//! times us-east-1 on-demand list prices. Prices are named constants with their source; they
//! were taken from the AWS pricing pages as last published to our knowledge (DynamoDB's
//! on-demand cut of 2024-11-01 included) and were NOT re-read live on the run date: the
//! benchmark machine has no Internet access. Check them before quoting a figure.

use serde::Serialize;

use crate::scenario::{Scenario, Usage};

/// When the constants below were written down.
pub const PRICES_AS_OF: &str =
    "2026-11 (list prices unchanged since the 2024-11-01 DynamoDB on-demand cut, to our knowledge)";

/// AWS Lambda, Arm (Graviton2), duration per GB-second, first 7.5 billion GB-s a month.
/// Source: https://aws.amazon.com/lambda/pricing/ (US East, N. Virginia).
pub const LAMBDA_ARM_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// AWS Lambda requests, any architecture: $0.20 per million. Source: as above.
pub const LAMBDA_PER_REQUEST: f64 = 0.20 / 1e6;
/// DynamoDB on-demand write request unit, Standard table class: $0.625 per million (cut from
/// $1.25 on 2024-11-01). Source: https://aws.amazon.com/dynamodb/pricing/on-demand/
pub const DYNAMODB_PER_WRU: f64 = 0.625 / 1e6;
/// DynamoDB on-demand read request unit: $0.125 per million (cut from $0.25 on 2024-11-01).
/// Source: as above.
pub const DYNAMODB_PER_RRU: f64 = 0.125 / 1e6;
/// SQS standard queue: $0.40 per million requests after the first million a month; every
/// 64 KB chunk of a payload is one request. Source: https://aws.amazon.com/sqs/pricing/
pub const SQS_PER_REQUEST: f64 = 0.40 / 1e6;
/// API Gateway HTTP API: $1.00 per million requests (first 300 million a month, metered in
/// 512 KB increments). Source: https://aws.amazon.com/api-gateway/pricing/
pub const HTTP_API_PER_REQUEST: f64 = 1.00 / 1e6;
/// CloudWatch Logs ingestion, Standard log class: $0.50 per GB (Lambda logs: first 10 TB
/// tier). Source: https://aws.amazon.com/cloudwatch/pricing/
pub const LOGS_PER_GB: f64 = 0.50;
/// KMS requests: $0.03 per 10,000 (symmetric keys). Source: https://aws.amazon.com/kms/pricing/
/// Reported beside the model, not in its totals.
pub const KMS_PER_REQUEST: f64 = 0.03 / 10_000.0;
/// Lambda gives a function one full vCPU at 1,769 MB and a proportional share below.
/// Source: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
pub const FULL_VCPU_MB: f64 = 1769.0;

/// What the model leaves out.
pub const LEFT_OUT: &[&str] = &[
    "data transfer out to receivers (egress, $0.09/GB past the free 100 GB; a 300-byte delivery with headers is ≈ 1 KB)",
    "KMS: the SecretsKey ($1/month) and its requests ($0.03 per 10,000; measured per delivery and shown beside the totals)",
    "CloudWatch alarms ($0.10 per alarm-month), X-Ray traces (Tracing: Active; $5 per million recorded past the 1/s + 5% sampling)",
    "storage: DynamoDB ($0.25/GB-month, items kept until their TTL), CloudWatch Logs ($0.03/GB-month), PITR/backups",
    "idle costs: the event source mapping's empty long polls and the reconciler's schedule (fixed per month, not per delivery)",
    "cold starts (the init phase is billed for provided.al2023) and free tiers",
];

/// Which front door ingest sits behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum FrontDoor {
    /// API Gateway HTTP API: a fee per request.
    HttpApi,
    /// Lambda function URL: no fee besides the invocation.
    FunctionUrl,
}

/// The measured inputs, per delivery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PerDelivery {
    pub wru: f64,
    pub rru: f64,
    pub sqs_requests: f64,
    pub lambda_requests: f64,
    pub lambda_gb_seconds: f64,
    pub log_bytes: f64,
    pub api_requests: f64,
}

/// Dollars per million deliveries, by service.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PerMillion {
    pub dynamodb: f64,
    pub sqs: f64,
    pub lambda_requests: f64,
    pub lambda_duration: f64,
    pub api_gateway: f64,
    pub logs: f64,
    pub total: f64,
}

/// Billed seconds of a function at `memory_mb`: the measured billed duration (handler wall
/// time, whole milliseconds per invocation), plus the measured CPU time stretched by the CPU
/// share Lambda gives below 1,769 MB (assumed not to overlap with I/O waits: conservative).
pub fn billed_seconds(u: &Usage, memory_mb: u32) -> f64 {
    let stretch = (FULL_VCPU_MB / f64::from(memory_mb) - 1.0).max(0.0);
    (u.billed_ms as f64 + u.cpu_ms * stretch) / 1000.0
}

pub fn per_delivery(s: &Scenario, memory_mb: u32) -> PerDelivery {
    let gb = f64::from(memory_mb) / 1024.0;
    let seconds = billed_seconds(&s.ingest, memory_mb) + billed_seconds(&s.delivery, memory_mb);
    PerDelivery {
        wru: s.per_delivery(s.tally.wru()),
        rru: s.per_delivery(s.tally.rru()),
        sqs_requests: s.per_delivery(s.tally.sqs_billed() as f64),
        lambda_requests: s.per_delivery((s.ingest.invocations + s.delivery.invocations) as f64),
        lambda_gb_seconds: s.per_delivery(seconds * gb),
        log_bytes: s.per_delivery((s.ingest.log_bytes + s.delivery.log_bytes) as f64),
        // One front-door request per HTTP request: per event on the single route, per 100 events
        // on the batch route.
        api_requests: s.per_delivery(s.requests as f64),
    }
}

pub fn per_million(p: &PerDelivery, front: FrontDoor) -> PerMillion {
    let m = 1e6;
    let mut out = PerMillion {
        dynamodb: m * (p.wru * DYNAMODB_PER_WRU + p.rru * DYNAMODB_PER_RRU),
        sqs: m * p.sqs_requests * SQS_PER_REQUEST,
        lambda_requests: m * p.lambda_requests * LAMBDA_PER_REQUEST,
        lambda_duration: m * p.lambda_gb_seconds * LAMBDA_ARM_PER_GB_SECOND,
        api_gateway: match front {
            FrontDoor::HttpApi => m * p.api_requests * HTTP_API_PER_REQUEST,
            FrontDoor::FunctionUrl => 0.0,
        },
        logs: m * p.log_bytes / 1e9 * LOGS_PER_GB,
        total: 0.0,
    };
    out.total = out.dynamodb
        + out.sqs
        + out.lambda_requests
        + out.lambda_duration
        + out.api_gateway
        + out.logs;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_deliveries_cost_the_sum_of_their_parts() {
        let p = PerDelivery {
            wru: 1.0,
            rru: 0.5,
            sqs_requests: 0.3,
            lambda_requests: 0.2,
            lambda_gb_seconds: 0.125 * 0.02,
            log_bytes: 200.0,
            api_requests: 0.1,
        };
        let api = per_million(&p, FrontDoor::HttpApi);
        assert!((api.dynamodb - (0.625 + 0.0625)).abs() < 1e-9);
        assert!((api.sqs - 0.12).abs() < 1e-9);
        assert!((api.lambda_requests - 0.04).abs() < 1e-9);
        assert!((api.api_gateway - 0.1).abs() < 1e-9);
        assert!((api.logs - 0.1).abs() < 1e-9);
        let url = per_million(&p, FrontDoor::FunctionUrl);
        assert!(
            (api.total - url.total - 0.1).abs() < 1e-9,
            "the URL saves the API fee"
        );
    }

    #[test]
    fn the_batch_route_pays_the_front_door_once_per_request() {
        let usage = |invocations, billed_ms, log_bytes| Usage {
            invocations,
            billed_ms,
            log_bytes,
            ..Usage::default()
        };
        let s = Scenario {
            name: "fanout1_batch".into(),
            fanout: 1,
            events: 1000,
            front: FrontDoor::FunctionUrl,
            batch: Some(100),
            requests: 10,
            deliveries: 1000,
            posts: 1000,
            tally: crate::meter::Tally::default(),
            ingest: usage(10, 2000, 4000),
            delivery: usage(100, 3000, 176_000),
            wall_s: 1.0,
        };
        let p = per_delivery(&s, 1769);
        assert!((p.api_requests - 0.01).abs() < 1e-12);
        assert!((p.lambda_requests - 0.11).abs() < 1e-12);
        assert!((p.log_bytes - 180.0).abs() < 1e-9);
        let gb_s = 5.0 / 1000.0 * 1769.0 / 1024.0;
        assert!((p.lambda_gb_seconds - gb_s).abs() < 1e-12);
        let api = per_million(&p, FrontDoor::HttpApi);
        assert!(
            (api.api_gateway - 0.01).abs() < 1e-9,
            "$1 per million requests"
        );
        assert_eq!(per_million(&p, FrontDoor::FunctionUrl).api_gateway, 0.0);
    }

    #[test]
    fn cpu_time_is_stretched_below_a_full_vcpu() {
        let u = Usage {
            billed_ms: 100,
            cpu_ms: 10.0,
            ..Usage::default()
        };
        assert!((billed_seconds(&u, 1769) - 0.1).abs() < 1e-9);
        let at_128 = billed_seconds(&u, 128);
        assert!((at_128 - (0.1 + 0.01 * (1769.0 / 128.0 - 1.0))).abs() < 1e-9);
    }
}
