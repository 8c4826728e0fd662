//! A real HTTP receiver on [`RECEIVER_IP`] (127.0.0.2, never the stack's own address) whose answers a test scripts (status codes, delays), and
//! which keeps every request it got, byte for byte.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::harness::RECEIVER_IP;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub at: Instant,
    /// Arrival, epoch milliseconds (comparable with attempt records).
    pub at_ms: i64,
    pub path: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Waits this long, then answers 200.
    Hang(Duration),
    /// `status` with this chance in percent, else 200.
    Sometimes(u8, u16),
    /// Hangs for the duration with this chance in percent, else 200.
    SometimesHang(u8, Duration),
    /// 302 to this receiver's `/redirected` (which must never be reached).
    Redirect,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    fallback: Option<Reply>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct TestReceiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl TestReceiver {
    /// Answers `script` in order, then `fallback` (200 if none).
    pub async fn start(script: Vec<Reply>, fallback: Option<Reply>) -> Self {
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            fallback,
            received: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let app = axum::Router::new().route(
            "/{*path}",
            post(
                move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                    let state = Arc::clone(&shared);
                    async move {
                        let reply = {
                            let mut s = state.lock().unwrap();
                            s.received.push(Received {
                                headers: headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect(),
                                body,
                                at: Instant::now(),
                                at_ms: shared::domain::clock::now_millis(),
                                path: uri.path().to_owned(),
                            });
                            s.script
                                .pop_front()
                                .or(s.fallback)
                                .unwrap_or(Reply::Status(200))
                        };
                        let status =
                            |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
                        let chance = |percent: u8| rand::random::<u8>() % 100 < percent;
                        let mut headers = HeaderMap::new();
                        let code = match reply {
                            Reply::Status(code) => status(code),
                            Reply::Sometimes(p, code) if chance(p) => status(code),
                            Reply::Hang(d) => {
                                tokio::time::sleep(d).await;
                                StatusCode::OK
                            }
                            Reply::SometimesHang(p, d) if chance(p) => {
                                tokio::time::sleep(d).await;
                                StatusCode::OK
                            }
                            Reply::Redirect => {
                                headers.insert(
                                    "location",
                                    axum::http::HeaderValue::from_static("/redirected"),
                                );
                                StatusCode::FOUND
                            }
                            Reply::Sometimes(..) | Reply::SometimesHang(..) => StatusCode::OK,
                        };
                        (code, headers)
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind((RECEIVER_IP, 0))
            .await
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            state,
            task: Arc::new(task),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Changes the answer given once the script is used up.
    pub fn set_fallback(&self, reply: Reply) {
        self.state.lock().unwrap().fallback = Some(reply);
    }

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }
}
