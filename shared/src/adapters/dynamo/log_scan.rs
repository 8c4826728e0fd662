//! Reading an endpoint's deliveries across its log's shards: one Query per shard, merged in
//! delivery-id order (time order), each delivery reduced to its latest record. Reads stop at a
//! budget of items, so no call reads a whole history.

use std::collections::VecDeque;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use crate::domain::log::LogRecord;
use crate::domain::model::DeliveryRecord;
use crate::ports::store::StoreError;

use super::item::{Item, s};
use super::log_item::from_record_item;
use super::{DynamoStore, keys, map_err};

/// Which deliveries, in which order.
#[derive(Debug, Clone)]
pub(super) struct Scan {
    /// Newest first (listing) or oldest first (job windows).
    pub newest_first: bool,
    /// Only deliveries with ids strictly after this one in scan order.
    pub after: Option<String>,
    /// Only deliveries with ids in this range (inclusive).
    pub bounds: Option<(String, String)>,
    /// Stop once this many deliveries passed `keep`.
    pub want: usize,
    /// Stop once this many records were taken (the shards read ahead at most a page each).
    pub budget: usize,
}

/// What a scan found.
pub(super) struct Scanned {
    pub deliveries: Vec<DeliveryRecord>,
    /// The last delivery read when reading stopped with more possibly left.
    pub stopped_at: Option<String>,
}

struct Shard {
    query: QueryFluentBuilder,
    buf: VecDeque<Item>,
    start: Option<Item>,
    done: bool,
}

impl DynamoStore {
    /// Scans the deliveries of `endpoint` as `scan` says, keeping those `keep` accepts.
    pub(super) async fn scan_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        scan: &Scan,
        keep: impl Fn(&DeliveryRecord) -> bool + Send + Sync,
    ) -> Result<Scanned, StoreError> {
        // Pages sized so the shards together read about what the page needs, and never much
        // more than the budget.
        let shards = keys::DELIVERY_SHARDS as usize;
        let page = (scan.want / shards + 4).min(scan.budget / shards + 1);
        let page = i32::try_from(page).unwrap_or(100);
        let mut shards: Vec<Shard> = (0..keys::DELIVERY_SHARDS)
            .map(|shard| Shard {
                query: self.shard_query(
                    keys::log_shard_pk(tenant, Some(endpoint), shard),
                    scan,
                    page,
                ),
                buf: VecDeque::new(),
                start: None,
                done: false,
            })
            .collect();
        let mut read = 0usize;
        let mut found = Vec::new();
        loop {
            // Every shard not finished has a head (fetching its next page when it ran dry).
            let fetches = shards
                .iter_mut()
                .filter(|sh| sh.buf.is_empty() && !sh.done)
                .map(fetch);
            futures::future::try_join_all(fetches).await?;
            let Some(next) = pick(&shards, scan.newest_first) else {
                return Ok(Scanned {
                    deliveries: found,
                    stopped_at: None,
                });
            };
            let (record, n) = take_delivery(&mut shards[next], scan.newest_first).await?;
            // The budget counts the records taken; what the shards read ahead is at most one
            // page each.
            read += n;
            let last_seen = record.state.id.clone();
            if keep(&record.state) {
                found.push(record.state);
            }
            if found.len() > scan.want || read >= scan.budget {
                let more = shards.iter().any(|sh| !sh.done || !sh.buf.is_empty());
                return Ok(Scanned {
                    deliveries: found,
                    stopped_at: more.then_some(last_seen),
                });
            }
        }
    }

    fn shard_query(&self, pk: String, scan: &Scan, page: i32) -> QueryFluentBuilder {
        // A delivery's records sort as `{id}#{seq}`: `{id}` is below them all, `{id}$` above.
        let (mut lo, mut hi) = scan
            .bounds
            .clone()
            .unwrap_or_else(|| ("dlv_".to_owned(), "dlv_~".to_owned()));
        if let Some(after) = &scan.after {
            if scan.newest_first {
                hi = hi.min(after.clone());
            } else {
                lo = lo.max(format!("{after}$"));
            }
        }
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .scan_index_forward(!scan.newest_first)
            .limit(page.max(1))
    }
}

/// Reads a shard's next page.
async fn fetch(shard: &mut Shard) -> Result<(), StoreError> {
    let out = shard
        .query
        .clone()
        .set_exclusive_start_key(shard.start.take())
        .send()
        .await
        .map_err(map_err)?;
    shard.buf.extend(out.items.unwrap_or_default());
    match out.last_evaluated_key {
        Some(k) if !k.is_empty() => shard.start = Some(k),
        _ => shard.done = true,
    }
    Ok(())
}

fn sk(item: &Item) -> &str {
    item.get("sk")
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

/// The shard whose head comes first in scan order.
fn pick(shards: &[Shard], newest_first: bool) -> Option<usize> {
    let heads = shards
        .iter()
        .enumerate()
        .filter_map(|(i, sh)| sh.buf.front().map(|item| (i, sk(item))));
    if newest_first {
        heads.max_by(|a, b| a.1.cmp(b.1)).map(|(i, _)| i)
    } else {
        heads.min_by(|a, b| a.1.cmp(b.1)).map(|(i, _)| i)
    }
}

/// Takes every record of the shard's head delivery (reading on when they continue on the next
/// page); its latest record and how many records it has.
async fn take_delivery(
    shard: &mut Shard,
    newest_first: bool,
) -> Result<(LogRecord, usize), StoreError> {
    let mut records: Vec<LogRecord> = Vec::new();
    loop {
        while let Some(item) = shard.buf.front() {
            let record = from_record_item(item)?;
            if records
                .first()
                .is_some_and(|r| r.state.id != record.state.id)
            {
                break;
            }
            shard.buf.pop_front();
            records.push(record);
        }
        if !shard.buf.is_empty() || shard.done {
            let n = records.len();
            return Ok((latest(records, newest_first)?, n));
        }
        fetch(shard).await?;
    }
}

fn latest(mut records: Vec<LogRecord>, newest_first: bool) -> Result<LogRecord, StoreError> {
    let record = if newest_first {
        records.drain(..).next()
    } else {
        records.pop()
    };
    record.ok_or_else(|| StoreError::Corrupt("empty delivery in a scan".into()))
}
