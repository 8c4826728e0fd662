//! The event-type catalog: the types a deployment's events may have, each with a description,
//! an optional JSON Schema of its payload and an example payload (what the portal lists for
//! customers to subscribe to, and what a test event sends). With the deployment's strict option,
//! endpoints may subscribe only to catalogued types (or patterns that match one) and events of
//! other types are refused.

use serde::{Deserialize, Serialize};

use crate::domain::clock::EpochMillis;
use crate::domain::event_type::{EventType, EventTypePattern};

/// The longest description kept (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// The most JSON text a schema or an example may take (bytes, each): with
/// [`MAX_EVENT_TYPES`] entries the whole catalog stays under 5 MB, one Lambda answer.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// The most entries the catalog holds.
pub const MAX_EVENT_TYPES: usize = 150;

/// One catalogued event type. `schema` and `example` are kept as the JSON text given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeRecord {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// What is wrong with a catalog entry: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub field: &'static str,
    pub message: String,
}

fn fault(field: &'static str, message: impl Into<String>) -> CatalogError {
    CatalogError {
        field,
        message: message.into(),
    }
}

/// A catalog entry as asked for: checked, with its JSON documents as text.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTypeInput {
    pub name: EventType,
    pub description: String,
    pub schema: Option<String>,
    pub example: Option<String>,
}

impl EventTypeInput {
    /// Checks a requested entry. `schema` must be a JSON object (a JSON Schema) and `example` a
    /// JSON object (events' payloads are objects); `null` or absent leaves either out.
    pub fn parse(
        name: &str,
        description: &str,
        schema: Option<&serde_json::value::RawValue>,
        example: Option<&serde_json::value::RawValue>,
    ) -> Result<Self, CatalogError> {
        let name = EventType::parse(name).map_err(|m| fault("name", m))?;
        let description = description.trim().to_owned();
        if description.is_empty() {
            return Err(fault("description", "must not be empty"));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(fault(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        Ok(Self {
            name,
            description,
            schema: document("schema", schema)?,
            example: document("example", example)?,
        })
    }

    /// The record to store, made or replaced at `now` (the store keeps an existing
    /// `created_at`).
    pub fn record(&self, now: EpochMillis) -> EventTypeRecord {
        EventTypeRecord {
            name: self.name.as_str().to_owned(),
            description: self.description.clone(),
            schema: self.schema.clone(),
            example: self.example.clone(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// A JSON object given as `field`, as compact text; None for `null` or absent.
fn document(
    field: &'static str,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<Option<String>, CatalogError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    if text == "null" {
        return Ok(None);
    }
    if !text.starts_with('{') {
        return Err(fault(field, "must be a JSON object or null"));
    }
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(fault(
            field,
            format!("must be at most {MAX_DOCUMENT_BYTES} bytes of JSON"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Whether an endpoint may subscribe to `pattern` under a strict catalog holding `known`: a
/// catalogued type, or a pattern that matches at least one.
pub fn pattern_is_catalogued<S: AsRef<str>>(pattern: &EventTypePattern, known: &[S]) -> bool {
    known.iter().any(|name| {
        EventType::parse(name.as_ref()).is_ok_and(|event_type| pattern.matches(&event_type))
    })
}

/// Whether `event_type` is catalogued.
pub fn type_is_catalogued<S: AsRef<str>>(event_type: &str, known: &[S]) -> bool {
    known.iter().any(|name| name.as_ref() == event_type)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::value::RawValue;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let ok = EventTypeInput::parse(
            "invoice.paid",
            "  An invoice was paid. ",
            Some(&raw(r#"{"type": "object"}"#)),
            Some(&raw(r#"{"id": "in_1"}"#)),
        )
        .unwrap();
        assert_eq!(ok.description, "An invoice was paid.");
        assert_eq!(ok.schema.as_deref(), Some(r#"{"type": "object"}"#));
        let null = raw("null");
        let none = EventTypeInput::parse("a", "d", Some(&null), None).unwrap();
        assert_eq!((none.schema, none.example), (None, None));
        for (name, description, schema, example, field) in [
            ("bad type!", "d", None, None, "name"),
            ("a.*", "d", None, None, "name"),
            ("a", " ", None, None, "description"),
            ("a", "d", Some("[1]"), None, "schema"),
            ("a", "d", None, Some("\"text\""), "example"),
        ] {
            let schema = schema.map(raw);
            let example = example.map(raw);
            let err =
                EventTypeInput::parse(name, description, schema.as_deref(), example.as_deref())
                    .unwrap_err();
            assert_eq!(err.field, field, "{name} {description}");
        }
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        assert_eq!(
            EventTypeInput::parse("a", &long, None, None)
                .unwrap_err()
                .field,
            "description"
        );
        let big = raw(&format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_DOCUMENT_BYTES)));
        assert_eq!(
            EventTypeInput::parse("a", "d", None, Some(&big))
                .unwrap_err()
                .field,
            "example"
        );
    }

    #[test]
    fn strict_subscriptions_need_a_catalogued_match() {
        let known = ["invoice.paid", "invoice.voided", "user.created"];
        let allowed = |p: &str| pattern_is_catalogued(&EventTypePattern::parse(p).unwrap(), &known);
        assert!(allowed("invoice.paid"));
        assert!(allowed("invoice.*"));
        assert!(allowed("*"));
        assert!(!allowed("invoice.refunded"));
        assert!(!allowed("order.*"));
        assert!(!pattern_is_catalogued(
            &EventTypePattern::All,
            &[] as &[&str]
        ));
        assert!(type_is_catalogued("user.created", &known));
        assert!(!type_is_catalogued("user", &known));
    }
}
