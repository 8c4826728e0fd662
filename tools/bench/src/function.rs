//! A function binary run as Lambda runs it: its own process with the Lambda environment
//! variables, its own Runtime API ([`crate::runtime`]), its stdout and stderr (what CloudWatch
//! Logs would ingest) counted and kept in a file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::runtime::{Outcome, RuntimeApi};

/// How to start a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    /// The function's own configuration (table, queue, endpoint, credentials…).
    pub env: Vec<(String, String)>,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// Where its output goes (appended).
    pub log: PathBuf,
}

/// A running function process.
pub struct Instance {
    pub runtime: RuntimeApi,
    child: Child,
    pub pid: u32,
    pub spawned: Instant,
    log_bytes: Arc<AtomicU64>,
    timeout: Duration,
}

impl FunctionSpec {
    /// The variables Lambda sets for a `provided.al2023` function.
    fn lambda_env(&self, runtime_api: &str) -> Vec<(String, String)> {
        let dir = self.binary.parent().unwrap_or(Path::new("/"));
        [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]bench".to_owned(),
            ),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("LAMBDA_TASK_ROOT", dir.display().to_string()),
            ("TZ", ":UTC".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Instance {
    /// Starts the process; it is cold until [`RuntimeApi::first_poll`].
    pub async fn start(spec: &FunctionSpec) -> anyhow::Result<Self> {
        let runtime = RuntimeApi::start(&spec.name).await?;
        let mut command = Command::new(&spec.binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(spec.lambda_env(&runtime.address))
            .envs(spec.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", spec.binary.display()))?;
        let pid = child.id().unwrap_or_default();
        runtime.set_pid(pid);
        let log_bytes = Arc::new(AtomicU64::new(0));
        if let Some(parent) = spec.log.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .await?;
        let file = Arc::new(tokio::sync::Mutex::new(file));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(count(out, Arc::clone(&log_bytes), Arc::clone(&file)));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(count(err, Arc::clone(&log_bytes), file));
        }
        Ok(Self {
            runtime,
            child,
            pid,
            spawned,
            log_bytes,
            timeout: spec.timeout,
        })
    }

    /// Starts the process and waits until it polls for work.
    pub async fn start_warm(spec: &FunctionSpec) -> anyhow::Result<Self> {
        let instance = Self::start(spec).await?;
        instance.runtime.first_poll(Duration::from_secs(30)).await?;
        Ok(instance)
    }

    pub async fn invoke(&self, payload: &serde_json::Value) -> anyhow::Result<Outcome> {
        let body = Bytes::from(serde_json::to_vec(payload)?);
        self.runtime.invoke(body, self.timeout).await
    }

    /// Bytes the process wrote to stdout and stderr so far.
    pub fn log_bytes(&self) -> u64 {
        self.log_bytes.load(Ordering::Relaxed)
    }

    /// CPU ticks the process used so far.
    pub fn cpu_ticks(&self) -> u64 {
        crate::procstat::cpu_ticks(self.pid).unwrap_or(0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

async fn count(
    mut from: impl AsyncRead + Unpin,
    bytes: Arc<AtomicU64>,
    file: Arc<tokio::sync::Mutex<tokio::fs::File>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        let _ = file.lock().await.write_all(&buf[..n]).await;
    }
}
