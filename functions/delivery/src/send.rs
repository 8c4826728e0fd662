//! Send: the only I/O with the receiver. Makes the prepared attempt through the [`Sender`]
//! port (which classifies what the receiver did) and returns it completed, with the attempt
//! record to keep.

use shared::domain::attempt::AttemptResult;
use shared::domain::clock::now_millis;
use shared::domain::ids::IdKind;
use shared::domain::model::AttemptRecord;
use shared::ports::Sender;

use crate::prepare::{Dispatch, Target};

/// An attempt that has a result.
#[derive(Debug)]
pub struct Completed {
    pub target: Target,
    /// What the delivery log keeps of the attempt.
    pub attempt: AttemptRecord,
    /// What the attempt produced (with `Retry-After`, which the record does not keep).
    pub result: AttemptResult,
}

impl Completed {
    /// When the attempt ended: the next one counts from there.
    pub fn ended_at(&self) -> i64 {
        self.attempt.started_at + i64::try_from(self.attempt.duration_ms).unwrap_or(0)
    }
}

/// POSTs the prepared request (or takes the result of one that cannot be made) and times it:
/// `started_at + duration_ms` is when the attempt ended.
pub async fn send<H: Sender + ?Sized>(sender: &H, dispatch: Dispatch) -> Completed {
    let started = now_millis();
    let clock = std::time::Instant::now();
    let mut result = match dispatch.request {
        Ok(request) => sender.send(request).await,
        Err(refused) => refused,
    };
    result.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let attempt = AttemptRecord {
        id: IdKind::Attempt.generate(),
        delivery_id: dispatch.delivery_id,
        number: dispatch.number,
        url: dispatch.target.url.clone(),
        started_at: started,
        duration_ms: result.duration_ms,
        status_code: result.status_code,
        outcome: result.outcome,
        error: result.error.clone(),
        response_excerpt: result.response_excerpt.clone(),
        manual: dispatch.manual,
    };
    Completed {
        target: dispatch.target,
        attempt,
        result,
    }
}
