//! The Lambda entry point with every invocation shape, on the in-memory store and queues: SQS
//! batches with partial failures, SNS, EventBridge, direct invocation, the rejected-events queue
//! and re-submission after a fix. No moto (tests/it/sources.rs runs the real path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::{Value, json};

mod support;
use support::*;

impl Api {
    async fn invoke(&self, event: Value) -> Result<Value, String> {
        let raw = RawValue::from_string(event.to_string()).unwrap();
        ingest::lambda::handle(
            self.app.clone(),
            &self.state,
            LambdaEvent::new(raw, Context::default()),
        )
        .await
        .map_err(|e| e.to_string())
    }

    async fn ready(&self, tenant: &str) {
        self.admin("PUT", &format!("/v1/tenants/{tenant}"), Some(json!({})))
            .await;
        let (s, v) = self
            .admin(
                "POST",
                &format!("/v1/tenants/{tenant}/endpoints"),
                Some(json!({"url": "https://example.com/hook", "event_types": ["*"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    fn rejected_reasons(&self) -> Vec<Value> {
        self.rejections
            .bodies()
            .iter()
            .map(|b| serde_json::from_str::<Value>(b).unwrap())
            .collect()
    }
}

fn sqs_record(id: &str, body: &str) -> Value {
    json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body, "attributes": {},
           "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
           "eventSourceARN": "arn:aws:sqs:us-east-1:1:producer", "awsRegion": "us-east-1"})
}

fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_mixed_sqs_batch_rejects_the_invalid_and_retries_nothing_it_accepted() {
    let api = Api::new();
    api.ready("acme").await;
    let big = "x".repeat(2000); // the handler tests' payload limit is 1,024 bytes
    let records = json!({"Records": [
        sqs_record("m1", r#"{"tenant_id":"acme","event_type":"a.b","payload":{"n":1.50}}"#),
        sqs_record("m2", r#"{"tenant_id":"acme","event_type":"bad type!","payload":{}}"#),
        sqs_record("m3", r#"{"tenant_id":"nobody","event_type":"a.b","payload":{}}"#),
        sqs_record("m4", &format!(r#"{{"tenant_id":"acme","event_type":"a.b","payload":{{"b":"{big}"}}}}"#)),
        sqs_record("m5", "not json"),
    ]});
    let answer = api.invoke(records.clone()).await.unwrap();
    assert!(
        failures(&answer).is_empty(),
        "rejections are not retried: {answer}"
    );
    assert_eq!(
        api.queue.sent().len(),
        1,
        "one accepted event, one endpoint"
    );
    let reasons = api.rejected_reasons();
    let got: Vec<(&str, &str)> = reasons
        .iter()
        .map(|r| {
            (
                r["message_id"].as_str().unwrap(),
                r["reason"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("m2", "invalid_field"),
            ("m3", "not_found"),
            ("m4", "too_large"),
            ("m5", "malformed_json")
        ]
    );
    assert_eq!(reasons[0]["reason"]["field"], "event_type");
    assert_eq!(reasons[0]["source"], "sqs");
    assert!(
        reasons[0]["text"].as_str().unwrap().contains("bad type!"),
        "the record is kept as sent"
    );
    // The same messages again (SQS redelivers): the accepted one is a repeat, nothing is sent.
    let answer = api
        .invoke(json!({"Records": [records["Records"][0].clone()]}))
        .await
        .unwrap();
    assert!(failures(&answer).is_empty());
    assert_eq!(
        api.queue.sent().len(),
        1,
        "a redelivered message sends nothing twice"
    );
}

#[tokio::test]
async fn passing_failures_are_retried_and_rejections_are_never_dropped() {
    let api = Api::new();
    api.ready("acme").await;
    let ok = sqs_record(
        "m1",
        r#"{"tenant_id":"acme","event_type":"a.b","payload":{}}"#,
    );
    let bad = sqs_record("m2", r#"{"tenant_id":"acme","event_type":"","payload":{}}"#);
    api.store.set_unavailable(true);
    let answer = api.invoke(json!({"Records": [ok.clone()]})).await.unwrap();
    assert_eq!(failures(&answer), ["m1"], "a table outage is retried");
    api.store.set_unavailable(false);
    api.rejections.set_unavailable(true);
    let answer = api.invoke(json!({"Records": [ok, bad]})).await.unwrap();
    assert_eq!(
        failures(&answer),
        ["m2"],
        "a rejection that cannot be kept is retried"
    );
    api.rejections.set_unavailable(false);
    assert!(api.rejections.bodies().is_empty());
}

#[tokio::test]
async fn sns_and_eventbridge_events_arrive_with_their_payload_bytes() {
    let api = Api::new();
    api.ready("acme").await;
    let message = r#"{"tenant_id":"acme","event_type":"order.created","payload":{"total": 10.10, "items": [1, 2]}}"#;
    let sns = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:s", "Sns": {"Type": "Notification", "MessageId": "sns-1",
        "TopicArn": "arn:t", "Subject": null, "Message": message, "Timestamp": "2026-11-30T00:00:00.000Z",
        "SignatureVersion": "1", "Signature": "s", "SigningCertUrl": "u", "UnsubscribeUrl": "u",
        "MessageAttributes": {}}}]});
    assert_eq!(api.invoke(sns.clone()).await.unwrap(), Value::Null);
    api.invoke(sns).await.unwrap();
    let sent = api.queue.sent();
    assert_eq!(sent.len(), 1, "the same SNS message twice is one event");
    let event_text = r#"{"version":"0","id":"eb-42","detail-type":"invoice.paid","source":"billing",
        "account":"1","time":"2026-11-30T00:00:00Z","region":"us-east-1","resources":[],
        "detail":{"tenant_id":"acme","amount":  12.50 ,"note":"\u00e9"}}"#;
    let eb: Value = serde_json::from_str(event_text).unwrap();
    let raw = RawValue::from_string(event_text.to_owned()).unwrap();
    ingest::lambda::handle(
        api.app.clone(),
        &api.state,
        LambdaEvent::new(raw, Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(api.queue.sent().len(), 2);
    #[derive(serde::Deserialize)]
    struct Message {
        event_type: String,
        payload: Box<RawValue>,
    }
    let message: Message = serde_json::from_str(&api.queue.sent()[1].body).unwrap();
    assert_eq!(message.event_type, "invoice.paid");
    assert_eq!(
        message.payload.get(),
        r#"{"tenant_id":"acme","amount":  12.50 ,"note":"\u00e9"}"#,
        "the detail's bytes as received"
    );
    let sns_message: Message = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(
        sns_message.payload.get(),
        r#"{"total": 10.10, "items": [1, 2]}"#
    );
    let raw = RawValue::from_string(event_text.to_owned()).unwrap();
    ingest::lambda::handle(
        api.app.clone(),
        &api.state,
        LambdaEvent::new(raw, Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(
        api.queue.sent().len(),
        2,
        "the same EventBridge id twice is one event"
    );
    let mut no_tenant = eb.clone();
    no_tenant["detail"] = json!({"amount": 1});
    no_tenant["id"] = json!("eb-43");
    api.invoke(no_tenant).await.unwrap();
    let reasons = api.rejected_reasons();
    assert_eq!(reasons[0]["source"], "eventbridge");
    assert_eq!(reasons[0]["reason"]["field"], "detail.tenant_id");
}

#[tokio::test]
async fn a_direct_invocation_answers_like_the_batch_route() {
    let api = Api::new();
    api.ready("acme").await;
    let one = api
        .invoke(json!({"tenant_id": "acme", "event_type": "a.b", "payload": {"k": 1}, "id": "d-1"}))
        .await
        .unwrap();
    assert_eq!(one["results"][0]["status"], 202, "{one}");
    let many = api
        .invoke(json!({"tenant_id": "acme", "events": [
            {"event_type": "a.b", "payload": {}, "id": "d-1"},
            {"event_type": "a b", "payload": {}}]}))
        .await
        .unwrap();
    assert_eq!(
        (&many["results"][0]["status"], &many["results"][1]["status"]),
        (&json!(200), &json!(422))
    );
    let nobody = api
        .invoke(json!({"tenant_id": "nobody", "event_type": "a.b", "payload": {}}))
        .await
        .unwrap();
    assert_eq!(nobody["results"][0]["status"], 404);
    assert!(
        api.rejections.bodies().is_empty(),
        "a direct caller sees its refusals"
    );
    assert!(
        api.invoke(json!({"hello": "world"})).await.is_err(),
        "an unknown shape is an error"
    );
}

#[tokio::test]
async fn rejected_events_are_listed_and_resubmitted_after_a_fix() {
    let api = Api::new();
    let records = json!({"Records": [
        sqs_record("m1", r#"{"tenant_id":"later","event_type":"a.b","payload":{}}"#),
        sqs_record("m2", r#"{"tenant_id":"later","event_type":"a b","payload":{}}"#),
    ]});
    api.invoke(records).await.unwrap();
    let (s, list) = api.admin("GET", "/v1/admin/rejected", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["configured"], true);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(list["data"][0]["reason"]["code"], "not_found");
    assert_eq!(list["data"][0]["source"], "sqs");
    api.ready("later").await; // the fix
    let (s, done) = api.admin("POST", "/v1/admin/rejected/resubmit", None).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done, json!({"accepted": 1, "rejected_again": 1, "left": 0}));
    api.rejections.reveal();
    let (_, list) = api.admin("GET", "/v1/admin/rejected", None).await;
    let left = list["data"].as_array().unwrap();
    assert_eq!(
        left.len(),
        1,
        "the one still invalid is back with its new reason"
    );
    assert_eq!(left[0]["reason"]["field"], "event_type");
    assert_eq!(api.queue.sent().len(), 1);
    let key = api.tenant_with_key("other").await;
    let (s, _) = api
        .call("GET", "/v1/admin/rejected", None, Some(&key))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn http_invocations_still_reach_the_router() {
    let api = Api::new();
    let event = json!({"version": "2.0", "routeKey": "$default", "rawPath": "/v1/health",
        "rawQueryString": "", "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "requestContext": {"http": {"method": "GET", "path": "/v1/health", "protocol": "HTTP/1.1",
            "sourceIp": "1.2.3.4", "userAgent": "x"}, "accountId": "1", "apiId": "a",
            "domainName": "abc.lambda-url.us-east-1.on.aws", "domainPrefix": "abc", "requestId": "r",
            "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0},
        "isBase64Encoded": false});
    let answer = api.invoke(event).await.unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
}

#[tokio::test]
async fn a_record_too_large_to_keep_whole_is_kept_cut() {
    let api = Api::new();
    api.ready("acme").await;
    // Quotes double when the record is kept as a JSON string: 600 KB of them would not fit.
    let quotes = "\\\"".repeat(300_000);
    let body = format!(r#"{{"tenant_id":"acme","event_type":"a.b","payload":{{"s":"{quotes}"}}}}"#);
    let answer = api
        .invoke(json!({"Records": [sqs_record("big", &body)]}))
        .await
        .unwrap();
    assert!(failures(&answer).is_empty(), "kept, not retried: {answer}");
    let kept = api.rejections.bodies();
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0].len() <= ingest::sources::submit::MAX_KEPT_BYTES,
        "{}",
        kept[0].len()
    );
    let v: Value = serde_json::from_str(&kept[0]).unwrap();
    assert_eq!(
        (&v["truncated"], &v["reason"]["code"]),
        (&json!(true), &json!("too_large"))
    );
    assert!(
        body.starts_with(v["text"].as_str().unwrap()),
        "a prefix of the record"
    );
    let (_, list) = api.admin("GET", "/v1/admin/rejected", None).await;
    assert_eq!(list["data"][0]["truncated"], true);
    let (_, done) = api.admin("POST", "/v1/admin/rejected/resubmit", None).await;
    assert_eq!(
        done,
        json!({"accepted": 0, "rejected_again": 0, "left": 1}),
        "a cut record is not resubmitted"
    );
}
