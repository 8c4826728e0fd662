//! The fan-out planner: which deliveries an event gets, their records, and their queue
//! messages. One planner for every path that creates or re-sends deliveries: event intake,
//! operational events, manual retry, recover and resume-after-re-enable.

use serde_json::value::RawValue;

use crate::domain::clock::EpochMillis;
use crate::domain::event_type::{EventType, any_matches};
use crate::domain::ids::{IdKind, MAX_DELIVERIES_PER_EVENT, delivery_id};
use crate::domain::model::{
    DeliveryMessage, DeliveryRecord, DeliveryStatus, Endpoint, EventRecord,
};
use crate::ports::queue::OutgoingMessage;

/// An event as accepted, before it has an id.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub tenant_id: &'a str,
    pub event_type: &'a EventType,
    pub payload: &'a RawValue,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub idempotency_key: Option<String>,
}

/// An event with the deliveries it gets: what is written, then enqueued.
#[derive(Debug, Clone)]
pub struct FanOut {
    pub event: EventRecord,
    pub deliveries: Vec<DeliveryRecord>,
}

/// Plans an event's deliveries: one per enabled endpoint subscribed to its type (in the order
/// given), then one to `one_off` (a per-event `webhook_url`) when present.
pub fn plan(
    new: NewEvent<'_>,
    endpoints: &[Endpoint],
    one_off: Option<&str>,
    now: EpochMillis,
) -> FanOut {
    plan_as(IdKind::Event.generate(), new, endpoints, one_off, now)
}

/// [`plan`] for an event whose id is already fixed (an idempotency key holds it).
pub fn plan_as(
    event_id: String,
    new: NewEvent<'_>,
    endpoints: &[Endpoint],
    one_off: Option<&str>,
    now: EpochMillis,
) -> FanOut {
    let mut targets: Vec<(Option<String>, String)> = endpoints
        .iter()
        .filter(|ep| ep.enabled && any_matches(&ep.event_types, new.event_type))
        .map(|ep| (Some(ep.id.clone()), ep.url.clone()))
        .take(MAX_DELIVERIES_PER_EVENT - usize::from(one_off.is_some()))
        .collect();
    if let Some(url) = one_off {
        targets.push((None, url.to_owned()));
    }
    // The event's time is its id's (the key it is kept under, and what a delivery message
    // says), so every view of it agrees to the millisecond.
    let created_at = crate::domain::ids::created_at(&event_id).unwrap_or(now);
    let event = EventRecord {
        id: event_id,
        tenant_id: new.tenant_id.to_owned(),
        event_type: new.event_type.to_string(),
        payload: new.payload.get().to_owned(),
        metadata: new.metadata,
        idempotency_key: new.idempotency_key,
        created_at,
        endpoint_ids: targets.iter().filter_map(|(ep, _)| ep.clone()).collect(),
        webhook_url: one_off.map(str::to_owned),
    };
    // Delivery i's id is the event's id with index i: the event names its deliveries.
    let deliveries = targets
        .into_iter()
        .enumerate()
        .map(|(i, (endpoint_id, url))| new_delivery(&event, i, endpoint_id, url, created_at))
        .collect();
    FanOut { event, deliveries }
}

/// Pending delivery number `index` of `event` to `url` (through endpoint `endpoint_id`, if
/// any). An index beyond what ids can name gives an id no store accepts.
pub fn new_delivery(
    event: &EventRecord,
    index: usize,
    endpoint_id: Option<String>,
    url: String,
    now: EpochMillis,
) -> DeliveryRecord {
    DeliveryRecord {
        id: delivery_id(&event.id, index).unwrap_or_default(),
        tenant_id: event.tenant_id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        endpoint_id,
        url,
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        retry_base: 0,
        next_attempt_at: None,
        last_error: None,
        seq: 0,
        restarted_at: None,
        created_at: now,
        updated_at: now,
    }
}

impl FanOut {
    /// One queue message per delivery, each carrying the payload (an attempt reads no event).
    pub fn messages(&self) -> Result<Vec<OutgoingMessage>, MessageError> {
        let payload = RawValue::from_string(self.event.payload.clone())
            .map_err(|e| MessageError(e.to_string()))?;
        self.deliveries
            .iter()
            .map(|d| encode(d, &payload, false, true))
            .collect()
    }
}

/// A delivery message could not be encoded (the stored payload is not JSON).
#[derive(Debug, thiserror::Error)]
#[error("delivery message not encoded: {0}")]
pub struct MessageError(pub String);

/// The queue message of one delivery; `manual` marks a one-off attempt that leaves the schedule
/// as it is.
pub fn delivery_message(
    d: &DeliveryRecord,
    payload: &RawValue,
    manual: bool,
) -> Result<OutgoingMessage, MessageError> {
    encode(d, payload, manual, false)
}

/// [`delivery_message`]; `initial` marks ingest's message, sent before anything can be
/// recorded for the delivery.
fn encode(
    d: &DeliveryRecord,
    payload: &RawValue,
    manual: bool,
    initial: bool,
) -> Result<OutgoingMessage, MessageError> {
    let message = DeliveryMessage {
        v: DeliveryMessage::VERSION,
        tenant_id: d.tenant_id.clone(),
        delivery_id: d.id.clone(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        payload: payload.to_owned(),
        manual,
        url: d.endpoint_id.is_none().then(|| d.url.clone()),
        endpoint_id: d.endpoint_id.clone(),
        initial,
    };
    serde_json::to_string(&message)
        .map(|body| OutgoingMessage {
            id: d.id.clone(),
            body,
        })
        .map_err(|e| MessageError(e.to_string()))
}

/// The queue message of a stored delivery of a stored event.
pub fn requeue_message(
    d: &DeliveryRecord,
    event: &EventRecord,
    manual: bool,
) -> Result<OutgoingMessage, MessageError> {
    let payload =
        RawValue::from_string(event.payload.clone()).map_err(|e| MessageError(e.to_string()))?;
    delivery_message(d, &payload, manual)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::secret::Secret;
    use crate::domain::settings::SettingsPatch;

    fn endpoint(id: &str, types: &[&str], enabled: bool) -> Endpoint {
        Endpoint {
            id: id.into(),
            tenant_id: "t".into(),
            url: format!("https://example.com/{id}"),
            event_types: types.iter().map(|s| (*s).to_owned()).collect(),
            description: None,
            enabled,
            secret: Secret::generate(),
            previous_secrets: vec![],
            settings: SettingsPatch::default(),
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn subscribed_enabled_endpoints_then_the_one_off_url() {
        let ty = EventType::parse("job.completed").unwrap();
        let payload = RawValue::from_string(r#"{ "a" : 1.50 }"#.into()).unwrap();
        let endpoints = [
            endpoint("ep_all", &["*"], true),
            endpoint("ep_job", &["job.*"], true),
            endpoint("ep_other", &["video.ready"], true),
            endpoint("ep_off", &["*"], false),
        ];
        let new = NewEvent {
            tenant_id: "t",
            event_type: &ty,
            payload: &payload,
            metadata: None,
            idempotency_key: Some("k".into()),
        };
        let plan = plan(new, &endpoints, Some("https://once.example/"), 42);
        let targets: Vec<_> = plan
            .deliveries
            .iter()
            .map(|d| (d.endpoint_id.as_deref(), d.url.as_str()))
            .collect();
        assert_eq!(
            targets,
            vec![
                (Some("ep_all"), "https://example.com/ep_all"),
                (Some("ep_job"), "https://example.com/ep_job"),
                (None, "https://once.example/"),
            ]
        );
        assert!(plan.deliveries.iter().all(|d| d.event_id == plan.event.id
            && d.status == DeliveryStatus::Pending
            && d.created_at == plan.event.created_at));
        assert_eq!(plan.event.idempotency_key.as_deref(), Some("k"));
        let mut by_id = plan.deliveries.clone();
        by_id.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(by_id, plan.deliveries, "key order is plan order");
        let messages = plan.messages().unwrap();
        assert_eq!(messages.len(), 3);
        let first: DeliveryMessage = serde_json::from_str(&messages[0].body).unwrap();
        assert_eq!(
            first.payload.get(),
            r#"{ "a" : 1.50 }"#,
            "payload bytes kept"
        );
        assert_eq!(messages[0].id, plan.deliveries[0].id);
        assert!(!first.manual);
        assert!(first.initial, "ingest's messages are the initial ones");
        assert_eq!(first.endpoint_id.as_deref(), Some("ep_all"));
        assert_eq!(first.url, None, "an endpoint's URL is read at attempt time");
        let last: DeliveryMessage = serde_json::from_str(&messages[2].body).unwrap();
        assert_eq!(last.url.as_deref(), Some("https://once.example/"));
        assert_eq!(plan.event.endpoint_ids, vec!["ep_all", "ep_job"]);
        assert_eq!(
            plan.event.webhook_url.as_deref(),
            Some("https://once.example/")
        );
        for (i, d) in plan.deliveries.iter().enumerate() {
            assert_eq!(
                crate::domain::ids::parse_delivery_id(&d.id),
                Some((plan.event.id.clone(), i)),
                "delivery {i} names its event"
            );
            let url = if i < 2 {
                d.url.clone()
            } else {
                "https://once.example/".into()
            };
            assert_eq!(plan.event.unrecorded_delivery(i, url).as_ref(), Some(d));
        }
        assert_eq!(plan.event.unrecorded_delivery(3, String::new()), None);
        let again: DeliveryMessage = serde_json::from_str(
            &delivery_message(&plan.deliveries[0], &payload, true)
                .unwrap()
                .body,
        )
        .unwrap();
        assert!(
            again.manual && !again.initial,
            "a re-sent delivery reads its log first"
        );
    }
}
