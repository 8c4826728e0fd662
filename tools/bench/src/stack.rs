//! The benchmark's own local stack: a moto server on a free port (never 4566), the table and
//! queues created from infra/template.yaml by infra/local/provision.py, the counting proxy in
//! front of moto, receivers on 127.0.0.2, and the two functions as Lambda processes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sha2::Digest;
use tokio::process::{Child, Command};

use crate::function::{FunctionSpec, Instance};
use crate::proxy::Proxy;
use crate::receiver::Receiver;

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    /// `target/release` or `target/debug`: the functions and the baselines.
    pub bin_dir: PathBuf,
    pub out_dir: PathBuf,
    pub python: PathBuf,
}

impl Paths {
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Provisioned {
    pub table_name: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub secrets_key_id: String,
}

pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// moto's server behind the wrapper that serialises its DynamoDB writes, on a free port.
    pub async fn start(paths: &Paths) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(paths.out_dir.join("moto.log"))?;
        let child = Command::new(&paths.python)
            .arg(paths.root.join("infra/local/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("cannot start moto with {}: {e}", paths.python.display())
            })?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().no_proxy().build()?;
        for _ in 0..200 {
            if http.get(format!("{url}/moto-api/")).send().await.is_ok() {
                return Ok(Self { child, url });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "moto did not come up on {url}; see {}",
            paths.out_dir.join("moto.log").display()
        )
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The template's table, queues and key, under a fresh prefix.
pub async fn provision(paths: &Paths, moto_url: &str) -> anyhow::Result<Provisioned> {
    let prefix = format!("bench{}", std::process::id());
    let out = Command::new(&paths.python)
        .arg(paths.root.join("infra/local/provision.py"))
        .args(["--endpoint", moto_url, "--prefix", &prefix])
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "provision.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Everything the functions are configured with, as `scripts/up` does (plus any
/// `BENCH_FN_<NAME>=value` of the benchmark's own environment, passed on as `<NAME>`).
pub fn function_env(
    res: &Provisioned,
    aws_endpoint: &str,
    admin_key: &str,
) -> Vec<(String, String)> {
    let admin_sha = hex::encode(sha2::Sha256::digest(admin_key.as_bytes()));
    let mut env: Vec<(String, String)> = [
        ("TABLE_NAME", res.table_name.as_str()),
        ("QUEUE_URL", &res.queue_url),
        ("DLQ_URL", &res.dlq_url),
        ("SECRETS_KEY_ID", &res.secrets_key_id),
        ("ADMIN_KEY_SHA256", &admin_sha),
        ("ALLOW_PRIVATE_CIDRS", "127.0.0.2/32"),
        ("AWS_ENDPOINT_URL", aws_endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("BENCH_FN_") {
            env.push((name.to_owned(), v));
        }
    }
    env
}

/// The stack the measured scenarios run on.
pub struct Stack {
    pub moto: Moto,
    pub resources: Provisioned,
    pub proxy: Proxy,
    pub receiver: Receiver,
    pub ingest: Instance,
    pub delivery: Instance,
    pub admin_key: String,
    pub specs: [FunctionSpec; 2],
}

impl Stack {
    pub async fn start(paths: &Paths, memory_mb: u32) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&paths.out_dir)?;
        let moto = Moto::start(paths).await?;
        let resources = provision(paths, &moto.url).await?;
        let proxy = Proxy::start(&moto.url).await?;
        let receiver = Receiver::start().await?;
        let admin_key = format!("bench-admin-{}", std::process::id());
        let env = function_env(&resources, &proxy.functions_url, &admin_key);
        let spec = |name: &str, timeout: u64| FunctionSpec {
            name: name.to_owned(),
            binary: paths.binary(name),
            env: env.clone(),
            memory_mb,
            timeout: Duration::from_secs(timeout),
            log: paths.out_dir.join(format!("{name}.log")),
        };
        let specs = [spec("ingest", 29), spec("delivery", 60)];
        let ingest = Instance::start_warm(&specs[0]).await?;
        let delivery = Instance::start_warm(&specs[1]).await?;
        Ok(Self {
            moto,
            resources,
            proxy,
            receiver,
            ingest,
            delivery,
            admin_key,
            specs,
        })
    }

    pub async fn stop(self) {
        self.ingest.stop().await;
        self.delivery.stop().await;
        self.moto.stop().await;
    }
}

/// The repository root: `HOOKRELAY_ROOT`, else the nearest ancestor of the current directory
/// holding `infra/template.yaml`.
pub fn find_root() -> anyhow::Result<PathBuf> {
    if let Ok(root) = std::env::var("HOOKRELAY_ROOT") {
        return Ok(PathBuf::from(root));
    }
    let here = std::env::current_dir()?;
    here.ancestors()
        .find(|d| d.join("infra/template.yaml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "run from inside the repository (no infra/template.yaml above {})",
                here.display()
            )
        })
}
