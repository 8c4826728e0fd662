//! Direct `Invoke` by internal producers: `{"tenant_id", ...event}` (one event, as `POST
//! .../events` takes it) or `{"tenant_id", "events": [...]}` (up to 100), answered with
//! per-event results exactly as the batch route answers (`{"results": [...]}`). The caller sees
//! every refusal, so nothing goes to the rejected-events queue.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::service::batch::{self, BatchOutcome, CreateEvents};
use crate::state::AppState;
use crate::views::{BatchResult, BatchResults};

fn results(outcomes: Vec<BatchOutcome>) -> BatchResults {
    BatchResults {
        results: outcomes.into_iter().map(BatchResult::new).collect(),
    }
}

/// Every event failed the same way (an unknown tenant, an unreadable envelope).
fn all_failed(count: usize, e: &ApiError) -> BatchResults {
    results(
        (0..count.max(1))
            .map(|_| BatchOutcome::Failed(e.clone()))
            .collect(),
    )
}

pub async fn invoke(state: &AppState, raw: &RawValue) -> BatchResults {
    let mut fields: BTreeMap<String, Box<RawValue>> = match serde_json::from_str(raw.get()) {
        Ok(f) => f,
        Err(_) => return all_failed(1, &ApiError::malformed("The event must be a JSON object.")),
    };
    let Some(tenant_id) = fields
        .remove("tenant_id")
        .and_then(|t| serde_json::from_str::<String>(t.get()).ok())
    else {
        return all_failed(1, &ApiError::invalid("tenant_id", "must be a string"));
    };
    let events = if fields.contains_key("events") {
        let envelope = serde_json::value::to_raw_value(&fields)
            .ok()
            .and_then(|r| serde_json::from_str::<CreateEvents>(r.get()).ok());
        match envelope.map(CreateEvents::checked) {
            Some(Ok(events)) => events,
            Some(Err(e)) => return all_failed(1, &e),
            None => {
                let e = ApiError::invalid(
                    "events",
                    "must be an array of events and nothing else beside tenant_id",
                );
                return all_failed(1, &e);
            }
        }
    } else {
        match serde_json::value::to_raw_value(&fields) {
            Ok(one) => vec![one],
            Err(_) => return all_failed(1, &ApiError::Internal("the event did not encode")),
        }
    };
    let count = events.len();
    let strict = match state.strict().await {
        Ok(s) => s,
        Err(e) => return all_failed(count, &e),
    };
    let (store, queue) = (&*state.store, &*state.queue);
    match batch::submit_all(store, queue, &state.config, &strict, &tenant_id, events).await {
        Ok(outcomes) => results(outcomes),
        Err(e) => all_failed(count, &e),
    }
}
