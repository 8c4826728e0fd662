//! One batch, record by record. Each record ends in an [`Action`] computed from the stored state
//! and the attempt's result; [`Worker::handle_batch`] only carries the actions out.
//!
//! A message can be received more than once (SQS is at-least-once, and an ingest retry can send
//! a second copy). The delivery record decides: a final delivery is acknowledged without a POST,
//! a delivery that is not yet due is hidden again, and an attempt starts only after a conditional
//! claim (pending, exact attempt count, no live lease), so two copies never POST the same attempt.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::{FutureExt, StreamExt};
use mini_moka::sync::Cache;
use tracing::{Instrument, error, info, info_span, warn};

use shared::adapters::sqs::MAX_VISIBILITY_SECONDS;
use shared::domain::address_policy::AddressPolicy;
use shared::domain::attempt::{AttemptResult, Decision, GiveUpReason, Outcome, decide};
use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::ids::IdKind;
use shared::domain::model::{
    AttemptRecord, DeliveryMessage, DeliveryRecord, DeliveryStatus, ENDPOINT_DISABLED, Endpoint,
    EventRecord, Tenant,
};
use shared::domain::secret::Secret;
use shared::domain::settings::DeliverySettings;
use shared::domain::signing::{SigningInput, signature_headers};
use shared::ports::{
    AttemptLog, DeliveryControl, DeliveryRead, DeliveryUpdate, EndpointHealth, EndpointRead,
    Enqueue, EventWrite, OutgoingMessage, StoreError, TenantRead, TenantWrite, Visibility,
};
use shared::ports::{OutboundRequest, Sender};

use crate::ops::{OPERATOR_TENANT, OpEvent, OperatorConfig};

/// Time kept free before the Lambda deadline: an attempt never runs into it.
const DEADLINE_MARGIN_MS: i64 = 2_000;
/// An attempt shorter than this is not started; the message comes back at once instead.
const MIN_ATTEMPT_MS: i64 = 1_000;
/// A lease outlives its attempt by this much (time to record the result).
const LEASE_SLACK_MS: i64 = 5_000;
/// A message due within this much is attempted now rather than hidden again.
const DUE_TOLERANCE_MS: i64 = 500;

/// What happens to one received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Done (delivered, failed for good, or already final): let the message be deleted.
    Ack,
    /// Bring the message back after this many seconds (next attempt, not yet due, leased).
    Hide(u32),
    /// The message cannot be processed at all: fail it at once, again and again, until the
    /// queue's maxReceiveCount moves it to the DLQ.
    Poison(String),
    /// A store or queue error: fail it with back-off, so it comes back when things may be better.
    Transient(String),
}

/// Tunables of the worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long endpoints and tenants are cached.
    pub cache_ttl: Duration,
    /// Records of one batch processed at once.
    pub concurrency: usize,
    /// An endpoint whose finished deliveries have all failed for this long is disabled.
    pub auto_disable_after: Duration,
    /// Where operational events go, besides the logs.
    pub operator: Option<OperatorConfig>,
    /// Ceiling of the back-off after a store or queue error (2^receives seconds up to this).
    pub max_transient_backoff: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(30),
            concurrency: 16,
            auto_disable_after: Duration::from_secs(5 * 86_400),
            operator: None,
            max_transient_backoff: Duration::from_secs(300),
        }
    }
}

pub struct Worker<S, Q, H> {
    store: S,
    queue: Q,
    sender: H,
    policy: Arc<AddressPolicy>,
    endpoints: Cache<(String, String), Option<Arc<Endpoint>>>,
    tenants: Cache<String, Option<Arc<Tenant>>>,
    options: WorkerOptions,
    /// Names this process in leases, so a lease is released only by its holder.
    instance: String,
}

/// Where and how one delivery goes.
struct Target {
    url: String,
    settings: DeliverySettings,
    secrets: Vec<Secret>,
    endpoint: Option<Arc<Endpoint>>,
}

enum Resolved {
    Target(Target),
    /// The delivery can no longer be made (its endpoint or tenant is gone, or disabled).
    Ended(String),
}

/// Budget assumed when an invocation carries no usable deadline (some local emulators send a
/// duration instead of an epoch time). Below the deployed function's 60 s timeout.
pub const FALLBACK_BUDGET_MS: i64 = 50_000;

/// The invocation deadline to plan attempts against. Lambda sends epoch milliseconds; a value
/// more than a day in the past cannot be one, and is replaced by `now + FALLBACK_BUDGET_MS`.
pub fn effective_deadline(raw_ms: u64, now: EpochMillis) -> EpochMillis {
    let raw = i64::try_from(raw_ms).unwrap_or(i64::MAX);
    if raw < now - 86_400_000 {
        now + FALLBACK_BUDGET_MS
    } else {
        raw
    }
}

fn ceil_seconds(ms: i64) -> u32 {
    u32::try_from((ms.max(0) + 999) / 1000).unwrap_or(u32::MAX)
}

impl<S, Q, H> Worker<S, Q, H>
where
    S: DeliveryRead
        + AttemptLog
        + DeliveryControl
        + EndpointRead
        + EndpointHealth
        + TenantRead
        + TenantWrite
        + EventWrite,
    Q: Enqueue + Visibility,
    H: Sender,
{
    pub fn new(
        store: S,
        queue: Q,
        sender: H,
        policy: AddressPolicy,
        options: WorkerOptions,
    ) -> Self {
        Self {
            store,
            queue,
            sender,
            policy: Arc::new(policy),
            endpoints: Cache::builder()
                .time_to_live(options.cache_ttl)
                .max_capacity(10_000)
                .build(),
            tenants: Cache::builder()
                .time_to_live(options.cache_ttl)
                .max_capacity(10_000)
                .build(),
            options: WorkerOptions {
                concurrency: options.concurrency.max(1),
                ..options
            },
            instance: ulid::Ulid::new().to_string(),
        }
    }

    /// Processes a batch and reports the records that must come back. `deadline` is the
    /// invocation's deadline in epoch milliseconds.
    pub async fn handle_batch(&self, event: SqsEvent, deadline: EpochMillis) -> SqsBatchResponse {
        let failures: Vec<String> = futures::stream::iter(event.records)
            .map(|record| self.handle_record(record, deadline))
            .buffer_unordered(self.options.concurrency)
            .filter_map(|failed| async move { failed })
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures
            .into_iter()
            .map(|id| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = id;
                f
            })
            .collect();
        response
    }

    /// Returns the message id when the record must be reported as failed.
    async fn handle_record(&self, record: SqsMessage, deadline: EpochMillis) -> Option<String> {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = info_span!("record", message_id = %message_id, delivery_id = tracing::field::Empty, attempt = tracing::field::Empty);
        async {
            // A panic in one record must not take the batch down (in release a panic would
            // abort the process and every record would come back): it fails that record only.
            let action = match std::panic::AssertUnwindSafe(self.process(&record, deadline))
                .catch_unwind()
                .await
            {
                Ok(action) => action,
                Err(_) => Action::Transient("panic while processing the record".into()),
            };
            let receive_count: u32 = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let hide = match &action {
                Action::Ack => {
                    info!("record done");
                    return None;
                }
                Action::Hide(secs) => {
                    info!(hide_seconds = *secs, "record comes back later");
                    *secs
                }
                Action::Poison(reason) => {
                    error!(%reason, receive_count, "unprocessable message; it goes to the DLQ at maxReceiveCount");
                    0
                }
                Action::Transient(reason) => {
                    let backoff = 2u32.saturating_pow(receive_count.min(16)).min(u32::try_from(self.options.max_transient_backoff.as_secs()).unwrap_or(u32::MAX));
                    warn!(%reason, receive_count, backoff, "record failed on a store or queue error; it will come back");
                    backoff
                }
            };
            if let Some(receipt) = record.receipt_handle.as_deref()
                && let Err(e) = self.queue.change_visibility(receipt, hide.min(MAX_VISIBILITY_SECONDS)).await {
                    // The message still comes back, after the queue's own visibility timeout;
                    // the not-yet-due check then hides it again as needed.
                    warn!(error = %e, "could not change the message's visibility");
                }
            Some(message_id)
        }
        .instrument(span)
        .await
    }

    /// Decides and performs one record's work. Public for tests.
    pub async fn process(&self, record: &SqsMessage, deadline: EpochMillis) -> Action {
        let Some(body) = record.body.as_deref() else {
            return Action::Poison("message has no body".into());
        };
        let message: DeliveryMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => {
                return Action::Poison(format!("message body is not a delivery message: {e}"));
            }
        };
        if message.v != DeliveryMessage::VERSION {
            return Action::Poison(format!("unknown message version {}", message.v));
        }
        tracing::Span::current().record("delivery_id", message.delivery_id.as_str());
        let delivery = match self
            .store
            .get_delivery(&message.tenant_id, &message.delivery_id)
            .await
        {
            Ok(Some(d)) => d,
            Ok(None) => return Action::Poison("no such delivery".into()),
            Err(e) => return Action::Transient(e.to_string()),
        };
        let manual = message.manual;
        if delivery.status != DeliveryStatus::Pending && !manual {
            info!(status = ?delivery.status, "delivery already final; message acknowledged without an attempt");
            return Action::Ack;
        }
        let now = now_millis();
        if let Some(next) = delivery.next_attempt_at
            && !manual
            && next > now + DUE_TOLERANCE_MS
        {
            return Action::Hide(ceil_seconds(next - now));
        }
        if let Some(lease) = delivery.lease_until
            && lease > now
        {
            return Action::Hide(ceil_seconds(lease - now) + 1);
        }
        let target = match self.resolve(&delivery).await {
            Ok(Resolved::Target(t)) => t,
            Ok(Resolved::Ended(reason)) if manual => {
                warn!(%reason, "manual attempt not made");
                return Action::Ack;
            }
            Ok(Resolved::Ended(reason)) => {
                return match self
                    .store
                    .fail_delivery(&delivery.tenant_id, &delivery.id, &reason, now)
                    .await
                {
                    Ok(()) | Err(StoreError::Conflict) => {
                        warn!(%reason, "delivery ended without an attempt");
                        Action::Ack
                    }
                    Err(e) => Action::Transient(e.to_string()),
                };
            }
            Err(e) => return Action::Transient(e.to_string()),
        };
        let budget = deadline - now - DEADLINE_MARGIN_MS;
        let timeout_ms = (i64::from(target.settings.timeout_seconds) * 1000).min(budget);
        if timeout_ms < MIN_ATTEMPT_MS {
            warn!(
                remaining_ms = deadline - now,
                "too close to the invocation deadline to start an attempt"
            );
            return Action::Hide(0);
        }
        match self
            .store
            .claim(
                &delivery,
                &self.instance,
                now,
                now + timeout_ms + LEASE_SLACK_MS,
                manual,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // Another copy of the message holds it, or moved it on since the read.
                return Action::Hide(
                    target.settings.timeout_seconds + ceil_seconds(LEASE_SLACK_MS),
                );
            }
            Err(e) => return Action::Transient(e.to_string()),
        }
        let number = delivery.attempt_count + 1;
        tracing::Span::current().record("attempt", number);
        // A previous holder may have made and recorded this attempt, then stopped before moving
        // the delivery on: carry its result forward instead of POSTing again. Only a holder that
        // never moved the delivery on leaves its lease behind (claim sets it; moving on, failing
        // and restarting clear it), so the read is needed only then.
        let previous_holder_stopped = delivery.lease_owner.is_some();
        let lookup = async {
            if previous_holder_stopped {
                self.store
                    .get_attempt(&delivery.tenant_id, &delivery.id, number)
                    .await
            } else {
                Ok(None)
            }
        };
        let orphan = match lookup.await {
            Ok(found) => found,
            Err(e) => return Action::Transient(e.to_string()),
        };
        let (started, result) = match &orphan {
            Some(recorded) => {
                warn!("attempt found recorded by a stopped worker; moving the delivery on from it");
                (recorded.started_at, recorded.result())
            }
            None => {
                let started = now_millis();
                let clock = std::time::Instant::now();
                let mut result = self.attempt(&message, &target, started, timeout_ms).await;
                // The duration counts from the recorded start (signing included), so
                // `started_at + duration_ms` is when the attempt ended.
                result.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
                (started, result)
            }
        };
        let manual = orphan.as_ref().map_or(manual, |a| a.manual);
        // The schedule restarts after a recovery: its position counts from `retry_base`.
        let position = number.saturating_sub(delivery.retry_base);
        let decision = if manual {
            // A manual attempt changes nothing of the schedule: a success delivers, a failure
            // leaves the delivery as it was (pending with its next attempt, or failed).
            match result.outcome {
                Outcome::Delivered => Decision::Delivered,
                _ => Decision::Unchanged,
            }
        } else {
            decide(&result, position, &target.settings, rand::random::<f64>())
        };
        let update = match &decision {
            Decision::Unchanged => DeliveryUpdate {
                status: delivery.status,
                next_attempt_at: delivery.next_attempt_at,
                last_error: result.error.clone().or(delivery.last_error.clone()),
            },
            Decision::Delivered => DeliveryUpdate {
                status: DeliveryStatus::Delivered,
                next_attempt_at: None,
                last_error: None,
            },
            Decision::RetryAfter(secs) => DeliveryUpdate {
                status: DeliveryStatus::Pending,
                next_attempt_at: Some(
                    started
                        + i64::try_from(result.duration_ms).unwrap_or(0)
                        + i64::from(*secs) * 1000,
                ),
                last_error: result.error.clone(),
            },
            Decision::GiveUp(reason) => DeliveryUpdate {
                status: DeliveryStatus::Failed,
                next_attempt_at: None,
                last_error: Some(match &result.error {
                    Some(e) => format!("{}: {e}", reason.as_str()),
                    None => reason.as_str().to_owned(),
                }),
            },
        };
        let attempt = orphan.clone().unwrap_or(AttemptRecord {
            id: IdKind::Attempt.generate(),
            delivery_id: delivery.id.clone(),
            number,
            url: target.url.clone(),
            started_at: started,
            duration_ms: result.duration_ms,
            status_code: result.status_code,
            outcome: result.outcome,
            error: result.error.clone(),
            response_excerpt: result.response_excerpt.clone(),
            manual,
        });
        info!(outcome = ?result.outcome, status_code = result.status_code, duration_ms = result.duration_ms, decision = ?decision, "attempt made");
        let recorded = match &orphan {
            Some(_) => {
                self.store
                    .advance_delivery(&delivery.tenant_id, &attempt, &update, &self.instance)
                    .await
            }
            None => {
                self.store
                    .record_attempt(&delivery.tenant_id, &attempt, &update, &self.instance)
                    .await
            }
        };
        match recorded {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                warn!("lease lost before the attempt was recorded; the holder's state decides");
                return Action::Hide(1);
            }
            Err(e) => return Action::Transient(format!("attempt made but not recorded: {e}")),
        }
        self.after_attempt(&delivery, &target, &decision, number, &update)
            .await;
        match decision {
            Decision::Delivered | Decision::GiveUp(_) | Decision::Unchanged => Action::Ack,
            Decision::RetryAfter(secs) => Action::Hide(secs),
        }
    }

    async fn attempt(
        &self,
        message: &DeliveryMessage,
        target: &Target,
        started: EpochMillis,
        timeout_ms: i64,
    ) -> AttemptResult {
        let url = match url::Url::parse(&target.url) {
            Ok(u) => u,
            Err(_) => {
                return AttemptResult::failed(Outcome::Blocked, "stored URL does not parse", 0);
            }
        };
        let body = message.payload.get().as_bytes();
        let input = SigningInput {
            msg_id: &message.event_id,
            timestamp: started / 1000,
            body,
        };
        let mut headers =
            match signature_headers(&target.settings.signature, &target.secrets, input) {
                Ok(h) => h,
                Err(e) => {
                    return AttemptResult::failed(
                        Outcome::NetworkError,
                        format!("cannot sign: {e}"),
                        0,
                    );
                }
            };
        headers.extend(
            target
                .settings
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let request = OutboundRequest {
            url,
            headers,
            body: bytes::Bytes::copy_from_slice(body),
            timeout: Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(1000)),
        };
        self.sender.send(request).await
    }

    async fn resolve(&self, delivery: &DeliveryRecord) -> Result<Resolved, StoreError> {
        let Some(tenant) = self.tenant(&delivery.tenant_id).await? else {
            return Ok(Resolved::Ended("tenant no longer exists".into()));
        };
        let base = DeliverySettings::defaults().overlay(&tenant.defaults);
        let Some(endpoint_id) = &delivery.endpoint_id else {
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
        Ok(Resolved::Target(Target {
            url: endpoint.url.clone(),
            settings: base.overlay(&endpoint.settings),
            secrets: endpoint.signing_secrets(now_millis()),
            endpoint: Some(endpoint),
        }))
    }

    /// What a recorded attempt means for its endpoint: a success clears the failing clock, a
    /// 410 disables the endpoint, an exhausted delivery starts or continues the failing clock
    /// and disables the endpoint once it has run for `auto_disable_after`. Best effort: the
    /// attempt is recorded already, and an error here is logged, not retried.
    async fn after_attempt(
        &self,
        delivery: &DeliveryRecord,
        target: &Target,
        decision: &Decision,
        number: u32,
        update: &DeliveryUpdate,
    ) {
        let now = now_millis();
        let endpoint_id = delivery.endpoint_id.clone();
        match decision {
            Decision::Delivered => {
                if let Some(ep) = &target.endpoint
                    && ep.failing_since.is_some()
                {
                    if let Err(e) = self.store.clear_failing(&delivery.tenant_id, &ep.id).await {
                        warn!(error = %e, "could not clear the endpoint's failing clock");
                    }
                    self.endpoints
                        .invalidate(&(delivery.tenant_id.clone(), ep.id.clone()));
                }
                if number > 4 {
                    self.emit(OpEvent::DeliveryRecovered {
                        tenant_id: delivery.tenant_id.clone(),
                        endpoint_id,
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
                    endpoint_id: endpoint_id.clone(),
                    delivery_id: delivery.id.clone(),
                    event_id: delivery.event_id.clone(),
                    attempts: number,
                    last_error: update.last_error.clone().unwrap_or_default(),
                })
                .await;
                let Some(ep) = &target.endpoint else { return };
                let disable_for = if *reason == GiveUpReason::Gone {
                    Some(reason.as_str().to_owned())
                } else {
                    match self
                        .store
                        .mark_failing(&delivery.tenant_id, &ep.id, now)
                        .await
                    {
                        Ok(since) => {
                            let window = i64::try_from(self.options.auto_disable_after.as_millis())
                                .unwrap_or(i64::MAX);
                            (now - since >= window).then(|| {
                                format!(
                                    "every delivery failed since {}",
                                    shared::domain::clock::rfc3339(since)
                                )
                            })
                        }
                        Err(e) => {
                            warn!(error = %e, "could not note the endpoint's failure");
                            None
                        }
                    }
                };
                if let Some(why) = disable_for {
                    self.disable(&delivery.tenant_id, &ep.id, &why, now).await;
                }
            }
            Decision::RetryAfter(_) | Decision::Unchanged => {}
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

    /// Logs an operational event and, with an operator URL configured, delivers it.
    pub async fn emit(&self, op: OpEvent) {
        let now = now_millis();
        let payload = op.payload(now);
        warn!(op_event = op.kind(), tenant_id = op.tenant_id(), details = %payload, "operational event");
        let Some(operator) = &self.options.operator else {
            return;
        };
        if op.tenant_id() == OPERATOR_TENANT {
            return; // never about itself: no loops
        }
        if let Err(e) = self.deliver_op(operator, &op, payload, now).await {
            warn!(op_event = op.kind(), error = %e, "operational event not sent to the operator URL");
        }
    }

    async fn deliver_op(
        &self,
        operator: &OperatorConfig,
        op: &OpEvent,
        payload: serde_json::Value,
        now: EpochMillis,
    ) -> Result<(), String> {
        if self
            .tenant(OPERATOR_TENANT)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
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
        }
        let payload_text = payload.to_string();
        let event = EventRecord {
            id: IdKind::Event.generate(),
            tenant_id: OPERATOR_TENANT.into(),
            event_type: op.kind().into(),
            payload: payload_text.clone(),
            metadata: None,
            idempotency_key: None,
            created_at: now,
        };
        let delivery = DeliveryRecord {
            id: IdKind::Delivery.generate(),
            tenant_id: OPERATOR_TENANT.into(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            endpoint_id: None,
            url: operator.webhook_url.clone(),
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            retry_base: 0,
            next_attempt_at: None,
            last_error: None,
            lease_until: None,
            lease_owner: None,
            created_at: now,
            updated_at: now,
        };
        self.store
            .put_event(&event, std::slice::from_ref(&delivery))
            .await
            .map_err(|e| e.to_string())?;
        let message = DeliveryMessage {
            v: DeliveryMessage::VERSION,
            tenant_id: OPERATOR_TENANT.into(),
            delivery_id: delivery.id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            payload: serde_json::value::RawValue::from_string(payload_text)
                .map_err(|e| e.to_string())?,
            manual: false,
        };
        let body = serde_json::to_string(&message).map_err(|e| e.to_string())?;
        self.queue
            .send(&[OutgoingMessage {
                id: delivery.id.clone(),
                body,
            }])
            .await
            .map_err(|e| e.to_string())
    }

    async fn tenant(&self, tenant_id: &str) -> Result<Option<Arc<Tenant>>, StoreError> {
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

    pub fn address_policy(&self) -> &AddressPolicy {
        &self.policy
    }
}

#[cfg(test)]
#[path = "worker_test.rs"]
mod tests;
