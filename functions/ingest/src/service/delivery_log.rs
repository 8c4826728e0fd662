//! The delivery log: an event with its deliveries, a delivery with its attempts, and an
//! endpoint's deliveries (newest first, filtered, cursor-paginated).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::value::RawValue;

use shared::domain::ids::IdKind;
use shared::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus, EventRecord};
use shared::ports::{DeliveryRead, EndpointRead, EventRead};

use crate::error::ApiError;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// The delivery, or 404.
pub async fn delivery<S: DeliveryRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<DeliveryRecord, ApiError> {
    super::require_ids(tenant_id, IdKind::Delivery, delivery_id, "delivery")?;
    store
        .get_delivery(tenant_id, delivery_id)
        .await?
        .ok_or(ApiError::NotFound("delivery"))
}

/// The delivery with every attempt.
pub async fn delivery_with_attempts<S: DeliveryRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<(DeliveryRecord, Vec<AttemptRecord>), ApiError> {
    let delivery = delivery(store, tenant_id, delivery_id).await?;
    let attempts = store.get_attempts(tenant_id, delivery_id).await?;
    Ok((delivery, attempts))
}

/// The event (its payload as received) with its deliveries in id order.
pub async fn event<S: EventRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    event_id: &str,
) -> Result<(EventRecord, Box<RawValue>, Vec<DeliveryRecord>), ApiError> {
    super::require_ids(tenant_id, IdKind::Event, event_id, "event")?;
    let (event, mut deliveries) = futures::try_join!(
        store.get_event(tenant_id, event_id),
        store.list_event_deliveries(tenant_id, event_id)
    )?;
    let event = event.ok_or(ApiError::NotFound("event"))?;
    deliveries.sort_by(|a, b| a.id.cmp(&b.id));
    let payload = RawValue::from_string(event.payload.clone())
        .map_err(|_| ApiError::Internal("The stored payload is not JSON."))?;
    Ok((event, payload, deliveries))
}

/// The listing's query: `status`, `limit` (1–100, default 20), `cursor` (from `next_cursor`).
#[derive(Debug, PartialEq)]
pub struct ListQuery {
    pub status: Option<DeliveryStatus>,
    pub limit: usize,
    pub after: Option<String>,
}

impl ListQuery {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut q = Self {
            status: None,
            limit: DEFAULT_PAGE,
            after: None,
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "status" => q.status = Some(parse_status(&v)?),
                "limit" => {
                    q.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            ApiError::invalid("limit", "must be a whole number from 1 to 100")
                        })?
                }
                "cursor" => {
                    let id = URL_SAFE_NO_PAD
                        .decode(v.as_bytes())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .filter(|id| IdKind::Delivery.is_valid(id))
                        .ok_or_else(|| {
                            ApiError::invalid("cursor", "is not a cursor this API returned")
                        })?;
                    q.after = Some(id);
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

fn parse_status(v: &str) -> Result<DeliveryStatus, ApiError> {
    match v {
        "pending" => Ok(DeliveryStatus::Pending),
        "delivered" => Ok(DeliveryStatus::Delivered),
        "failed" => Ok(DeliveryStatus::Failed),
        _ => Err(ApiError::invalid(
            "status",
            "must be pending, delivered or failed",
        )),
    }
}

/// One page of an endpoint's deliveries and the cursor of the next, if any.
pub async fn endpoint_deliveries<S: EndpointRead + DeliveryRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    endpoint_id: &str,
    q: ListQuery,
) -> Result<(Vec<DeliveryRecord>, Option<String>), ApiError> {
    super::endpoints::load(store, tenant_id, endpoint_id).await?;
    let page = store
        .list_endpoint_deliveries(
            tenant_id,
            endpoint_id,
            q.status,
            q.limit,
            q.after.as_deref(),
        )
        .await?;
    let next = page.next_after.map(|id| URL_SAFE_NO_PAD.encode(id));
    Ok((page.deliveries, next))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn list_query_parsing() {
        assert_eq!(
            ListQuery::parse("").unwrap(),
            ListQuery {
                status: None,
                limit: 20,
                after: None
            }
        );
        let id = IdKind::Delivery.generate();
        let q = ListQuery::parse(&format!(
            "status=failed&limit=5&cursor={}",
            URL_SAFE_NO_PAD.encode(&id)
        ))
        .unwrap();
        assert_eq!(
            q,
            ListQuery {
                status: Some(DeliveryStatus::Failed),
                limit: 5,
                after: Some(id)
            }
        );
        for (bad, field) in [
            ("status=done", "status"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("cursor=%%%", "cursor"),
            ("cursor=YWJj", "cursor"),
        ] {
            assert_eq!(
                ListQuery::parse(bad).unwrap_err().field(),
                Some(field),
                "{bad}"
            );
        }
    }
}
