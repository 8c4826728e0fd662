//! From a source's record to an event of one tenant, as `POST .../events` takes it: the same
//! JSON, with the tenant beside it and the source's own id as the idempotency key.
//!
//! - **SQS** (and SNS through SQS): the message body is the HTTP route's JSON plus `tenant_id`;
//!   the message id is the idempotency key unless the body has `id`. A body that is an SNS
//!   notification (raw message delivery off) is unwrapped, and the SNS message id is the key, so
//!   one notification reaching the queue twice is one event.
//! - **SNS** to the function: the same, from the notification's message.
//! - **EventBridge**: `detail-type` (or a configured field) is the type, `detail` the payload
//!   (its bytes as received), the event's `id` the key, the tenant from a configured field of
//!   the event or one fixed tenant.
//!
//! Values are moved as raw JSON, never re-encoded: payload bytes arrive as sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::SourceConfig;
use crate::error::ApiError;

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Sqs,
    Sns,
    EventBridge,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqs => "sqs",
            Self::Sns => "sns",
            Self::EventBridge => "eventbridge",
        }
    }
}

/// One record of a source, as kept with a rejection (so a re-submission maps it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub source: Source,
    /// The source's id of the record (SQS or SNS message id, EventBridge event id).
    pub message_id: String,
    /// The record's text: an SQS body, an SNS message, an EventBridge event.
    pub text: String,
}

/// An event for one tenant: the JSON `POST .../events` takes.
#[derive(Debug)]
pub struct Mapped {
    pub tenant_id: String,
    pub event: Box<RawValue>,
}

type Fields = BTreeMap<String, Box<RawValue>>;

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::invalid(field, message)
}

/// The JSON string a raw value holds, if it is one.
fn string_of(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

fn raw_string(s: &str) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(s).map_err(|_| ApiError::Internal("a string did not encode"))
}

fn encode(fields: &Fields) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(fields)
        .map_err(|_| ApiError::Internal("an event did not encode"))
}

/// An SNS notification as SQS holds it when raw message delivery is off.
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "TopicArn")]
    _topic_arn: String,
    #[serde(rename = "Message")]
    message: String,
}

impl SourceRecord {
    /// The event this record carries, or why it cannot be one (the field at fault).
    pub fn map(&self, config: &SourceConfig) -> Result<Mapped, ApiError> {
        match self.source {
            Source::Sqs => match serde_json::from_str::<SnsEnvelope>(&self.text) {
                Ok(sns) if sns.kind == "Notification" => body_event(&sns.message, &sns.message_id),
                _ => body_event(&self.text, &self.message_id),
            },
            Source::Sns => body_event(&self.text, &self.message_id),
            Source::EventBridge => eventbridge_event(&self.text, config),
        }
    }
}

/// A body with `tenant_id` beside the event's fields; `id` defaults to `message_id`.
fn body_event(text: &str, message_id: &str) -> Result<Mapped, ApiError> {
    let mut fields: Fields = serde_json::from_str(text).map_err(|_| {
        ApiError::malformed("The message must be a JSON object: the event plus tenant_id.")
    })?;
    let tenant_id = fields
        .remove("tenant_id")
        .and_then(|raw| string_of(&raw))
        .ok_or_else(|| invalid("tenant_id", "is required: the tenant the event is for"))?;
    if !fields.contains_key("id") {
        fields.insert("id".into(), raw_string(message_id)?);
    }
    Ok(Mapped {
        tenant_id,
        event: encode(&fields)?,
    })
}

/// The value at a dotted path of a JSON document, as a string.
fn string_at(document: &serde_json::Value, path: &str) -> Option<String> {
    let mut at = document;
    // `detail-type` is a top-level name with a dash; paths are dot-separated names.
    for part in path.split('.') {
        at = at.get(part)?;
    }
    at.as_str().map(str::to_owned)
}

fn eventbridge_event(text: &str, config: &SourceConfig) -> Result<Mapped, ApiError> {
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;
    let event: EventBridgeEvent<Box<RawValue>> =
        serde_json::from_str(text).map_err(|_| ApiError::malformed("Not an EventBridge event."))?;
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|_| ApiError::malformed("Not an EventBridge event."))?;
    let event_type = if config.eventbridge_type_field == "detail-type" {
        event.detail_type.clone()
    } else {
        string_at(&document, &config.eventbridge_type_field).ok_or_else(|| {
            invalid(
                &config.eventbridge_type_field,
                "must hold the event type (a string)",
            )
        })?
    };
    let tenant_id = match &config.eventbridge_tenant {
        Some(fixed) => fixed.clone(),
        None => string_at(&document, &config.eventbridge_tenant_field).ok_or_else(|| {
            invalid(
                &config.eventbridge_tenant_field,
                "must hold the tenant id (a string)",
            )
        })?,
    };
    let id = event
        .id
        .clone()
        .ok_or_else(|| invalid("id", "an EventBridge event has an id"))?;
    let fields = Fields::from([
        ("event_type".to_owned(), raw_string(&event_type)?),
        ("payload".to_owned(), event.detail),
        ("id".to_owned(), raw_string(&id)?),
    ]);
    Ok(Mapped {
        tenant_id,
        event: encode(&fields)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(source: Source, text: &str) -> SourceRecord {
        SourceRecord {
            source,
            message_id: "m-1".into(),
            text: text.into(),
        }
    }

    fn fields(m: &Mapped) -> serde_json::Value {
        serde_json::from_str(m.event.get()).unwrap()
    }

    #[test]
    fn sqs_bodies_carry_the_tenant_and_default_the_id_to_the_message_id() {
        let config = SourceConfig::default();
        let payload = r#"{"amount": 1.50, "big": 12345678901234567890, "z": 1, "a": 2}"#;
        let text = format!(r#"{{"tenant_id": "acme", "event_type": "a.b", "payload": {payload}}}"#);
        let m = record(Source::Sqs, &text).map(&config).unwrap();
        assert_eq!(m.tenant_id, "acme");
        assert!(
            m.event.get().contains(payload),
            "payload bytes as sent: {}",
            m.event.get()
        );
        assert_eq!(fields(&m)["id"], "m-1");
        assert!(fields(&m).get("tenant_id").is_none());
        let own = r#"{"tenant_id": "acme", "event_type": "a.b", "payload": {}, "id": "mine"}"#;
        assert_eq!(
            fields(&record(Source::Sqs, own).map(&config).unwrap())["id"],
            "mine"
        );
        for (bad, field) in [
            (r#"{"event_type": "a.b", "payload": {}}"#, Some("tenant_id")),
            (
                r#"{"tenant_id": 7, "event_type": "a.b", "payload": {}}"#,
                Some("tenant_id"),
            ),
            ("not json", None),
        ] {
            let err = record(Source::Sqs, bad).map(&config).unwrap_err();
            assert_eq!(err.body()["error"]["field"].as_str(), field, "{bad}");
        }
    }

    #[test]
    fn sns_notifications_in_sqs_are_unwrapped_with_the_sns_message_id() {
        let inner = r#"{"tenant_id":"acme","event_type":"a.b","payload":{"k":"v"}}"#;
        let envelope = serde_json::json!({
            "Type": "Notification", "MessageId": "sns-7", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": inner, "Timestamp": "2026-11-30T00:00:00Z"
        });
        let m = record(Source::Sqs, &envelope.to_string())
            .map(&SourceConfig::default())
            .unwrap();
        assert_eq!(m.tenant_id, "acme");
        assert_eq!(fields(&m)["id"], "sns-7");
        assert!(m.event.get().contains(r#"{"k":"v"}"#));
    }

    #[test]
    fn eventbridge_events_map_type_detail_and_id() {
        let text = r#"{"version":"0","id":"eb-1","detail-type":"invoice.paid","source":"billing",
            "account":"1","time":"2026-11-30T00:00:00Z","region":"us-east-1","resources":[],
            "detail":{"tenant_id":"acme","type":"inv.paid","total":10.10}}"#;
        let mut config = SourceConfig::default();
        let m = record(Source::EventBridge, text).map(&config).unwrap();
        assert_eq!(
            (m.tenant_id.as_str(), &fields(&m)["event_type"]),
            ("acme", &serde_json::json!("invoice.paid"))
        );
        assert_eq!(fields(&m)["id"], "eb-1");
        assert!(
            m.event.get().contains(r#""total":10.10"#),
            "{}",
            m.event.get()
        );
        config.eventbridge_type_field = "detail.type".into();
        config.eventbridge_tenant = Some("fixed".into());
        let m = record(Source::EventBridge, text).map(&config).unwrap();
        assert_eq!(
            (m.tenant_id.as_str(), &fields(&m)["event_type"]),
            ("fixed", &serde_json::json!("inv.paid"))
        );
        config.eventbridge_tenant = None;
        config.eventbridge_tenant_field = "detail.customer".into();
        assert!(record(Source::EventBridge, text).map(&config).is_err());
    }
}
