//! The OpenAPI 3.1 document: its frame here (info, security, shared schemas, the error
//! answers); its operations come from the routers themselves ([`super::api_router`]), so the
//! document cannot name a route that does not exist, nor miss one that does.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use shared::domain::attempt::Outcome;
use shared::domain::model::DeliveryStatus;
use shared::domain::settings::{RetryOn, SettingsPatch, SignatureScheme};

/// Every 4xx/5xx body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// snake_case, e.g. `invalid_field`, `not_found`, `endpoint_limit_reached`.
    pub code: String,
    pub message: String,
    /// JSON path of the field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The error answers every authenticated route can give.
#[derive(IntoResponses)]
pub enum Errors {
    #[response(status = 400, description = "Malformed JSON")]
    Malformed(#[to_schema] ErrorBody),
    #[response(status = 401, description = "Missing or wrong key")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "Needs the admin key")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "No such resource (or another tenant's)")]
    NotFound(ErrorBody),
    #[response(
        status = 409,
        description = "Conflict (limit reached, concurrent change, request in progress)"
    )]
    Conflict(ErrorBody),
    #[response(status = 413, description = "Payload or metadata too large")]
    TooLarge(ErrorBody),
    #[response(status = 422, description = "Valid JSON, invalid values")]
    Invalid(ErrorBody),
    #[response(status = 503, description = "Table or queue unavailable")]
    Unavailable(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Hookrelay", description = "Serverless webhook delivery: events in, signed deliveries out, every attempt recorded."),
    components(schemas(ErrorBody, ErrorDetail, SettingsPatch, SignatureScheme, RetryOn, DeliveryStatus, Outcome)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The whole document: the frame above with every router's operations.
pub fn document() -> utoipa::openapi::OpenApi {
    super::api_router().into_openapi()
}

/// The document as JSON text, built once per cold start.
pub fn json() -> String {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".into()))
        .clone()
}
