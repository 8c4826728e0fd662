//! A stand-in for the Lambda Runtime API (one per function process, as Lambda gives each
//! execution environment its own): `GET /2018-06-01/runtime/invocation/next` hands out the next
//! invocation, `POST .../{id}/response` and `.../{id}/error` finish it, `POST .../init/error`
//! records a failed start. It times each invocation from the hand-out to the answer (the
//! billed duration on Lambda) and reads the process's CPU time around it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::{Notify, mpsc, oneshot};

/// How one invocation ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `false` when the function posted an error.
    pub ok: bool,
    pub body: Bytes,
    /// From the hand-out of the event to the answer.
    pub handler: Duration,
    /// CPU ticks the process used meanwhile.
    pub cpu_ticks: u64,
}

struct Invocation {
    payload: Bytes,
    deadline_ms: u64,
    reply: oneshot::Sender<Outcome>,
}

struct InFlight {
    reply: oneshot::Sender<Outcome>,
    started: Instant,
    cpu: Option<u64>,
}

struct RuntimeState {
    function: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    inflight: Mutex<HashMap<String, InFlight>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    pid: OnceLock<u32>,
    init_error: Mutex<Option<String>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// One function process's Runtime API.
pub struct RuntimeApi {
    state: Arc<RuntimeState>,
    sender: mpsc::Sender<Invocation>,
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub async fn start(function: &str) -> anyhow::Result<Self> {
        let (sender, receiver) = mpsc::channel(1024);
        let state = Arc::new(RuntimeState {
            function: function.to_owned(),
            queue: tokio::sync::Mutex::new(receiver),
            inflight: Mutex::default(),
            first_poll: Mutex::default(),
            polled: Notify::new(),
            pid: OnceLock::new(),
            init_error: Mutex::default(),
            next_id: 0.into(),
        });
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            state,
            sender,
            address,
            server,
        })
    }

    /// The process whose CPU time is read around each invocation.
    pub fn set_pid(&self, pid: u32) {
        let _ = self.state.pid.set(pid);
    }

    /// Runs one invocation and waits for its answer.
    pub async fn invoke(&self, payload: Bytes, timeout: Duration) -> anyhow::Result<Outcome> {
        let (reply, answer) = oneshot::channel();
        let deadline_ms = now_ms() + timeout.as_millis() as u64;
        self.sender
            .send(Invocation {
                payload,
                deadline_ms,
                reply,
            })
            .await
            .map_err(|_| anyhow::anyhow!("{}: runtime API closed", self.state.function))?;
        match tokio::time::timeout(timeout + Duration::from_secs(5), answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => anyhow::bail!("{}: invocation dropped", self.state.function),
            Err(_) => anyhow::bail!("{}: no answer within {timeout:?}", self.state.function),
        }
    }

    /// Waits for the process's first `next` poll (the end of its cold start).
    pub async fn first_poll(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let wait = async {
            loop {
                let notified = self.state.polled.notified();
                if let Some(at) = self.state.first_poll.lock().ok().and_then(|p| *p) {
                    return at;
                }
                notified.await;
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(at) => Ok(at),
            Err(_) => {
                let init = self.state.init_error.lock().ok().and_then(|e| e.clone());
                anyhow::bail!(
                    "{} never polled for an invocation{}",
                    self.state.function,
                    init.map(|e| format!(" (init error: {e})"))
                        .unwrap_or_default()
                )
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn next(State(state): State<Arc<RuntimeState>>) -> impl IntoResponse {
    if let Ok(mut first) = state.first_poll.lock()
        && first.is_none()
    {
        *first = Some(Instant::now());
        state.polled.notify_waiters();
    }
    let invocation = state.queue.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            Bytes::new(),
        );
    };
    let n = state
        .next_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("bench-{}-{n:08}", state.function);
    let cpu = state.pid.get().and_then(|p| crate::procstat::cpu_ticks(*p));
    let mut headers = HeaderMap::new();
    let arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        state.function
    );
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        ("lambda-runtime-invoked-function-arn", arn),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{n:024x};Sampled=0"),
        ),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if let Ok(mut inflight) = state.inflight.lock() {
        inflight.insert(
            id,
            InFlight {
                reply: invocation.reply,
                started: Instant::now(),
                cpu,
            },
        );
    }
    (StatusCode::OK, headers, invocation.payload)
}

fn finish(state: &RuntimeState, id: &str, ok: bool, body: Bytes) -> StatusCode {
    let Some(f) = state.inflight.lock().ok().and_then(|mut i| i.remove(id)) else {
        return StatusCode::NOT_FOUND;
    };
    let now = state.pid.get().and_then(|p| crate::procstat::cpu_ticks(*p));
    let cpu_ticks = match (f.cpu, now) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    let _ = f.reply.send(Outcome {
        ok,
        body,
        handler: f.started.elapsed(),
        cpu_ticks,
    });
    StatusCode::ACCEPTED
}

async fn response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&state, &id, true, body)
}

async fn error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&state, &id, false, body)
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    if let Ok(mut e) = state.init_error.lock() {
        *e = Some(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}
