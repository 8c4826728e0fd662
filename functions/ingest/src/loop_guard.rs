//! The API's side of loop prevention. Every request is looked at before any route runs:
//!
//! - one that carries our delivery marker (the `user-agent` every delivery sends,
//!   `Hookrelay/<version> (+webhooks)`) is refused with 403 `delivery_loop`, whatever host it
//!   came through, so a delivery can never become an event (or an endpoint, or a tenant);
//! - the hosts API Gateway says the request arrived on (its request context: the custom domain
//!   or default hostname, and `{api-id}.execute-api.{region}.{suffix}`) are added to the API's
//!   own hosts, which are refused as receivers. The template cannot pass the default hostname
//!   to this function (the API refers to the function: a circular dependency), so it is learned.

use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use shared::domain::own_hosts::{OwnHosts, is_delivery_user_agent};

use crate::error::ApiError;
use crate::state::AppState;

/// The middleware: refuse our own deliveries, learn our own hosts, then run the route.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if sent_by_a_delivery(&request) {
        tracing::warn!("request from a webhook delivery refused (delivery loop)");
        return ApiError::DeliveryLoop.into_response();
    }
    learn_hosts(&state.config.own_hosts, &request);
    next.run(request).await
}

/// Whether any `user-agent` of the request is the one our deliveries send.
pub fn sent_by_a_delivery(request: &Request) -> bool {
    request
        .headers()
        .get_all(USER_AGENT)
        .iter()
        .any(|v| is_delivery_user_agent(&String::from_utf8_lossy(v.as_bytes())))
}

/// Adds the hosts API Gateway reports for this request (never the client's `Host` header).
fn learn_hosts(own: &OwnHosts, request: &Request) {
    let Some(RequestContext::ApiGatewayV2(ctx)) = request.extensions().get::<RequestContext>()
    else {
        return;
    };
    if let Some(domain) = &ctx.domain_name {
        own.learn(domain);
    }
    if let (Some(api_id), Ok(region)) = (&ctx.apiid, std::env::var("AWS_REGION")) {
        let suffix = std::env::var("API_URL_SUFFIX").unwrap_or_else(|_| "amazonaws.com".into());
        own.learn(&format!("{api_id}.execute-api.{region}.{suffix}"));
    }
}
