//! Webhook receivers on their own loopback address (127.0.0.2, the one the functions'
//! allowlist opens): `/ok/...` answers 200, `/flaky/...` answers 500 to the first request of
//! each delivery (by `webhook-id`, else by body) and 200 after, `/slow/...` answers 200 after
//! 200 ms. They count what they get.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};

pub const RECEIVER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const SLOW: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Seen {
    posts: AtomicU64,
    ok: AtomicU64,
    failed_once: Mutex<HashSet<String>>,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.2:<port>`
    pub url: String,
    seen: Arc<Seen>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(RECEIVER_IP), 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Seen::default());
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&seen));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, seen, server })
    }

    /// Requests received so far.
    pub fn posts(&self) -> u64 {
        self.seen.posts.load(Ordering::SeqCst)
    }

    /// Requests answered 200 so far.
    pub fn delivered(&self) -> u64 {
        self.seen.ok.load(Ordering::SeqCst)
    }
}

async fn receive(
    State(seen): State<Arc<Seen>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    seen.posts.fetch_add(1, Ordering::SeqCst);
    let path = uri.path();
    if path.starts_with("/slow/") {
        tokio::time::sleep(SLOW).await;
    } else if path.starts_with("/flaky/") {
        let id = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .map_or_else(
                || format!("{path} {}", String::from_utf8_lossy(&body)),
                |id| format!("{path} {id}"),
            );
        let first = seen.failed_once.lock().is_ok_and(|mut s| s.insert(id));
        if first {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    seen.ok.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}
