//! Portal links and sessions. The SaaS asks for a link for one tenant (admin key); the link's
//! token sits in the URL's fragment, so it never reaches a server log, and can be exchanged
//! once, before it expires, for a session: a bearer key that does what that tenant's own key
//! does, until the link's expiry. Only hashes of tokens are stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use shared::domain::clock::{EpochMillis, now_millis};
use shared::domain::ids::IdKind;
use shared::domain::model::ApiKeyRecord;
use shared::ports::{PortalLink, PortalSessions, TenantRead};

use crate::config::PortalConfig;
use crate::error::ApiError;

/// Link tokens and session keys start with these (recognisable when leaked).
pub const LINK_PREFIX: &str = "hrl_";
pub const SESSION_PREFIX: &str = "hrs_";
pub const DEFAULT_TTL_SECONDS: u32 = 3_600;
pub const MIN_TTL_SECONDS: u32 = 5;
pub const MAX_TTL_SECONDS: u32 = 86_400;

/// `POST /v1/tenants/{tenant_id}/portal-sessions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortalSession {
    /// How long the link (and the session made from it) lasts: 5 to 86,400 s, default 3,600.
    #[schema(minimum = 5, maximum = 86400)]
    pub ttl_seconds: Option<u32>,
}

/// `POST /v1/portal/exchange`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// The token from the link's fragment (`#token=...`).
    pub token: String,
}

/// A new link: its URL and end (epoch ms).
pub struct NewLink {
    pub url: String,
    pub expires_at: EpochMillis,
}

/// A session made from a link.
pub struct NewSession {
    pub token: String,
    pub tenant_id: String,
    pub expires_at: EpochMillis,
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Where the pages are served from: `PUBLIC_URL`, else `https://{host}` of the request.
pub fn base_url(config: &PortalConfig, host: Option<&str>) -> Result<String, ApiError> {
    if let Some(url) = &config.public_url {
        return Ok(url.clone());
    }
    let host = host
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'.' | b'-' | b':' | b'_' | b'[' | b']')
                })
        })
        .ok_or_else(|| ApiError::Invalid {
            field: None,
            message: "The request names no host a link could use: set the deployment's \
                      PublicUrl (PUBLIC_URL) to the API's base URL."
                .into(),
        })?;
    Ok(format!("https://{host}"))
}

/// A link for an existing tenant (404 otherwise).
pub async fn create_link<S: TenantRead + PortalSessions + ?Sized>(
    store: &S,
    tenant_id: &str,
    body: CreatePortalSession,
    base: &str,
) -> Result<NewLink, ApiError> {
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ApiError::invalid(
            "ttl_seconds",
            "must be from 5 to 86400 seconds",
        ));
    }
    super::tenants::load(store, tenant_id).await?;
    let token = random_token(LINK_PREFIX);
    // Whole seconds (the table's TTL unit), so the link and its session end at the same time.
    let expires_at = now_millis() / 1000 + i64::from(ttl);
    let link = PortalLink {
        tenant_id: tenant_id.to_owned(),
        expires_at,
    };
    store.put_portal_link(&sha256_hex(&token), &link).await?;
    Ok(NewLink {
        url: format!("{base}/portal#token={token}"),
        expires_at: expires_at * 1000,
    })
}

/// Exchanges a link's token for a session: once, before the link expires, while its tenant
/// exists. Anything else is 401 (the page says the link expired or was used).
pub async fn exchange<S: TenantRead + PortalSessions + ?Sized>(
    store: &S,
    body: Exchange,
) -> Result<NewSession, ApiError> {
    if !body.token.starts_with(LINK_PREFIX) || body.token.len() > 128 {
        return Err(ApiError::Unauthorized);
    }
    let hash = sha256_hex(&body.token);
    let link = store
        .take_portal_link(&hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    match make_session(store, &link).await {
        Err(e @ ApiError::Unavailable(_)) => {
            // An outage after the take must not use the link up: it is put back (best effort).
            if let Err(put_back) = store.put_portal_link(&hash, &link).await {
                tracing::warn!(error = %put_back, "a portal link taken during an outage could not be put back");
            }
            Err(e)
        }
        other => other,
    }
}

/// The session of a link just taken: 401 when the link has expired or its tenant is gone.
async fn make_session<S: TenantRead + PortalSessions + ?Sized>(
    store: &S,
    link: &PortalLink,
) -> Result<NewSession, ApiError> {
    let now = now_millis();
    if now / 1000 >= link.expires_at || store.get_tenant(&link.tenant_id).await?.is_none() {
        return Err(ApiError::Unauthorized);
    }
    let token = random_token(SESSION_PREFIX);
    let session = ApiKeyRecord {
        id: IdKind::Session.generate(),
        tenant_id: link.tenant_id.clone(),
        key_sha256: sha256_hex(&token),
        created_at: now,
        expires_at: Some(link.expires_at),
    };
    store.put_session(&session).await?;
    Ok(NewSession {
        token,
        tenant_id: link.tenant_id.clone(),
        expires_at: link.expires_at * 1000,
    })
}

/// Ends the session presented as the bearer key (a tenant key is never ended this way).
pub async fn end<S: PortalSessions + ?Sized>(store: &S, bearer: &str) -> Result<(), ApiError> {
    if bearer.starts_with(SESSION_PREFIX) {
        store.end_session(&sha256_hex(bearer)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_base_url_is_configured_or_the_requests_host() {
        let mut config = PortalConfig::default();
        assert_eq!(
            base_url(&config, Some("abc.lambda-url.eu-west-1.on.aws")).unwrap(),
            "https://abc.lambda-url.eu-west-1.on.aws"
        );
        assert!(base_url(&config, None).is_err());
        assert!(base_url(&config, Some("evil.com/x?")).is_err());
        assert!(base_url(&config, Some("")).is_err());
        assert_eq!(
            base_url(&config, Some("[::1]:9000")).unwrap(),
            "https://[::1]:9000"
        );
        assert_eq!(
            base_url(&config, Some("my_host.internal")).unwrap(),
            "https://my_host.internal"
        );
        config.public_url = Some("http://127.0.0.1:9000/lambda-url/ingest".into());
        assert_eq!(
            base_url(&config, Some("ignored")).unwrap(),
            "http://127.0.0.1:9000/lambda-url/ingest"
        );
    }

    #[test]
    fn tokens_are_prefixed_and_random() {
        let (a, b) = (random_token(LINK_PREFIX), random_token(LINK_PREFIX));
        assert!(a.starts_with("hrl_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(sha256_hex("x").len(), 64);
    }
}
