//! Records as items and back: a record's serde form (via `serde_dynamo`) plus its key
//! attributes from [`super::keys`]. Key attributes are ignored when an item is read back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::job::JobRecord;
use crate::domain::model::Endpoint;
use crate::domain::model::{
    ApiKeyRecord, AttemptRecord, DeliveryRecord, EventRecord, IdempotencyRecord, Tenant,
};
use crate::ports::store::StoreError;

use super::keys::{self, Key};

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute value.
pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute value.
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A record as an item, with its primary key and any index keys added.
fn to_item<T: Serialize>(
    record: &T,
    key: Key,
    index_keys: &[(&str, String)],
) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.insert("pk".to_owned(), s(key.pk));
    item.insert("sk".to_owned(), s(key.sk));
    for (name, value) in index_keys {
        item.insert((*name).to_owned(), s(value.clone()));
    }
    Ok(item)
}

/// An item as a record; key attributes are ignored by the record types.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn tenant_item(t: &Tenant) -> Result<Item, StoreError> {
    to_item(t, keys::tenant(&t.id), &[])
}

pub fn endpoint_item(e: &Endpoint) -> Result<Item, StoreError> {
    to_item(e, keys::endpoint(&e.tenant_id, &e.id), &[])
}

pub fn event_item(e: &EventRecord) -> Result<Item, StoreError> {
    to_item(e, keys::event(&e.tenant_id, &e.id), &[])
}

/// A delivery with its gsi1 keys, unless it is a one-off `webhook_url` delivery gsi2's, and
/// while it is pending its reconcile mark (gsi3; the mark is when it was written).
pub fn delivery_item(d: &DeliveryRecord) -> Result<Item, StoreError> {
    let mut index_keys = vec![
        ("gsi1pk", keys::event_pk(&d.tenant_id, &d.event_id)),
        ("gsi1sk", d.id.clone()),
    ];
    if d.status == crate::domain::model::DeliveryStatus::Pending {
        let shard = keys::reconcile_shard_of(&d.id);
        index_keys.push((keys::RECONCILE_PK, keys::reconcile_pk(shard)));
        index_keys.push((keys::RECONCILE_SK, keys::reconcile_sk(d.updated_at)));
    }
    if let Some(ep) = &d.endpoint_id {
        index_keys.push(("gsi2pk", keys::endpoint_deliveries_pk(&d.tenant_id, ep)));
        index_keys.push(("gsi2sk", d.id.clone()));
    }
    to_item(d, keys::delivery(&d.tenant_id, &d.id), &index_keys)
}

pub fn attempt_item(tenant: &str, a: &AttemptRecord) -> Result<Item, StoreError> {
    to_item(a, keys::attempt(tenant, &a.delivery_id, a.number), &[])
}

/// The item an API key is found by when a request presents it.
pub fn api_key_lookup_item(k: &ApiKeyRecord) -> Result<Item, StoreError> {
    to_item(k, keys::api_key_lookup(&k.key_sha256), &[])
}

/// The same record under its tenant, so it can be deleted by id.
pub fn api_key_listing_item(k: &ApiKeyRecord) -> Result<Item, StoreError> {
    to_item(k, keys::api_key_listing(&k.tenant_id, &k.id), &[])
}

pub fn job_item(j: &JobRecord) -> Result<Item, StoreError> {
    to_item(j, keys::job(&j.tenant_id, &j.id), &[])
}

pub fn idempotency_item(r: &IdempotencyRecord) -> Result<Item, StoreError> {
    to_item(r, keys::idempotency(&r.tenant_id, &r.key), &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attempt::Outcome;
    use crate::domain::model::DeliveryStatus;
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
        let shard = keys::reconcile_shard_of(&d.id);
        assert_eq!(item.get("gsi3pk"), Some(&s(keys::reconcile_pk(shard))));
        assert_eq!(item.get("gsi3sk"), Some(&s("0000000000002")));
        assert_eq!(from_item::<DeliveryRecord>(item).unwrap(), d);
        let failed = DeliveryRecord {
            status: DeliveryStatus::Failed,
            ..delivery()
        };
        assert!(!delivery_item(&failed).unwrap().contains_key("gsi3pk"));
        let one_off = DeliveryRecord {
            endpoint_id: None,
            ..delivery()
        };
        assert!(!delivery_item(&one_off).unwrap().contains_key("gsi2pk"));
    }

    #[test]
    fn delivery_status_is_stored_by_its_name() {
        for status in DeliveryStatus::ALL {
            let d = DeliveryRecord {
                status,
                ..delivery()
            };
            let item = delivery_item(&d).unwrap();
            assert_eq!(item.get("status"), Some(&s(status.as_str())));
            assert_eq!(item.get("sk"), Some(&s("DELIVERY")));
            assert_eq!(item.get("gsi1sk"), Some(&s("dlv_01J")));
            assert_eq!(item.get("gsi2sk"), Some(&s("dlv_01J")));
            let marked = item.contains_key("gsi3pk");
            assert_eq!(marked, status == DeliveryStatus::Pending);
            assert_eq!(from_item::<DeliveryRecord>(item).unwrap(), d);
        }
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
        let item = endpoint_item(&ep).unwrap();
        assert_eq!(item.get("sk"), Some(&s("EP#ep_1")));
        assert_eq!(from_item::<Endpoint>(item).unwrap(), ep);
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

    #[test]
    fn api_key_and_idempotency_round_trip() {
        let k = ApiKeyRecord {
            id: "key_1".into(),
            tenant_id: "acme".into(),
            key_sha256: "ab12".into(),
            created_at: 3,
        };
        let lookup = api_key_lookup_item(&k).unwrap();
        assert_eq!(lookup.get("pk"), Some(&s("KEY#ab12")));
        assert_eq!(lookup.get("sk"), Some(&s("KEY")));
        assert_eq!(from_item::<ApiKeyRecord>(lookup).unwrap(), k);
        let listing = api_key_listing_item(&k).unwrap();
        assert_eq!(listing.get("pk"), Some(&s("T#acme")));
        assert_eq!(listing.get("sk"), Some(&s("APIKEY#key_1")));
        assert_eq!(from_item::<ApiKeyRecord>(listing).unwrap(), k);

        for response in [None, Some(r#"{"status":202}"#.to_owned())] {
            let r = IdempotencyRecord {
                tenant_id: "acme".into(),
                key: "job-7".into(),
                response,
                created_at: 1_000,
                expires_at: 87_401,
            };
            let item = idempotency_item(&r).unwrap();
            assert_eq!(item.get("pk"), Some(&s("T#acme#IDEM#job-7")));
            assert_eq!(item.get("sk"), Some(&s("IDEM")));
            assert_eq!(item.get("expires_at"), Some(&n(87_401)));
            assert_eq!(from_item::<IdempotencyRecord>(item).unwrap(), r);
        }
    }
}
