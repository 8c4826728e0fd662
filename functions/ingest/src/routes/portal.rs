//! Portal links and sessions: `POST /v1/tenants/{tenant_id}/portal-sessions` (admin key) makes a
//! link that opens the tenant's portal; `POST /v1/portal/exchange` (no key: the link's token is
//! the credential) turns it into a session once; `DELETE /v1/portal/session` ends one.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use shared::domain::clock::rfc3339;

use super::openapi::Errors;
use crate::auth::{AdminOf, bearer};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::service::portal::{self, CreatePortalSession, Exchange};
use crate::state::AppState;
use crate::views::{PortalLinkView, PortalSessionView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_portal_session))
        .routes(routes!(exchange))
        .routes(routes!(end_session))
}

#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/portal-sessions", request_body = CreatePortalSession,
    params(("tenant_id" = String, Path)),
    responses((status = 201, body = PortalLinkView, description = "A one-time link to the tenant's portal"), Errors))]
async fn create_portal_session(
    State(state): State<AppState>,
    AdminOf { tenant_id }: AdminOf,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreatePortalSession>,
) -> Result<(StatusCode, Json<PortalLinkView>), ApiError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let base = portal::base_url(&state.config.portal, host)?;
    let link = portal::create_link(&*state.store, &tenant_id, body, &base).await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalLinkView {
            url: link.url,
            expires_at: rfc3339(link.expires_at),
        }),
    ))
}

#[utoipa::path(post, path = "/v1/portal/exchange", request_body = Exchange, security(()),
    responses((status = 201, body = PortalSessionView, description = "A session for the link's tenant"),
              (status = 401, description = "The link is unknown, used or expired"), Errors))]
async fn exchange(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Exchange>,
) -> Result<(StatusCode, Json<PortalSessionView>), ApiError> {
    let session = portal::exchange(&*state.store, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalSessionView {
            session_token: session.token,
            tenant_id: session.tenant_id,
            expires_at: rfc3339(session.expires_at),
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/portal/session",
    responses((status = 204, description = "The session presented as the bearer key is ended"), Errors))]
async fn end_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(ApiError::Unauthorized)?;
    portal::end(&*state.store, token).await?;
    Ok(StatusCode::NO_CONTENT)
}
