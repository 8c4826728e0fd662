//! The reconciler's reads: Reconcile. A minute's events are one Query per event shard; whether
//! a delivery has any record is a BatchGetItem of its first record (eventually consistent:
//! the minute is minutes old when it is read).

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValue};
use futures::{StreamExt, TryStreamExt};

use crate::domain::clock::EpochMillis;
use crate::domain::ids::delivery_id;
use crate::ports::store::{Reconcile, StoreError, Unrecorded};

use super::item::{from_item, n};
use super::query::query_items;
use super::{DynamoStore, build_err, keys, map_err};

/// BatchGetItem takes at most this many keys.
const BATCH_GET_MAX: usize = 100;

#[async_trait]
impl Reconcile for DynamoStore {
    async fn take_reconcile_lease(
        &self,
        now: EpochMillis,
        until: EpochMillis,
    ) -> Result<Option<i64>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::reconcile_cursor().item()))
            .update_expression("SET lease_until = :until")
            .condition_expression("attribute_not_exists(lease_until) OR lease_until < :now")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .attributes
            .and_then(|a| a.get("done_minute").cloned())
            .and_then(|v| v.as_n().ok().and_then(|m| m.parse().ok())))
    }

    async fn save_reconcile_cursor(
        &self,
        minute: i64,
        until: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::reconcile_cursor().item()))
            .update_expression("SET done_minute = :m, lease_until = :until")
            .expression_attribute_values(":m", n(minute))
            .expression_attribute_values(":until", n(until))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn unrecorded_in_minute(&self, minute: i64) -> Result<Vec<Unrecorded>, StoreError> {
        // The minute's events without their payloads (what names the deliveries only).
        let shards = (0..keys::EVENT_SHARDS).map(|shard| {
            let query = self
                .query_pk(keys::events_pk(minute, shard))
                .projection_expression("id, tenant_id, endpoint_ids, webhook_url");
            async move { query_items(query).await }
        });
        let items: Vec<Vec<_>> = futures::stream::iter(shards)
            .buffer_unordered(8)
            .try_collect()
            .await?;
        let heads: Vec<EventHead> = items
            .into_iter()
            .flatten()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let mut firsts = Vec::new();
        for e in &heads {
            for index in 0..e.delivery_count() {
                if let Some(id) = delivery_id(&e.id, index) {
                    let ep = e.endpoint_ids.get(index).map(String::as_str);
                    firsts.push(keys::log_record(&e.tenant_id, ep, &id, 1));
                }
            }
        }
        let recorded = self.existing(firsts).await?;
        let mut out = Vec::new();
        for head in heads {
            let missing = (0..head.delivery_count())
                .filter_map(|i| delivery_id(&head.id, i))
                .any(|id| !recorded.contains(&id));
            if !missing {
                continue;
            }
            // Only an event with something to send is read whole (its payload).
            let Some(event) = self.event_record(&head.tenant_id, &head.id).await? else {
                continue;
            };
            let deliveries: Vec<_> = (0..event.delivery_count())
                .filter_map(|i| {
                    // An endpoint's URL is read when the delivery is attempted.
                    let url = match event.endpoint_ids.get(i) {
                        Some(_) => String::new(),
                        None => event.webhook_url.clone().unwrap_or_default(),
                    };
                    event.unrecorded_delivery(i, url)
                })
                .filter(|d| !recorded.contains(&d.id))
                .collect();
            out.push(Unrecorded { event, deliveries });
        }
        Ok(out)
    }
}

/// What the reconciler reads of an event: the deliveries it names.
#[derive(serde::Deserialize)]
struct EventHead {
    id: String,
    tenant_id: String,
    #[serde(default)]
    endpoint_ids: Vec<String>,
    #[serde(default)]
    webhook_url: Option<String>,
}

impl EventHead {
    fn delivery_count(&self) -> usize {
        self.endpoint_ids.len() + usize::from(self.webhook_url.is_some())
    }
}

impl DynamoStore {
    /// The delivery ids of the records among `keys` that exist.
    async fn existing(&self, wanted: Vec<keys::Key>) -> Result<HashSet<String>, StoreError> {
        let chunks: Vec<Vec<keys::Key>> = wanted.chunks(BATCH_GET_MAX).map(<[_]>::to_vec).collect();
        let reads: Vec<_> = chunks
            .into_iter()
            .map(|chunk| Box::pin(async move { self.existing_chunk(&chunk).await }))
            .collect();
        let found: Vec<HashSet<String>> = futures::stream::iter(reads)
            .buffer_unordered(8)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// One BatchGetItem of at most 100 keys (its unprocessed keys retried).
    async fn existing_chunk(&self, chunk: &[keys::Key]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        let mut pending: Vec<_> = chunk.iter().map(keys::Key::item).collect();
        {
            let mut tries = 0;
            while !pending.is_empty() {
                tries += 1;
                if tries > 6 {
                    return Err(StoreError::Unavailable(
                        "records still unread after 6 tries".into(),
                    ));
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .projection_expression("sk")
                    .build()
                    .map_err(build_err)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(self.table.clone(), request)
                    .send()
                    .await
                    .map_err(map_err)?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let sk = item.get("sk").and_then(|v| v.as_s().ok());
                    if let Some((id, _)) = sk.and_then(|sk| keys::parse_log_sk(sk)) {
                        found.insert(id.to_owned());
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut m| m.remove(&self.table))
                    .and_then(|k| (!k.keys().is_empty()).then(|| k.keys().to_vec()))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << tries)).await;
                }
            }
        }
        Ok(found)
    }
}
