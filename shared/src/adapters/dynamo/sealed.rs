//! Secrets in items: sealed on the way into the table, opened on the way out, so the table (and
//! any export of it) holds no secret in clear while the records keep plain [`Secret`]s.
//!
//! A secret's attribute (a tenant's `signing_secret`, an endpoint's `secret` and each
//! `previous_secrets[].secret`) holds a map instead of a string:
//! `{"v": 1, "kid": <key id>, "dk": <wrapped data key>, "iv": <nonce>, "ct": <ciphertext+tag>}`
//! (binary values). The owner (tenant, or tenant and endpoint) is the encryption context.
//!
//! Migration: a string in that place is a secret written before sealing; it is read as it is
//! and sealed at the item's next write (endpoints: any create, update or rotation; tenants: any
//! update, see `DynamoStore::update_tenant`).

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::adapters::sealer::{SealError, SecretSealer};
use crate::domain::envelope::{FORMAT_VERSION, NONCE_BYTES, SealedSecret, SecretOwner};
use crate::domain::secret::Secret;
use crate::ports::key_vault::VaultError;
use crate::ports::store::StoreError;

use super::item::{Item, n, s};
use super::keys;

const VERSION: &str = "v";
const KEY_ID: &str = "kid";
const WRAPPED_KEY: &str = "dk";
const NONCE: &str = "iv";
const CIPHERTEXT: &str = "ct";

/// How the items read held their secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Opened {
    /// Secrets that were still in clear (written before sealing).
    pub clear: usize,
}

impl From<SealError> for StoreError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Vault(VaultError::Unavailable(m)) => StoreError::Unavailable(m),
            other => StoreError::Corrupt(other.to_string()),
        }
    }
}

/// The attributes of an item that hold secrets.
fn secret_slots(item: &mut Item) -> Vec<&mut AttributeValue> {
    let mut slots = Vec::new();
    for (name, value) in item.iter_mut() {
        match (name.as_str(), value) {
            ("signing_secret" | "secret", value) => slots.push(value),
            ("previous_secrets", AttributeValue::L(list)) => {
                for entry in list.iter_mut() {
                    if let AttributeValue::M(map) = entry {
                        slots.extend(map.get_mut("secret"));
                    }
                }
            }
            _ => {}
        }
    }
    slots
}

/// Replaces every clear secret of `item` by its sealed form.
pub async fn seal_item(
    sealer: &SecretSealer,
    owner: &SecretOwner,
    mut item: Item,
) -> Result<Item, StoreError> {
    for slot in secret_slots(&mut item) {
        if let AttributeValue::S(clear) = slot {
            let secret = Secret::from_string(std::mem::take(clear));
            *slot = sealed_attribute(&sealer.seal(&secret, owner).await?);
        }
    }
    Ok(item)
}

/// Replaces every sealed secret of `item` by the secret, so the record type reads it.
pub async fn open_item(
    sealer: &SecretSealer,
    owner: &SecretOwner,
    item: &mut Item,
) -> Result<Opened, StoreError> {
    let mut opened = Opened::default();
    for slot in secret_slots(item) {
        match slot {
            AttributeValue::M(map) => {
                let sealed = parse_sealed(map)?;
                let secret = sealer.open(&sealed, owner).await?;
                *slot = s(secret.expose());
            }
            AttributeValue::S(_) => opened.clear += 1,
            _ => {
                return Err(StoreError::Corrupt(
                    "secret attribute of unknown type".into(),
                ));
            }
        }
    }
    Ok(opened)
}

/// The owner of an endpoint item read from a tenant's partition: its `id`, checked against its
/// sort key, so an item copied under another key does not open.
pub fn endpoint_owner(tenant_id: &str, item: &Item) -> Result<SecretOwner, StoreError> {
    let id = item
        .get("id")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("endpoint item without id".into()))?;
    if item.get("sk") != Some(&s(keys::endpoint(tenant_id, id).sk)) {
        return Err(StoreError::Corrupt(
            "endpoint item under another key".into(),
        ));
    }
    Ok(SecretOwner::endpoint(tenant_id, id))
}

pub fn sealed_attribute(sealed: &SealedSecret) -> AttributeValue {
    let blob = |b: &[u8]| AttributeValue::B(Blob::new(b));
    AttributeValue::M(HashMap::from([
        (VERSION.to_owned(), n(FORMAT_VERSION)),
        (KEY_ID.to_owned(), s(&sealed.key_id)),
        (WRAPPED_KEY.to_owned(), blob(&sealed.wrapped_key)),
        (NONCE.to_owned(), blob(&sealed.nonce)),
        (CIPHERTEXT.to_owned(), blob(&sealed.ciphertext)),
    ]))
}

fn parse_sealed(map: &HashMap<String, AttributeValue>) -> Result<SealedSecret, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("sealed secret: {what}"));
    let bytes = |name: &str| {
        map.get(name)
            .and_then(|v| v.as_b().ok())
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| corrupt(name))
    };
    let version: u32 = map
        .get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(VERSION))?;
    if version != FORMAT_VERSION {
        return Err(SealError::Version(version).into());
    }
    let nonce: [u8; NONCE_BYTES] = bytes(NONCE)?
        .try_into()
        .map_err(|_| corrupt("nonce length"))?;
    Ok(SealedSecret {
        key_id: map
            .get(KEY_ID)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| corrupt(KEY_ID))?,
        wrapped_key: bytes(WRAPPED_KEY)?,
        nonce,
        ciphertext: bytes(CIPHERTEXT)?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::adapters::dynamo::item::{endpoint_item, from_item, tenant_item};
    use crate::adapters::fixed_key::FixedKeyVault;
    use crate::domain::model::{Endpoint, PreviousSecret, Tenant};

    fn sealer() -> SecretSealer {
        SecretSealer::new(Arc::new(FixedKeyVault::test_key()))
    }

    fn endpoint(id: &str) -> Endpoint {
        Endpoint {
            id: id.into(),
            tenant_id: "acme".into(),
            url: "https://example.com".into(),
            event_types: vec!["*".into()],
            description: None,
            enabled: true,
            secret: Secret::generate(),
            previous_secrets: vec![PreviousSecret {
                secret: Secret::from_string("plain-shared-secret-123".into()),
                expires_at: 9,
            }],
            settings: Default::default(),
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            created_at: 1,
            updated_at: 2,
        }
    }

    /// Every string and binary value anywhere in an item, as text.
    fn all_text(value: &AttributeValue, out: &mut String) {
        match value {
            AttributeValue::S(v) => out.push_str(v),
            AttributeValue::B(b) => out.push_str(&String::from_utf8_lossy(b.as_ref())),
            AttributeValue::M(m) => m.values().for_each(|v| all_text(v, out)),
            AttributeValue::L(l) => l.iter().for_each(|v| all_text(v, out)),
            _ => {}
        }
    }

    #[tokio::test]
    async fn endpoint_item_holds_no_secret_and_opens_again() {
        let sealer = sealer();
        let ep = endpoint("ep_1");
        let owner = SecretOwner::endpoint("acme", "ep_1");
        let item = seal_item(&sealer, &owner, endpoint_item(&ep).unwrap())
            .await
            .unwrap();
        let mut text = String::new();
        all_text(&AttributeValue::M(item.clone()), &mut text);
        let key = ep.secret.expose().strip_prefix("whsec_").unwrap();
        assert!(!text.contains(key) && !text.contains("plain-shared-secret"));
        assert!(matches!(item.get("secret"), Some(AttributeValue::M(_))));

        let mut read = item.clone();
        let owner = endpoint_owner("acme", &read).unwrap();
        assert_eq!(
            open_item(&sealer, &owner, &mut read).await.unwrap(),
            Opened { clear: 0 }
        );
        assert_eq!(from_item::<Endpoint>(read).unwrap(), ep);
    }

    #[tokio::test]
    async fn clear_items_from_before_sealing_still_read() {
        let sealer = sealer();
        let ep = endpoint("ep_1");
        let mut legacy = endpoint_item(&ep).unwrap();
        let owner = endpoint_owner("acme", &legacy).unwrap();
        let opened = open_item(&sealer, &owner, &mut legacy).await.unwrap();
        assert_eq!(opened, Opened { clear: 2 });
        assert_eq!(from_item::<Endpoint>(legacy).unwrap(), ep);

        let t = Tenant {
            id: "acme".into(),
            name: None,
            defaults: Default::default(),
            max_endpoints: 10,
            https_only: false,
            signing_secret: Secret::generate(),
            created_at: 1,
            updated_at: 1,
        };
        let owner = SecretOwner::tenant("acme");
        let mut sealed = seal_item(&sealer, &owner, tenant_item(&t).unwrap())
            .await
            .unwrap();
        assert!(matches!(
            sealed.get("signing_secret"),
            Some(AttributeValue::M(_))
        ));
        open_item(&sealer, &owner, &mut sealed).await.unwrap();
        assert_eq!(from_item::<Tenant>(sealed).unwrap(), t);
    }

    #[tokio::test]
    async fn a_secret_moved_to_another_item_does_not_open() {
        let sealer = sealer();
        let one = seal_item(
            &sealer,
            &SecretOwner::endpoint("acme", "ep_1"),
            endpoint_item(&endpoint("ep_1")).unwrap(),
        )
        .await
        .unwrap();
        let mut two = endpoint_item(&endpoint("ep_2")).unwrap();
        two.insert("secret".into(), one["secret"].clone());
        let owner = endpoint_owner("acme", &two).unwrap();
        assert!(matches!(
            open_item(&sealer, &owner, &mut two).await,
            Err(StoreError::Corrupt(_))
        ));
        // The whole item under another key is refused before any key is asked for.
        let mut copied = one.clone();
        copied.insert("sk".into(), s("EP#ep_2"));
        assert!(endpoint_owner("acme", &copied).is_err());
        let mut tampered = one.clone();
        if let Some(AttributeValue::M(m)) = tampered.get_mut("secret") {
            m.insert(VERSION.into(), n(2));
        }
        let owner = endpoint_owner("acme", &tampered).unwrap();
        assert!(open_item(&sealer, &owner, &mut tampered).await.is_err());
    }
}
