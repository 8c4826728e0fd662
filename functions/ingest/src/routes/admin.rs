//! `POST /v1/admin/dlq/redrive` (admin key only): moves the DLQ's messages back to the delivery
//! queue and says how many.

use shared::ports::Redrive;

use crate::app::{App, Principal, Queue, Store, admin_only};
use crate::error::ApiError;
use crate::http::ApiResponse;

pub async fn redrive<S: Store, Q: Queue, R: Redrive>(
    app: &App<S, Q, R>,
    who: &Principal,
) -> Result<ApiResponse, ApiError> {
    admin_only(who, None)?;
    let moved = app.redrive.redrive().await.map_err(|e| {
        tracing::error!(error = %e, "DLQ redrive failed");
        ApiError::unavailable(
            "The queues are unavailable; nothing or only part was moved. Try again.",
        )
    })?;
    tracing::info!(moved, "DLQ redriven");
    Ok(ApiResponse::json(200, &super::views::Moved { moved }))
}
