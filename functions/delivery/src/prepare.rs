//! Prepare: everything an attempt needs before the POST, as one typed value ([`Dispatch`]).
//! Resolves where the delivery goes (tenant and endpoint, through the caches), ends it when it
//! can no longer be made (tenant or endpoint gone, endpoint disabled, nothing to sign with),
//! cuts the timeout to the invocation deadline, signs and builds the request.

use std::sync::Arc;
use std::time::Duration;

use shared::domain::attempt::{AttemptResult, Outcome};
use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::model::{DeliveryMessage, DeliveryRecord, ENDPOINT_DISABLED, Endpoint, Tenant};
use shared::domain::own_hosts::OwnHosts;
use shared::domain::secret::Secret;
use shared::domain::settings::DeliverySettings;
use shared::domain::signing::{SigningError, SigningInput, signature_headers};
use shared::ports::{Enqueue, OutboundRequest, Sender, StoreError, Visibility};
use tracing::warn;

use crate::action::Action;
use crate::schedule;
use crate::worker::{Worker, WorkerStore};

/// Where and how one delivery goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub settings: DeliverySettings,
    pub secrets: Vec<Secret>,
    /// None for a one-off `webhook_url` delivery.
    pub endpoint: Option<Arc<Endpoint>>,
}

/// One attempt, ready to send.
#[derive(Debug)]
pub struct Dispatch {
    pub delivery_id: String,
    /// The attempt's number, 1-based.
    pub number: u32,
    pub manual: bool,
    pub target: Target,
    /// How long the attempt may take (cut to the invocation deadline).
    pub timeout: Duration,
    /// The signed request, or, when the stored URL does not parse, the result of an attempt
    /// that cannot be made (blocked, as today's delivery log shows it).
    pub request: Result<OutboundRequest, AttemptResult>,
}

/// Why a delivery to an http:// URL ends under a tenant that accepts https:// receivers only.
pub const HTTPS_ONLY: &str = "the tenant accepts https:// receivers only";

enum Resolved {
    Target(Target),
    /// The delivery can no longer be made (its endpoint or tenant is gone, or disabled).
    Ended(String),
}

/// The request of one attempt: the payload bytes, the scheme's signature headers for `now`
/// (the attempt's time), then the settings' extra headers. A stored URL that does not parse
/// gives the result of a blocked attempt instead; a signing error, no attempt at all.
pub fn build_request(
    message: &DeliveryMessage,
    target: &Target,
    now: EpochMillis,
    timeout: Duration,
) -> Result<Result<OutboundRequest, AttemptResult>, SigningError> {
    let Ok(url) = url::Url::parse(&target.url) else {
        return Ok(Err(AttemptResult::failed(
            Outcome::Blocked,
            "stored URL does not parse",
            0,
        )));
    };
    let body = message.payload.get().as_bytes();
    let input = SigningInput {
        msg_id: &message.event_id,
        timestamp: now / 1000,
        body,
    };
    let mut headers = signature_headers(&target.settings.signature, &target.secrets, input)?;
    // Extra headers never repeat a signature header (a tenant default added after the endpoint
    // chose its scheme could): the scheme's header is the one sent.
    let extra: Vec<(String, String)> = target
        .settings
        .headers
        .iter()
        .filter(|(k, _)| !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    headers.extend(extra);
    Ok(Ok(OutboundRequest {
        url,
        headers,
        body: bytes::Bytes::copy_from_slice(body),
        timeout,
    }))
}

/// Why an attempt at one of the API's own hosts is not made.
pub const OWN_API: &str = "the URL points to this service's own API (a delivery loop)";

/// A request to one of the API's own hosts becomes a blocked attempt (registered before the
/// host became one of them): no POST, and not retried.
pub fn refuse_own_host(
    request: Result<OutboundRequest, AttemptResult>,
    own_hosts: &OwnHosts,
) -> Result<OutboundRequest, AttemptResult> {
    match request {
        Ok(r) if own_hosts.contains(&r.url) => {
            Err(AttemptResult::failed(Outcome::Blocked, OWN_API, 0))
        }
        other => other,
    }
}

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
    /// Prepares attempt `attempt_count + 1` of `delivery`, or says what becomes of the message
    /// instead: acknowledged when the delivery ended here, hidden for 0 s when too little of
    /// the invocation is left, failed with back-off on a store error.
    pub(crate) async fn prepare(
        &self,
        delivery: &DeliveryRecord,
        message: &DeliveryMessage,
        now: EpochMillis,
        deadline: EpochMillis,
    ) -> Result<Dispatch, Action> {
        let target = match self.resolve(delivery).await {
            Ok(Resolved::Target(target)) => target,
            Ok(Resolved::Ended(reason)) => {
                // Timed after what ended it was read (a resume selects by this time).
                return Err(self
                    .end_without_attempt(delivery, message, &reason, now_millis())
                    .await);
            }
            Err(e) => return Err(Action::Transient(e.to_string())),
        };
        let Some(timeout) =
            schedule::attempt_timeout(target.settings.timeout_seconds, now, deadline)
        else {
            warn!(
                remaining_ms = deadline - now,
                "too close to the invocation deadline to start an attempt"
            );
            return Err(Action::Hide(0));
        };
        let request = match build_request(message, &target, now, timeout) {
            Ok(request) => refuse_own_host(request, &self.options.own_hosts),
            // No POST can be made and a retry cannot help: end the delivery, saying why.
            Err(e) => {
                let reason = format!("cannot sign: {e}");
                return Err(self
                    .end_without_attempt(delivery, message, &reason, now)
                    .await);
            }
        };
        Ok(Dispatch {
            delivery_id: delivery.id.clone(),
            number: delivery.attempt_count + 1,
            manual: message.manual,
            target,
            timeout,
            request,
        })
    }

    /// Ends a scheduled delivery without an attempt (a manual attempt is just not made).
    async fn end_without_attempt(
        &self,
        delivery: &DeliveryRecord,
        message: &DeliveryMessage,
        reason: &str,
        now: EpochMillis,
    ) -> Action {
        if message.manual {
            warn!(%reason, "manual attempt not made");
            return Action::Ack;
        }
        match self.store.fail_delivery(delivery, reason, now).await {
            Ok(()) | Err(StoreError::Conflict) => {
                warn!(%reason, "delivery ended without an attempt");
                Action::Ack
            }
            Err(e) => Action::Transient(e.to_string()),
        }
    }

    async fn resolve(&self, delivery: &DeliveryRecord) -> Result<Resolved, StoreError> {
        let Some(tenant) = self.tenant(&delivery.tenant_id).await? else {
            return Ok(Resolved::Ended("tenant no longer exists".into()));
        };
        let base = DeliverySettings::defaults().overlay(&tenant.defaults);
        let Some(endpoint_id) = &delivery.endpoint_id else {
            if tenant.https_only && !delivery.url.starts_with("https://") {
                return Ok(Resolved::Ended(HTTPS_ONLY.into()));
            }
            return Ok(Resolved::Target(Target {
                url: delivery.url.clone(),
                settings: base,
                secrets: vec![tenant.signing_secret.clone()],
                endpoint: None,
            }));
        };
        let mut endpoint = self.endpoint(&delivery.tenant_id, endpoint_id).await?;
        if endpoint.as_ref().is_none_or(|e| !e.enabled) {
            // Never end a delivery on a cached view: the endpoint may have been re-enabled (which
            // resumes parked deliveries) or re-created since it was cached.
            self.endpoints
                .invalidate(&(delivery.tenant_id.clone(), endpoint_id.clone()));
            endpoint = self.endpoint(&delivery.tenant_id, endpoint_id).await?;
        }
        let Some(endpoint) = endpoint else {
            return Ok(Resolved::Ended("endpoint no longer exists".into()));
        };
        if !endpoint.enabled {
            return Ok(Resolved::Ended(ENDPOINT_DISABLED.into()));
        }
        if tenant.https_only && !endpoint.url.starts_with("https://") {
            // Set after the endpoint was registered: enforced here, at every attempt.
            return Ok(Resolved::Ended(HTTPS_ONLY.into()));
        }
        Ok(Resolved::Target(Target {
            url: endpoint.url.clone(),
            settings: base.overlay(&endpoint.settings),
            secrets: endpoint.signing_secrets(now_millis()),
            endpoint: Some(endpoint),
        }))
    }

    pub(crate) async fn tenant(&self, tenant_id: &str) -> Result<Option<Arc<Tenant>>, StoreError> {
        if let Some(hit) = self.tenants.get(&tenant_id.to_owned()) {
            return Ok(hit);
        }
        let found = self.store.get_tenant(tenant_id).await?.map(Arc::new);
        self.tenants.insert(tenant_id.to_owned(), found.clone());
        Ok(found)
    }

    async fn endpoint(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
    ) -> Result<Option<Arc<Endpoint>>, StoreError> {
        let key = (tenant_id.to_owned(), endpoint_id.to_owned());
        if let Some(hit) = self.endpoints.get(&key) {
            return Ok(hit);
        }
        let found = self
            .store
            .get_endpoint(tenant_id, endpoint_id)
            .await?
            .map(Arc::new);
        self.endpoints.insert(key, found.clone());
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::value::RawValue;
    use shared::domain::settings::{SettingsPatch, SignatureScheme};

    use super::*;

    fn message() -> DeliveryMessage {
        DeliveryMessage {
            v: DeliveryMessage::VERSION,
            tenant_id: "acme".into(),
            delivery_id: "dlv_1".into(),
            event_id: "evt_1".into(),
            event_type: "a.b".into(),
            payload: RawValue::from_string(r#"{"a": 1}"#.into()).unwrap(),
            manual: false,
            endpoint_id: None,
            url: None,
            initial: false,
        }
    }

    fn target(url: &str, secret: Secret) -> Target {
        let settings = DeliverySettings::defaults().overlay(&SettingsPatch {
            headers: Some([("X-Custom".to_owned(), "v".to_owned())].into()),
            ..Default::default()
        });
        Target {
            url: url.into(),
            settings,
            secrets: vec![secret],
            endpoint: None,
        }
    }

    #[test]
    fn the_request_carries_payload_signature_and_extra_headers() {
        let t = target("https://example.com/hook", Secret::generate());
        let timeout = Duration::from_secs(7);
        let request = build_request(&message(), &t, 1_800_000_000_999, timeout)
            .unwrap()
            .unwrap();
        assert_eq!(request.url.as_str(), "https://example.com/hook");
        assert_eq!(&request.body[..], br#"{"a": 1}"#, "payload bytes kept");
        assert_eq!(request.timeout, timeout);
        let names: Vec<&str> = request.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "X-Custom"
            ]
        );
        assert_eq!(request.headers[0].1, "evt_1");
        assert_eq!(request.headers[1].1, "1800000000");
    }

    #[test]
    fn an_extra_header_never_repeats_a_signature_header() {
        let mut t = target(
            "https://example.com/hook",
            Secret::from_string("s3cret".into()),
        );
        t.settings.signature = SignatureScheme::SecretHeader {
            header: "X-Webhook-Secret".into(),
        };
        t.settings.headers = [
            (
                "x-webhook-secret".to_owned(),
                "from a tenant default".to_owned(),
            ),
            ("X-Other".to_owned(), "kept".to_owned()),
        ]
        .into();
        let request = build_request(&message(), &t, 0, Duration::from_secs(1))
            .unwrap()
            .unwrap();
        let secret_headers: Vec<&(String, String)> = request
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("x-webhook-secret"))
            .collect();
        assert_eq!(secret_headers.len(), 1, "{:?}", request.headers);
        assert_eq!(secret_headers[0].1, "s3cret");
        assert!(
            request
                .headers
                .iter()
                .any(|(k, v)| k == "X-Other" && v == "kept")
        );
    }

    #[test]
    fn an_unparsable_stored_url_is_a_blocked_attempt() {
        let t = target("not a url", Secret::generate());
        let refused = build_request(&message(), &t, 0, Duration::from_secs(1))
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.outcome, Outcome::Blocked);
        assert_eq!(refused.error.as_deref(), Some("stored URL does not parse"));
    }

    #[test]
    fn a_request_to_an_own_api_host_is_a_blocked_attempt() {
        let own = OwnHosts::parse("abc.execute-api.us-east-1.amazonaws.com").unwrap();
        let to_own = target(
            "https://abc.execute-api.us-east-1.amazonaws.com/v1/tenants/t/events",
            Secret::generate(),
        );
        let built = build_request(&message(), &to_own, 0, Duration::from_secs(1)).unwrap();
        let refused = refuse_own_host(built, &own).unwrap_err();
        assert_eq!(refused.outcome, Outcome::Blocked);
        assert_eq!(refused.error.as_deref(), Some(OWN_API));
        let elsewhere = target("https://example.com/hook", Secret::generate());
        let built = build_request(&message(), &elsewhere, 0, Duration::from_secs(1)).unwrap();
        assert!(refuse_own_host(built, &own).is_ok());
    }

    #[test]
    fn a_secret_that_cannot_sign_builds_no_request() {
        let mut t = target(
            "https://example.com/hook",
            Secret::from_string("plain".into()),
        );
        t.settings.signature = SignatureScheme::StandardWebhooks;
        let err = build_request(&message(), &t, 0, Duration::from_secs(1)).unwrap_err();
        assert_eq!(err, SigningError::BadStandardSecret);
    }
}
