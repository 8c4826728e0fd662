//! The second half of idempotent intake: a retry that resumes the event an earlier request
//! failed to finish (same event id, so receivers never see a second `webhook-id` for it), and
//! the answer of an accepted event rebuilt from the table (the key keeps only the event id).

use url::Url;

use shared::domain::clock::now_millis;
use shared::domain::fanout::{self, requeue_message};
use shared::domain::log::after_restart;
use shared::domain::model::{DeliveryRecord, DeliveryStatus, EventRecord, Tenant};
use shared::ports::{
    DeliveryControl, EndpointRead, Enqueue, EventRead, EventWrite, OutgoingMessage, StoreError,
};

use super::idempotency::Left;
use super::intake::{NOT_ENQUEUED, ValidEvent, not_enqueued};
use crate::error::ApiError;
use crate::views::AcceptedEvent;

/// The event a request resumes, and how the earlier request left it.
#[derive(Debug, Clone, Copy)]
pub struct Resume<'a> {
    pub event_id: &'a str,
    pub left: Left,
}

/// Finishes the event of an earlier request: writes the event when it did not, and sends the
/// messages that may be missing. After a request that stopped without a word, every delivery
/// with nothing recorded is enqueued again (its message may never have been sent; one sent
/// twice is harmless — each attempt is recorded once). Deliveries it recorded as not enqueued
/// are restarted and enqueued. After one that failed and said so, what it did enqueue is not
/// sent again.
pub async fn resume<S, Q>(
    store: &S,
    queue: &Q,
    tenant: &Tenant,
    event: &ValidEvent,
    one_off: Option<&Url>,
    how: Resume<'_>,
) -> Result<AcceptedEvent, ApiError>
where
    S: EndpointRead + EventWrite + EventRead + DeliveryControl + ?Sized,
    Q: Enqueue + ?Sized,
{
    let event_id = how.event_id;
    let now = now_millis();
    let (event_record, written_now) = match store.get_event(&tenant.id, event_id).await? {
        // The first request's event, when it was written, is the event.
        Some(stored) => (stored, false),
        None => {
            let endpoints = store.list_endpoints(&tenant.id).await?;
            let plan = fanout::plan_as(
                event_id.to_owned(),
                event.as_new(&tenant.id),
                &endpoints,
                one_off.map(Url::as_str),
                now,
            );
            store.put_event(&plan.event).await?;
            (plan.event, true)
        }
    };
    let existing = store.list_event_deliveries(&tenant.id, event_id).await?;
    let mut to_send: Vec<DeliveryRecord> = Vec::new();
    for d in &existing {
        match (d.status, d.seq, d.last_error.as_deref()) {
            (DeliveryStatus::Pending, 0, _) if written_now || how.left == Left::Silent => {
                to_send.push(d.clone());
            }
            (DeliveryStatus::Failed, _, Some(NOT_ENQUEUED)) => {
                match store.restart_delivery(d, now).await {
                    Ok(()) => to_send.extend(after_restart(d, now).map(|r| r.state)),
                    // Put back by a concurrent retry, or this very write went through before
                    // a retry of it (then it is ours, and still needs its message).
                    Err(StoreError::Conflict) => {
                        let latest = store.list_event_deliveries(&tenant.id, event_id).await?;
                        to_send.extend(
                            latest
                                .into_iter()
                                .find(|l| l.id == d.id && l.restarted_at == Some(now)),
                        );
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            _ => {} // recorded already: it has its own message
        }
    }
    let messages = to_send
        .iter()
        .map(|d| requeue_message(d, &event_record, false))
        .collect::<Result<Vec<OutgoingMessage>, _>>()?;
    if let Err(e) = queue.send(&messages).await {
        return Err(not_enqueued(store, &to_send, e, now).await);
    }
    tracing::info!(event_id, resent = to_send.len(), "event resumed");
    Ok(AcceptedEvent::from_records(&event_record, &existing))
}

/// The answer of an accepted event, rebuilt from it and its deliveries (read back in the order
/// they were planned), as JSON text.
pub async fn answer_of<S: EventRead + ?Sized>(
    store: &S,
    tenant_id: &str,
    event_id: &str,
) -> Result<String, ApiError> {
    let (event, deliveries): (Option<EventRecord>, _) = futures::try_join!(
        store.get_event(tenant_id, event_id),
        store.list_event_deliveries(tenant_id, event_id)
    )?;
    let event = event.ok_or(ApiError::Internal("The first request's event is missing."))?;
    serde_json::to_string(&AcceptedEvent::from_records(&event, &deliveries))
        .map_err(|_| ApiError::Internal("The first answer could not be encoded."))
}
