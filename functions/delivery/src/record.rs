//! The log around an attempt: what the delivery is before it (read only when something can
//! have been recorded), and the one conditional write after it.
//!
//! Ingest's own message on its first receive (sent under a minute ago) needs no read: nothing
//! can be recorded for the delivery before that message is first handled, except by another
//! copy of it (SQS is at-least-once), which may then make the same attempt. Every other message (a retry, a redrive, a
//! manual attempt, a recovered delivery, a second receive) reads the latest record strongly,
//! so an attempt never follows a recorded success. Recording is conditional on the record's
//! number: of two copies of one message that both made an attempt (at-least-once delivery;
//! receivers dedupe by `webhook-id`), only the first records it, and the other follows the
//! state the first recorded.

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::clock::EpochMillis;
use shared::domain::ids::created_at;
use shared::domain::model::{DeliveryMessage, DeliveryRecord, DeliveryStatus};
use shared::ports::{DeliveryUpdate, Enqueue, Sender, StoreError, Visibility};
use tracing::warn;

use crate::action::Action;
use crate::schedule;
use crate::send::Completed;
use crate::worker::{Worker, WorkerStore};

/// The delivery as it stands before anything is recorded, from its message.
pub fn unrecorded(message: &DeliveryMessage, now: EpochMillis) -> DeliveryRecord {
    let at = created_at(&message.event_id).unwrap_or(now);
    DeliveryRecord {
        id: message.delivery_id.clone(),
        tenant_id: message.tenant_id.clone(),
        event_id: message.event_id.clone(),
        event_type: message.event_type.clone(),
        endpoint_id: message.endpoint_id.clone(),
        url: message.url.clone().unwrap_or_default(),
        status: DeliveryStatus::Pending,
        attempt_count: 0,
        retry_base: 0,
        next_attempt_at: None,
        last_error: None,
        seq: 0,
        restarted_at: None,
        created_at: at,
        updated_at: at,
    }
}

/// A message older than this on its first receive reads the log even when it is ingest's
/// (a queue backlog, or a late duplicate: SQS keeps a duplicate's sent time).
pub const FRESH_MS: EpochMillis = 60_000;

/// Whether the record is the first receive of a message sent less than [`FRESH_MS`] ago.
pub fn fresh_first_receive(record: &SqsMessage, now: EpochMillis) -> bool {
    let sent = record
        .attributes
        .get("SentTimestamp")
        .and_then(|t| t.parse::<EpochMillis>().ok());
    crate::batch::receive_count(record) <= 1 && sent.is_none_or(|at| now - at < FRESH_MS)
}

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
    /// The delivery before this attempt: from the message on the fresh first receive of
    /// ingest's message, else the latest record (strongly consistent), or the message when
    /// nothing is recorded yet.
    pub(crate) async fn load(
        &self,
        message: &DeliveryMessage,
        record: &SqsMessage,
        now: EpochMillis,
    ) -> Result<DeliveryRecord, Action> {
        if message.initial && !message.manual && fresh_first_receive(record, now) {
            return Ok(unrecorded(message, now));
        }
        let state = self
            .store
            .delivery_state(
                &message.tenant_id,
                message.endpoint_id.as_deref(),
                &message.delivery_id,
            )
            .await
            .map_err(|e| Action::Transient(e.to_string()))?;
        Ok(state.unwrap_or_else(|| unrecorded(message, now)))
    }

    /// Hides the message for as long as an attempt of `timeout` and its record may take, when
    /// that is longer than the queue's visibility timeout (deployed: 360 s, longer than any
    /// attempt, so never). Otherwise the message could come back mid-attempt and a second
    /// receive would make the same attempt.
    pub(crate) async fn cover_attempt(
        &self,
        record: &SqsMessage,
        timeout: std::time::Duration,
    ) -> Result<(), Action> {
        let Some(visibility) = self.options.queue_visibility else {
            return Ok(());
        };
        let needed = timeout + schedule::RECORD_SLACK;
        let (Some(receipt), true) = (record.receipt_handle.as_deref(), needed > visibility) else {
            return Ok(());
        };
        let secs = u32::try_from(needed.as_secs() + 1).unwrap_or(u32::MAX);
        self.queue
            .change_visibility(receipt, secs)
            .await
            .map_err(|e| Action::Transient(format!("could not cover the attempt: {e}")))
    }

    /// Records the attempt and the delivery's state after it; when another copy recorded this
    /// attempt first, the action follows the state it recorded.
    pub(crate) async fn record(
        &self,
        before: &DeliveryRecord,
        completed: &Completed,
        update: &DeliveryUpdate,
    ) -> Result<(), Action> {
        match self
            .store
            .record_attempt(before, &completed.attempt, update)
            .await
        {
            Ok(()) => Ok(()),
            // A manual attempt was asked for once: made, it is done (the schedule goes on
            // under its own message), or it would be made again on every return.
            Err(StoreError::Conflict) if completed.attempt.manual => {
                warn!("a scheduled attempt was recorded first; the manual attempt is not recorded");
                Err(Action::Ack)
            }
            Err(StoreError::Conflict) => {
                warn!("another copy recorded this attempt first; its state decides");
                Err(self.follow_recorded(before).await)
            }
            Err(e) => Err(Action::Transient(format!(
                "attempt made but not recorded: {e}"
            ))),
        }
    }

    /// The action for a message whose attempt another copy recorded: done when the delivery is
    /// final, else back when the recorded schedule says.
    async fn follow_recorded(&self, before: &DeliveryRecord) -> Action {
        let state = self
            .store
            .delivery_state(&before.tenant_id, before.endpoint_id.as_deref(), &before.id)
            .await;
        match state {
            Ok(Some(d)) if d.status != DeliveryStatus::Pending => Action::Ack,
            Ok(Some(d)) => {
                let now = shared::domain::clock::now_millis();
                let wait = d
                    .next_attempt_at
                    .and_then(|due| schedule::not_yet_due(due, now))
                    .unwrap_or(schedule::RECORDED_ELSEWHERE_SECONDS);
                Action::Hide(wait)
            }
            Ok(None) => Action::Hide(schedule::RECORDED_ELSEWHERE_SECONDS),
            Err(e) => Action::Transient(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(receives: &str, sent: Option<EpochMillis>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.attributes
            .insert("ApproximateReceiveCount".into(), receives.into());
        if let Some(at) = sent {
            m.attributes.insert("SentTimestamp".into(), at.to_string());
        }
        m
    }

    #[test]
    fn only_a_fresh_first_receive_skips_the_read() {
        let now = 1_000_000;
        assert!(fresh_first_receive(&record("1", Some(now - 500)), now));
        assert!(fresh_first_receive(&record("1", None), now));
        assert!(!fresh_first_receive(&record("2", Some(now - 500)), now));
        assert!(!fresh_first_receive(
            &record("1", Some(now - FRESH_MS)),
            now
        ));
    }
}
