//! The proxy checked on known operations before each run: a scratch table with an ALL and a
//! KEYS_ONLY index, writes and reads whose billed units are worked out by hand from the
//! developer guide's rules, sent through the proxy like the functions' calls. A mismatch stops
//! the run (the benchmark would be wrong, not the code it measures).

use serde_json::{Value, json};

use crate::ddb::Dynamo;
use crate::meter::Meter;

const TABLE: &str = "bench-selfcheck";

/// Sizes: pk "a" 3 B, g1 3 B, k1 3 B, b1 2 + 1,500 B: 1,511 B (2 WRU); the ALL index entry is
/// the whole item (2), the KEYS_ONLY entry pk + k1 (6 B: 1).
fn item_a() -> Value {
    json!({"pk": {"S": "a"}, "g1": {"S": "x"}, "k1": {"S": "k"}, "b1": {"S": "z".repeat(1500)}})
}

/// (operation, request, expected WRU, expected RRU) — one call each, in order.
fn steps() -> Vec<(&'static str, Value, f64, f64)> {
    let key = json!({"pk": {"S": "a"}});
    let update = |expr: &str, values: Value| json!({"TableName": TABLE, "Key": key, "UpdateExpression": expr, "ExpressionAttributeValues": values});
    vec![
        // new item: table 2 + ALL 2 + KEYS_ONLY 1
        (
            "PutItem",
            json!({"TableName": TABLE, "Item": item_a()}),
            5.0,
            0.0,
        ),
        // a non-key attribute: table 2, ALL 2 (projected), KEYS_ONLY untouched
        (
            "UpdateItem",
            update("SET n1 = :n", json!({":n": {"N": "1"}})),
            4.0,
            0.0,
        ),
        // the ALL index's key moves: table 2, ALL delete 2 + put 2
        (
            "UpdateItem",
            update("SET g1 = :y", json!({":y": {"S": "y"}})),
            6.0,
            0.0,
        ),
        // a failed condition bills the existing item: 2
        (
            "PutItem",
            json!({"TableName": TABLE, "Item": item_a(), "ConditionExpression": "attribute_not_exists(pk)"}),
            2.0,
            0.0,
        ),
        // a transactional put of a 3-byte item: 2 × 1
        (
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": {"TableName": TABLE, "Item": {"pk": {"S": "b"}}}}]}),
            2.0,
            0.0,
        ),
        (
            "GetItem",
            json!({"TableName": TABLE, "Key": key, "ConsistentRead": true}),
            0.0,
            1.0,
        ),
        // projected down to one attribute: still the whole item, eventually consistent: 0.5
        (
            "GetItem",
            json!({"TableName": TABLE, "Key": key, "ProjectionExpression": "pk"}),
            0.0,
            0.5,
        ),
        // filtered out, still read: 0.5
        (
            "Query",
            json!({"TableName": TABLE, "KeyConditionExpression": "pk = :a", "FilterExpression": "n1 = :two",
                   "ExpressionAttributeValues": {":a": {"S": "a"}, ":two": {"N": "2"}}}),
            0.0,
            0.5,
        ),
        // gone from the table (2) and both indexes (2 + 1)
        (
            "DeleteItem",
            json!({"TableName": TABLE, "Key": key}),
            5.0,
            0.0,
        ),
    ]
}

/// Runs the steps through the proxy at `proxy_url`; `Err` names the first wrong figure.
pub async fn run(moto: &Dynamo, through_proxy: &Dynamo, meter: &Meter) -> anyhow::Result<usize> {
    let attr = |name: &str| json!({"AttributeName": name, "AttributeType": "S"});
    let index = |name: &str, key: &str, projection: &str| {
        json!({"IndexName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
               "Projection": {"ProjectionType": projection}})
    };
    let (status, out) = moto
        .call(
            "CreateTable",
            &json!({
                "TableName": TABLE,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [attr("pk"), attr("g1"), attr("k1")],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [index("all", "g1", "ALL"), index("keys", "k1", "KEYS_ONLY")]
            }),
        )
        .await?;
    anyhow::ensure!(status == 200, "self-check: CreateTable: {status} {out}");
    let steps = steps();
    for (n, (op, request, wru, rru)) in steps.iter().enumerate() {
        let before = meter.snapshot();
        through_proxy.call(op, request).await?;
        let diff = meter.snapshot().since(&before);
        let (got_w, got_r) = (diff.wru(), diff.rru());
        anyhow::ensure!(
            (got_w - wru).abs() < 1e-9 && (got_r - rru).abs() < 1e-9,
            "self-check step {n} ({op}): billed {got_w} WRU / {got_r} RRU, worked out {wru} / {rru}"
        );
    }
    Ok(steps.len())
}
