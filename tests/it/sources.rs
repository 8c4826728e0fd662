//! Events from the AWS sources through moto and the real intake (issue 12): the producer queue
//! (SQS), SNS (raw message delivery on and off, and the SNS invocation shape), EventBridge (a
//! moto rule with a queue target) and direct invocation. Each reaches a real receiver with its
//! payload bytes intact; a redelivered record sends nothing twice; an invalid one lands in the
//! rejected-events queue with its reason and nothing else happens; a batch reports exactly the
//! records it could not handle.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{Value, json};

use ingest::lambda_event::{Context, LambdaEvent};

use crate::harness::{Stack, moto_url, repo_root, venv_bin};
use crate::receiver::TestReceiver;

/// tests/it/aws_sources.py (boto3 against moto) for SNS and EventBridge.
fn aws(args: &[&str]) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/it/aws_sources.py"))
        .arg(moto_url())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn queue(stack: &Stack, name: &str) -> (String, String) {
    let url = stack
        .sqs
        .create_queue()
        .queue_name(format!("{name}-{}", ulid::Ulid::new()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = stack
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    (url, arn)
}

/// `n` messages from a queue (waiting up to 10 s).
async fn receive(stack: &Stack, url: &str, n: usize) -> Vec<aws_sdk_sqs::types::Message> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < n && Instant::now() < deadline {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        got.extend(out.messages.unwrap_or_default());
    }
    assert_eq!(got.len(), n, "messages from {url}");
    got
}

/// The event the SQS event source mapping hands Lambda for these messages.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message], arn: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| serde_json::to_value(devstack::poller::sqs_record(m, arn, "us-east-1")).unwrap())
        .collect();
    json!({"Records": records})
}

async fn invoke(stack: &Stack, state: &ingest::AppState, event: &str) -> Result<Value, String> {
    let raw = RawValue::from_string(event.to_owned()).unwrap();
    ingest::lambda::handle(
        stack.app.clone(),
        state,
        LambdaEvent::new(raw, Context::default()),
    )
    .await
    .map_err(|e| e.to_string())
}

fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Every rejection the rejected-events queue holds (left there).
async fn rejected(stack: &Stack) -> Vec<Value> {
    let mut all = Vec::new();
    for _ in 0..5 {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&stack.resources.rejected_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let v: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            if !all.contains(&v) {
                all.push(v);
            }
        }
    }
    all
}

async fn tenant_on(stack: &Stack, tenant: &str) -> TestReceiver {
    let receiver = TestReceiver::start(vec![], None).await;
    stack.tenant(tenant, json!({})).await;
    stack
        .endpoint(
            tenant,
            json!({"url": format!("{}/hook", receiver.url), "event_types": ["*"]}),
        )
        .await;
    receiver
}

async fn wait_count(receiver: &TestReceiver, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.count() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.count(), n, "deliveries received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_queue_delivers_rejects_and_never_sends_twice() {
    let stack = Stack::builder().start().await;
    let receiver = tenant_on(&stack, "src-sqs").await;
    let payload = r#"{"amount": 1.50, "z": 1, "a": [true, null], "text": "\u00e9"}"#;
    let url = &stack.resources.producer_queue_url;
    for body in [
        format!(r#"{{"tenant_id": "src-sqs", "event_type": "order.paid", "payload": {payload}}}"#),
        r#"{"tenant_id": "src-sqs", "event_type": "bad type!", "payload": {}}"#.to_owned(),
        r#"{"tenant_id": "nobody", "event_type": "order.paid", "payload": {}}"#.to_owned(),
    ] {
        stack
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let messages = receive(&stack, url, 3).await;
    let event = sqs_event(&messages, "arn:aws:sqs:us-east-1:123456789012:producer").to_string();
    let answer = invoke(&stack, &stack.state, &event).await.unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");
    wait_count(&receiver, 1).await;
    assert_eq!(
        receiver.received()[0].body.as_ref(),
        payload.as_bytes(),
        "payload bytes as sent"
    );
    let kept = rejected(&stack).await;
    let mut codes: Vec<&str> = kept
        .iter()
        .map(|r| r["reason"]["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, ["invalid_field", "not_found"]);
    assert!(
        kept.iter()
            .all(|r| r["source"] == "sqs" && r["text"].as_str().unwrap().contains("tenant_id"))
    );
    // The same messages again, as SQS redelivers them: nothing is sent twice, nothing more kept.
    let answer = invoke(&stack, &stack.state, &event).await.unwrap();
    assert!(failures(&answer).is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.count(),
        1,
        "a redelivered message sends nothing twice"
    );
    // The API shows them and re-submits them after a fix.
    stack.tenant("nobody", json!({})).await;
    let (s, done) = stack
        .admin("POST", "/v1/admin/rejected/resubmit", None)
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["accepted"], 1, "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_batch_reports_exactly_the_records_it_could_not_keep() {
    let stack = Stack::builder().poll(false).start().await;
    stack.tenant("src-mixed", json!({})).await;
    let (url, arn) = queue(&stack, "mixed").await;
    for body in [
        r#"{"tenant_id": "src-mixed", "event_type": "a.b", "payload": {}}"#,
        r#"{"tenant_id": "src-mixed", "event_type": "", "payload": {}}"#,
        r#"{"tenant_id": "src-mixed", "event_type": "a.b", "payload": {"n": 2}}"#,
        r#"{"event_type": "a.b", "payload": {}}"#,
    ] {
        stack
            .sqs
            .send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let messages = receive(&stack, &url, 4).await;
    let invalid: Vec<String> = messages
        .iter()
        .filter(|m| {
            m.body().unwrap().contains(r#""event_type": """#)
                || !m.body().unwrap().contains("tenant_id")
        })
        .map(|m| m.message_id().unwrap().to_owned())
        .collect();
    // A rejected-events queue that does not exist: the invalid records cannot be kept, so they
    // (and only they) are reported for the source to retry.
    let broken =
        stack
            .state
            .clone()
            .with_rejections(shared::adapters::rejections::SqsRejections::new(
                shared::adapters::sqs::SqsQueue::new(
                    stack.sqs.clone(),
                    format!("{}/123456789012/no-such-queue", moto_url()),
                ),
            ));
    let answer = invoke(&stack, &broken, &sqs_event(&messages, &arn).to_string())
        .await
        .unwrap();
    let mut got = failures(&answer);
    got.sort();
    let mut want = invalid.clone();
    want.sort();
    assert_eq!(got, want, "exactly the records that could not be kept");
    assert!(
        rejected(&stack).await.is_empty(),
        "nothing reached the real rejected queue"
    );
    let answer = invoke(
        &stack,
        &stack.state,
        &sqs_event(&messages, &arn).to_string(),
    )
    .await
    .unwrap();
    assert!(
        failures(&answer).is_empty(),
        "with the queue there, they are kept instead: {answer}"
    );
    assert_eq!(rejected(&stack).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_raw_enveloped_and_invoked_messages_are_one_event_each() {
    let stack = Stack::builder().start().await;
    let receiver = tenant_on(&stack, "src-sns").await;
    let (raw_url, raw_arn) = queue(&stack, "sns-raw").await;
    let (env_url, env_arn) = queue(&stack, "sns-env").await;
    let raw_topic = aws(&[
        "sns-topic",
        &format!("raw-{}", ulid::Ulid::new()),
        &raw_arn,
        "true",
    ]);
    let env_topic = aws(&[
        "sns-topic",
        &format!("env-{}", ulid::Ulid::new()),
        &env_arn,
        "false",
    ]);
    let payload = r#"{"k": "v",  "n": 10.10}"#;
    let message =
        format!(r#"{{"tenant_id": "src-sns", "event_type": "a.b", "payload": {payload}}}"#);
    aws(&[
        "sns-publish",
        raw_topic["topic_arn"].as_str().unwrap(),
        &message,
    ]);
    aws(&[
        "sns-publish",
        env_topic["topic_arn"].as_str().unwrap(),
        &message,
    ]);
    let raw = receive(&stack, &raw_url, 1).await;
    let enveloped = receive(&stack, &env_url, 1).await;
    assert!(
        enveloped[0].body().unwrap().contains("\"Type\""),
        "raw delivery off: an SNS envelope"
    );
    for (messages, arn) in [(&raw, &raw_arn), (&enveloped, &env_arn)] {
        let answer = invoke(&stack, &stack.state, &sqs_event(messages, arn).to_string())
            .await
            .unwrap();
        assert!(failures(&answer).is_empty(), "{answer}");
    }
    wait_count(&receiver, 2).await;
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| r.body.as_ref() == payload.as_bytes())
    );
    // The same notification handed to the function by SNS itself: the same SNS message id.
    let n: Value = serde_json::from_str(enveloped[0].body().unwrap()).unwrap();
    let sns_event = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:1", "Sns": {
            "Type": n["Type"], "MessageId": n["MessageId"], "TopicArn": n["TopicArn"],
            "Subject": null, "Message": n["Message"], "Timestamp": n["Timestamp"],
            "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "", "UnsubscribeUrl": "",
            "MessageAttributes": {}}}]});
    assert_eq!(
        invoke(&stack, &stack.state, &sns_event.to_string())
            .await
            .unwrap(),
        Value::Null
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.count(),
        2,
        "the enveloped copy and the invocation are one event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_and_direct_events_arrive_once_with_their_bytes() {
    let stack = Stack::builder().start().await;
    let receiver = tenant_on(&stack, "src-eb").await;
    let (url, arn) = queue(&stack, "eb").await;
    let source = format!("billing.{}", ulid::Ulid::new());
    aws(&[
        "eb-rule",
        &format!("r-{}", ulid::Ulid::new()),
        &arn,
        &source,
    ]);
    let put = aws(&[
        "eb-put",
        &source,
        "invoice.paid",
        r#"{"tenant_id": "src-eb", "total": 12.5}"#,
    ]);
    assert_eq!(put["failed"], 0);
    let delivered = receive(&stack, &url, 1).await;
    let event = delivered[0].body().unwrap();
    #[derive(serde::Deserialize)]
    struct Detail<'a> {
        #[serde(borrow)]
        detail: &'a RawValue,
    }
    let detail = serde_json::from_str::<Detail>(event)
        .unwrap()
        .detail
        .get()
        .to_owned();
    assert_eq!(
        invoke(&stack, &stack.state, event).await.unwrap(),
        Value::Null
    );
    invoke(&stack, &stack.state, event).await.unwrap();
    wait_count(&receiver, 1).await;
    assert_eq!(
        receiver.received()[0].body.as_ref(),
        detail.as_bytes(),
        "the detail as Lambda got it"
    );
    let mut no_tenant: Value = serde_json::from_str(event).unwrap();
    no_tenant["detail"] = json!({"total": 1});
    no_tenant["id"] = json!("eb-no-tenant");
    invoke(&stack, &stack.state, &no_tenant.to_string())
        .await
        .unwrap();
    let kept = rejected(&stack).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (&kept[0]["source"], &kept[0]["reason"]["field"]),
        (&json!("eventbridge"), &json!("detail.tenant_id"))
    );
    // Direct invocation: per-event results, as the batch route answers.
    let direct = json!({"tenant_id": "src-eb", "events": [
        {"event_type": "a.b", "payload": {"direct": 1}, "id": "d-1"},
        {"event_type": "a.b", "payload": {"direct": 1}, "id": "d-1"},
        {"event_type": "", "payload": {}}]});
    let answer = invoke(&stack, &stack.state, &direct.to_string())
        .await
        .unwrap();
    let statuses: Vec<&Value> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, [&json!(202), &json!(200), &json!(422)]);
    wait_count(&receiver, 2).await;
}
