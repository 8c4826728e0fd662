//! Rules a receiver URL must meet when it is registered (endpoint or one-off `webhook_url`).
//!
//! Literal IP hosts are judged by the [`AddressPolicy`] here (the `url` crate normalises
//! decimal, octal, hex and short IPv4 forms, so `http://2130706433/` is seen as 127.0.0.1);
//! names are judged again at connect time, on the addresses actually resolved.

use url::{Host, Url};

use crate::domain::address_policy::AddressPolicy;
use crate::domain::own_hosts::OwnHosts;

pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be a valid absolute URL")]
    Invalid,
    #[error("must be at most 2048 characters")]
    TooLong,
    #[error("must use http or https")]
    Scheme,
    #[error("must use https")]
    HttpsRequired,
    #[error("must not contain credentials; send them with `headers` instead")]
    Credentials,
    #[error("must not contain a fragment")]
    Fragment,
    #[error("must not point to localhost, private, link-local or metadata addresses")]
    Internal,
    #[error("must not point to this service's own API")]
    OwnApi,
}

/// Refuses a receiver URL on one of the deployment's own API hosts (a delivery there would
/// feed events back into the API: an amplification loop).
pub fn refuse_own_host(url: &Url, own: &OwnHosts) -> Result<(), UrlError> {
    if own.contains(url) {
        return Err(UrlError::OwnApi);
    }
    Ok(())
}

/// Parses and checks a receiver URL.
pub fn check_receiver_url(
    raw: &str,
    https_only: bool,
    policy: &AddressPolicy,
) -> Result<Url, UrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| UrlError::Invalid)?;
    match url.scheme() {
        "https" => {}
        "http" if https_only => return Err(UrlError::HttpsRequired),
        "http" => {}
        _ => return Err(UrlError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    let ip = match url.host() {
        None => return Err(UrlError::Invalid),
        Some(Host::Ipv4(v4)) => v4.into(),
        Some(Host::Ipv6(v6)) => v6.into(),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                return Ok(url);
            }
        }
    };
    policy.check(ip).map_err(|_| UrlError::Internal)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(raw: &str) -> Result<Url, UrlError> {
        check_receiver_url(raw, false, &AddressPolicy::strict())
    }

    #[test]
    fn accepts_public_http_and_https() {
        assert!(strict("https://example.com/hooks").is_ok());
        assert!(strict("http://example.com:8080/a?b=c").is_ok());
        assert!(strict("https://8.8.8.8/x").is_ok());
    }

    #[test]
    fn scheme_length_and_shape() {
        assert_eq!(strict("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(strict("file:///etc/passwd"), Err(UrlError::Scheme));
        assert_eq!(strict("example.com/hook"), Err(UrlError::Invalid));
        assert_eq!(
            strict("https://user:pw@example.com/"),
            Err(UrlError::Credentials)
        );
        assert_eq!(strict("https://example.com/#frag"), Err(UrlError::Fragment));
        let path = "a".repeat(MAX_URL_LEN - "https://example.com/".len());
        assert!(
            strict(&format!("https://example.com/{path}")).is_ok(),
            "2048 chars is allowed"
        );
        assert_eq!(
            strict(&format!("https://example.com/{path}a")),
            Err(UrlError::TooLong)
        );
    }

    #[test]
    fn https_only_refuses_http() {
        let policy = AddressPolicy::strict();
        assert_eq!(
            check_receiver_url("http://example.com/", true, &policy),
            Err(UrlError::HttpsRequired)
        );
        assert!(check_receiver_url("https://example.com/", true, &policy).is_ok());
    }

    #[test]
    fn internal_literals_and_localhost_are_refused_in_every_spelling() {
        for raw in [
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.0.1/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[::ffff:0:7f00:2]/",
            "http://[::ffff:0:a9fe:a9fe]/",
            "http://[3fff::1]/",
        ] {
            assert_eq!(strict(raw), Err(UrlError::Internal), "{raw}");
        }
    }

    #[test]
    fn own_api_hosts_are_refused() {
        let own = OwnHosts::parse("abc.execute-api.us-east-1.amazonaws.com,*.hooks.test").unwrap();
        for raw in [
            "https://abc.execute-api.us-east-1.amazonaws.com/v1/tenants/t/events",
            "https://ABC.execute-api.us-east-1.amazonaws.com./",
            "http://hooks.test/",
            "https://eu.hooks.test/v1",
        ] {
            let url = strict(raw).unwrap();
            assert_eq!(refuse_own_host(&url, &own), Err(UrlError::OwnApi), "{raw}");
        }
        let other = strict("https://def.execute-api.us-east-1.amazonaws.com/").unwrap();
        assert_eq!(refuse_own_host(&other, &own), Ok(()));
    }

    #[test]
    fn allowlist_lets_local_receivers_through() {
        let policy =
            AddressPolicy::with_allowlist(AddressPolicy::parse_allowlist("127.0.0.1/32").unwrap());
        assert!(check_receiver_url("http://127.0.0.1:8080/hook", false, &policy).is_ok());
        assert!(check_receiver_url("http://localhost:8080/hook", false, &policy).is_ok());
        assert_eq!(
            check_receiver_url("http://127.0.0.2:8080/hook", false, &policy),
            Err(UrlError::Internal)
        );
    }
}
