//! Idempotency keys: the first request with a key within 24 h does the work and a compact record
//! of its answer is kept (`keep`: small whatever the answer's size — a table item holds at most
//! 400 KB); a repeat waits for that record and gets it; a first request that fails lets the key
//! go.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

use shared::domain::clock::now_millis;
use shared::domain::model::IdempotencyRecord;
use shared::ports::{Idempotency, IdempotencyClaim};

use crate::error::ApiError;

/// How long a repeat waits for the first request with the same key to finish.
const WAIT: Duration = Duration::from_secs(10);
/// Claims tried before giving up when first requests keep failing.
const CLAIMS: usize = 3;

/// What a request with an idempotency key gets.
#[derive(Debug)]
pub enum Answer<T> {
    /// This request did the work.
    First(T),
    /// A repeat: what `keep` kept of the first request's answer (JSON text).
    Repeat(String),
}

/// Runs `work` once per (tenant, key) within 24 h; `keep` says what of its answer is kept for
/// repeats.
pub async fn once<S, T, K, F, Fut>(
    store: &S,
    tenant_id: &str,
    key: &str,
    mut work: F,
    keep: impl Fn(&T) -> K,
) -> Result<Answer<T>, ApiError>
where
    S: Idempotency + ?Sized,
    K: Serialize,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    for _ in 0..CLAIMS {
        match store
            .claim_idempotency(tenant_id, key, now_millis())
            .await?
        {
            IdempotencyClaim::Claimed => {
                let result = work().await;
                settle(store, tenant_id, key, &result.as_ref().map(&keep)).await;
                return result.map(Answer::First);
            }
            IdempotencyClaim::Existing(record) => {
                if let Some(first) = wait_for_first(store, tenant_id, key, record).await? {
                    return Ok(Answer::Repeat(first));
                }
                // The first request failed and let the key go: claim it again.
            }
        }
    }
    Err(ApiError::conflict(
        "conflict",
        "Requests with this id keep failing; try again.",
    ))
}

/// Keeps the answer of a first request that succeeded; lets the key go after a failure.
async fn settle<S: Idempotency + ?Sized, K: Serialize>(
    store: &S,
    tenant_id: &str,
    key: &str,
    result: &Result<K, &ApiError>,
) {
    match result {
        Ok(answer) => {
            let kept = match serde_json::to_string(answer) {
                Ok(body) => store
                    .complete_idempotency(tenant_id, key, &body)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = kept {
                tracing::error!(error = %e, "request done but its idempotency record not completed");
            }
        }
        Err(_) => {
            if let Err(e) = store.release_idempotency(tenant_id, key).await {
                tracing::error!(error = %e, "idempotency key not released after a failure");
            }
        }
    }
}

/// The first request's answer, once it has one; None if it failed and released the key.
async fn wait_for_first<S: Idempotency + ?Sized>(
    store: &S,
    tenant_id: &str,
    key: &str,
    mut record: IdempotencyRecord,
) -> Result<Option<String>, ApiError> {
    let started = Instant::now();
    loop {
        if let Some(first) = record.response {
            return Ok(Some(first));
        }
        if started.elapsed() > WAIT {
            return Err(ApiError::conflict(
                "request_in_progress",
                "A request with this id is still being processed; try again shortly.",
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        match store.get_idempotency(tenant_id, key).await? {
            Some(r) => record = r,
            None => return Ok(None),
        }
    }
}
