//! The counting proxy: an HTTP server the functions reach as `AWS_ENDPOINT_URL`; every request
//! is forwarded to moto unchanged (but for `ReturnConsumedCapacity`, added to DynamoDB calls so
//! moto's figure can be compared with ours) and counted by service and operation. Two
//! listeners share the counters: one for the functions, one for the event source mapping
//! stand-in, so the SQS calls of each are told apart.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::ddb::{self, Dynamo};
use crate::meter::{Meter, SqsOp};
use crate::units::sqs_chunks;

pub struct Shared {
    pub meter: Meter,
    dynamo: Dynamo,
    http: reqwest::Client,
    moto: String,
}

#[derive(Clone)]
struct Listener {
    shared: Arc<Shared>,
    origin: &'static str,
}

/// A running proxy: its two addresses and its counters.
pub struct Proxy {
    pub shared: Arc<Shared>,
    pub functions_url: String,
    pub esm_url: String,
}

impl Proxy {
    pub async fn start(moto: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let shared = Arc::new(Shared {
            meter: Meter::default(),
            dynamo: Dynamo::new(http.clone(), moto),
            http,
            moto: moto.trim_end_matches('/').to_owned(),
        });
        let functions_url = listen(Arc::clone(&shared), "function").await?;
        let esm_url = listen(Arc::clone(&shared), "esm").await?;
        Ok(Self {
            shared,
            functions_url,
            esm_url,
        })
    }
}

async fn listen(shared: Arc<Shared>, origin: &'static str) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(Listener { shared, origin });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

async fn forward(State(l): State<Listener>, request: Request) -> Response {
    match handle(&l, request).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench proxy: {e:#}");
            (StatusCode::BAD_GATEWAY, format!("bench proxy: {e:#}")).into_response()
        }
    }
}

/// The operation a request names: `X-Amz-Target` (JSON protocols) or `Action=` (query).
fn operation(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (service, op) = target.split_once('.').unwrap_or((target, ""));
        return (service.to_owned(), op.to_owned());
    }
    let text = String::from_utf8_lossy(body);
    let action = text
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or("unknown");
    ("query".to_owned(), action.to_owned())
}

async fn handle(l: &Listener, request: Request) -> anyhow::Result<Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024).await?;
    let (service, op) = operation(&parts.headers, &body);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let shared = &l.shared;
    if service.starts_with("DynamoDB") {
        return dynamodb(shared, &parts.headers, path, &op, &body).await;
    }
    let (status, headers, answer) =
        send(shared, &parts.method, &parts.headers, path, body.clone()).await?;
    if service == "AmazonSQS" {
        let answer_json: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        let request_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        shared
            .meter
            .sqs(l.origin, &op, &sqs_bill(&op, &request_json, &answer_json));
    } else if service == "TrentService" {
        shared.meter.kms(&op);
    } else {
        shared.meter.other(&format!("{service}.{op}"));
    }
    Ok(respond(status, &headers, answer))
}

async fn dynamodb(
    shared: &Shared,
    headers: &HeaderMap,
    path: &str,
    op: &str,
    body: &Bytes,
) -> anyhow::Result<Response> {
    let mut req = ddb::parse(op, body)?;
    ddb::ask_capacity(&mut req);
    let sent = Bytes::from(req.to_string());
    let post = http::Method::POST;
    if ddb::WRITES.contains(&op) {
        let before = shared.dynamo.before_write(op, &req).await?;
        let (status, out_headers, answer) = send(shared, &post, headers, path, sent).await?;
        let json: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        let (bill, indexes) = shared
            .dynamo
            .bill_write(op, before, status.as_u16(), &json)
            .await?;
        shared.meter.dynamodb(op, &bill, &indexes);
        return Ok(respond(status, &out_headers, answer));
    }
    let (status, out_headers, answer) = send(shared, &post, headers, path, sent).await?;
    let json: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    if matches!(
        op,
        "GetItem" | "BatchGetItem" | "TransactGetItems" | "Query" | "Scan"
    ) {
        let bill = shared.dynamo.bill_read(op, &req, &json).await?;
        shared.meter.dynamodb(op, &bill, &[]);
    } else {
        shared.meter.other(&format!("DynamoDB.{op}"));
    }
    Ok(respond(status, &out_headers, answer))
}

/// Forwards a request to moto.
async fn send(
    shared: &Shared,
    method: &http::Method,
    headers: &HeaderMap,
    path: &str,
    body: Bytes,
) -> anyhow::Result<(StatusCode, HeaderMap, Bytes)> {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let skip = [
            "host",
            "content-length",
            "accept-encoding",
            "connection",
            "transfer-encoding",
        ];
        if !skip.contains(&name.as_str()) {
            out.append(name.clone(), value.clone());
        }
    }
    let response = shared
        .http
        .request(method.clone(), format!("{}{path}", shared.moto))
        .headers(out)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    Ok((status, headers, response.bytes().await?))
}

fn respond(status: StatusCode, headers: &HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in headers {
        let skip = ["content-length", "connection", "transfer-encoding"];
        if !skip.contains(&name.as_str()) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

/// An SQS call's billed requests: every started 64 KB of what it carries (message bodies and
/// attributes sent or received); one for calls that carry no message.
pub fn sqs_bill(op: &str, request: &Value, answer: &Value) -> SqsOp {
    let message_bytes = |m: &Value| -> u64 {
        let body = m["MessageBody"]
            .as_str()
            .or(m["Body"].as_str())
            .unwrap_or("");
        let attrs: u64 = m["MessageAttributes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, v)| {
                let len = |k: &str| v[k].as_str().map_or(0, str::len) as u64;
                name.len() as u64 + len("DataType") + len("StringValue") + len("BinaryValue")
            })
            .sum();
        body.len() as u64 + attrs
    };
    let (messages, bytes) = match op {
        "SendMessage" => (1, message_bytes(request)),
        "SendMessageBatch" => {
            let entries = request["Entries"].as_array().cloned().unwrap_or_default();
            (
                entries.len() as u64,
                entries.iter().map(message_bytes).sum(),
            )
        }
        "ReceiveMessage" => {
            let got = answer["Messages"].as_array().cloned().unwrap_or_default();
            (got.len() as u64, got.iter().map(message_bytes).sum())
        }
        _ => (request["Entries"].as_array().map_or(1, Vec::len) as u64, 0),
    };
    SqsOp {
        calls: 1,
        chunks: sqs_chunks(bytes),
        empty: u64::from(op == "ReceiveMessage" && messages == 0),
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sqs_calls_are_billed_by_payload_chunks() {
        let big = "x".repeat(70 * 1024);
        let send = json!({"Entries": [{"MessageBody": big}, {"MessageBody": "y"}]});
        assert_eq!(sqs_bill("SendMessageBatch", &send, &Value::Null).chunks, 2);
        let empty = sqs_bill("ReceiveMessage", &json!({}), &json!({}));
        assert_eq!((empty.chunks, empty.empty), (1, 1));
        let got = sqs_bill(
            "ReceiveMessage",
            &json!({}),
            &json!({"Messages": [{"Body": "a"}]}),
        );
        assert_eq!((got.messages, got.empty), (1, 0));
        let delete = json!({"Entries": [{"Id": "1"}, {"Id": "2"}]});
        assert_eq!(
            sqs_bill("DeleteMessageBatch", &delete, &json!({})).messages,
            2
        );
    }

    #[test]
    fn operations_come_from_the_target_header_or_the_action() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-target", "AmazonSQS.ReceiveMessage".parse().unwrap());
        assert_eq!(operation(&h, b"").1, "ReceiveMessage");
        assert_eq!(
            operation(&HeaderMap::new(), b"Action=SendMessage&x=1").1,
            "SendMessage"
        );
    }
}
