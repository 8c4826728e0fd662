//! The DynamoDB side of the counting proxy: before a write it reads the item as it is (an
//! uncounted GetItem to moto), after it the item as it became, and bills the change by
//! [`crate::units`]; reads are billed on the full size of what was read. Table keys and index
//! projections come from DescribeTable, so nothing here knows the project's key layout.
//! Writes to the same item are serialised through the proxy (before-read, write, after-read as
//! one step, under a lock per item), so the before and after states are exact; writes to other
//! items go on meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde_json::{Value, json};

use crate::meter::DdbOp;
use crate::reread::{as_items, op_of, projects, unfiltered};
use crate::units::{Consistency, Item, TableInfo, item_size, read_units, write_units};

/// What a write looked like before it was forwarded.
pub struct Before {
    _turns: Vec<tokio::sync::OwnedMutexGuard<()>>,
    /// Per written item: table, key, the item before, and the item the request puts (Put).
    items: Vec<Target>,
}

struct Target {
    table: String,
    key: Item,
    kind: Kind,
    before: Option<Item>,
}

#[derive(Clone, PartialEq)]
enum Kind {
    Put(Item),
    Update,
    Delete,
    Check,
}

/// Uncounted calls to moto and the table descriptions.
pub struct Dynamo {
    http: reqwest::Client,
    moto: String,
    tables: Mutex<HashMap<String, Arc<TableInfo>>>,
    /// One lock per written item (table and key), taken in a fixed order.
    items: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

impl Dynamo {
    pub fn new(http: reqwest::Client, moto: &str) -> Self {
        Self {
            http,
            moto: moto.trim_end_matches('/').to_owned(),
            tables: Mutex::default(),
            items: Mutex::default(),
        }
    }

    /// One uncounted call to moto.
    pub async fn call(&self, op: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}/", self.moto))
            .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    pub async fn table(&self, name: &str) -> anyhow::Result<Arc<TableInfo>> {
        if let Some(t) = self.tables.lock().ok().and_then(|t| t.get(name).cloned()) {
            return Ok(t);
        }
        let (status, describe) = self
            .call("DescribeTable", &json!({"TableName": name}))
            .await?;
        anyhow::ensure!(status == 200, "DescribeTable {name}: {status} {describe}");
        let info = Arc::new(TableInfo::from_describe(&describe));
        if let Ok(mut t) = self.tables.lock() {
            t.insert(name.to_owned(), Arc::clone(&info));
        }
        Ok(info)
    }

    /// The whole item, read strongly consistent, uncounted.
    async fn full(&self, table: &str, key: &Item) -> anyhow::Result<Option<Item>> {
        let (status, out) = self
            .call(
                "GetItem",
                &json!({"TableName": table, "Key": key, "ConsistentRead": true}),
            )
            .await?;
        anyhow::ensure!(status == 200, "GetItem: {status} {out}");
        Ok(out.get("Item").and_then(Value::as_object).cloned())
    }

    /// Reads what a write will change; holds its items' locks until [`Self::bill_write`].
    pub async fn before_write(&self, op: &str, req: &Value) -> anyhow::Result<Before> {
        let targets = self.targets(op, req).await?;
        let mut names: Vec<String> = targets
            .iter()
            .map(|(table, key, _)| format!("{table} {}", Value::Object(key.clone())))
            .collect();
        names.sort();
        names.dedup();
        let locks: Vec<_> = match self.items.lock() {
            Ok(mut all) => names
                .iter()
                .map(|n| Arc::clone(all.entry(n.clone()).or_default()))
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut turns = Vec::new();
        for lock in locks {
            turns.push(lock.lock_owned().await);
        }
        let befores = futures::future::try_join_all(
            targets.iter().map(|(table, key, _)| self.full(table, key)),
        )
        .await?;
        let items = targets
            .into_iter()
            .zip(befores)
            .map(|((table, key, kind), before)| Target {
                table,
                key,
                kind,
                before,
            })
            .collect();
        Ok(Before {
            _turns: turns,
            items,
        })
    }

    /// The items a write request names: (table, key, what it does).
    async fn targets(&self, op: &str, req: &Value) -> anyhow::Result<Vec<(String, Item, Kind)>> {
        let mut out = Vec::new();
        let one = |table: &str, body: &Value, kind: &str| -> Option<(String, Value, Kind)> {
            let kind = match kind {
                "Put" => Kind::Put(body.get("Item")?.as_object()?.clone()),
                "Update" => Kind::Update,
                "Delete" => Kind::Delete,
                _ => Kind::Check,
            };
            Some((table.to_owned(), body.clone(), kind))
        };
        let mut named = Vec::new();
        match op {
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                let table = req["TableName"].as_str().unwrap_or_default();
                named.extend(one(table, req, op.trim_end_matches("Item")));
            }
            "BatchWriteItem" => {
                for (table, reqs) in req["RequestItems"].as_object().into_iter().flatten() {
                    for r in reqs.as_array().into_iter().flatten() {
                        if let Some(p) = r.get("PutRequest") {
                            named.extend(one(table, p, "Put"));
                        } else if let Some(d) = r.get("DeleteRequest") {
                            named.extend(one(table, d, "Delete"));
                        }
                    }
                }
            }
            _ => {
                for action in req["TransactItems"].as_array().into_iter().flatten() {
                    for kind in ["Put", "Update", "Delete", "ConditionCheck"] {
                        if let Some(body) = action.get(kind) {
                            let table = body["TableName"].as_str().unwrap_or_default();
                            named.extend(one(table, body, kind));
                        }
                    }
                }
            }
        }
        for (table, body, kind) in named {
            let info = self.table(&table).await?;
            let key = match &kind {
                Kind::Put(item) => info.key_of(item),
                _ => body["Key"].as_object().cloned().unwrap_or_default(),
            };
            out.push((table, key, kind));
        }
        Ok(out)
    }

    /// Bills a forwarded write from its answer; releases the write turn.
    pub async fn bill_write(
        &self,
        op: &str,
        before: Before,
        status: u16,
        answer: &Value,
    ) -> anyhow::Result<(DdbOp, Vec<(String, u64)>)> {
        let mut bill = DdbOp {
            calls: 1,
            ..DdbOp::default()
        };
        let mut indexes = Vec::new();
        let failed = error_type(answer);
        let transact = op == "TransactWriteItems";
        let factor = if transact { 2.0 } else { 1.0 };
        if status != 200
            && !matches!(
                failed,
                "ConditionalCheckFailedException" | "TransactionCanceledException"
            )
        {
            bill.errors = 1;
            return Ok((bill, indexes));
        }
        let unprocessed = answer
            .get("UnprocessedItems")
            .cloned()
            .unwrap_or(Value::Null);
        for t in &before.items {
            if op == "BatchWriteItem" && is_unprocessed(&unprocessed, t) {
                continue;
            }
            let old = t.before.as_ref().map_or(0, item_size);
            if status != 200 {
                // A failed condition (or a cancelled transaction) still bills the item as it is.
                bill.conditional_failures += 1;
                bill.table_wru += factor * write_units(old) as f64;
                continue;
            }
            let after = match &t.kind {
                Kind::Put(item) => Some(item.clone()),
                Kind::Update => self.full(&t.table, &t.key).await?,
                Kind::Delete => None,
                Kind::Check => t.before.clone(),
            };
            let new = after.as_ref().map_or(0, item_size);
            bill.table_wru += factor * write_units(old.max(new)) as f64;
            if t.kind != Kind::Check {
                let info = self.table(&t.table).await?;
                for (name, units) in info.index_writes(t.before.as_ref(), after.as_ref()) {
                    // Index entries are written after the commit, at the standard rate.
                    bill.index_wru += units as f64;
                    indexes.push((format!("{}/{name}", short(&t.table)), units));
                }
            }
        }
        let ours = bill.table_wru;
        moto_compare(&mut bill, answer, ours);
        drop(before);
        Ok((bill, indexes))
    }

    /// Bills a read from its request and answer.
    pub async fn bill_read(&self, op: &str, req: &Value, answer: &Value) -> anyhow::Result<DdbOp> {
        let mut bill = DdbOp {
            calls: 1,
            ..DdbOp::default()
        };
        if answer.get("__type").is_some() {
            bill.errors = 1;
            return Ok(bill);
        }
        match op {
            "GetItem" => {
                let table = req["TableName"].as_str().unwrap_or_default();
                let size = if projects(req) {
                    let key = req["Key"].as_object().cloned().unwrap_or_default();
                    self.full(table, &key).await?.as_ref().map_or(0, item_size)
                } else {
                    answer
                        .get("Item")
                        .and_then(Value::as_object)
                        .map_or(0, item_size)
                };
                let consistent = req["ConsistentRead"].as_bool().unwrap_or(false);
                bill.rru = read_units(size, Consistency::from_flag(consistent));
            }
            "BatchGetItem" => bill.rru = self.batch_get(req, answer).await?,
            "TransactGetItems" => {
                for get in req["TransactItems"].as_array().into_iter().flatten() {
                    let get = &get["Get"];
                    let table = get["TableName"].as_str().unwrap_or_default();
                    let key = get["Key"].as_object().cloned().unwrap_or_default();
                    let size = self.full(table, &key).await?.as_ref().map_or(0, item_size);
                    bill.rru += read_units(size, Consistency::Transactional);
                }
            }
            _ => self.bill_query(req, answer, &mut bill).await?,
        }
        let ours = bill.rru;
        moto_compare(&mut bill, answer, ours);
        Ok(bill)
    }

    async fn batch_get(&self, req: &Value, answer: &Value) -> anyhow::Result<f64> {
        let mut rru = 0.0;
        for (table, spec) in req["RequestItems"].as_object().into_iter().flatten() {
            let consistent = spec["ConsistentRead"].as_bool().unwrap_or(false);
            let skipped = &answer["UnprocessedKeys"][table]["Keys"];
            for key in spec["Keys"].as_array().into_iter().flatten() {
                if skipped.as_array().is_some_and(|s| s.contains(key)) {
                    continue;
                }
                let key = key.as_object().cloned().unwrap_or_default();
                let size = self.full(table, &key).await?.as_ref().map_or(0, item_size);
                rru += read_units(size, Consistency::from_flag(consistent));
            }
        }
        Ok(rru)
    }

    /// Query and Scan: every item read counts, filtered out or not, at its full (projected into
    /// the index) size, rounded once per call. When the request projects or filters, the same
    /// page is read again without them.
    async fn bill_query(
        &self,
        req: &Value,
        answer: &Value,
        bill: &mut DdbOp,
    ) -> anyhow::Result<()> {
        let table = req["TableName"].as_str().unwrap_or_default();
        let info = self.table(table).await?;
        let index = req["IndexName"].as_str().and_then(|n| info.index(n));
        let plain_index = index.is_none_or(|i| i.projection == crate::units::Projection::All);
        let items: Vec<Item> =
            if !projects(req) && req.get("FilterExpression").is_none() && plain_index {
                as_items(&answer["Items"])
            } else {
                let (status, again) = self.call(op_of(req), &unfiltered(req)).await?;
                anyhow::ensure!(status == 200, "re-read: {status} {again}");
                let mut items = as_items(&again["Items"]);
                if let Some(index) = index {
                    let mut projected = Vec::new();
                    for item in items {
                        let full = match index.projection {
                            crate::units::Projection::Include(_) => {
                                self.full(table, &info.key_of(&item)).await?
                            }
                            _ => Some(item),
                        };
                        projected.extend(full.and_then(|f| info.project(index, &f)));
                    }
                    items = projected;
                }
                items
            };
        if let Some(scanned) = answer["ScannedCount"].as_u64()
            && scanned != items.len() as u64
        {
            bill.scanned_mismatch += 1;
        }
        let size = items.iter().map(item_size).sum();
        let consistent = req["ConsistentRead"].as_bool().unwrap_or(false);
        bill.rru = read_units(size, Consistency::from_flag(consistent));
        Ok(())
    }
}

fn is_unprocessed(unprocessed: &Value, t: &Target) -> bool {
    let entries = unprocessed[&t.table].as_array();
    entries.into_iter().flatten().any(|e| {
        let item = e["PutRequest"]["Item"]
            .as_object()
            .or(e["DeleteRequest"]["Key"].as_object());
        item.is_some_and(|i| t.key.iter().all(|(k, v)| i.get(k) == Some(v)))
    })
}

/// The error name of a DynamoDB error answer (empty when it is none).
pub fn error_type(answer: &Value) -> &str {
    answer["__type"]
        .as_str()
        .and_then(|t| t.rsplit('#').next())
        .unwrap_or("")
}

/// Records moto's own `ConsumedCapacity` (object or list) next to ours.
fn moto_compare(bill: &mut DdbOp, answer: &Value, ours: f64) {
    let units = |c: &Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    let moto = match &answer["ConsumedCapacity"] {
        Value::Array(list) => list.iter().map(units).sum(),
        c @ Value::Object(_) => units(c),
        _ => return,
    };
    bill.moto_units += moto;
    bill.moto_agrees += u64::from((moto - ours).abs() < 1e-9);
}

/// A table name without the benchmark's prefix, for the per-index breakdown.
fn short(table: &str) -> &str {
    table.rsplit('-').next().unwrap_or(table)
}

/// Adds `ReturnConsumedCapacity: TOTAL` to a request that does not ask for it, so moto's own
/// figure can be set beside ours.
pub fn ask_capacity(req: &mut Value) {
    if let Some(o) = req.as_object_mut() {
        o.entry("ReturnConsumedCapacity")
            .or_insert_with(|| json!("TOTAL"));
    }
}

/// The request's JSON, or an error naming the operation.
pub fn parse(op: &str, body: &[u8]) -> anyhow::Result<Value> {
    serde_json::from_slice(body).with_context(|| format!("{op}: request is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_and_moto_figures_are_read_from_answers() {
        let answer =
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"});
        assert_eq!(error_type(&answer), "ConditionalCheckFailedException");
        let mut bill = DdbOp::default();
        moto_compare(
            &mut bill,
            &json!({"ConsumedCapacity": [{"CapacityUnits": 1.0}, {"CapacityUnits": 2.0}]}),
            3.0,
        );
        assert_eq!((bill.moto_units, bill.moto_agrees), (3.0, 1));
    }
}
