//! The delivery log and replay: `GET .../deliveries/{id}` (with every attempt),
//! `GET .../endpoints/{id}/deliveries` (newest first, filtered, cursor-paginated),
//! `POST .../deliveries/{id}/retry` (one manual attempt now) and
//! `POST .../endpoints/{id}/recover` (failed deliveries of a window through their schedule again).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use shared::domain::clock::{now_millis, parse_rfc3339};
use shared::domain::ids::IdKind;
use shared::domain::model::{
    DeliveryRecord, DeliveryStatus, ENDPOINT_DISABLED, Endpoint, EventRecord,
};
use shared::ports::{Redrive, StoreError};

use super::endpoints::load as load_endpoint;
use super::events::{delivery_message, enqueue_error};
use super::views::DeliveryView;
use crate::app::{App, Principal, Queue, Store, authorize};
use crate::error::{ApiError, parse_body};
use crate::http::ApiResponse;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;
/// `recover` looks back at most as far as the queue keeps messages.
const MAX_RECOVER_WINDOW_MS: i64 = 14 * 86_400_000;

pub async fn get<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let delivery = load(app, tenant_id, delivery_id).await?;
    let attempts = app.store.get_attempts(tenant_id, delivery_id).await?;
    Ok(ApiResponse::json(
        200,
        &DeliveryView::new(&delivery, Some(&attempts)),
    ))
}

async fn load<S: Store, Q, R>(
    app: &App<S, Q, R>,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<DeliveryRecord, ApiError> {
    super::require_ids(tenant_id, IdKind::Delivery, delivery_id, "delivery")?;
    app.store
        .get_delivery(tenant_id, delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))
}

/// The listing's query: `status`, `limit` (1–100, default 20), `cursor` (from `next_cursor`).
#[derive(Debug, PartialEq)]
pub struct ListQuery {
    pub status: Option<DeliveryStatus>,
    pub limit: usize,
    pub after: Option<String>,
}

pub fn parse_list_query(query: &str) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        status: None,
        limit: DEFAULT_PAGE,
        after: None,
    };
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "status" => {
                q.status = Some(match v.as_ref() {
                    "pending" => DeliveryStatus::Pending,
                    "delivered" => DeliveryStatus::Delivered,
                    "failed" => DeliveryStatus::Failed,
                    _ => {
                        return Err(ApiError::invalid(
                            "status",
                            "must be pending, delivered or failed",
                        ));
                    }
                })
            }
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

pub async fn list<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    endpoint_id: &str,
    query: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let q = parse_list_query(query)?;
    load_endpoint(app, tenant_id, endpoint_id).await?;
    let page = app
        .store
        .list_endpoint_deliveries(
            tenant_id,
            endpoint_id,
            q.status,
            q.limit,
            q.after.as_deref(),
        )
        .await?;
    let data: Vec<DeliveryView> = page
        .deliveries
        .iter()
        .map(|d| DeliveryView::new(d, None))
        .collect();
    let next = page.next_after.map(|id| URL_SAFE_NO_PAD.encode(id));
    Ok(ApiResponse::json(
        200,
        &json!({"data": data, "next_cursor": next}),
    ))
}

async fn event_payload<S: Store, Q, R>(
    app: &App<S, Q, R>,
    d: &DeliveryRecord,
) -> Result<(EventRecord, Box<RawValue>), ApiError> {
    let event = app
        .store
        .get_event(&d.tenant_id, &d.event_id)
        .await?
        .ok_or_else(|| ApiError::new(500, "internal", "The delivery's event is missing."))?;
    let payload = RawValue::from_string(event.payload.clone())
        .map_err(|_| ApiError::new(500, "internal", "The stored payload is not JSON."))?;
    Ok((event, payload))
}

/// `POST .../deliveries/{id}/retry` → 202: one manual attempt, made by the delivery function as
/// soon as it takes the message; recorded with `manual: true`; the schedule is left as it was.
pub async fn retry<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let delivery = load(app, tenant_id, delivery_id).await?;
    let (_, payload) = event_payload(app, &delivery).await?;
    let message = delivery_message(&delivery, &payload, true)?;
    app.queue.send(&[message]).await.map_err(enqueue_error)?;
    Ok(ApiResponse::json(
        202,
        &json!({"id": delivery.id, "status": delivery.status, "queued": true}),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    pub since: String,
    pub until: Option<String>,
}

/// `POST .../endpoints/{id}/recover` `{"since", "until"?}` → 202 `{"requeued": n}`.
pub async fn recover<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    principal: &Principal,
    tenant_id: &str,
    endpoint_id: &str,
    body: &[u8],
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    let req: Recover = parse_body(body)?;
    let now = now_millis();
    let since = parse_rfc3339(&req.since)
        .ok_or_else(|| ApiError::invalid("since", "must be an RFC 3339 time"))?;
    let until = match &req.until {
        Some(u) => parse_rfc3339(u)
            .ok_or_else(|| ApiError::invalid("until", "must be an RFC 3339 time"))?,
        None => now,
    };
    if since > until {
        return Err(ApiError::invalid("since", "must not be after until"));
    }
    if until - since > MAX_RECOVER_WINDOW_MS {
        return Err(ApiError::invalid(
            "since",
            "the window must be at most 14 days",
        ));
    }
    load_endpoint(app, tenant_id, endpoint_id).await?;
    let failed = app
        .store
        .failed_deliveries_between(tenant_id, endpoint_id, since, until)
        .await?;
    let mut requeued = 0;
    for delivery in &failed {
        if requeue(app, delivery, now).await? {
            requeued += 1;
        }
    }
    tracing::info!(endpoint_id, requeued, "failed deliveries recovered");
    Ok(ApiResponse::json(202, &super::views::Requeued { requeued }))
}

/// After an endpoint is enabled again: the deliveries that ended because it was disabled (since
/// `since`, at most the queue's retention back) go through their schedule again.
pub async fn resume_disabled<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    endpoint: &Endpoint,
    since: i64,
) -> Result<usize, ApiError> {
    let now = now_millis();
    let since = since.max(now - MAX_RECOVER_WINDOW_MS);
    let parked = app
        .store
        .failed_deliveries_between(
            &endpoint.tenant_id,
            &endpoint.id,
            since - MAX_RECOVER_WINDOW_MS,
            now,
        )
        .await?;
    let mut resumed = 0;
    for delivery in parked
        .iter()
        .filter(|d| d.last_error.as_deref() == Some(ENDPOINT_DISABLED) && d.updated_at >= since)
    {
        if requeue(app, delivery, now).await? {
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Restarts a failed delivery's schedule and enqueues it; false when it changed meanwhile.
async fn requeue<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    delivery: &DeliveryRecord,
    now: i64,
) -> Result<bool, ApiError> {
    match app.store.restart_delivery(delivery, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let (_, payload) = event_payload(app, delivery).await?;
    let message = delivery_message(delivery, &payload, false)?;
    if let Err(e) = app.queue.send(&[message]).await {
        // Put it back as it was, so the log does not show a pending delivery with no message.
        let reason = delivery
            .last_error
            .as_deref()
            .unwrap_or("could not be enqueued");
        let _ = app
            .store
            .fail_delivery(&delivery.tenant_id, &delivery.id, reason, now)
            .await;
        return Err(enqueue_error(e));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_parsing() {
        assert_eq!(
            parse_list_query("").unwrap(),
            ListQuery {
                status: None,
                limit: 20,
                after: None
            }
        );
        let id = IdKind::Delivery.generate();
        let q = parse_list_query(&format!(
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
                parse_list_query(bad).unwrap_err().field.as_deref(),
                Some(field),
                "{bad}"
            );
        }
    }
}
