//! Every way into ingest besides HTTP, behind one Lambda entry point that recognises each
//! invocation's shape by the fields AWS documents for it (no guessing from free text):
//!
//! | shape | recognised by | answer |
//! |---|---|---|
//! | HTTP API v2 / function URL | `requestContext.http` | the HTTP response (the axum app) |
//! | SQS event source mapping | `Records[].eventSource = "aws:sqs"` | `batchItemFailures`: the records to retry |
//! | SNS subscription | `Records[].EventSource = "aws:sns"` | an error if any record is to be retried |
//! | EventBridge rule | `detail-type`, `source`, `detail` | an error if it is to be retried |
//! | direct `Invoke` | `tenant_id` | per-event results, as the batch route's |
//!
//! Records of the asynchronous sources go through the batch route's intake ([`submit`]); what
//! can never be accepted goes to the rejected-events queue with its reason, what failed for a
//! passing reason is retried by the source, so nothing is dropped silently.

pub mod direct;
pub mod records;
pub mod resubmit;
pub mod submit;

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use records::{Source, SourceRecord};
use submit::Fate;

use crate::state::AppState;

/// What an invocation is.
#[derive(Debug)]
pub enum Shape {
    Http(Box<ApiGatewayV2httpRequest>),
    Sqs(SqsEvent),
    Sns(SnsEvent),
    EventBridge,
    Direct,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "requestContext")]
    request_context: Option<ProbeContext>,
    #[serde(rename = "Records")]
    records: Option<Vec<ProbeRecord>>,
    #[serde(rename = "detail-type")]
    detail_type: Option<IgnoredAny>,
    source: Option<IgnoredAny>,
    detail: Option<IgnoredAny>,
    tenant_id: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ProbeContext {
    http: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ProbeRecord {
    #[serde(rename = "eventSource")]
    sqs: Option<String>,
    #[serde(rename = "EventSource")]
    sns: Option<String>,
}

/// An invocation that is none of the known shapes (or one that does not read as its type).
#[derive(Debug, thiserror::Error)]
#[error("unrecognised invocation: {0}")]
pub struct Unrecognised(pub String);

/// Recognises an invocation by its documented fields, then reads it as its `aws_lambda_events`
/// type.
pub fn classify(raw: &RawValue) -> Result<Shape, Unrecognised> {
    let probe: Probe =
        serde_json::from_str(raw.get()).map_err(|_| Unrecognised("not a JSON object".into()))?;
    let read = |what: &str| Unrecognised(format!("not a valid {what} event"));
    if probe.request_context.is_some_and(|c| c.http.is_some()) {
        return serde_json::from_str(raw.get())
            .map(|e| Shape::Http(Box::new(e)))
            .map_err(|_| read("HTTP"));
    }
    if let Some(first) = probe.records.as_ref().and_then(|r| r.first()) {
        if first.sqs.as_deref() == Some("aws:sqs") {
            return serde_json::from_str(raw.get())
                .map(Shape::Sqs)
                .map_err(|_| read("SQS"));
        }
        if first.sns.as_deref() == Some("aws:sns") {
            return serde_json::from_str(raw.get())
                .map(Shape::Sns)
                .map_err(|_| read("SNS"));
        }
    }
    if probe.detail_type.is_some() && probe.source.is_some() && probe.detail.is_some() {
        return Ok(Shape::EventBridge);
    }
    if probe.tenant_id.is_some() {
        return Ok(Shape::Direct);
    }
    Err(Unrecognised(
        "not HTTP, SQS, SNS, EventBridge or a direct event (no tenant_id)".into(),
    ))
}

/// Submits a source's records and keeps the rejected ones; logs one line.
async fn run(state: &AppState, records: &[SourceRecord]) -> Vec<Fate> {
    let mut fates = submit::submit(state, records).await;
    submit::keep_rejections(state, records, &mut fates).await;
    let count = |f: fn(&Fate) -> bool| fates.iter().filter(|x| f(x)).count();
    tracing::info!(
        source = records.first().map_or("none", |r| r.source.name()),
        records = records.len(),
        accepted = count(|f| matches!(f, Fate::Accepted)),
        rejected = count(|f| matches!(f, Fate::Rejected(_))),
        retried = count(|f| matches!(f, Fate::Retry)),
        "source invocation"
    );
    fates
}

/// An SQS batch: the records to retry are reported (partial batch failures).
pub async fn sqs(state: &AppState, event: SqsEvent) -> SqsBatchResponse {
    let records: Vec<SourceRecord> = event
        .records
        .into_iter()
        .map(|m| SourceRecord {
            source: Source::Sqs,
            message_id: m.message_id.unwrap_or_default(),
            text: m.body.unwrap_or_default(),
        })
        .collect();
    let fates = run(state, &records).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = records
        .iter()
        .zip(&fates)
        .filter(|(_, f)| matches!(f, Fate::Retry))
        .map(|(r, _)| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = r.message_id.clone();
            failure
        })
        .collect();
    response
}

/// An asynchronous invocation's records (SNS, EventBridge): Err when any is to be retried, so
/// Lambda retries the invocation (idempotency keys make the accepted ones repeats).
async fn all_or_retry(state: &AppState, records: Vec<SourceRecord>) -> Result<(), Unrecognised> {
    let fates = run(state, &records).await;
    let retried = fates.iter().filter(|f| matches!(f, Fate::Retry)).count();
    if retried > 0 {
        return Err(Unrecognised(format!(
            "{retried} record(s) could not be accepted now; retry"
        )));
    }
    Ok(())
}

pub async fn sns(state: &AppState, event: SnsEvent) -> Result<(), Unrecognised> {
    let records = event
        .records
        .into_iter()
        .map(|r| SourceRecord {
            source: Source::Sns,
            message_id: r.sns.message_id,
            text: r.sns.message,
        })
        .collect();
    all_or_retry(state, records).await
}

pub async fn eventbridge(state: &AppState, raw: &RawValue) -> Result<(), Unrecognised> {
    #[derive(Deserialize)]
    struct Id {
        id: Option<String>,
    }
    let id = serde_json::from_str::<Id>(raw.get())
        .ok()
        .and_then(|i| i.id)
        .unwrap_or_default();
    let record = SourceRecord {
        source: Source::EventBridge,
        message_id: id,
        text: raw.get().to_owned(),
    };
    all_or_retry(state, vec![record]).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn shape(json: &str) -> Result<Shape, Unrecognised> {
        classify(&RawValue::from_string(json.to_owned()).unwrap())
    }

    #[test]
    fn each_shape_is_recognised_by_its_documented_fields() {
        let http = r#"{"version":"2.0","routeKey":"$default","rawPath":"/v1/health","rawQueryString":"",
            "headers":{},"requestContext":{"http":{"method":"GET","path":"/v1/health","protocol":"HTTP/1.1",
            "sourceIp":"1.2.3.4","userAgent":"x"},"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"d",
            "requestId":"r","routeKey":"$default","stage":"$default","time":"t","timeEpoch":0},"isBase64Encoded":false}"#;
        assert!(matches!(shape(http), Ok(Shape::Http(_))));
        let sqs = r#"{"Records":[{"messageId":"m","receiptHandle":"r","body":"{}","attributes":{},
            "messageAttributes":{},"md5OfBody":"x","eventSource":"aws:sqs","eventSourceARN":"arn","awsRegion":"us-east-1"}]}"#;
        assert!(matches!(shape(sqs), Ok(Shape::Sqs(e)) if e.records.len() == 1));
        let sns = r#"{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","EventSubscriptionArn":"arn",
            "Sns":{"Type":"Notification","MessageId":"m","TopicArn":"t","Subject":null,"Message":"{}",
            "Timestamp":"2026-11-30T00:00:00.000Z","SignatureVersion":"1","Signature":"s","SigningCertUrl":"u",
            "UnsubscribeUrl":"u","MessageAttributes":{}}}]}"#;
        assert!(matches!(shape(sns), Ok(Shape::Sns(e)) if e.records[0].sns.message_id == "m"));
        let eb = r#"{"id":"1","detail-type":"a.b","source":"s","detail":{}}"#;
        assert!(matches!(shape(eb), Ok(Shape::EventBridge)));
        assert!(matches!(
            shape(r#"{"tenant_id":"acme","events":[]}"#),
            Ok(Shape::Direct)
        ));
        for unknown in [
            r#"{"hello":1}"#,
            "[1]",
            r#"{"Records":[{"eventSource":"aws:kinesis"}]}"#,
        ] {
            assert!(shape(unknown).is_err(), "{unknown}");
        }
        assert!(
            shape(r#"{"Records":[{"eventSource":"aws:sqs","messageId":7}]}"#).is_err(),
            "an SQS record that does not read as one"
        );
    }
}
