//! After-attempt effects: what a recorded attempt means for its endpoint and for the operator.
//! A success clears the endpoint's failing clock; a 410 disables the endpoint; a delivery that
//! ends failed starts or continues the failing clock and disables the endpoint once it has run
//! for `auto_disable_after`; `delivery.recovered`, `delivery.exhausted` and `endpoint.disabled`
//! are emitted as operational events. Best effort: the attempt is recorded already, and an
//! error here is logged, not retried.

use serde_json::value::RawValue;
use shared::domain::clock::{EpochMillis, now_millis, rfc3339};
use shared::domain::event_type::EventType;
use shared::domain::fanout::{NewEvent, plan};
use shared::domain::model::{DeliveryRecord, Tenant};
use shared::domain::secret::Secret;
use shared::ports::{Enqueue, Sender, StoreError, Visibility};
use tracing::warn;

use crate::ops::{OPERATOR_TENANT, OpEvent, OperatorConfig};
use crate::send::Completed;
use crate::transition::{Decision, GiveUpReason, Transition};
use crate::worker::{Worker, WorkerStore};

/// A success after at least this many failed attempts is a `delivery.recovered`.
const RECOVERED_AFTER_FAILURES: u32 = 4;

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
    /// Carries out what the recorded attempt means beyond its delivery.
    pub(crate) async fn after_attempt(
        &self,
        delivery: &DeliveryRecord,
        completed: &Completed,
        transition: &Transition,
    ) {
        let number = completed.attempt.number;
        let endpoint = completed.target.endpoint.as_deref();
        match &transition.decision {
            Decision::Delivered => {
                if let Some(ep) = endpoint
                    && ep.failing_since.is_some()
                {
                    if let Err(e) = self.store.clear_failing(&delivery.tenant_id, &ep.id).await {
                        warn!(error = %e, "could not clear the endpoint's failing clock");
                    }
                    self.endpoints
                        .invalidate(&(delivery.tenant_id.clone(), ep.id.clone()));
                }
                if number > RECOVERED_AFTER_FAILURES {
                    self.emit(OpEvent::DeliveryRecovered {
                        tenant_id: delivery.tenant_id.clone(),
                        endpoint_id: delivery.endpoint_id.clone(),
                        delivery_id: delivery.id.clone(),
                        event_id: delivery.event_id.clone(),
                        failed_attempts: number - 1,
                    })
                    .await;
                }
            }
            Decision::GiveUp(reason) => {
                self.emit(OpEvent::DeliveryExhausted {
                    tenant_id: delivery.tenant_id.clone(),
                    endpoint_id: delivery.endpoint_id.clone(),
                    delivery_id: delivery.id.clone(),
                    event_id: delivery.event_id.clone(),
                    attempts: number,
                    last_error: transition.update.last_error.clone().unwrap_or_default(),
                })
                .await;
                if let Some(ep) = endpoint {
                    self.endpoint_failed(&delivery.tenant_id, &ep.id, *reason)
                        .await;
                }
            }
            Decision::RetryAfter(_) | Decision::Unchanged => {}
        }
    }

    /// A delivery of the endpoint ended failed: a 410 disables it at once; otherwise the
    /// failing clock runs, and disables it once it has run for `auto_disable_after`.
    async fn endpoint_failed(&self, tenant_id: &str, endpoint_id: &str, reason: GiveUpReason) {
        let now = now_millis();
        let disable_for = if reason == GiveUpReason::Gone {
            Some(reason.as_str().to_owned())
        } else {
            match self.store.mark_failing(tenant_id, endpoint_id, now).await {
                Ok(since) => {
                    // This instance's copy of the endpoint must know the clock runs, or its
                    // next success would not clear it.
                    self.endpoints
                        .invalidate(&(tenant_id.to_owned(), endpoint_id.to_owned()));
                    let window = i64::try_from(self.options.auto_disable_after.as_millis())
                        .unwrap_or(i64::MAX);
                    (now - since >= window)
                        .then(|| format!("every delivery failed since {}", rfc3339(since)))
                }
                Err(e) => {
                    warn!(error = %e, "could not note the endpoint's failure");
                    None
                }
            }
        };
        if let Some(why) = disable_for {
            self.disable(tenant_id, endpoint_id, &why, now).await;
        }
    }

    async fn disable(&self, tenant_id: &str, endpoint_id: &str, reason: &str, now: EpochMillis) {
        self.endpoints
            .invalidate(&(tenant_id.to_owned(), endpoint_id.to_owned()));
        match self
            .store
            .disable_endpoint(tenant_id, endpoint_id, reason, now)
            .await
        {
            Ok(()) => {
                self.emit(OpEvent::EndpointDisabled {
                    tenant_id: tenant_id.to_owned(),
                    endpoint_id: endpoint_id.to_owned(),
                    reason: reason.to_owned(),
                })
                .await;
            }
            Err(StoreError::Conflict) => {} // disabled already
            Err(e) => warn!(error = %e, "could not disable the endpoint"),
        }
    }

    /// Logs an operational event and, with an operator URL configured, delivers it. Never
    /// about the operator tenant itself: no loops.
    pub async fn emit(&self, op: OpEvent) {
        let now = now_millis();
        let payload = op.payload(now);
        warn!(op_event = op.kind(), tenant_id = op.tenant_id(), details = %payload, "operational event");
        let Some(operator) = &self.options.operator else {
            return;
        };
        if op.tenant_id() == OPERATOR_TENANT {
            return;
        }
        if let Err(e) = self.deliver_op(operator, &op, &payload, now).await {
            warn!(op_event = op.kind(), error = %e, "operational event not sent to the operator URL");
        }
    }

    /// An operational event becomes an event of the operator tenant with one delivery to the
    /// operator URL, planned, written and enqueued like any other event.
    async fn deliver_op(
        &self,
        operator: &OperatorConfig,
        op: &OpEvent,
        payload: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<(), String> {
        self.ensure_operator_tenant(operator, now).await?;
        let event_type = EventType::parse(op.kind()).map_err(str::to_owned)?;
        let payload = RawValue::from_string(payload.to_string()).map_err(|e| e.to_string())?;
        let new = NewEvent {
            tenant_id: OPERATOR_TENANT,
            event_type: &event_type,
            payload: &payload,
            metadata: None,
            idempotency_key: None,
        };
        let fan_out = plan(new, &[], Some(&operator.webhook_url), now);
        let messages = fan_out.messages().map_err(|e| e.to_string())?;
        self.store
            .put_event(&fan_out.event)
            .await
            .map_err(|e| e.to_string())?;
        self.queue.send(&messages).await.map_err(|e| e.to_string())
    }

    /// The reserved operator tenant, created on first use (signed with the configured secret,
    /// or a generated one).
    async fn ensure_operator_tenant(
        &self,
        operator: &OperatorConfig,
        now: EpochMillis,
    ) -> Result<(), String> {
        if self
            .tenant(OPERATOR_TENANT)
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Ok(());
        }
        let tenant = Tenant {
            id: OPERATOR_TENANT.into(),
            name: Some("Operational events".into()),
            defaults: Default::default(),
            max_endpoints: 1,
            https_only: false,
            signing_secret: operator
                .signing_secret
                .clone()
                .unwrap_or_else(Secret::generate),
            created_at: now,
            updated_at: now,
        };
        match self.store.put_tenant(&tenant, true).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.to_string()),
        }
        self.tenants.invalidate(&OPERATOR_TENANT.to_owned());
        Ok(())
    }
}
