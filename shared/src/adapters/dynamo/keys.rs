//! Every key of the table, defined once. One table, on-demand, **no secondary index**: every
//! read the API needs is a GetItem or a Query on the primary key.
//!
//! | item                 | pk                              | sk                 |
//! |----------------------|---------------------------------|--------------------|
//! | tenant               | `T#{tenant}`                    | `TENANT`           |
//! | endpoint             | `T#{tenant}`                    | `EP#{ep_id}`       |
//! | tenant key (listing) | `T#{tenant}`                    | `APIKEY#{key_id}`  |
//! | tenant key (lookup)  | `KEY#{sha256}`                  | `KEY`              |
//! | event                | `EVT#{minute}#{shard 00–63}`    | `{tenant}#{evt}`   |
//! | delivery log record  | `DLV#{tenant}#{ep}#{shard 0–7}` | `{dlv}#{seq 000001}` |
//! | idempotency          | `T#{tenant}#IDEM#{id}`          | `IDEM` (TTL 24 h)  |
//! | job                  | `T#{tenant}#JOB#{job}`          | `JOB`              |
//! | reconciler cursor    | `RECONCILER`                    | `CURSOR`           |
//! | tenant directory     | `TENANTS`                       | `{tenant}`         |
//! | event-type catalog   | `CATALOG`                       | `ET#{name}`        |
//! | portal link          | `PORTAL#{sha256}`               | `LINK` (TTL)       |
//! | portal session       | `KEY#{sha256}`                  | `KEY` (TTL)        |
//!
//! - **Events** are kept by the epoch minute their id was made in (the id's ULID time), spread
//!   over [`EVENT_SHARDS`] partitions by the id's random bits: the key follows from the id
//!   alone, and the reconciler reads a minute's events with one Query per shard.
//! - **A delivery's log** lives under its endpoint (`-` for a one-off `webhook_url` delivery),
//!   spread over [`DELIVERY_SHARDS`] partitions by the delivery id's random bits: one record
//!   per attempt (or restart, or failure without an attempt), numbered by `seq`. The delivery is
//!   its latest record. Delivery ids are ULIDs that start with their event's
//!   ([`crate::domain::ids::delivery_id`]), so within a partition the sort key orders
//!   deliveries by time, and a delivery's records sit together, oldest first.
//! - One DynamoDB partition takes ≈ 1,000 write units/s: an endpoint's deliveries spread over
//!   8 partitions take ≈ 8,000 records/s, a deployment's events over 64 take ≈ 64,000 events/s
//!   (the README's "Limits" works this through).
//!
//! This table is the README's "DynamoDB keys" table; keep the two in agreement.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::Item;
use crate::domain::ids::{created_at, spread};
use crate::domain::reconcile::minute_of;

/// How many partitions the events of one minute spread over.
pub const EVENT_SHARDS: u64 = 64;
/// How many partitions an endpoint's delivery log spreads over.
pub const DELIVERY_SHARDS: u64 = 8;

/// What every endpoint's sort key starts with (under its tenant's pk).
pub const ENDPOINT_SK_PREFIX: &str = "EP#";
/// The endpoint part of the log partition of a one-off delivery.
pub const NO_ENDPOINT: &str = "-";

/// An item's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    /// The key as the `Key` of a GetItem, UpdateItem or DeleteItem.
    pub fn item(&self) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(self.pk.clone())),
            ("sk".to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

/// The partition of a tenant: its own item, its endpoints and its API key listing.
pub fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}

pub fn tenant(tenant: &str) -> Key {
    Key::new(tenant_pk(tenant), "TENANT")
}

pub fn endpoint(tenant: &str, endpoint: &str) -> Key {
    Key::new(tenant_pk(tenant), format!("{ENDPOINT_SK_PREFIX}{endpoint}"))
}

/// The partition of shard `shard` of the events made in epoch minute `minute`.
pub fn events_pk(minute: i64, shard: u64) -> String {
    format!("EVT#{minute}#{shard:02}")
}

/// An event's key: from its id (None when the id is not an event id).
pub fn event(tenant: &str, event: &str) -> Option<Key> {
    let minute = minute_of(created_at(event)?);
    Some(Key::new(
        events_pk(minute, spread(event) % EVENT_SHARDS),
        format!("{tenant}#{event}"),
    ))
}

/// The tenant and event id of an event's sort key. Tenant ids never hold `#`.
pub fn parse_event_sk(sk: &str) -> Option<(&str, &str)> {
    sk.split_once('#')
}

/// The log partition of delivery `delivery` (of endpoint `endpoint`, None for a one-off one).
pub fn log_pk(tenant: &str, endpoint: Option<&str>, delivery: &str) -> String {
    log_shard_pk(tenant, endpoint, spread(delivery) % DELIVERY_SHARDS)
}

/// Shard `shard` of the log partitions of an endpoint.
pub fn log_shard_pk(tenant: &str, endpoint: Option<&str>, shard: u64) -> String {
    format!("DLV#{tenant}#{}#{shard}", endpoint.unwrap_or(NO_ENDPOINT))
}

/// What the sort keys of a delivery's records start with.
pub fn log_sk_prefix(delivery: &str) -> String {
    format!("{delivery}#")
}

/// Record `seq` of a delivery's log.
pub fn log_record(tenant: &str, endpoint: Option<&str>, delivery: &str, seq: u32) -> Key {
    Key::new(
        log_pk(tenant, endpoint, delivery),
        format!("{delivery}#{seq:06}"),
    )
}

/// The delivery id and record number of a log record's sort key.
pub fn parse_log_sk(sk: &str) -> Option<(&str, u32)> {
    let (delivery, seq) = sk.rsplit_once('#')?;
    Some((delivery, seq.parse().ok()?))
}

/// The item an API key is found by (its hash).
pub fn api_key_lookup(key_sha256: &str) -> Key {
    Key::new(format!("KEY#{key_sha256}"), "KEY")
}

/// The copy of an API key under its tenant (found by the key's id).
pub fn api_key_listing(tenant: &str, key_id: &str) -> Key {
    Key::new(tenant_pk(tenant), format!("APIKEY#{key_id}"))
}

pub fn idempotency(tenant: &str, key: &str) -> Key {
    Key::new(format!("T#{tenant}#IDEM#{key}"), "IDEM")
}

pub fn job(tenant: &str, job: &str) -> Key {
    Key::new(format!("T#{tenant}#JOB#{job}"), "JOB")
}

/// The reconciler's cursor and lease.
pub fn reconcile_cursor() -> Key {
    Key::new("RECONCILER".to_owned(), "CURSOR")
}

/// The partition listing every tenant (id, name, times), one item per tenant.
pub const TENANTS_PK: &str = "TENANTS";

pub fn tenant_directory(tenant: &str) -> Key {
    Key::new(TENANTS_PK.to_owned(), tenant)
}

/// The partition of the event-type catalog.
pub const CATALOG_PK: &str = "CATALOG";
/// What every catalog entry's sort key starts with.
pub const EVENT_TYPE_SK_PREFIX: &str = "ET#";

pub fn event_type(name: &str) -> Key {
    Key::new(
        CATALOG_PK.to_owned(),
        format!("{EVENT_TYPE_SK_PREFIX}{name}"),
    )
}

/// A portal link, found by its token's hash (a session is an API key lookup item).
pub fn portal_link(token_sha256: &str) -> Key {
    Key::new(format!("PORTAL#{token_sha256}"), "LINK")
}

/// The key the health check reads (no such item is ever written).
pub fn health() -> Key {
    Key::new("HEALTH".to_owned(), "HEALTH")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::ids::{IdKind, delivery_id};

    fn pair(k: Key) -> (String, String) {
        (k.pk, k.sk)
    }

    fn owned(pk: &str, sk: &str) -> (String, String) {
        (pk.to_owned(), sk.to_owned())
    }

    /// The keys of the table in the module doc (and the README), as the deployed items hold them.
    #[test]
    fn keys_are_the_documented_ones() {
        assert_eq!(pair(tenant("acme")), owned("T#acme", "TENANT"));
        assert_eq!(pair(endpoint("acme", "ep_1")), owned("T#acme", "EP#ep_1"));
        assert_eq!(pair(tenant_directory("acme")), owned("TENANTS", "acme"));
        assert_eq!(pair(event_type("a.b")), owned("CATALOG", "ET#a.b"));
        assert_eq!(pair(portal_link("ab")), owned("PORTAL#ab", "LINK"));
        // 01JZ… is 2025-07; the id's time gives the minute, its random bits the shard.
        let evt = "evt_01K0000000000000000000G000";
        let at = created_at(evt).unwrap();
        let shard = spread(evt) % EVENT_SHARDS;
        assert_eq!(
            pair(event("acme", evt).unwrap()),
            owned(
                &format!("EVT#{}#{shard:02}", at / 60_000),
                &format!("acme#{evt}")
            )
        );
        assert_eq!(event("acme", "evt_nope"), None);
        assert_eq!(parse_event_sk(&format!("acme#{evt}")), Some(("acme", evt)));
        let dlv = delivery_id(evt, 2).unwrap();
        let s = spread(&dlv) % DELIVERY_SHARDS;
        assert_eq!(
            pair(log_record("acme", Some("ep_1"), &dlv, 3)),
            owned(&format!("DLV#acme#ep_1#{s}"), &format!("{dlv}#000003"))
        );
        assert_eq!(
            log_record("acme", None, &dlv, 1).pk,
            format!("DLV#acme#-#{s}")
        );
        assert_eq!(
            parse_log_sk(&format!("{dlv}#000003")),
            Some((dlv.as_str(), 3))
        );
        assert_eq!(pair(api_key_lookup("ab12")), owned("KEY#ab12", "KEY"));
        assert_eq!(
            pair(api_key_listing("acme", "key_1")),
            owned("T#acme", "APIKEY#key_1")
        );
        assert_eq!(
            pair(idempotency("acme", "job-7")),
            owned("T#acme#IDEM#job-7", "IDEM")
        );
        assert_eq!(pair(job("acme", "job_1")), owned("T#acme#JOB#job_1", "JOB"));
        assert_eq!(pair(reconcile_cursor()), owned("RECONCILER", "CURSOR"));
        let item = tenant("acme").item();
        assert_eq!(item.get("pk"), Some(&AttributeValue::S("T#acme".into())));
        assert_eq!(item.len(), 2);
    }

    #[test]
    fn records_sort_in_number_order_after_their_delivery_and_shards_spread() {
        let evt = IdKind::Event.generate();
        let dlv = delivery_id(&evt, 0).unwrap();
        let sks: Vec<String> = [1, 2, 10, 9_999, 10_000, 999_999]
            .into_iter()
            .map(|n| log_record("t", Some("e"), &dlv, n).sk)
            .collect();
        let mut sorted = sks.clone();
        sorted.sort();
        assert_eq!(sks, sorted);
        let later = delivery_id(&evt, 1).unwrap();
        assert!(
            sks.iter().all(|sk| sk.as_str() < later.as_str()),
            "a delivery's records sort before the next delivery"
        );
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let e = IdKind::Event.generate();
            seen.insert(spread(&delivery_id(&e, 0).unwrap()) % DELIVERY_SHARDS);
        }
        assert_eq!(seen.len(), DELIVERY_SHARDS as usize, "every shard is used");
    }
}
