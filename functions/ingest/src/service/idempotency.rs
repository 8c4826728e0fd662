//! Idempotency keys of event intake. The first request with a key within 24 h claims it and
//! fixes the event id in the same write; the record then says where that event stands:
//! `accepting` (a request is working on it), `failed` (it answered 5xx), `done`.
//!
//! A repeat of a done key gets the event's answer; a repeat while a request works waits for it
//! (up to 10 s, then 409 `request_in_progress`); a repeat of a failed key — or of one whose
//! holder stopped without a word for [`TAKE_OVER_AFTER_MS`] — takes the key over and resumes
//! **the same event** (never a second event id for the receivers). Only a small record is kept
//! (the event id), whatever the answer's size: the answer is rebuilt from the event.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::model::IdempotencyRecord;
use shared::ports::{Idempotency, IdempotencyClaim, StoreError};

use crate::error::ApiError;

/// How long a repeat waits for the request that holds the key.
const WAIT: Duration = Duration::from_secs(10);
/// Claims tried before giving up when holders keep changing.
const CLAIMS: usize = 3;
/// A holder silent this long has stopped (a request lives at most 29 s).
pub const TAKE_OVER_AFTER_MS: i64 = 60_000;

/// What a request with an idempotency key gets.
#[derive(Debug)]
pub enum Answer<T> {
    /// This request did the work (first, or resuming a failed first).
    First(T),
    /// A repeat: the first request's answer (JSON text).
    Repeat(String),
}

/// Where the key's event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Accepting,
    Failed,
    #[default]
    Done,
}

/// The record's response: the key's event and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kept {
    pub event_id: String,
    #[serde(default)]
    pub state: State,
    /// When the state was written (epoch ms).
    #[serde(default)]
    pub at: EpochMillis,
}

impl Kept {
    fn text(event_id: &str, state: State, at: EpochMillis) -> String {
        let kept = Kept {
            event_id: event_id.to_owned(),
            state,
            at,
        };
        serde_json::to_string(&kept).unwrap_or_default()
    }
}

/// How an earlier request left the event this request resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// It answered 5xx: what it could not enqueue it recorded as not enqueued.
    Failed,
    /// It stopped without a word: any of its deliveries may lack a message.
    Silent,
}

/// What this request does with the key.
#[derive(Debug)]
pub enum Turn {
    /// Work on `event_id`; `resumes`: how an earlier request left it, if one did. `held` is the
    /// record's response while this request holds the key.
    Work {
        event_id: String,
        resumes: Option<Left>,
        held: String,
    },
    /// The key's event was accepted earlier.
    Done { event_id: String },
    /// A whole first answer kept by an earlier version.
    Kept(String),
}

/// What a record says to a request that finds it.
enum Seen {
    Kept(String),
    Done(String),
    InProgress,
    TakeOver {
        held: String,
        event_id: String,
        left: Left,
    },
}

fn read(record: &IdempotencyRecord, now: EpochMillis) -> Seen {
    let Some(text) = &record.response else {
        return Seen::InProgress; // claimed by an earlier version, still working
    };
    let Ok(kept) = serde_json::from_str::<Kept>(text) else {
        return Seen::Kept(text.clone());
    };
    match kept.state {
        State::Done => Seen::Done(kept.event_id),
        State::Accepting if now - kept.at < TAKE_OVER_AFTER_MS => Seen::InProgress,
        State::Accepting => Seen::TakeOver {
            held: text.clone(),
            event_id: kept.event_id,
            left: Left::Silent,
        },
        State::Failed => Seen::TakeOver {
            held: text.clone(),
            event_id: kept.event_id,
            left: Left::Failed,
        },
    }
}

/// Claims `key` for a new event `fresh_event_id`, or says what an earlier request left.
pub async fn take<S: Idempotency + ?Sized>(
    store: &S,
    tenant_id: &str,
    key: &str,
    fresh_event_id: &str,
) -> Result<Turn, ApiError> {
    for _ in 0..CLAIMS {
        let now = now_millis();
        let mine = Kept::text(fresh_event_id, State::Accepting, now);
        let record = match store
            .claim_idempotency(tenant_id, key, now, Some(&mine))
            .await?
        {
            IdempotencyClaim::Claimed => {
                return Ok(Turn::Work {
                    event_id: fresh_event_id.to_owned(),
                    resumes: None,
                    held: mine,
                });
            }
            IdempotencyClaim::Existing(record) => record,
        };
        if let Some(turn) = follow(store, tenant_id, key, record).await? {
            return Ok(turn);
        }
        // The key was let go meanwhile: claim it again.
    }
    Err(ApiError::conflict(
        "conflict",
        "Requests with this id keep failing; try again.",
    ))
}

/// Follows a record someone else holds until it is done, taken over by this request, or gone.
async fn follow<S: Idempotency + ?Sized>(
    store: &S,
    tenant_id: &str,
    key: &str,
    mut record: IdempotencyRecord,
) -> Result<Option<Turn>, ApiError> {
    let started = Instant::now();
    loop {
        let now = now_millis();
        match read(&record, now) {
            Seen::Kept(text) => return Ok(Some(Turn::Kept(text))),
            Seen::Done(event_id) => return Ok(Some(Turn::Done { event_id })),
            Seen::TakeOver {
                held,
                event_id,
                left,
            } => {
                let mine = Kept::text(&event_id, State::Accepting, now);
                match store
                    .replace_idempotency_response(tenant_id, key, &held, &mine)
                    .await
                {
                    Ok(()) => {
                        return Ok(Some(Turn::Work {
                            event_id,
                            resumes: Some(left),
                            held: mine,
                        }));
                    }
                    Err(StoreError::Conflict) => {} // another request took it: follow that one
                    Err(e) => return Err(e.into()),
                }
            }
            Seen::InProgress if started.elapsed() > WAIT => {
                return Err(ApiError::conflict(
                    "request_in_progress",
                    "A request with this id is still being processed; try again shortly.",
                ));
            }
            Seen::InProgress => tokio::time::sleep(Duration::from_millis(100)).await,
        }
        match store.get_idempotency(tenant_id, key).await? {
            Some(r) => record = r,
            None => return Ok(None),
        }
    }
}

/// Records how the work on the key's event ended: `done`, or `failed` (a retry resumes it).
/// Best effort: if this write fails, a retry takes the key over after [`TAKE_OVER_AFTER_MS`].
pub async fn settle<S: Idempotency + ?Sized>(
    store: &S,
    tenant_id: &str,
    key: &str,
    held: &str,
    event_id: &str,
    ok: bool,
) {
    let state = if ok { State::Done } else { State::Failed };
    let settled = Kept::text(event_id, state, now_millis());
    match store
        .replace_idempotency_response(tenant_id, key, held, &settled)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            tracing::warn!(
                event_id,
                "idempotency key taken over before this request ended"
            );
        }
        Err(e) => tracing::error!(error = %e, event_id, "idempotency record not settled"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(response: Option<String>) -> IdempotencyRecord {
        IdempotencyRecord {
            tenant_id: "t".into(),
            key: "k".into(),
            response,
            created_at: 0,
            expires_at: 0,
        }
    }

    #[test]
    fn what_a_record_says() {
        let now = 1_000_000;
        let at = |state, at| Some(Kept::text("evt_1", state, at));
        let seen = |r| read(&record(r), now);
        assert!(matches!(seen(None), Seen::InProgress));
        assert!(matches!(
            seen(at(State::Accepting, now - 1_000)),
            Seen::InProgress
        ));
        assert!(matches!(
            seen(at(State::Accepting, now - TAKE_OVER_AFTER_MS)),
            Seen::TakeOver { event_id, .. } if event_id == "evt_1"
        ));
        assert!(matches!(
            seen(at(State::Failed, now)),
            Seen::TakeOver { .. }
        ));
        assert!(matches!(seen(at(State::Done, 0)), Seen::Done(e) if e == "evt_1"));
        assert!(matches!(
            seen(Some(r#"{"event_id":"evt_1"}"#.into())),
            Seen::Done(_)
        ));
        assert!(matches!(
            seen(Some(r#"{"id":"evt_1","deliveries":[]}"#.into())),
            Seen::Kept(_)
        ));
    }
}
