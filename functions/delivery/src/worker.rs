//! The worker: one record goes through the stages, svix-style, each handing the next a typed
//! value — load → gate → prepare (resolve, sign, build) → send → transition → record →
//! after-attempt effects — and ends in an [`Action`] that [`crate::batch`] carries out.
//!
//! A message can be received more than once (SQS is at-least-once, and an ingest retry can send
//! a second copy). The delivery's log decides ([`crate::record`]): a final delivery is
//! acknowledged without a POST, a delivery that is not yet due is hidden again, and an attempt
//! is recorded once (two copies handled at the same moment may both POST it; receivers dedupe
//! by `webhook-id`).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use mini_moka::sync::Cache;
use tracing::info;

use shared::domain::attempt::Outcome;
use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::job::JobMessage;
use shared::domain::model::{DeliveryMessage, Endpoint, Tenant};
use shared::domain::own_hosts::OwnHosts;
use shared::ports::{
    AttemptLog, DeliveryControl, DeliveryRead, EndpointHealth, EndpointRead, Enqueue, EventRead,
    EventWrite, JobStore, Sender, TenantRead, TenantWrite, Visibility,
};

use crate::action::Action;
use crate::gate::{Gate, gate};
use crate::ops::OperatorConfig;
use crate::send::send;
use crate::transition::{AttemptState, transition};

/// Every storage role the worker needs.
pub trait WorkerStore:
    DeliveryRead
    + AttemptLog
    + DeliveryControl
    + EndpointRead
    + EndpointHealth
    + TenantRead
    + TenantWrite
    + EventWrite
    + EventRead
    + JobStore
{
}

impl<T> WorkerStore for T where
    T: DeliveryRead
        + AttemptLog
        + DeliveryControl
        + EndpointRead
        + EndpointHealth
        + TenantRead
        + TenantWrite
        + EventWrite
        + EventRead
        + JobStore
{
}

/// Records of one invocation attempted at once, by default: a batch of up to 100 records
/// (the largest the template allows) runs all at once, so a batch takes about as long as its
/// slowest attempt (`scripts/bench`: 100 records to a 200 ms receiver ≈ 1 record's time).
pub const DEFAULT_CONCURRENCY: usize = 100;

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
    /// The API's own hosts: an attempt there is `blocked` without a POST (a delivery loop).
    pub own_hosts: OwnHosts,
    /// The queue's visibility timeout, when known: an attempt that could outlast it first
    /// hides its message for as long as the attempt may take, so no second receive starts
    /// the same attempt while this one runs.
    pub queue_visibility: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(30),
            concurrency: DEFAULT_CONCURRENCY,
            auto_disable_after: Duration::from_secs(5 * 86_400),
            operator: None,
            max_transient_backoff: Duration::from_secs(300),
            own_hosts: OwnHosts::default(),
            queue_visibility: None,
        }
    }
}

pub struct Worker<S, Q, H> {
    pub(crate) store: S,
    pub(crate) queue: Q,
    pub(crate) sender: H,
    pub(crate) endpoints: Cache<(String, String), Option<Arc<Endpoint>>>,
    pub(crate) tenants: Cache<String, Option<Arc<Tenant>>>,
    pub(crate) options: WorkerOptions,
}

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
    pub fn new(store: S, queue: Q, sender: H, options: WorkerOptions) -> Self {
        let cache_ttl = options.cache_ttl;
        Self {
            store,
            queue,
            sender,
            endpoints: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(10_000)
                .build(),
            tenants: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(10_000)
                .build(),
            options: WorkerOptions {
                concurrency: options.concurrency.max(1),
                ..options
            },
        }
    }

    /// The store the worker reads and writes (for tests and tools).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The queue the worker hides messages in and enqueues operational events to.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// The sender making the attempts.
    pub fn sender(&self) -> &H {
        &self.sender
    }

    /// Decides and performs one record's work.
    pub async fn process(&self, record: &SqsMessage, deadline: EpochMillis) -> Action {
        // A job message: one page of a job (recover, resume), not a delivery.
        if let Some(job) = record.body.as_deref().and_then(JobMessage::parse) {
            let (store, queue) = (&self.store, &self.queue);
            return crate::jobs::run_page(store, queue, &job, now_millis(), crate::jobs::JOB_PAGE)
                .await;
        }
        match self.stages(record, deadline).await {
            Ok(action) | Err(action) => action,
        }
    }

    /// The stages of one record; `Err` is the action of a record that stops before the end.
    async fn stages(&self, record: &SqsMessage, deadline: EpochMillis) -> Result<Action, Action> {
        let message = parse_message(record).map_err(Action::Poison)?;
        let span = tracing::Span::current();
        span.record("delivery_id", message.delivery_id.as_str());
        let delivery = self.load(&message, record, now_millis()).await?;
        let now = now_millis();
        match gate(&delivery, &message, now) {
            Gate::Go => {}
            Gate::Final => {
                info!(status = ?delivery.status, "delivery already final; message acknowledged without an attempt");
                return Ok(Action::Ack);
            }
            Gate::NotYetDue(wait) => return Ok(Action::Hide(wait)),
        }
        // Resolve the target, sign, build the request.
        let dispatch = self.prepare(&delivery, &message, now, deadline).await?;
        span.record("attempt", dispatch.number);
        self.cover_attempt(record, dispatch.timeout).await?;
        // The POST; the sender classifies what the receiver did.
        let completed = send(&self.sender, dispatch).await;
        let state = AttemptState {
            delivery: &delivery,
            number: completed.attempt.number,
            manual: completed.attempt.manual,
        };
        // Classified by the sender; the transition decides, builds the update and the action.
        let (result, settings) = (&completed.result, &completed.target.settings);
        let next = transition(
            &state,
            result,
            settings,
            completed.ended_at(),
            rand::random(),
        );
        // One short line per attempt: what happened and, unless delivered, what follows.
        if result.outcome == Outcome::Delivered {
            info!(outcome = ?result.outcome, status_code = result.status_code, duration_ms = result.duration_ms, "attempt made");
        } else {
            info!(outcome = ?result.outcome, status_code = result.status_code, duration_ms = result.duration_ms, decision = ?next.decision, "attempt made");
        }
        self.record(&delivery, &completed, &next.update).await?;
        self.after_attempt(&delivery, &completed, &next).await;
        // Reschedule (or acknowledge): the batch handler carries the action out.
        Ok(next.action)
    }
}

/// The delivery message a record carries; the reason it is poison otherwise.
pub fn parse_message(record: &SqsMessage) -> Result<DeliveryMessage, String> {
    let body = record.body.as_deref().ok_or("message has no body")?;
    let message: DeliveryMessage = serde_json::from_str(body)
        .map_err(|e| format!("message body is not a delivery message: {e}"))?;
    if message.v != DeliveryMessage::VERSION {
        return Err(format!("unknown message version {}", message.v));
    }
    Ok(message)
}
