//! The records the service keeps. Times are epoch milliseconds here; the API shows RFC 3339.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::clock::EpochMillis;
use crate::secret::Secret;
use crate::settings::SettingsPatch;

pub const DEFAULT_MAX_ENDPOINTS: u32 = 10;

/// A customer of the deploying SaaS team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub defaults: SettingsPatch,
    pub max_endpoints: u32,
    #[serde(default)]
    pub https_only: bool,
    /// Signs one-off `webhook_url` deliveries.
    pub signing_secret: Secret,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// A registered receiver of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: Secret,
    #[serde(default)]
    pub settings: SettingsPatch,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// An accepted event. `payload` is the exact JSON text received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: String,
    pub tenant_id: String,
    pub event_type: String,
    pub payload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub created_at: EpochMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One event going to one receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub event_type: String,
    /// None for a one-off `webhook_url` delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    /// When the next scheduled attempt is due (pending deliveries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<EpochMillis>,
    /// Why a failed delivery stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// While a worker holds the delivery for an attempt: until when, and who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<EpochMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub id: String,
    pub delivery_id: String,
    pub number: u32,
    pub url: String,
    pub started_at: EpochMillis,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub outcome: crate::attempt::Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
    #[serde(default)]
    pub manual: bool,
}

/// The body of one SQS message: one delivery to attempt. The payload travels with it, so an
/// attempt needs no read of the event.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub v: u8,
    pub tenant_id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: Box<RawValue>,
}

impl DeliveryMessage {
    pub const VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keeps_payload_bytes_exactly() {
        let payload = r#"{ "b":1,  "a" : [1.50, "é\u00e9"] }"#;
        let msg = DeliveryMessage {
            v: DeliveryMessage::VERSION,
            tenant_id: "t".into(),
            delivery_id: "dlv_1".into(),
            event_id: "evt_1".into(),
            event_type: "job.completed".into(),
            payload: RawValue::from_string(payload.into()).unwrap(),
        };
        let body = serde_json::to_string(&msg).unwrap();
        let back: DeliveryMessage = serde_json::from_str(&body).unwrap();
        assert_eq!(back.payload.get(), payload);
    }
}
