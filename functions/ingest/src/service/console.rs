//! What the operator console reads across tenants: the tenant list, and endpoints that are
//! failing or disabled.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use shared::domain::model::Endpoint;
use shared::ports::{EndpointRead, TenantDirectory, TenantPage};

use crate::error::ApiError;

/// Tenants per page by default, and at most.
pub const DEFAULT_TENANTS: usize = 50;
pub const MAX_TENANTS: usize = 200;
/// Tenants whose endpoints one health page reads at most.
pub const HEALTH_TENANTS_PER_PAGE: usize = 25;

/// `?limit=&cursor=` of the tenant list (and `state=` of the health view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantQuery {
    pub limit: usize,
    pub after: Option<String>,
    pub state: Option<Health>,
}

/// Which endpoints the health view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Enabled, and every finished delivery failing.
    Failing,
    Disabled,
}

impl Health {
    fn shows(self, e: &Endpoint) -> bool {
        match self {
            Self::Failing => e.enabled && e.failing_since.is_some(),
            Self::Disabled => !e.enabled,
        }
    }
}

impl TenantQuery {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut q = Self {
            limit: DEFAULT_TENANTS,
            after: None,
            state: None,
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    q.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_TENANTS).contains(n))
                        .ok_or_else(|| {
                            ApiError::invalid("limit", "must be a whole number from 1 to 200")
                        })?;
                }
                "cursor" => q.after = Some(decode_cursor(&v)?),
                "state" => {
                    q.state = Some(match v.as_ref() {
                        "failing" => Health::Failing,
                        "disabled" => Health::Disabled,
                        _ => return Err(ApiError::invalid("state", "must be failing or disabled")),
                    });
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

fn decode_cursor(v: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(v.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|id| super::valid_tenant_id(id))
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

/// The cursor of the page after tenant `id`.
pub fn cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// One page of tenants.
pub async fn tenants<S: TenantDirectory + ?Sized>(
    store: &S,
    q: &TenantQuery,
) -> Result<TenantPage, ApiError> {
    Ok(store.list_tenants(q.limit, q.after.as_deref()).await?)
}

/// The failing or disabled endpoints (both without `state`) of up to
/// [`HEALTH_TENANTS_PER_PAGE`] tenants (or `limit`, if smaller), and where the next page starts.
/// A page may be empty while more follow.
pub async fn endpoint_health<S: TenantDirectory + EndpointRead + ?Sized>(
    store: &S,
    q: &TenantQuery,
) -> Result<(Vec<Endpoint>, Option<String>), ApiError> {
    let tenants = store
        .list_tenants(q.limit.min(HEALTH_TENANTS_PER_PAGE), q.after.as_deref())
        .await?;
    let mut found = Vec::new();
    for t in &tenants.tenants {
        let endpoints = store.list_endpoints(&t.id).await?;
        found.extend(endpoints.into_iter().filter(|e| {
            q.state
                .map_or(!e.enabled || e.failing_since.is_some(), |s| s.shows(e))
        }));
    }
    Ok((found, tenants.next_after.as_deref().map(cursor)))
}
