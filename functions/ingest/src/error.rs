//! The API's one error type. Each variant is mapped once, in [`IntoResponse`], to a status and
//! API.md's body `{"error": {"code", "message", "field"?}}`. Messages never carry secrets or
//! debug output.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON (or not readable).
    #[error("{0}")]
    Malformed(String),
    /// 422: valid JSON, invalid values; `field` is the JSON path at fault when one is.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("A valid `Authorization: Bearer <key>` header is required.")]
    Unauthorized,
    #[error("This route needs the admin key.")]
    Forbidden,
    /// 403: the request was sent by a webhook delivery of this product (a delivery loop).
    #[error(
        "Requests sent by a Hookrelay webhook delivery are refused: a receiver URL must not \
         point at a Hookrelay API."
    )]
    DeliveryLoop,
    /// 404 for a resource (or another tenant's).
    #[error("No such {0}.")]
    NotFound(&'static str),
    /// 404 for a path the API does not serve.
    #[error("No such route.")]
    NoRoute,
    #[error("This route does not take that method.")]
    MethodNotAllowed,
    /// 409 with its own code (`conflict`, `endpoint_limit_reached`, `request_in_progress`).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: a body, payload or metadata over its limit.
    #[error("{message}")]
    TooLarge {
        field: &'static str,
        message: String,
    },
    /// 503: the table or the queue is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or corrupt stored data.
    #[error("{0}")]
    Internal(&'static str),
}

impl ApiError {
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::Malformed(message.into())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn too_large(field: &'static str, message: impl Into<String>) -> Self {
        Self::TooLarge {
            field,
            message: message.into(),
        }
    }

    /// A request body over the deployment's limit.
    pub fn body_too_large(limit: usize) -> Self {
        Self::too_large(
            "payload",
            format!("The request body must be at most {limit} bytes."),
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::DeliveryLoop => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_json",
            Self::Invalid { .. } => "invalid_field",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::DeliveryLoop => "delivery_loop",
            Self::NotFound(_) | Self::NoRoute => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict { code, .. } => code,
            Self::TooLarge { .. } => "too_large",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            Self::TooLarge { field, .. } => Some(field),
            _ => None,
        }
    }

    /// API.md's error body.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        if let (Some(field), Some(obj)) = (self.field(), error.as_object_mut()) {
            obj.insert("field".into(), json!(field));
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<shared::ports::StoreError> for ApiError {
    fn from(e: shared::ports::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        Self::unavailable("The event store is unavailable; try again.")
    }
}

impl From<shared::domain::fanout::MessageError> for ApiError {
    fn from(e: shared::domain::fanout::MessageError) -> Self {
        tracing::error!(error = %e, "delivery message not encoded");
        Self::Internal("A delivery message could not be encoded.")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn error_body_has_the_api_shape() {
        let e = ApiError::invalid("url", "must use https");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            e.body(),
            json!({"error": {"code": "invalid_field", "message": "must use https", "field": "url"}})
        );
        assert!(
            ApiError::Unauthorized.body()["error"]
                .get("field")
                .is_none()
        );
        assert_eq!(
            ApiError::NotFound("tenant").body()["error"]["message"],
            "No such tenant."
        );
    }
}
