//! `GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the request and response
//! types the routes use. The operations below are declarations only (the routing is in
//! `app.rs`); a test calls every documented operation against the router, so the document
//! cannot name a route that does not exist.

#![allow(dead_code)] // the functions exist to carry #[utoipa::path]

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::deliveries::Recover;
use super::endpoints::{CreateEndpoint, PatchEndpoint, RotateSecret};
use super::events::CreateEvent;
use super::tenants::PutTenant;
use super::views::*;
use crate::http::ApiResponse;
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

#[utoipa::path(get, path = "/v1/health", security(()), responses(
    (status = 200, body = Health, description = "Table and queue reachable"),
    (status = 503, body = Health, description = "Table or queue unreachable")))]
fn health() {}

#[utoipa::path(get, path = "/v1/openapi.json", security(()), responses((status = 200, description = "This document")))]
fn openapi_json() {}

#[utoipa::path(put, path = "/v1/tenants/{tenant_id}", request_body = PutTenant,
    params(("tenant_id" = String, Path, pattern = r"^[A-Za-z0-9_.-]{1,64}$")),
    responses((status = 201, body = TenantView, description = "Created (with signing_secret)"),
              (status = 200, body = TenantView, description = "Updated"), Errors))]
fn put_tenant() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}", params(("tenant_id" = String, Path)),
    responses((status = 200, body = TenantView), Errors))]
fn get_tenant() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/api-keys", params(("tenant_id" = String, Path)),
    responses((status = 201, body = ApiKeyCreated), Errors))]
fn create_api_key() {}

#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/api-keys/{key_id}",
    params(("tenant_id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204, description = "Revoked"), Errors))]
fn delete_api_key() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints", request_body = CreateEndpoint,
    params(("tenant_id" = String, Path)), responses((status = 201, body = EndpointView), Errors))]
fn create_endpoint() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints", params(("tenant_id" = String, Path)),
    responses((status = 200, body = EndpointList), Errors))]
fn list_endpoints() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView), Errors))]
fn get_endpoint() {}

#[utoipa::path(patch, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}", request_body = PatchEndpoint,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView), Errors))]
fn patch_endpoint() {}

#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 204, description = "Deleted"), Errors))]
fn delete_endpoint() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/rotate-secret", request_body = RotateSecret,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EndpointView, description = "The endpoint with its new secret"), Errors))]
fn rotate_secret() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/deliveries",
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path),
           ("status" = Option<DeliveryStatus>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 100),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, body = DeliveryList, description = "Newest first"), Errors))]
fn list_deliveries() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/endpoints/{endpoint_id}/recover", request_body = Recover,
    params(("tenant_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 202, body = Requeued), Errors))]
fn recover() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/events", request_body = CreateEvent,
    params(("tenant_id" = String, Path)),
    responses((status = 202, body = AcceptedEvent, description = "Accepted and queued"),
              (status = 200, body = AcceptedEvent, description = "A repeat of an `id` seen within 24 h: the first answer"), Errors))]
fn create_event() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/events/{event_id}",
    params(("tenant_id" = String, Path), ("event_id" = String, Path)),
    responses((status = 200, body = EventView), Errors))]
fn get_event() {}

#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/deliveries/{delivery_id}",
    params(("tenant_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = DeliveryView, description = "With every attempt"), Errors))]
fn get_delivery() {}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/deliveries/{delivery_id}/retry",
    params(("tenant_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = RetryQueued), Errors))]
fn retry_delivery() {}

#[utoipa::path(post, path = "/v1/admin/dlq/redrive", responses((status = 200, body = Moved), Errors))]
fn redrive() {}

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
    paths(health, openapi_json, put_tenant, get_tenant, create_api_key, delete_api_key, create_endpoint,
          list_endpoints, get_endpoint, patch_endpoint, delete_endpoint, rotate_secret, list_deliveries,
          recover, create_event, get_event, get_delivery, retry_delivery, redrive),
    components(schemas(ErrorBody, ErrorDetail, SettingsPatch, SignatureScheme, RetryOn, DeliveryStatus, Outcome)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The document as JSON text, built once per cold start.
pub fn json() -> String {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
        .clone()
}

pub fn document() -> ApiResponse {
    ApiResponse::raw_json(200, json())
}
