//! Operational events: what an operator wants to hear about, as structured log lines and, when
//! an operator webhook URL is configured, as signed deliveries to it through the same pipeline
//! (a reserved operator tenant). Events about the operator tenant's own deliveries are never
//! emitted, so a failing operator endpoint cannot feed itself.

use serde_json::{Value, json};
use shared::domain::clock::{EpochMillis, rfc3339};
use shared::domain::secret::Secret;

/// The reserved tenant that owns operational events.
pub const OPERATOR_TENANT: &str = "hookrelay-operator";

#[derive(Debug, Clone)]
pub struct OperatorConfig {
    pub webhook_url: String,
    /// The operator tenant's signing secret (generated on first use when absent).
    pub signing_secret: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpEvent {
    EndpointDisabled {
        tenant_id: String,
        endpoint_id: String,
        reason: String,
    },
    DeliveryExhausted {
        tenant_id: String,
        endpoint_id: Option<String>,
        delivery_id: String,
        event_id: String,
        attempts: u32,
        last_error: String,
    },
    DeliveryRecovered {
        tenant_id: String,
        endpoint_id: Option<String>,
        delivery_id: String,
        event_id: String,
        failed_attempts: u32,
    },
}

impl OpEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EndpointDisabled { .. } => "endpoint.disabled",
            Self::DeliveryExhausted { .. } => "delivery.exhausted",
            Self::DeliveryRecovered { .. } => "delivery.recovered",
        }
    }

    pub fn tenant_id(&self) -> &str {
        match self {
            Self::EndpointDisabled { tenant_id, .. }
            | Self::DeliveryExhausted { tenant_id, .. }
            | Self::DeliveryRecovered { tenant_id, .. } => tenant_id,
        }
    }

    /// The webhook payload.
    pub fn payload(&self, at: EpochMillis) -> Value {
        let mut v = match self {
            Self::EndpointDisabled {
                tenant_id,
                endpoint_id,
                reason,
            } => {
                json!({"tenant_id": tenant_id, "endpoint_id": endpoint_id, "reason": reason})
            }
            Self::DeliveryExhausted {
                tenant_id,
                endpoint_id,
                delivery_id,
                event_id,
                attempts,
                last_error,
            } => json!({
                "tenant_id": tenant_id, "endpoint_id": endpoint_id, "delivery_id": delivery_id,
                "event_id": event_id, "attempts": attempts, "last_error": last_error
            }),
            Self::DeliveryRecovered {
                tenant_id,
                endpoint_id,
                delivery_id,
                event_id,
                failed_attempts,
            } => json!({
                "tenant_id": tenant_id, "endpoint_id": endpoint_id, "delivery_id": delivery_id,
                "event_id": event_id, "failed_attempts": failed_attempts
            }),
        };
        if let Some(obj) = v.as_object_mut() {
            obj.insert("type".into(), json!(self.kind()));
            obj.insert("at".into(), json!(rfc3339(at)));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_their_type_and_ids() {
        let e = OpEvent::EndpointDisabled {
            tenant_id: "t".into(),
            endpoint_id: "ep_1".into(),
            reason: "gone".into(),
        };
        let p = e.payload(0);
        assert_eq!(p["type"], "endpoint.disabled");
        assert_eq!(p["endpoint_id"], "ep_1");
        assert_eq!(p["at"], "1970-01-01T00:00:00.000Z");
        let r = OpEvent::DeliveryRecovered {
            tenant_id: "t".into(),
            endpoint_id: None,
            delivery_id: "dlv_1".into(),
            event_id: "evt_1".into(),
            failed_attempts: 4,
        };
        assert_eq!(r.kind(), "delivery.recovered");
        assert_eq!(r.payload(0)["failed_attempts"], 4);
    }
}
