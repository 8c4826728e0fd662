//! The deployment's own API hosts, which are never a receiver: a delivery to its own events
//! route would make one event into `endpoints^depth` events (an amplification loop).
//!
//! Entries are host names, compared without case and without a trailing dot: `api.example.com`
//! matches exactly that host; `*.example.com` matches `example.com` and every name under it
//! (for an API served on a wildcard custom domain). The HTTP API's default hostname
//! (`{api-id}.execute-api.{region}.amazonaws.com`) is one exact entry.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use url::{Host, Url};

/// The product token of the `user-agent` every delivery sends (`Hookrelay/<version> …`): the
/// API refuses requests that carry it, so a delivery can never become an event.
pub const DELIVERY_PRODUCT: &str = "Hookrelay/";

/// Whether a `user-agent` value is the one our deliveries send (any case, anywhere in the
/// value, so a relay that prepends its own product token does not hide it).
pub fn is_delivery_user_agent(value: &str) -> bool {
    value
        .to_ascii_lowercase()
        .contains(&DELIVERY_PRODUCT.to_ascii_lowercase())
}

/// At most this many hosts are learned from requests (an API has one default host and a few
/// custom domains; the bound only keeps a misbehaving front from growing the set).
const MAX_LEARNED: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    /// `*.example.com`: the domain and every subdomain.
    Domain(String),
}

/// The hosts of this deployment's own API: configured ones, plus (in the ingest function) the
/// ones API Gateway reports requests arrived on.
#[derive(Debug, Clone, Default)]
pub struct OwnHosts {
    patterns: Vec<Pattern>,
    learned: Arc<RwLock<BTreeSet<String>>>,
}

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl OwnHosts {
    /// Parses a comma-separated list such as `abc123.execute-api.us-east-1.amazonaws.com,
    /// hooks.example.com, *.api.example.com`; empty entries are skipped.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for entry in list.split(',').map(normalise).filter(|e| !e.is_empty()) {
            let pattern = match entry.strip_prefix("*.") {
                Some(domain) => Pattern::Domain(domain.to_owned()),
                None => Pattern::Exact(entry.clone()),
            };
            let (Pattern::Exact(name) | Pattern::Domain(name)) = &pattern;
            if !valid_name(name) {
                return Err(format!("`{entry}` is not a host name or `*.domain`"));
            }
            patterns.push(pattern);
        }
        Ok(Self {
            patterns,
            learned: Arc::default(),
        })
    }

    /// Adds a host the API was reached on (from API Gateway's request context, never from
    /// something the client chose).
    pub fn learn(&self, host: &str) {
        let host = normalise(host);
        if !valid_name(&host) || self.is_own_host(&host) {
            return;
        }
        if let Ok(mut learned) = self.learned.write()
            && learned.len() < MAX_LEARNED
        {
            learned.insert(host);
        }
    }

    /// Whether `host` (a name) is one of the API's own hosts.
    pub fn is_own_host(&self, host: &str) -> bool {
        let host = normalise(host);
        let configured = self.patterns.iter().any(|p| match p {
            Pattern::Exact(name) => *name == host,
            Pattern::Domain(domain) => {
                host == *domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
        });
        configured || self.learned.read().is_ok_and(|l| l.contains(&host))
    }

    /// Whether a receiver URL points at the API's own hosts.
    pub fn contains(&self, url: &Url) -> bool {
        match url.host() {
            Some(Host::Domain(name)) => self.is_own_host(name),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn exact_hosts_match_in_any_case_and_with_a_trailing_dot() {
        let own = OwnHosts::parse("abc123.execute-api.us-east-1.amazonaws.com, hooks.example.com")
            .unwrap();
        for u in [
            "https://abc123.execute-api.us-east-1.amazonaws.com/v1/tenants/a/events",
            "https://ABC123.Execute-Api.us-east-1.amazonaws.com./x",
            "http://hooks.example.com:8080/v1",
            "https://HOOKS.example.com./",
        ] {
            assert!(own.contains(&url(u)), "{u}");
        }
        for u in [
            "https://xyz789.execute-api.us-east-1.amazonaws.com/",
            "https://sub.hooks.example.com/",
            "https://example.com/",
            "https://hooks.example.com.evil.test/",
            "https://8.8.8.8/",
        ] {
            assert!(!own.contains(&url(u)), "{u}");
        }
    }

    #[test]
    fn a_wildcard_entry_matches_the_domain_and_its_subdomains() {
        let own = OwnHosts::parse("*.api.example.com").unwrap();
        assert!(own.contains(&url("https://api.example.com/")));
        assert!(own.contains(&url("https://t1.api.example.com/")));
        assert!(own.contains(&url("https://a.b.api.example.com./")));
        assert!(!own.contains(&url("https://xapi.example.com/")));
        assert!(!own.contains(&url("https://example.com/")));
    }

    #[test]
    fn the_delivery_user_agent_is_recognised() {
        assert!(is_delivery_user_agent("Hookrelay/0.1.0 (+webhooks)"));
        assert!(is_delivery_user_agent("relay/2 hookrelay/0.1.0"));
        assert!(!is_delivery_user_agent("curl/8.5.0"));
        assert!(!is_delivery_user_agent("Hookrelay-cli"));
    }

    #[test]
    fn parsing_and_learning() {
        assert!(OwnHosts::parse("").unwrap().patterns.is_empty());
        assert_eq!(OwnHosts::parse(" , a.test ,").unwrap().patterns.len(), 1);
        assert!(OwnHosts::parse("https://a.test/").is_err());
        assert!(OwnHosts::parse("a..test").is_err());
        assert!(OwnHosts::parse("*.").is_err());
        let own = OwnHosts::parse("").unwrap();
        let shared = own.clone();
        own.learn("Learned.Execute-Api.eu-west-1.amazonaws.com");
        own.learn("not a host");
        assert!(shared.contains(&url("https://learned.execute-api.eu-west-1.amazonaws.com/")));
        for i in 0..100 {
            own.learn(&format!("h{i}.test"));
        }
        assert_eq!(own.learned.read().unwrap().len(), MAX_LEARNED);
    }
}
