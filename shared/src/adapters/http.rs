//! The outbound HTTP side: one hardened client per cold start (no redirects, no proxies, a fixed
//! user agent, keep-alive, per-attempt timeouts, the compiled-in TLS roots of [`super::tls`]) whose DNS resolver drops every address the
//! [`AddressPolicy`] refuses, so the check is on the addresses actually connected to (DNS
//! rebinding included). Literal-IP URLs skip DNS, so they are checked before the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::domain::address_policy::{AddressPolicy, BlockedAddress};
use crate::domain::attempt::{AttemptResult, Outcome};
use crate::ports::sender::{OutboundRequest, Sender};

pub const USER_AGENT: &str = concat!("Hookrelay/", env!("CARGO_PKG_VERSION"), " (+webhooks)");
/// At most this many bytes of a response body are kept in the attempt record.
pub const EXCERPT_MAX_BYTES: usize = 1024;

/// Turns a host name into addresses. The system resolver in production; tests plug in their
/// own to make names resolve to addresses of their choosing (DNS rebinding, say).
pub type Lookup = Arc<
    dyn Fn(String) -> futures::future::BoxFuture<'static, std::io::Result<Vec<IpAddr>>>
        + Send
        + Sync,
>;

/// The system resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|name: String| {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    })
}

/// Resolves a name, then keeps only the addresses the policy allows: the addresses checked are
/// the ones connected to.
struct FilteringResolver {
    policy: Arc<AddressPolicy>,
    lookup: Lookup,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let lookup = Arc::clone(&self.lookup);
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = lookup(name.as_str().to_owned())
                .await?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            let mut first_block: Option<BlockedAddress> = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(blocked) => {
                        first_block.get_or_insert(blocked);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), first_block) {
                (true, Some(blocked)) => {
                    Err(Box::new(blocked) as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// How the sender keeps connections to receivers between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Idle connections kept per receiver host: at least the attempts made at once, so a busy
    /// receiver's connections all go back to the pool after a batch instead of being closed
    /// and opened again (a TCP and TLS handshake each) by the next one.
    pub max_idle_per_host: usize,
    /// How long an idle connection is kept.
    pub idle_timeout: Duration,
}

impl PoolOptions {
    /// Below the 5 s keep-alive timeout of Node.js servers, the shortest common one: a
    /// connection the receiver is closing as a POST goes out fails that attempt, and a POST
    /// already written is never re-sent. Under load, connections are reused within a batch and
    /// between back-to-back batches, well inside it.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

    /// A pool for `concurrency` attempts at once.
    pub fn for_concurrency(concurrency: usize) -> Self {
        Self {
            max_idle_per_host: concurrency.max(1),
            idle_timeout: Self::IDLE_TIMEOUT,
        }
    }
}

impl Default for PoolOptions {
    /// For the delivery function's default concurrency (16).
    fn default() -> Self {
        Self::for_concurrency(16)
    }
}

/// Why the receivers' client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

#[derive(Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl HttpSender {
    pub fn new(policy: AddressPolicy) -> Result<Self, SenderError> {
        Self::with_lookup(policy, system_lookup())
    }

    /// A sender whose names resolve through `lookup` (tests).
    pub fn with_lookup(policy: AddressPolicy, lookup: Lookup) -> Result<Self, SenderError> {
        Self::build(policy, lookup, PoolOptions::default())
    }

    /// A sender through the system resolver whose pool is sized by `pool`.
    pub fn with_pool(policy: AddressPolicy, pool: PoolOptions) -> Result<Self, SenderError> {
        Self::build(policy, system_lookup(), pool)
    }

    /// The one client: no redirects, no proxies, the fixed user agent, the filtering resolver.
    pub fn build(
        policy: AddressPolicy,
        lookup: Lookup,
        pool: PoolOptions,
    ) -> Result<Self, SenderError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(pool.idle_timeout)
            .pool_max_idle_per_host(pool.max_idle_per_host)
            .tcp_nodelay(true)
            // The compiled-in roots, parsed once per process (no certificate file is read).
            .tls_backend_preconfigured(super::tls::client_config()?)
            .dns_resolver(Arc::new(FilteringResolver {
                policy: Arc::clone(&policy),
                lookup,
            }))
            .build()?;
        Ok(Self { client, policy })
    }

    fn literal_ip(url: &Url) -> Option<IpAddr> {
        match url.host()? {
            Host::Ipv4(v4) => Some(v4.into()),
            Host::Ipv6(v6) => Some(v6.into()),
            Host::Domain(_) => None,
        }
    }
}

#[async_trait::async_trait]
impl Sender for HttpSender {
    async fn send(&self, request: OutboundRequest) -> AttemptResult {
        let started = Instant::now();
        let elapsed = |s: Instant| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(ip) = Self::literal_ip(&request.url)
            && let Err(blocked) = self.policy.check(ip)
        {
            return AttemptResult::failed(Outcome::Blocked, blocked.to_string(), 0);
        }
        let mut builder = self
            .client
            .post(request.url.clone())
            .timeout(request.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let result = builder.body(request.body).send().await;
        let mut response = match result {
            Ok(r) => r,
            Err(e) => return classify_error(&e, elapsed(started)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // Read at most EXCERPT_MAX_BYTES of the body; the rest is dropped with the connection.
        let mut excerpt: Vec<u8> = Vec::new();
        let mut body_error = None;
        while excerpt.len() < EXCERPT_MAX_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    body_error = Some(e);
                    break;
                }
            }
        }
        let duration = elapsed(started);
        let mut result = AttemptResult::from_status(status, duration);
        result.retry_after_seconds = retry_after;
        result.response_excerpt = excerpt_text(&excerpt);
        if let (Some(e), false) = (body_error, result.outcome == Outcome::Delivered) {
            // A failed status whose body broke off: keep the status, note the break.
            result.error = Some(format!(
                "{}; response body broke off: {}",
                result.error.unwrap_or_default(),
                error_text(&e)
            ));
        }
        result
    }
}

/// At most EXCERPT_MAX_BYTES bytes, cut on a character boundary, invalid UTF-8 replaced.
pub fn excerpt_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_MAX_BYTES)]);
    let mut end = text.len().min(EXCERPT_MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

/// `Retry-After` as seconds from now: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .map_or(0, |d| d.as_secs()),
    )
}

fn find_blocked<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a BlockedAddress> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(blocked) = err.downcast_ref::<BlockedAddress>() {
            return Some(blocked);
        }
        current = err.source();
    }
    None
}

/// The error chain as one line, without the URL (which may carry a token in its query).
fn error_text(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = current {
        parts.push(err.to_string());
        current = err.source();
    }
    if parts.is_empty() {
        parts.push(
            if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            }
            .into(),
        );
    }
    parts.join(": ")
}

fn classify_error(e: &reqwest::Error, duration_ms: u64) -> AttemptResult {
    if let Some(blocked) = find_blocked(e) {
        return AttemptResult::failed(Outcome::Blocked, blocked.to_string(), duration_ms);
    }
    if e.is_timeout() {
        return AttemptResult::failed(
            Outcome::Timeout,
            "timed out waiting for the receiver",
            duration_ms,
        );
    }
    AttemptResult::failed(Outcome::NetworkError, error_text(e), duration_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keep-alive HTTP/1.1 receiver on 127.0.0.1 that answers 200 after `delay` and counts the
    /// connections it accepted.
    async fn counting_receiver(delay: Duration) -> (Url, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/hook", listener.local_addr().unwrap())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    // Each request here is small: one read holds its head and empty body.
                    while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {
                        tokio::time::sleep(delay).await;
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if conn.write_all(ok).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn the_pool_keeps_a_connection_for_every_attempt_made_at_once() {
        use std::sync::atomic::Ordering;
        let (url, accepted) = counting_receiver(Duration::from_millis(200)).await;
        let policy =
            AddressPolicy::with_allowlist(AddressPolicy::parse_allowlist("127.0.0.1/32").unwrap());
        let sender =
            HttpSender::build(policy, system_lookup(), PoolOptions::for_concurrency(16)).unwrap();
        let request = || OutboundRequest {
            url: url.clone(),
            headers: Vec::new(),
            body: bytes::Bytes::from_static(b"{}"),
            timeout: Duration::from_secs(5),
        };
        for _ in 0..2 {
            let results = futures::future::join_all((0..16).map(|_| sender.send(request()))).await;
            assert!(results.iter().all(|r| r.outcome == Outcome::Delivered));
        }
        // With 8 idle connections kept per host, the second round would open 8 more.
        assert_eq!(accepted.load(Ordering::SeqCst), 16);
    }

    #[test]
    fn excerpt_is_bounded_in_bytes_and_utf8_safe() {
        assert_eq!(excerpt_text(b""), None);
        assert_eq!(excerpt_text(b"ok").as_deref(), Some("ok"));
        let long = "é".repeat(EXCERPT_MAX_BYTES); // 2 bytes each
        let e = excerpt_text(long.as_bytes()).unwrap();
        assert!(e.len() <= EXCERPT_MAX_BYTES);
        assert!(e.chars().all(|c| c == 'é'));
        let binary = [0xffu8, 0xfe, b'a', 0xc3];
        let e = excerpt_text(&binary).unwrap();
        assert!(e.ends_with('\u{fffd}') && e.contains('a'));
        let big = vec![b'x'; 10_000];
        assert_eq!(excerpt_text(&big).unwrap().len(), EXCERPT_MAX_BYTES);
    }

    #[test]
    fn the_user_agent_is_the_marker_the_api_refuses() {
        assert!(crate::domain::own_hosts::is_delivery_user_agent(USER_AGENT));
        assert!(USER_AGENT.starts_with(crate::domain::own_hosts::DELIVERY_PRODUCT));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(120));
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(0),
            "past date"
        );
        let future =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(300));
        let secs = parse_retry_after(&future).unwrap();
        assert!((298..=300).contains(&secs), "{secs}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
