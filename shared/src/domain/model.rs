//! The records the service keeps. Times are epoch milliseconds here; the API shows RFC 3339.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::clock::EpochMillis;
use crate::domain::secret::Secret;
use crate::domain::settings::SettingsPatch;

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
    /// Secrets replaced by a rotation that still sign until their grace period ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_secrets: Vec<PreviousSecret>,
    #[serde(default)]
    pub settings: SettingsPatch,
    /// Why the service disabled the endpoint (410 Gone, sustained failure); None when a user did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<EpochMillis>,
    /// Since when every finished delivery has failed (cleared by any success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<EpochMillis>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

/// The `last_error` of deliveries ended because their endpoint was disabled; re-enabling the
/// endpoint puts them back on their schedule.
pub const ENDPOINT_DISABLED: &str = "endpoint is disabled";

/// A rotated-out endpoint secret, valid until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub secret: Secret,
    pub expires_at: EpochMillis,
}

impl Endpoint {
    /// The secrets a delivery made at `now` is signed with: the current one first, then those
    /// still in their grace period.
    pub fn signing_secrets(&self, now: EpochMillis) -> Vec<Secret> {
        std::iter::once(self.secret.clone())
            .chain(
                self.previous_secrets
                    .iter()
                    .filter(|p| p.expires_at > now)
                    .map(|p| p.secret.clone()),
            )
            .collect()
    }
}

/// A tenant API key: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub tenant_id: String,
    pub key_sha256: String,
    pub created_at: EpochMillis,
    /// A portal session's end, in epoch **seconds** (the table's TTL attribute); tenant keys
    /// made through the API never expire (None).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl ApiKeyRecord {
    /// Whether the key still opens the API at `now` (epoch ms).
    pub fn is_live(&self, now: EpochMillis) -> bool {
        self.expires_at.is_none_or(|end| now / 1000 < end)
    }
}

/// The first answer to an event with a caller-chosen `id`, replayed for 24 h.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub tenant_id: String,
    pub key: String,
    /// Empty while the first request is still being processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    pub created_at: EpochMillis,
    /// TTL attribute (epoch seconds).
    pub expires_at: i64,
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
    /// The endpoints the event was fanned out to, in plan order: delivery `i` (see
    /// [`crate::domain::ids::delivery_id`]) goes to `endpoint_ids[i]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_ids: Vec<String>,
    /// The one-off receiver: the event's last delivery (index `endpoint_ids.len()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl EventRecord {
    /// How many deliveries the event has.
    pub fn delivery_count(&self) -> usize {
        self.endpoint_ids.len() + usize::from(self.webhook_url.is_some())
    }

    /// Delivery `index` as it stands before anything was recorded for it: pending, no
    /// attempt. `url` is the endpoint's (the caller looks it up) or the one-off URL.
    pub fn unrecorded_delivery(&self, index: usize, url: String) -> Option<DeliveryRecord> {
        let id = crate::domain::ids::delivery_id(&self.id, index)?;
        let endpoint_id = match self.endpoint_ids.get(index) {
            Some(ep) => Some(ep.clone()),
            None if index == self.endpoint_ids.len() && self.webhook_url.is_some() => None,
            None => return None,
        };
        Some(DeliveryRecord {
            id,
            tenant_id: self.tenant_id.clone(),
            event_id: self.id.clone(),
            event_type: self.event_type.clone(),
            endpoint_id,
            url,
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            retry_base: 0,
            next_attempt_at: None,
            last_error: None,
            seq: 0,
            restarted_at: None,
            created_at: self.created_at,
            updated_at: self.created_at,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    /// The stored and shown name (serde's snake_case name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The status a name stands for, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// Attempts made before the schedule last (re)started: a recovered delivery goes through
    /// its whole schedule again, so the schedule is indexed by `attempt_count - retry_base`.
    #[serde(default)]
    pub retry_base: u32,
    /// When the next scheduled attempt is due (pending deliveries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<EpochMillis>,
    /// Why a failed delivery stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How many records the delivery's log holds (attempts, restarts, failures without an
    /// attempt); 0 until the first. The next record is number `seq + 1`, and only one writer
    /// can add it.
    #[serde(default)]
    pub seq: u32,
    /// When the latest record is a restart (recover, resume): when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<EpochMillis>,
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
    pub outcome: crate::domain::attempt::Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
    #[serde(default)]
    pub manual: bool,
}

impl AttemptRecord {
    /// The result this record describes (`Retry-After` is not kept).
    pub fn result(&self) -> crate::domain::attempt::AttemptResult {
        crate::domain::attempt::AttemptResult {
            outcome: self.outcome,
            status_code: self.status_code,
            error: self.error.clone(),
            response_excerpt: self.response_excerpt.clone(),
            duration_ms: self.duration_ms,
            retry_after_seconds: None,
        }
    }
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
    /// One attempt now, outside the schedule (`POST .../deliveries/{id}/retry`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// The endpoint (None for a one-off `webhook_url` delivery): where the delivery's log is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// The one-off receiver of a delivery with no endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The message ingest sent with the event: nothing can have been recorded for the delivery
    /// before its first receive, so that receive attempts without reading the log.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initial: bool,
}

impl DeliveryMessage {
    pub const VERSION: u8 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_serdes_names() {
        for status in DeliveryStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(DeliveryStatus::parse("Pending"), None);
        assert_eq!(DeliveryStatus::parse(""), None);
    }

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
            manual: false,
            endpoint_id: Some("ep_1".into()),
            url: None,
            initial: true,
        };
        let body = serde_json::to_string(&msg).unwrap();
        let back: DeliveryMessage = serde_json::from_str(&body).unwrap();
        assert_eq!(back.payload.get(), payload);
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn signing_secrets_are_current_then_unexpired_previous() {
        let current = Secret::generate();
        let old = Secret::generate();
        let expired = Secret::generate();
        let ep = Endpoint {
            id: "ep".into(),
            tenant_id: "t".into(),
            url: "https://example.com".into(),
            event_types: vec!["*".into()],
            description: None,
            enabled: true,
            secret: current.clone(),
            previous_secrets: vec![
                PreviousSecret {
                    secret: old.clone(),
                    expires_at: 2_000,
                },
                PreviousSecret {
                    secret: expired,
                    expires_at: 500,
                },
            ],
            settings: SettingsPatch::default(),
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(ep.signing_secrets(1_000), vec![current.clone(), old]);
        assert_eq!(ep.signing_secrets(3_000), vec![current]);
    }
}
