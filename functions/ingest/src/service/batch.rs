//! Batch intake (`POST /v1/tenants/{tenant_id}/events/batch`): up to [`MAX_EVENTS`] events,
//! each one validated and submitted exactly as the single-event route does
//! ([`super::intake::submit`]: same rules, same idempotency), each with its own answer.
//!
//! - The envelope is checked first: not JSON is 400, no `events` array or a count outside
//!   1..=100 is 422, and then nothing is accepted.
//! - The tenant is read once up front: an unknown tenant is one 404 for the whole request; it
//!   and its endpoints are read once for all the events ([`super::batch_reads`]).
//! - Events run side by side ([`CONCURRENCY`] at once) and their messages are enqueued together
//!   ([`super::coalesce`]), so SendMessageBatch calls are filled across events.
//! - A repeated `id` inside one batch behaves as if the events had been sent one after the
//!   other: the first occurrence is submitted first, each later one in a later round, so it gets
//!   200 with the first answer (or, if the first failed, takes over as the single route would).

use std::collections::HashMap;

use futures::StreamExt;
use serde::Deserialize;
use serde_json::value::RawValue;

use shared::ports::{
    DeliveryControl, EndpointRead, Enqueue, EventRead, EventWrite, Idempotency, TenantRead,
};

use super::coalesce::Coalesced;
use super::idempotency::Answer;
use super::intake::{self, CreateEvent, ValidEvent};
use crate::config::IngestConfig;
use crate::error::ApiError;
use crate::extract::parse_body;
use crate::service::catalog::Strict;
use crate::views::AcceptedEvent;

/// Most events in one batch request.
pub const MAX_EVENTS: usize = 100;
/// Events of a batch submitted at once: a multiple of SendMessageBatch's 10 entries, so the
/// messages of each group fill whole calls (16 made 2 calls of 10 and 6 per 16 events).
const CONCURRENCY: usize = 20;

// The `POST .../events/batch` body (no doc comment: it would enter the OpenAPI document).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvents {
    /// 1 to 100 events, each as `POST /v1/tenants/{tenant_id}/events` takes it.
    #[schema(value_type = Vec<CreateEvent>, min_items = 1, max_items = 100)]
    pub events: Vec<Box<RawValue>>,
}

/// What became of one event of a batch.
pub enum BatchOutcome {
    /// Accepted and queued (202).
    Accepted(AcceptedEvent),
    /// A repeat of an `id`: the first answer, as JSON text (200).
    Repeat(String),
    /// Refused or failed, with the status and body the single route would answer.
    Failed(ApiError),
}

impl CreateEvents {
    /// The envelope's events, if their count is within 1..=[`MAX_EVENTS`].
    pub fn checked(self) -> Result<Vec<Box<RawValue>>, ApiError> {
        if self.events.is_empty() || self.events.len() > MAX_EVENTS {
            return Err(ApiError::invalid(
                "events",
                format!(
                    "must hold 1 to {MAX_EVENTS} events, not {}",
                    self.events.len()
                ),
            ));
        }
        Ok(self.events)
    }
}

/// One event of the batch parsed as the single route parses its body.
/// With the strict catalog, its type must be catalogued.
fn parse_one(
    raw: &RawValue,
    max_payload_bytes: usize,
    strict: &Strict,
) -> Result<ValidEvent, ApiError> {
    let body: CreateEvent = parse_body(raw.get().as_bytes())?;
    let event = ValidEvent::parse(body, max_payload_bytes)?;
    strict.check_event_type(event.event_type())?;
    Ok(event)
}

/// The round of each event: 0 for events without an `id` and for the first occurrence of an
/// `id`, n for its n-th repeat within the batch. `None` for events that did not parse.
fn rounds(events: &[Result<ValidEvent, ApiError>]) -> Vec<Option<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    events
        .iter()
        .map(|e| {
            let event = e.as_ref().ok()?;
            Some(event.idempotency_key().map_or(0, |key| {
                let n = seen.entry(key).or_default();
                *n += 1;
                *n - 1
            }))
        })
        .collect()
}

/// Submits every event of a batch; answers in the order of the request.
pub async fn submit_all<S, Q>(
    store: &S,
    queue: &Q,
    config: &IngestConfig,
    strict: &Strict,
    tenant_id: &str,
    raw: Vec<Box<RawValue>>,
) -> Result<Vec<BatchOutcome>, ApiError>
where
    S: TenantRead + EndpointRead + EventWrite + EventRead + DeliveryControl + Idempotency + ?Sized,
    Q: Enqueue + ?Sized,
{
    // The tenant and its endpoints are read once for the whole request.
    let shared = super::batch_reads::SharedReads::new(store);
    let store = &shared;
    super::tenants::load(store, tenant_id).await?;
    let parsed: Vec<Result<ValidEvent, ApiError>> = raw
        .iter()
        .map(|r| parse_one(r, config.max_payload_bytes, strict))
        .collect();
    let round_of = rounds(&parsed);
    let mut slots: Vec<Option<ValidEvent>> = Vec::with_capacity(parsed.len());
    let mut outcomes: Vec<Option<BatchOutcome>> = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p {
            Ok(event) => {
                slots.push(Some(event));
                outcomes.push(None);
            }
            Err(e) => {
                slots.push(None);
                outcomes.push(Some(BatchOutcome::Failed(e)));
            }
        }
    }
    let last_round = round_of.iter().flatten().copied().max();
    for round in 0..=last_round.unwrap_or(0) {
        let ready: Vec<(usize, ValidEvent)> = round_of
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == Some(round))
            .filter_map(|(i, _)| slots[i].take().map(|e| (i, e)))
            .collect();
        for (i, outcome) in submit_round(store, queue, config, tenant_id, ready).await {
            outcomes[i] = Some(outcome);
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(BatchOutcome::Failed(ApiError::Internal(
                "The event was not submitted.",
            )))
        })
        .collect())
}

/// Submits events side by side, their messages enqueued together.
async fn submit_round<S, Q>(
    store: &S,
    queue: &Q,
    config: &IngestConfig,
    tenant_id: &str,
    events: Vec<(usize, ValidEvent)>,
) -> Vec<(usize, BatchOutcome)>
where
    S: TenantRead + EndpointRead + EventWrite + EventRead + DeliveryControl + Idempotency + ?Sized,
    Q: Enqueue + ?Sized,
{
    let shared_queue = Coalesced::new(queue);
    let shared_queue = &shared_queue;
    futures::stream::iter(events)
        .map(|(i, event)| {
            // Counted from now, before its first poll: the submits started together are all
            // counted before the first of them reaches its send.
            let running = shared_queue.enter();
            async move {
                let outcome =
                    match intake::submit(store, shared_queue, config, tenant_id, event).await {
                        Ok(Answer::First(accepted)) => BatchOutcome::Accepted(accepted),
                        Ok(Answer::Repeat(first)) => BatchOutcome::Repeat(first),
                        Err(e) => BatchOutcome::Failed(e),
                    };
                drop(running);
                (i, outcome)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(id: Option<&str>) -> Result<ValidEvent, ApiError> {
        let id = id.map_or(String::new(), |i| format!(r#","id":"{i}""#));
        let raw =
            RawValue::from_string(format!(r#"{{"event_type":"a.b","payload":{{}}{id}}}"#)).unwrap();
        parse_one(&raw, 1024, &Strict::off())
    }

    #[test]
    fn repeats_of_an_id_go_in_later_rounds() {
        let bad = Err(ApiError::malformed("x"));
        let events = [
            event(Some("k")),
            event(None),
            event(Some("k")),
            bad,
            event(Some("j")),
            event(Some("k")),
        ];
        assert_eq!(
            rounds(&events),
            [Some(0), Some(0), Some(1), None, Some(0), Some(2)]
        );
    }

    #[test]
    fn the_envelope_holds_1_to_100_events() {
        let with = |n: usize| CreateEvents {
            events: (0..n)
                .map(|_| RawValue::from_string("{}".into()).unwrap())
                .collect(),
        };
        assert!(with(0).checked().is_err());
        assert_eq!(with(1).checked().unwrap().len(), 1);
        assert_eq!(with(100).checked().unwrap().len(), 100);
        let e = with(101).checked().unwrap_err();
        assert_eq!((e.status().as_u16(), e.field()), (422, Some("events")));
    }
}
