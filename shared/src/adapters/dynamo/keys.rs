//! Every key of the table, defined once. One table, on-demand:
//!
//! | item                 | pk                      | sk               | gsi1 (event → deliveries)     | gsi2 (endpoint → deliveries)   |
//! |----------------------|-------------------------|------------------|-------------------------------|--------------------------------|
//! | tenant               | `T#{tenant}`            | `TENANT`         |                               |                                |
//! | endpoint             | `T#{tenant}`            | `EP#{ep_id}`     |                               |                                |
//! | event                | `T#{tenant}#E#{evt}`    | `EVENT`          |                               |                                |
//! | delivery             | `T#{tenant}#D#{dlv}`    | `DELIVERY`       | `T#{tenant}#E#{evt}` / dlv id | `T#{tenant}#EP#{ep}` / dlv id  |
//! | attempt              | `T#{tenant}#D#{dlv}`    | `ATT#{00001}`    |                               |                                |
//! | tenant key (lookup)  | `KEY#{sha256}`          | `KEY`            |                               |                                |
//! | tenant key (listing) | `T#{tenant}`            | `APIKEY#{key_id}`|                               |                                |
//! | idempotency          | `T#{tenant}#IDEM#{id}`  | `IDEM` (TTL 24 h)|                               |                                |
//! | job                  | `T#{tenant}#JOB#{job}`  | `JOB`            |                               |                                |
//!
//! gsi3 (the reconcile index, sparse, KEYS_ONLY): a *pending* delivery also has
//! `gsi3pk` = `RECONCILE#{shard}` (0–3, from its id) and `gsi3sk` = its reconcile mark, epoch ms
//! as 13 digits. The keys are written with the pending delivery and removed when it becomes
//! delivered or failed; attempts in between leave them alone (KEYS_ONLY: no index write for
//! them), so the index holds only what may be stale and the reconciler never scans.
//!
//! This table is the README's "DynamoDB keys" table; keep the two in agreement. Delivery ids
//! are ULIDs, so gsi2 sorted descending is "newest first", and a time window is a `BETWEEN` on
//! gsi2's sort key ([`crate::domain::ids::delivery_id_bounds`]). One-off `webhook_url` deliveries have no gsi2 keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::Item;

/// The event → deliveries index (`gsi1pk` = the event's pk, `gsi1sk` = the delivery id).
pub const GSI_EVENT: &str = "gsi1";
/// The endpoint → deliveries index (`gsi2pk` = [`endpoint_deliveries_pk`], `gsi2sk` = the
/// delivery id).
pub const GSI_ENDPOINT: &str = "gsi2";

/// The reconcile index (`gsi3pk` = [`reconcile_pk`], `gsi3sk` = [`reconcile_sk`]), present on
/// pending deliveries only.
pub const GSI_RECONCILE: &str = "gsi3";
pub const RECONCILE_PK: &str = "gsi3pk";
pub const RECONCILE_SK: &str = "gsi3sk";
/// How many partitions the reconcile index spreads pending deliveries over.
pub const RECONCILE_SHARDS: u8 = 4;

/// What every endpoint's sort key starts with (under its tenant's pk).
pub const ENDPOINT_SK_PREFIX: &str = "EP#";
/// What every attempt's sort key starts with (under its delivery's pk).
pub const ATTEMPT_SK_PREFIX: &str = "ATT#";

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

/// The partition of an event, and gsi1's partition of its deliveries.
pub fn event_pk(tenant: &str, event: &str) -> String {
    format!("T#{tenant}#E#{event}")
}

/// The partition of a delivery and its attempts.
pub fn delivery_pk(tenant: &str, delivery: &str) -> String {
    format!("T#{tenant}#D#{delivery}")
}

/// gsi2's partition of an endpoint's deliveries.
pub fn endpoint_deliveries_pk(tenant: &str, endpoint: &str) -> String {
    format!("T#{tenant}#EP#{endpoint}")
}

pub fn tenant(tenant: &str) -> Key {
    Key::new(tenant_pk(tenant), "TENANT")
}

pub fn endpoint(tenant: &str, endpoint: &str) -> Key {
    Key::new(tenant_pk(tenant), format!("{ENDPOINT_SK_PREFIX}{endpoint}"))
}

pub fn event(tenant: &str, event: &str) -> Key {
    Key::new(event_pk(tenant, event), "EVENT")
}

pub fn delivery(tenant: &str, delivery: &str) -> Key {
    Key::new(delivery_pk(tenant, delivery), "DELIVERY")
}

pub fn attempt(tenant: &str, delivery: &str, number: u32) -> Key {
    Key::new(
        delivery_pk(tenant, delivery),
        format!("{ATTEMPT_SK_PREFIX}{number:05}"),
    )
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

/// The reconcile index partition of shard `shard`.
pub fn reconcile_pk(shard: u8) -> String {
    format!("RECONCILE#{shard}")
}

/// The reconcile index partition a delivery's mark goes to (from the random end of its id).
pub fn reconcile_shard_of(delivery: &str) -> u8 {
    delivery.bytes().last().map_or(0, |b| b % RECONCILE_SHARDS)
}

/// A reconcile mark as the index's sort key: 13-digit epoch ms, so string order is time order.
pub fn reconcile_sk(mark: i64) -> String {
    format!("{:013}", mark.max(0))
}

/// The mark a reconcile sort key holds.
pub fn parse_reconcile_sk(sk: &str) -> Option<i64> {
    sk.parse().ok()
}

/// The tenant and delivery ids of a delivery's pk (what a KEYS_ONLY index gives back). Tenant
/// ids never hold `#`.
pub fn parse_delivery_pk(pk: &str) -> Option<(String, String)> {
    let rest = pk.strip_prefix("T#")?;
    let (tenant, delivery) = rest.split_once("#D#")?;
    Some((tenant.to_owned(), delivery.to_owned()))
}

/// The key the health check reads (no such item is ever written).
pub fn health() -> Key {
    Key::new("HEALTH".to_owned(), "HEALTH")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            pair(event("acme", "evt_1")),
            owned("T#acme#E#evt_1", "EVENT")
        );
        assert_eq!(
            pair(delivery("acme", "dlv_1")),
            owned("T#acme#D#dlv_1", "DELIVERY")
        );
        assert_eq!(
            pair(attempt("acme", "dlv_1", 3)),
            owned("T#acme#D#dlv_1", "ATT#00003")
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
        assert_eq!(endpoint_deliveries_pk("acme", "ep_1"), "T#acme#EP#ep_1");
        assert_eq!(pair(job("acme", "job_1")), owned("T#acme#JOB#job_1", "JOB"));
        assert_eq!(reconcile_pk(3), "RECONCILE#3");
        assert_eq!(reconcile_sk(1_700_000_000_000), "1700000000000");
        assert_eq!(reconcile_sk(5), "0000000000005");
        assert_eq!(parse_reconcile_sk("0000000000005"), Some(5));
        assert_eq!(
            parse_delivery_pk(&delivery("acme", "dlv_1").pk),
            Some(("acme".to_owned(), "dlv_1".to_owned()))
        );
        assert_eq!(parse_delivery_pk("T#acme#E#evt_1"), None);
        assert!(reconcile_shard_of("dlv_01JZZZ") < RECONCILE_SHARDS);
        assert_eq!(event_pk("acme", "evt_1"), "T#acme#E#evt_1");
        let item = tenant("acme").item();
        assert_eq!(item.get("pk"), Some(&AttributeValue::S("T#acme".into())));
        assert_eq!(item.get("sk"), Some(&AttributeValue::S("TENANT".into())));
        assert_eq!(item.len(), 2);
    }

    #[test]
    fn attempt_keys_sort_in_number_order() {
        let sks: Vec<String> = [1, 2, 10, 99_999]
            .into_iter()
            .map(|n| attempt("t", "d", n).sk)
            .collect();
        let mut sorted = sks.clone();
        sorted.sort();
        assert_eq!(sks, sorted);
    }
}
