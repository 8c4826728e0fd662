//! One SQS batch, record by record: bounded concurrency, one span per record, a panic in one
//! record failing that record only, then each record's [`Action`] carried out (visibility
//! changed, message id reported in `batch_item_failures` unless the record is done).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::{FutureExt, StreamExt};
use shared::domain::clock::EpochMillis;
use shared::ports::{Enqueue, Sender, Visibility};
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::action::Action;
use crate::schedule;
use crate::worker::{Worker, WorkerStore};

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

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
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
        // The delivery's ids, once known, are on every line of the record; the message id only
        // on the lines of records that fail (it names what SQS brings back or dead-letters).
        let span = info_span!(
            "record",
            delivery_id = tracing::field::Empty,
            attempt = tracing::field::Empty
        );
        async {
            // A panic in one record must not take the batch down (in release a panic would
            // abort the process and every record would come back): it fails that record only.
            let action = std::panic::AssertUnwindSafe(self.process(&record, deadline))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Action::Transient("panic while processing the record".into()));
            let receive_count = receive_count(&record);
            let hide =
                schedule::visibility(&action, receive_count, self.options.max_transient_backoff);
            log_action(&action, &message_id, receive_count, hide);
            let hide = hide?;
            if let Some(receipt) = record.receipt_handle.as_deref()
                && let Err(e) = self.queue.change_visibility(receipt, hide).await
            {
                // The message still comes back, after the queue's own visibility timeout;
                // the not-yet-due check then hides it again as needed.
                warn!(error = %e, %message_id, "could not change the message's visibility");
            }
            Some(message_id)
        }
        .instrument(span)
        .await
    }
}

pub(crate) fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

/// One line per record at most, beyond the worker's outcome line: none for a record done (the
/// attempt's line said it), so a first-try delivery logs one short line at INFO.
fn log_action(action: &Action, message_id: &str, receive_count: u32, hide: Option<u32>) {
    match action {
        Action::Ack => debug!("record done"),
        Action::Hide(secs) => info!(hide_seconds = *secs, "record comes back later"),
        Action::Poison(reason) => {
            error!(%reason, message_id, receive_count, "unprocessable message; it goes to the DLQ at maxReceiveCount");
        }
        Action::Transient(reason) => {
            let backoff = hide.unwrap_or_default();
            warn!(%reason, message_id, receive_count, backoff, "record failed on a store or queue error; it will come back");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_from_lambda_is_kept_and_an_implausible_one_replaced() {
        let now = 1_795_000_000_000;
        assert_eq!(
            effective_deadline(1_795_000_030_000, now),
            1_795_000_030_000
        );
        assert_eq!(
            effective_deadline(1_794_999_999_000, now),
            1_794_999_999_000,
            "a past deadline stays past"
        );
        assert_eq!(effective_deadline(30_000, now), now + FALLBACK_BUDGET_MS);
        assert_eq!(effective_deadline(0, now), now + FALLBACK_BUDGET_MS);
    }
}
