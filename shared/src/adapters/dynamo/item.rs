//! Records as items and back: a record's serde form (via `serde_dynamo`) plus its key
//! attributes from [`super::keys`]. Key attributes are ignored when an item is read back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::job::JobRecord;
use crate::domain::model::Endpoint;
use crate::domain::model::{ApiKeyRecord, EventRecord, IdempotencyRecord, Tenant};
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
pub(super) fn to_item<T: Serialize>(
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

/// An UpdateItem that sets each of `fields` to its value in `item`, or removes it where the
/// item leaves it out, every name by placeholder (some are reserved words); `extra_set` are
/// further SET clauses whose names and values the caller adds.
pub(super) fn set_or_remove(
    mut update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    item: &mut Item,
    fields: &[&str],
    extra_set: &[&str],
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    let mut set: Vec<String> = extra_set.iter().map(|c| (*c).to_owned()).collect();
    let mut remove = Vec::new();
    for field in fields {
        update = update.expression_attribute_names(format!("#{field}"), *field);
        match item.remove(*field) {
            Some(value) => {
                set.push(format!("#{field} = :{field}"));
                update = update.expression_attribute_values(format!(":{field}"), value);
            }
            None => remove.push(format!("#{field}")),
        }
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    update.update_expression(expression)
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

/// An event as its item (which names its deliveries: `endpoint_ids`, `webhook_url`).
pub fn event_item(e: &EventRecord) -> Result<Item, StoreError> {
    let key = keys::event(&e.tenant_id, &e.id)
        .ok_or_else(|| StoreError::Corrupt(format!("not an event id: {}", e.id)))?;
    to_item(e, key, &[])
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
    use crate::domain::secret::Secret;
    use crate::domain::settings::{SettingsPatch, SignatureScheme};

    #[test]
    fn endpoint_tenant_event_round_trip() {
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
            id: crate::domain::ids::IdKind::Event.generate(),
            tenant_id: "acme".into(),
            event_type: "job.completed".into(),
            payload: r#"{"a": 1}"#.into(),
            metadata: Some(meta),
            idempotency_key: None,
            created_at: 5,
            endpoint_ids: vec!["ep_1".into(), "ep_2".into()],
            webhook_url: Some("https://once.example/".into()),
        };
        assert_eq!(
            from_item::<EventRecord>(event_item(&e).unwrap()).unwrap(),
            e
        );
    }

    #[test]
    fn api_key_and_idempotency_round_trip() {
        let k = ApiKeyRecord {
            id: "key_1".into(),
            tenant_id: "acme".into(),
            key_sha256: "ab12".into(),
            created_at: 3,
            expires_at: None,
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
