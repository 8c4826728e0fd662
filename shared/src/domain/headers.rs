//! Header rules of delivery settings: the headers the service writes itself, the ones that carry
//! credentials, and what a header name must look like.

/// Headers the service sets itself; settings cannot override them.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Headers that carry credentials: refused in `headers` and as `signature.header` unless the
/// deployment allows them (`ALLOW_CREDENTIAL_HEADERS=true`). A receiver URL could be an API that
/// trusts them (this service's own, say), and a stored endpoint would replay them forever.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
    "x-amz-security-token",
];

/// Whether `name` is one of [`CREDENTIAL_HEADERS`] (any case).
pub fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name.trim()))
}

pub fn is_reserved(name: &str) -> bool {
    RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

pub fn check_header_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 128 || http::HeaderName::from_bytes(name.as_bytes()).is_err()
    {
        return Err("must be a valid HTTP header name");
    }
    Ok(())
}
