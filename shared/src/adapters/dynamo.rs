//! DynamoDB adapter: one table, items keyed so each read the API needs is one GetItem or Query.
//!
//! | item       | pk                   | sk            | gsi1 (event → deliveries) | gsi2 (endpoint → deliveries) |
//! |------------|----------------------|---------------|---------------------------|------------------------------|
//! | tenant     | `T#{tenant}`         | `TENANT`      |                           |                              |
//! | endpoint   | `T#{tenant}`         | `EP#{ep_id}`  |                           |                              |
//! | event      | `T#{tenant}#E#{evt}` | `EVENT`       |                           |                              |
//! | delivery   | `T#{tenant}#D#{dlv}` | `DELIVERY`    | `T#{tenant}#E#{evt}`, dlv | `T#{tenant}#EP#{ep}`, dlv    |
//! | attempt    | `T#{tenant}#D#{dlv}` | `ATT#{00001}` |                           |                              |
//!
//! Delivery ids are ULIDs, so gsi2 sorted descending is "newest first".

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::clock::EpochMillis;
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord,
    IdempotencyRecord, Tenant,
};
use async_trait::async_trait;

use crate::ports::store::{
    ApiKeys, AttemptLog, DeliveryControl, DeliveryPage, DeliveryRead, DeliveryUpdate,
    EndpointHealth, EndpointRead, EndpointWrite, EventRead, EventWrite, Idempotency,
    IdempotencyClaim, Ping, StoreError, TenantRead, TenantWrite,
};

/// Idempotency keys are honoured for this long.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3_600_000;

pub type Item = HashMap<String, AttributeValue>;

pub const GSI_EVENT: &str = "gsi1";
pub const GSI_ENDPOINT: &str = "gsi2";
const BATCH_WRITE_MAX: usize = 25;
const BATCH_WRITE_TRIES: u32 = 6;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}
fn event_pk(tenant: &str, event: &str) -> String {
    format!("T#{tenant}#E#{event}")
}
fn delivery_pk(tenant: &str, delivery: &str) -> String {
    format!("T#{tenant}#D#{delivery}")
}
fn endpoint_gsi_pk(tenant: &str, endpoint: &str) -> String {
    format!("T#{tenant}#EP#{endpoint}")
}
fn idempotency_pk(tenant: &str, key: &str) -> String {
    format!("T#{tenant}#IDEM#{key}")
}
fn api_key_pk(key_sha256: &str) -> String {
    format!("KEY#{key_sha256}")
}
/// The smallest and largest delivery ids a millisecond can produce (ULIDs start with the time).
fn delivery_id_bounds(since: EpochMillis, until: EpochMillis) -> (String, String) {
    let ms = |t: EpochMillis| u64::try_from(t.max(0)).unwrap_or(0);
    (
        format!("dlv_{}", ulid::Ulid::from_parts(ms(since), 0)),
        format!("dlv_{}", ulid::Ulid::from_parts(ms(until), u128::MAX)),
    )
}
fn attempt_sk(number: u32) -> String {
    format!("ATT#{number:05}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A record as an item, with its key attributes added.
fn to_item<T: Serialize>(record: &T, keys: &[(&str, String)]) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for (name, value) in keys {
        item.insert((*name).to_owned(), s(value.clone()));
    }
    Ok(item)
}

/// An item as a record; key attributes are ignored by the record types.
fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn tenant_item(t: &Tenant) -> Result<Item, StoreError> {
    to_item(t, &[("pk", tenant_pk(&t.id)), ("sk", "TENANT".into())])
}
pub fn endpoint_item(e: &Endpoint) -> Result<Item, StoreError> {
    to_item(
        e,
        &[
            ("pk", tenant_pk(&e.tenant_id)),
            ("sk", format!("EP#{}", e.id)),
        ],
    )
}
pub fn event_item(e: &EventRecord) -> Result<Item, StoreError> {
    to_item(
        e,
        &[
            ("pk", event_pk(&e.tenant_id, &e.id)),
            ("sk", "EVENT".into()),
        ],
    )
}
pub fn delivery_item(d: &DeliveryRecord) -> Result<Item, StoreError> {
    let mut keys = vec![
        ("pk", delivery_pk(&d.tenant_id, &d.id)),
        ("sk", "DELIVERY".to_owned()),
        ("gsi1pk", event_pk(&d.tenant_id, &d.event_id)),
        ("gsi1sk", d.id.clone()),
    ];
    if let Some(ep) = &d.endpoint_id {
        keys.push(("gsi2pk", endpoint_gsi_pk(&d.tenant_id, ep)));
        keys.push(("gsi2sk", d.id.clone()));
    }
    to_item(d, &keys)
}
pub fn attempt_item(tenant: &str, a: &AttemptRecord) -> Result<Item, StoreError> {
    to_item(
        a,
        &[
            ("pk", delivery_pk(tenant, &a.delivery_id)),
            ("sk", attempt_sk(a.number)),
        ],
    )
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// Maps an SDK error: a failed condition (plain or inside a transaction) is a Conflict,
/// anything else is worth retrying later. Only the error code and message are kept.
fn map_err<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    let message = err
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or("");
    let conflict = code == "ConditionalCheckFailedException"
        || (code == "TransactionCanceledException" && message.contains("ConditionalCheckFailed"));
    if conflict {
        StoreError::Conflict
    } else if code.is_empty() {
        StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string())
    } else {
        StoreError::Unavailable(format!("{code}: {message}"))
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A cheap call proving the table is reachable (health check).
    pub async fn check_reachable(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("HEALTH".into(), "HEALTH")))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        k: Item,
        consistent: bool,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(k))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(map_err)?;
        out.item.map(from_item).transpose()
    }

    /// Every item of a Query, following pagination.
    async fn query_all<T: DeserializeOwned>(
        &self,
        index: Option<&str>,
        pk_name: &str,
        pk: String,
        sk_prefix: Option<(&str, &str)>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take());
            q = match sk_prefix {
                Some((sk_name, prefix)) => q
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":prefix", s(prefix)),
                None => q.key_condition_expression("#pk = :pk"),
            };
            let page = q.send().await.map_err(map_err)?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// BatchWriteItem in chunks of 25, retrying `unprocessed_items` with backoff; an error if
    /// any item is still unwritten after the last try.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|e| StoreError::Corrupt(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            let mut tries = 0;
            while !pending.is_empty() {
                tries += 1;
                if tries > BATCH_WRITE_TRIES {
                    return Err(StoreError::Unavailable(format!(
                        "{} item(s) still unprocessed after {BATCH_WRITE_TRIES} tries",
                        pending.len()
                    )));
                }
                if tries > 1 {
                    tokio::time::sleep(Duration::from_millis(25 << tries)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(map_err)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TenantRead for DynamoStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.get(key(tenant_pk(tenant_id), "TENANT"), true).await
    }
}

#[async_trait]
impl TenantWrite for DynamoStore {
    async fn put_tenant(&self, tenant: &Tenant, create: bool) -> Result<(), StoreError> {
        if create {
            return self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(tenant_item(tenant)?))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map(|_| ())
                .map_err(map_err);
        }
        // An update sets the tenant's own fields only: the endpoint counter, which endpoint
        // writes change concurrently, and the signing secret stay as they are.
        let mut item = tenant_item(tenant)?;
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(&tenant.id), "TENANT")))
            .condition_expression("attribute_exists(pk)");
        for field in [
            "name",
            "defaults",
            "max_endpoints",
            "https_only",
            "updated_at",
        ] {
            match item.remove(field) {
                Some(value) => {
                    set.push(format!("#{field} = :{field}"));
                    update = update
                        .expression_attribute_names(format!("#{field}"), field)
                        .expression_attribute_values(format!(":{field}"), value);
                }
                None => {
                    remove.push(format!("#{field}"));
                    update = update.expression_attribute_names(format!("#{field}"), field);
                }
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update
            .update_expression(expression)
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

#[async_trait]
impl EndpointRead for DynamoStore {
    async fn get_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get(
            key(tenant_pk(tenant_id), &format!("EP#{endpoint_id}")),
            true,
        )
        .await
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        self.query_all(None, "pk", tenant_pk(tenant_id), Some(("sk", "EP#")))
            .await
    }
}

#[async_trait]
impl EndpointWrite for DynamoStore {
    async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        max_endpoints: u32,
    ) -> Result<(), StoreError> {
        // The tenant's counter and the endpoint are written together, so the limit holds under
        // concurrent creates.
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(&endpoint.tenant_id), "TENANT")))
            .update_expression("SET endpoint_count = if_not_exists(endpoint_count, :zero) + :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(endpoint_count) OR endpoint_count < :max)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_endpoints))
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(endpoint_item(endpoint)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn update_endpoint(
        &self,
        endpoint: &Endpoint,
        expected_updated_at: EpochMillis,
    ) -> Result<(), StoreError> {
        self.update_endpoint_impl(endpoint, expected_updated_at)
            .await
    }

    async fn delete_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.delete_endpoint_impl(tenant_id, endpoint_id).await
    }
}

#[async_trait]
impl EndpointHealth for DynamoStore {
    async fn disable_endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(tenant_id), &format!("EP#{endpoint_id}"))))
            .update_expression(
                "SET enabled = :false, disabled_reason = :reason, disabled_at = :now, updated_at = :now",
            )
            .condition_expression("attribute_exists(pk) AND enabled = :true")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn mark_failing(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        now: EpochMillis,
    ) -> Result<EpochMillis, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                tenant_pk(tenant_id),
                &format!("EP#{endpoint_id}"),
            )))
            .update_expression("SET failing_since = if_not_exists(failing_since, :now)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .attributes
            .and_then(|a| {
                a.get("failing_since")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(now))
    }

    async fn clear_failing(&self, tenant_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                tenant_pk(tenant_id),
                &format!("EP#{endpoint_id}"),
            )))
            .update_expression("REMOVE failing_since")
            .condition_expression("attribute_exists(failing_since)")
            .send()
            .await
            .map_err(map_err);
        match result {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl ApiKeys for DynamoStore {
    async fn put_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let lookup = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(
                k,
                &[("pk", api_key_pk(&k.key_sha256)), ("sk", "KEY".into())],
            )?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let listing = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(
                k,
                &[
                    ("pk", tenant_pk(&k.tenant_id)),
                    ("sk", format!("APIKEY#{}", k.id)),
                ],
            )?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(lookup).build())
            .transact_items(TransactWriteItem::builder().put(listing).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn find_api_key(&self, key_sha256: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(key(api_key_pk(key_sha256), "KEY"), false).await
    }

    async fn delete_api_key(&self, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
        let listing: Option<ApiKeyRecord> = self
            .get(key(tenant_pk(tenant_id), &format!("APIKEY#{key_id}")), true)
            .await?;
        let Some(record) = listing else {
            return Err(StoreError::Conflict);
        };
        let del = |k: Item| {
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .set_key(Some(k))
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(del(key(api_key_pk(&record.key_sha256), "KEY"))?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(del(key(tenant_pk(tenant_id), &format!("APIKEY#{key_id}")))?)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

#[async_trait]
impl Idempotency for DynamoStore {
    async fn claim_idempotency(
        &self,
        tenant_id: &str,
        key_: &str,
        now: EpochMillis,
    ) -> Result<IdempotencyClaim, StoreError> {
        let record = IdempotencyRecord {
            tenant_id: tenant_id.to_owned(),
            key: key_.to_owned(),
            response: None,
            created_at: now,
            expires_at: (now + IDEMPOTENCY_WINDOW_MS) / 1000,
        };
        for _ in 0..3 {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(
                    &record,
                    &[
                        ("pk", idempotency_pk(tenant_id, key_)),
                        ("sk", "IDEM".into()),
                    ],
                )?))
                .condition_expression("attribute_not_exists(pk) OR created_at < :cutoff")
                .expression_attribute_values(":cutoff", n(now - IDEMPOTENCY_WINDOW_MS))
                .send()
                .await;
            match put.map_err(map_err) {
                Ok(_) => return Ok(IdempotencyClaim::Claimed),
                Err(StoreError::Conflict) => {
                    if let Some(existing) = self.get_idempotency(tenant_id, key_).await? {
                        return Ok(IdempotencyClaim::Existing(existing));
                    }
                    // Released between the two calls: try to claim again.
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable(
            "idempotency key kept changing".into(),
        ))
    }

    async fn get_idempotency(
        &self,
        tenant_id: &str,
        key_: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(key(idempotency_pk(tenant_id, key_), "IDEM"), true)
            .await
    }

    async fn complete_idempotency(
        &self,
        tenant_id: &str,
        key_: &str,
        response: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(idempotency_pk(tenant_id, key_), "IDEM")))
            .update_expression("SET #response = :r")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":r", s(response))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn release_idempotency(&self, tenant_id: &str, key_: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(idempotency_pk(tenant_id, key_), "IDEM")))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

#[async_trait]
impl EventWrite for DynamoStore {
    async fn put_event(
        &self,
        event: &EventRecord,
        deliveries: &[DeliveryRecord],
    ) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(deliveries.len() + 1);
        items.push(event_item(event)?);
        for d in deliveries {
            items.push(delivery_item(d)?);
        }
        self.batch_put(items).await
    }
}

#[async_trait]
impl EventRead for DynamoStore {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.get(key(event_pk(tenant_id, event_id), "EVENT"), false)
            .await
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.query_all(
            Some(GSI_EVENT),
            "gsi1pk",
            event_pk(tenant_id, event_id),
            None,
        )
        .await
    }
}

#[async_trait]
impl DeliveryRead for DynamoStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.get(key(delivery_pk(tenant_id, delivery_id), "DELIVERY"), true)
            .await
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        self.query_all(
            None,
            "pk",
            delivery_pk(tenant_id, delivery_id),
            Some(("sk", "ATT#")),
        )
        .await
    }

    async fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage, StoreError> {
        let limit = limit.max(1);
        let mut found: Vec<DeliveryRecord> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_ENDPOINT)
                .scan_index_forward(false)
                .limit(i32::try_from(limit + 1).unwrap_or(101).max(25))
                .expression_attribute_values(":pk", s(endpoint_gsi_pk(tenant_id, endpoint_id)))
                .set_exclusive_start_key(start.take());
            q = match after {
                Some(a) => q
                    .key_condition_expression("gsi2pk = :pk AND gsi2sk < :after")
                    .expression_attribute_values(":after", s(a)),
                None => q.key_condition_expression("gsi2pk = :pk"),
            };
            if let Some(st) = status {
                q = q
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status_str(st)));
            }
            let page = q.send().await.map_err(map_err)?;
            for item in page.items.unwrap_or_default() {
                found.push(from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() && found.len() <= limit => start = Some(k),
                _ => break,
            }
        }
        let more = found.len() > limit;
        found.truncate(limit);
        let next_after = if more {
            found.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(DeliveryPage {
            deliveries: found,
            next_after,
        })
    }

    async fn failed_deliveries_between(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        since: EpochMillis,
        until: EpochMillis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (lo, hi) = delivery_id_bounds(since, until);
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_ENDPOINT)
                .key_condition_expression("gsi2pk = :pk AND gsi2sk BETWEEN :lo AND :hi")
                .filter_expression("#status = :failed")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(endpoint_gsi_pk(tenant_id, endpoint_id)))
                .expression_attribute_values(":lo", s(lo.clone()))
                .expression_attribute_values(":hi", s(hi.clone()))
                .expression_attribute_values(":failed", s("failed"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(map_err)?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl AttemptLog for DynamoStore {
    async fn claim(
        &self,
        delivery: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        lease_until: EpochMillis,
        manual: bool,
    ) -> Result<(), StoreError> {
        // A scheduled attempt needs a pending delivery; a manual one may follow any state.
        let status_condition = if manual {
            "attribute_exists(pk)"
        } else {
            "#status = :pending"
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                delivery_pk(&delivery.tenant_id, &delivery.id),
                "DELIVERY",
            )))
            .update_expression("SET lease_until = :lease, lease_owner = :owner")
            .condition_expression(format!(
                "{status_condition} AND attempt_count = :count AND \
                 (attribute_not_exists(lease_until) OR lease_until < :now)"
            ));
        if !manual {
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pending", s("pending"));
        }
        update
            .expression_attribute_values(":count", n(delivery.attempt_count))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn record_attempt(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        // First the attempt (never overwritten), then the delivery (only by the lease holder).
        // No transaction: one costs twice the write units. If the process dies in between, the
        // next lease holder finds attempt n+1 recorded (`get_attempt`) and moves the delivery on
        // from it instead of POSTing again.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attempt_item(tenant_id, attempt)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(map_err)?;
        self.advance_delivery(tenant_id, attempt, update, owner)
            .await
    }

    async fn advance_delivery(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        let mut set = vec![
            "attempt_count = :number",
            "#status = :status",
            "updated_at = :now",
        ];
        if attempt.manual {
            // A manual attempt takes no place in the schedule.
            set.push("retry_base = if_not_exists(retry_base, :zero) + :one");
        }
        let mut remove = vec!["lease_until", "lease_owner"];
        let mut upd = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                delivery_pk(tenant_id, &attempt.delivery_id),
                "DELIVERY",
            )))
            .condition_expression("lease_owner = :owner AND attempt_count = :previous")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":number", n(attempt.number))
            .expression_attribute_values(":previous", n(attempt.number.saturating_sub(1)))
            .expression_attribute_values(":status", s(status_str(update.status)))
            .expression_attribute_values(
                ":now",
                n(attempt.started_at + i64::try_from(attempt.duration_ms).unwrap_or(0)),
            )
            .expression_attribute_values(":owner", s(owner));
        if attempt.manual {
            upd = upd
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1));
        }
        match update.next_attempt_at {
            Some(at) => {
                set.push("next_attempt_at = :next");
                upd = upd.expression_attribute_values(":next", n(at));
            }
            None => remove.push("next_attempt_at"),
        }
        match &update.last_error {
            Some(e) => {
                set.push("last_error = :error");
                upd = upd.expression_attribute_values(":error", s(e.clone()));
            }
            None => remove.push("last_error"),
        }
        upd.update_expression(format!(
            "SET {} REMOVE {}",
            set.join(", "),
            remove.join(", ")
        ))
        .send()
        .await
        .map(|_| ())
        .map_err(map_err)
    }

    async fn get_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        number: u32,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        self.get(
            key(delivery_pk(tenant_id, delivery_id), &attempt_sk(number)),
            true,
        )
        .await
    }
}

#[async_trait]
impl DeliveryControl for DynamoStore {
    async fn restart_delivery(
        &self,
        delivery: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                delivery_pk(&delivery.tenant_id, &delivery.id),
                "DELIVERY",
            )))
            .update_expression(
                "SET #status = :pending, retry_base = attempt_count, updated_at = :now \
                 REMOVE next_attempt_at, last_error, lease_until, lease_owner",
            )
            .condition_expression("#status = :failed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn fail_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(delivery_pk(tenant_id, delivery_id), "DELIVERY")))
            .update_expression(
                "SET #status = :failed, last_error = :reason, updated_at = :now \
                 REMOVE next_attempt_at, lease_until, lease_owner",
            )
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

#[async_trait]
impl Ping for DynamoStore {
    async fn ping(&self) -> Result<(), String> {
        self.check_reachable().await.map_err(|e| e.to_string())
    }
}

impl DynamoStore {
    async fn update_endpoint_impl(
        &self,
        endpoint: &Endpoint,
        expected: EpochMillis,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(endpoint_item(endpoint)?))
            .condition_expression("attribute_exists(pk) AND updated_at = :expected")
            .expression_attribute_values(":expected", n(expected))
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn delete_endpoint_impl(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<(), StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                tenant_pk(tenant_id),
                &format!("EP#{endpoint_id}"),
            )))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(tenant_pk(tenant_id), "TENANT")))
            .update_expression("SET endpoint_count = endpoint_count - :one")
            .condition_expression("endpoint_count > :zero")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

fn status_str(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attempt::Outcome;
    use crate::domain::secret::Secret;
    use crate::domain::settings::{SettingsPatch, SignatureScheme};

    fn delivery() -> DeliveryRecord {
        DeliveryRecord {
            id: "dlv_01J".into(),
            tenant_id: "acme".into(),
            event_id: "evt_01J".into(),
            event_type: "job.completed".into(),
            endpoint_id: Some("ep_01J".into()),
            url: "https://example.com/h".into(),
            status: DeliveryStatus::Pending,
            attempt_count: 2,
            retry_base: 0,
            next_attempt_at: Some(1_700_000_000_000),
            last_error: None,
            lease_until: None,
            lease_owner: None,
            created_at: 1,
            updated_at: 2,
        }
    }

    #[test]
    fn delivery_round_trips_with_its_index_keys() {
        let d = delivery();
        let item = delivery_item(&d).unwrap();
        assert_eq!(item.get("pk"), Some(&s("T#acme#D#dlv_01J")));
        assert_eq!(item.get("gsi1pk"), Some(&s("T#acme#E#evt_01J")));
        assert_eq!(item.get("gsi2pk"), Some(&s("T#acme#EP#ep_01J")));
        assert_eq!(item.get("status"), Some(&s("pending")));
        assert_eq!(from_item::<DeliveryRecord>(item).unwrap(), d);
        let one_off = DeliveryRecord {
            endpoint_id: None,
            ..delivery()
        };
        assert!(!delivery_item(&one_off).unwrap().contains_key("gsi2pk"));
    }

    #[test]
    fn endpoint_tenant_event_attempt_round_trip() {
        let ep = Endpoint {
            id: "ep_1".into(),
            tenant_id: "acme".into(),
            url: "https://example.com".into(),
            event_types: vec!["job.*".into()],
            description: Some("d".into()),
            enabled: true,
            secret: Secret::generate(),
            previous_secrets: vec![crate::domain::model::PreviousSecret {
                secret: Secret::generate(),
                expires_at: 9,
            }],
            disabled_reason: Some("receiver answered 410 Gone".into()),
            disabled_at: Some(7),
            failing_since: Some(5),
            settings: SettingsPatch {
                retry_schedule_seconds: Some(vec![1, 3]),
                signature: Some(SignatureScheme::HmacSha256Hex {
                    header: "X-Sig".into(),
                    prefix: None,
                }),
                ..Default::default()
            },
            created_at: 1,
            updated_at: 2,
        };
        assert_eq!(
            from_item::<Endpoint>(endpoint_item(&ep).unwrap()).unwrap(),
            ep
        );
        let t = Tenant {
            id: "acme".into(),
            name: None,
            defaults: SettingsPatch {
                timeout_seconds: Some(10),
                ..Default::default()
            },
            max_endpoints: 10,
            https_only: true,
            signing_secret: Secret::generate(),
            created_at: 1,
            updated_at: 1,
        };
        assert_eq!(from_item::<Tenant>(tenant_item(&t).unwrap()).unwrap(), t);
        let mut meta = serde_json::Map::new();
        meta.insert(
            "k".into(),
            serde_json::json!({"n": 1.5, "l": [1, "x", null]}),
        );
        let e = EventRecord {
            id: "evt_1".into(),
            tenant_id: "acme".into(),
            event_type: "job.completed".into(),
            payload: r#"{"a": 1}"#.into(),
            metadata: Some(meta),
            idempotency_key: None,
            created_at: 5,
        };
        assert_eq!(
            from_item::<EventRecord>(event_item(&e).unwrap()).unwrap(),
            e
        );
        let a = AttemptRecord {
            id: "att_1".into(),
            delivery_id: "dlv_1".into(),
            number: 3,
            url: "https://example.com".into(),
            started_at: 10,
            duration_ms: 20,
            status_code: Some(503),
            outcome: Outcome::HttpError,
            error: Some("receiver answered HTTP 503".into()),
            response_excerpt: Some("busy".into()),
            manual: false,
        };
        let item = attempt_item("acme", &a).unwrap();
        assert_eq!(item.get("sk"), Some(&s("ATT#00003")));
        assert_eq!(from_item::<AttemptRecord>(item).unwrap(), a);
    }
}
