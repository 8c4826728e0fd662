//! The rejected-events queue seen from the API (admin): a look at what it holds, and
//! re-submission after a fix (a tenant created, a type catalogued, the template's tenant field
//! corrected): each kept record is mapped and submitted again from the start. Accepted ones
//! leave the queue; those refused again go back with their new reason; those that failed for a
//! passing reason stay (visible again after [`HIDE_SECONDS`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use shared::ports::{Held, QueueError, Rejections};

use super::records::SourceRecord;
use super::submit::{self, Fate};
use crate::state::AppState;

/// How long a re-submission hides what it took.
pub const HIDE_SECONDS: u32 = 60;
/// One request stops taking more after this long (call again for the rest).
const BUDGET: Duration = Duration::from_secs(20);

/// A kept rejection as the queue holds it.
#[derive(Debug, Deserialize)]
struct Kept {
    #[serde(flatten)]
    record: SourceRecord,
    reason: serde_json::Value,
    rejected_at: String,
    #[serde(default)]
    truncated: bool,
}

/// One rejected event, as `GET /v1/admin/rejected` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedView {
    /// The rejected-events queue's message id.
    pub id: String,
    /// `sqs`, `sns` or `eventbridge`.
    pub source: String,
    /// The source's id of the record (its idempotency key unless the body has `id`).
    pub message_id: String,
    /// Why it was refused: API.md's error object (`code`, `message`, `field`).
    #[schema(value_type = Object)]
    pub reason: serde_json::Value,
    pub rejected_at: String,
    /// The record as the source delivered it (an SQS body, an SNS message, an EventBridge event).
    pub record: String,
    /// The record was cut to fit the queue's message limit: shown, never re-submitted.
    pub truncated: bool,
}

impl RejectedView {
    fn of(held: &Held) -> Option<Self> {
        let kept: Kept = serde_json::from_str(&held.body).ok()?;
        Some(Self {
            id: held.message_id.clone(),
            source: kept.record.source.name().to_owned(),
            message_id: kept.record.message_id,
            reason: kept.reason,
            rejected_at: kept.rejected_at,
            record: kept.record.text,
            truncated: kept.truncated,
        })
    }
}

/// Up to `max` rejections, left where they are.
pub async fn look(queue: &dyn Rejections, max: usize) -> Result<Vec<RejectedView>, QueueError> {
    Ok(queue
        .receive(max, 0)
        .await?
        .iter()
        .filter_map(RejectedView::of)
        .collect())
}

/// What a re-submission did.
#[derive(Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Resubmitted {
    /// Accepted this time (they left the queue).
    pub accepted: usize,
    /// Refused again (back in the queue with the new reason).
    pub rejected_again: usize,
    /// Failed for a passing reason, or unreadable: still in the queue.
    pub left: usize,
}

/// Re-submits what the queue holds, 10 at a time, for at most [`BUDGET`].
pub async fn resubmit(state: &AppState, queue: &dyn Rejections) -> Result<Resubmitted, QueueError> {
    let started = Instant::now();
    let mut done = Resubmitted::default();
    // Records this call has handled: one refused again is back in the queue at once, and is
    // not taken a second time (it stays hidden for HIDE_SECONDS).
    let mut handled: HashSet<(String, String)> = HashSet::new();
    while started.elapsed() < BUDGET {
        let held = queue.receive(10, HIDE_SECONDS).await?;
        if held.is_empty() {
            break;
        }
        let fresh: Vec<(Option<Kept>, Held)> = held
            .into_iter()
            // A cut record cannot be submitted again: it is left (and shown) as it is.
            .map(|h| {
                (
                    serde_json::from_str::<Kept>(&h.body)
                        .ok()
                        .filter(|k| !k.truncated),
                    h,
                )
            })
            .filter(|(k, _)| {
                k.as_ref().is_none_or(|k| {
                    handled.insert((
                        k.record.source.name().to_owned(),
                        k.record.message_id.clone(),
                    ))
                })
            })
            .collect();
        if fresh.is_empty() {
            continue; // only copies this call refused again (now hidden): read on
        }
        let (readable, unreadable): (Vec<_>, Vec<_>) =
            fresh.into_iter().partition(|(k, _)| k.is_some());
        done.left += unreadable.len();
        let (records, holds): (Vec<SourceRecord>, Vec<Held>) = readable
            .into_iter()
            .filter_map(|(k, h)| k.map(|k| (k.record, h)))
            .unzip();
        let mut fates = submit::submit(state, &records).await;
        submit::keep_rejections(state, &records, &mut fates).await;
        for (fate, h) in fates.iter().zip(&holds) {
            match fate {
                Fate::Accepted => done.accepted += 1,
                Fate::Rejected(_) => done.rejected_again += 1,
                Fate::Retry => {
                    done.left += 1;
                    continue;
                }
            }
            queue.remove(&h.receipt).await?;
        }
    }
    Ok(done)
}
