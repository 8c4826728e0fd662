//! A local stack per test: one moto server for the whole test binary, and per test its own
//! table and queues (created from infra/template.yaml by the provisioner, unique names), the
//! ingest app and the delivery worker wired to the real AWS SDK adapters, and a poller that does
//! what the SQS event source mapping does.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use delivery::{Worker, WorkerOptions};
use devstack::poller::{Invoke, Poller, PollerConfig};
use ingest::config::IngestConfig;
use ingest::{App, AppState};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::http::HttpSender;
use shared::adapters::kms::KmsVault;
use shared::adapters::rejections::SqsRejections;
use shared::adapters::sealer::SecretSealer;
use shared::adapters::sqs::{SqsQueue, SqsRedrive};
use shared::domain::address_policy::AddressPolicy;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// Where test receivers listen: a loopback address of their own. The stack's own services
/// (moto, the API) listen on 127.0.0.1 only, and the allowlist opens only this address, so no
/// receiver URL can reach them (as `ALLOW_PRIVATE_CIDRS` in `scripts/up`).
pub const RECEIVER_IP: &str = "127.0.0.2";
/// The allowlist of every test stack: the receivers' address, nothing else.
pub const RECEIVER_ALLOWLIST: &str = "127.0.0.2/32";

/// Where this test binary's logs and the secrets it saw are written, for the log scan that
/// `scripts/check-log-secrets` runs after the tests.
pub fn capture_dir() -> PathBuf {
    repo_root().join("target/it-capture")
}

/// Sends every log line of the process (JSON, INFO and up, all crates) to a file.
fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = capture_dir();
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("logs-{}.jsonl", std::process::id()));
        if let Ok(file) = std::fs::File::create(path) {
            let _ = tracing_subscriber::fmt()
                .json()
                .with_writer(Mutex::new(file))
                .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                .try_init();
        }
        record_secret(ADMIN_KEY);
    });
}

/// Remembers a secret or key the tests were given, so the log scan can look for it.
pub fn record_secret(value: &str) {
    use std::io::Write;
    let path = capture_dir().join(format!("secrets-{}.txt", std::process::id()));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{value}");
    }
}

/// Every `secret`, `signing_secret` and `key` in an API answer.
fn record_secrets_in(v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match (k.as_str(), val) {
                    ("secret" | "signing_secret" | "key", Value::String(s)) => record_secret(s),
                    _ => record_secrets_in(val),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(record_secrets_in),
        _ => {}
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn venv_bin(tool: &str) -> PathBuf {
    let venv = std::env::var("HOOKRELAY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".venv"));
    venv.join("bin").join(tool)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(5099)
}

/// The moto server of this test binary: `MOTO_URL` if set, else one started here that a small
/// watchdog stops when this process ends.
pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("MOTO_URL") {
            return url;
        }
        let port = free_port();
        // moto's server behind a wrapper that gives DynamoDB writes the isolation AWS has
        // (infra/local/moto_server.py).
        let script = format!(
            "{} {} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & M=$!; while kill -0 {} 2>/dev/null; do sleep 1; done; kill $M",
            venv_bin("python").display(),
            repo_root().join("infra/local/moto_server.py").display(),
            std::process::id()
        );
        // The watchdog lives as long as this process; it is never waited for.
        #[allow(clippy::zombie_processes)]
        Command::new("bash").arg("-c").arg(script).stdin(Stdio::null()).spawn().expect("start moto");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return url;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not start on {url}");
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct Provisioned {
    pub table_name: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub max_receive_count: u32,
    /// The template's `SecretsKey`, created in moto's KMS.
    pub secrets_key_id: String,
    /// The asynchronous sources' queues (issue 12).
    pub rejected_url: String,
    pub producer_queue_url: String,
}

/// Creates this test's table and queues from the template.
pub fn provision(params: &[&str]) -> Provisioned {
    let prefix = format!("t{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut cmd = Command::new(venv_bin("python"));
    cmd.arg(repo_root().join("infra/local/provision.py")).args([
        "--endpoint",
        moto_url(),
        "--prefix",
        &prefix,
    ]);
    for p in params {
        cmd.args(["--param", p]);
    }
    let out = cmd.output().expect("run provision.py");
    assert!(
        out.status.success(),
        "provision failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("provision output")
}

pub async fn aws_config() -> aws_config::SdkConfig {
    // SAFETY of env: set once, before any client is built, to the same values by every test.
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// The DynamoDB store of a provisioned stack, sealing secrets with its KMS key on moto (as the
/// functions do when deployed).
pub fn dynamo_store(aws: &aws_config::SdkConfig, resources: &Provisioned) -> DynamoStore {
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        &resources.table_name,
        SecretSealer::new(Arc::new(KmsVault::from_config(
            aws,
            &resources.secrets_key_id,
        ))),
    )
}

pub type TestWorker = Worker<DynamoStore, SqsQueue, HttpSender>;

/// Invokes the worker in-process, as the Lambda runtime would, with a 60 s deadline.
pub struct InProcess(pub Arc<TestWorker>);

impl Invoke for InProcess {
    async fn invoke(&self, event: SqsEvent) -> anyhow::Result<SqsBatchResponse> {
        let deadline = shared::domain::clock::now_millis() + 60_000;
        Ok(self.0.handle_batch(event, deadline).await)
    }
}

pub struct Stack {
    pub resources: Provisioned,
    pub app: App,
    /// What the app serves with (for invocations that are not HTTP: `ingest::lambda::handle`).
    pub state: AppState,
    pub ingest_config: IngestConfig,
    pub worker: Arc<TestWorker>,
    pub sqs: aws_sdk_sqs::Client,
    poller: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(p) = self.poller.take() {
            p.abort();
        }
    }
}

/// How a test's stack is made: template parameters, whether the poller runs, the worker's
/// options, how its HTTP client resolves names and changes to the API's configuration.
pub struct StackBuilder {
    params: Vec<String>,
    poll: bool,
    options: WorkerOptions,
    lookup: shared::adapters::http::Lookup,
    ingest: Box<dyn FnOnce(&mut IngestConfig)>,
}

impl Stack {
    /// By default: the template's defaults, the poller on, a 200 ms endpoint cache, the system
    /// resolver; receivers may be on [`RECEIVER_IP`] (and nothing else internal).
    pub fn builder() -> StackBuilder {
        StackBuilder {
            params: Vec::new(),
            poll: true,
            options: WorkerOptions {
                cache_ttl: Duration::from_millis(200),
                ..WorkerOptions::default()
            },
            lookup: shared::adapters::http::system_lookup(),
            ingest: Box::new(|_| {}),
        }
    }
}

impl StackBuilder {
    /// Template parameters, `Name=value`.
    pub fn params(mut self, params: &[&str]) -> Self {
        self.params = params.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// Whether the poller (the local event source mapping) runs from the start.
    pub fn poll(mut self, poll: bool) -> Self {
        self.poll = poll;
        self
    }

    pub fn worker_options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// How the delivery function resolves names.
    pub fn lookup(mut self, lookup: shared::adapters::http::Lookup) -> Self {
        self.lookup = lookup;
        self
    }

    /// Changes the API's configuration (e.g. `allow_credential_headers`, `own_hosts`).
    pub fn ingest_config(mut self, change: impl FnOnce(&mut IngestConfig) + 'static) -> Self {
        self.ingest = Box::new(change);
        self
    }

    pub async fn start(self) -> Stack {
        let Self {
            params,
            poll,
            options,
            lookup,
            ingest,
        } = self;
        capture_logs();
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        let resources = provision(&params);
        let aws = aws_config().await;
        let store = dynamo_store(&aws, &resources);
        let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), &resources.queue_url);
        let policy = AddressPolicy::with_allowlist(
            AddressPolicy::parse_allowlist(RECEIVER_ALLOWLIST).unwrap(),
        );
        let mut config = IngestConfig {
            table_name: resources.table_name.clone(),
            queue_url: resources.queue_url.clone(),
            dlq_url: resources.dlq_url.clone(),
            admin_key_sha256: hex::encode(Sha256::digest(ADMIN_KEY)).into(),
            address_policy: policy.clone(),
            https_only: false,
            max_payload_bytes: 256 * 1024,
            own_hosts: shared::domain::own_hosts::OwnHosts::default(),
            allow_credential_headers: false,
            secrets_key_id: resources.secrets_key_id.clone(),
            strict_event_types: false,
            portal: Default::default(),
            sources: Default::default(),
        };
        ingest(&mut config);
        let redrive = SqsRedrive::new(
            aws_sdk_sqs::Client::new(&aws),
            &resources.dlq_url,
            &resources.queue_url,
            Duration::from_secs(20),
        );
        let rejections = SqsRejections::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            &resources.rejected_url,
        ));
        let state = AppState::new(store.clone(), queue.clone(), redrive, config.clone())
            .with_rejections(rejections);
        let app = ingest::app(state.clone());
        let worker = Arc::new(Worker::new(
            store,
            queue,
            HttpSender::with_lookup(policy.clone(), lookup).unwrap(),
            options,
        ));
        let mut stack = Stack {
            resources,
            app,
            state,
            ingest_config: config,
            worker,
            sqs: aws_sdk_sqs::Client::new(&aws),
            poller: None,
        };
        if poll {
            stack.start_poller().await;
        }
        stack
    }
}

impl Stack {
    /// Serves the API over HTTP on `ip` (a free port), as `ingest --listen` does; its base URL.
    pub async fn serve_api(&self, ip: &str) -> String {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let service =
            axum::ServiceExt::<axum::extract::Request>::into_make_service(self.app.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, service).await;
        });
        url
    }

    pub async fn start_poller(&mut self) {
        let config = PollerConfig {
            queue_url: self.resources.queue_url.clone(),
            batch_size: 10,
            wait_seconds: 1,
            region: "us-east-1".into(),
        };
        let poller = Poller::new(
            self.sqs.clone(),
            config,
            InProcess(Arc::clone(&self.worker)),
        )
        .await
        .unwrap();
        self.poller = Some(tokio::spawn(async move { poller.run().await }));
    }

    /// Calls the API through the HTTP API v2 event shape, as API Gateway would.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let raw = body.map(|b| b.to_string());
        self.call_raw(method, path, raw.as_deref(), key).await
    }

    /// An admin call with a query string.
    pub async fn call_query(&self, method: &str, path: &str, query: &str) -> (u16, Value) {
        self.request(method, path, query, None, Some(ADMIN_KEY))
            .await
    }

    /// The ingest app over this stack's table with another queue beneath it (fault tests: a
    /// queue that never answers stands for an ingest killed between its write and its send).
    pub fn app_with_queue(&self, queue: impl ingest::state::Queue + 'static) -> App {
        let store = self.worker.store().clone();
        let redrive = shared::adapters::memory::MemoryQueue::new();
        ingest::app(AppState::new(
            store,
            queue,
            redrive,
            self.ingest_config.clone(),
        ))
    }

    /// An admin call to `app` (see [`Self::app_with_queue`]).
    pub async fn admin_to(
        &self,
        app: &App,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let raw = body.map(|b| b.to_string());
        let event = api_event(method, path, "", raw.as_deref(), Some(ADMIN_KEY));
        let (status, body) = send_to(app, event).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// One reconciler run over this stack's table and queue, as the schedule would start it.
    /// It runs as one a minute from now would (a minute of events is read once it has ended).
    pub async fn reconcile(&self, stale_after: Duration) -> reconciler::Report {
        let now = shared::domain::clock::now_millis() + shared::domain::reconcile::MINUTE_MS;
        reconciler::sweep(
            self.worker.store(),
            self.worker.queue(),
            now,
            stale_after,
            1_000,
        )
        .await
        .unwrap()
    }

    /// Polls GET job until it is no longer running or `timeout` passes; returns the last view.
    pub async fn wait_job(&self, tenant: &str, id: &str, timeout: Duration) -> Value {
        let start = std::time::Instant::now();
        loop {
            let path = format!("/v1/tenants/{tenant}/jobs/{id}");
            let (status, body) = self.admin("GET", &path, None).await;
            assert_eq!(status, 200, "{body}");
            if body["status"] != "running" || start.elapsed() > timeout {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> (u16, Value) {
        self.request(method, path, "", body, key).await
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let event = api_event(method, path, query, body, key);
        let (status, body) = self.send(event).await;
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        record_secrets_in(&value);
        (status, value)
    }

    /// Sends an HTTP API v2 event through lambda_http's request conversion to the router, as
    /// the Lambda runtime does; the status and the body text.
    pub async fn send(&self, event: ApiGatewayV2httpRequest) -> (u16, String) {
        send_to(&self.app, event).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call(method, path, body, Some(ADMIN_KEY)).await
    }

    /// Polls GET delivery until `done` holds or `timeout` passes; returns the last view.
    pub async fn wait_delivery(
        &self,
        tenant: &str,
        id: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = std::time::Instant::now();
        loop {
            let (status, body) = self
                .admin(
                    "GET",
                    &format!("/v1/tenants/{tenant}/deliveries/{id}"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            if done(&body) || start.elapsed() > timeout {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn queue_depth(&self, url: &str) -> (i64, i64) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attrs = out.attributes.unwrap_or_default();
        let get = |k: &A| attrs.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            get(&A::ApproximateNumberOfMessages),
            get(&A::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// A tenant with default settings.
    pub async fn tenant(&self, id: &str, body: Value) -> Value {
        let (status, v) = self
            .admin("PUT", &format!("/v1/tenants/{id}"), Some(&body))
            .await;
        assert_eq!(status, 201, "{v}");
        v
    }

    pub async fn endpoint(&self, tenant: &str, body: Value) -> Value {
        let (status, v) = self
            .admin(
                "POST",
                &format!("/v1/tenants/{tenant}/endpoints"),
                Some(&body),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        v
    }

    pub async fn event(&self, tenant: &str, body: Value) -> Value {
        let (status, v) = self
            .admin("POST", &format!("/v1/tenants/{tenant}/events"), Some(&body))
            .await;
        assert_eq!(status, 202, "{v}");
        v
    }
}

/// A request as API Gateway's HTTP API v2 event.
fn api_event(
    method: &str,
    path: &str,
    query: &str,
    body: Option<&str>,
    key: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), "application/json".into());
    if let Some(k) = key {
        headers.insert("authorization".into(), format!("Bearer {k}").into());
    }
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "it"},
            "requestId": "r", "routeKey": "ANY /{proxy+}", "stage": "$default", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    });
    serde_json::from_value(event).unwrap()
}

/// Sends an event to `app` through lambda_http's request conversion.
async fn send_to(app: &App, event: ApiGatewayV2httpRequest) -> (u16, String) {
    use tower::ServiceExt;
    let request = ingest::lambda::into_request(event);
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}
