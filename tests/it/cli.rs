//! The `hookrelay` binary end to end, against this test's own stack (moto, the API served over
//! HTTP on 127.0.0.1, the delivery worker and poller in-process, receivers on 127.0.0.2).

use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{ADMIN_KEY, RECEIVER_IP, Stack, repo_root};
use crate::receiver::{Reply, TestReceiver};

/// The built binary. It belongs to another package, so cargo gives this test no path to it:
/// it is built here (a no-op when `cargo test --workspace` already built it).
fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "hookrelay-cli",
                "--bin",
                "hookrelay",
            ])
            .current_dir(repo_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building hookrelay failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join("target"));
        target.join("debug").join("hookrelay")
    })
}

/// The API, the key and an empty config file (so the developer's own never applies).
struct Cli {
    api: String,
    key: String,
    config: tempfile::TempDir,
}

impl Cli {
    async fn new(stack: &Stack) -> Self {
        Self {
            api: stack.serve_api("127.0.0.1").await,
            key: ADMIN_KEY.into(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(binary());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HOOKRELAY_")) {
            cmd.env_remove(k);
        }
        cmd.env("HOOKRELAY_CONFIG", self.config.path().join("config.toml"))
            .env("HOOKRELAY_API", &self.api)
            .env("HOOKRELAY_KEY", &self.key)
            .env("NO_COLOR", "1")
            .args(args)
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// Runs the binary off the runtime's threads (the stack runs on them).
    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    /// Runs with `--output json`, expects `code`, returns the JSON printed.
    async fn json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.run(&all).await;
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out.stdout)))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn joined<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    a.iter().chain(b).copied().collect()
}

fn final_status(d: &Value) -> bool {
    d["status"] != "pending"
}

/// Runs `hookrelay` with the stack's admin key and with the tenant `acme`.
async fn acme(stack: &Stack) -> Cli {
    stack.tenant("acme", json!({})).await;
    Cli::new(stack).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_health_and_usage_errors() {
    let stack = Stack::builder().poll(false).start().await;
    let cli = Cli::new(&stack).await;
    let v = cli.json(&["health"], 0).await;
    assert_eq!(v["health"]["status"], "ok");
    let out = cli.run(&["--api", "http://127.0.0.1:1", "health"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot reach the API"));
    let out = cli.run(&["endpoints", "list", "--no-such-flag"]).await;
    assert_eq!(out.status.code(), Some(2));
    let out = cli.run(&["endpoints", "list"]).await;
    assert_eq!(out.status.code(), Some(2), "no tenant is a usage error");
    assert!(text(&out.stderr).contains("no tenant"));
}

/// Tenants, keys and endpoints through every command, and the API's errors with their exit
/// codes: 401/403 → 3, 404 → 4, 422 → 1 with code, message and field.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_manages_tenants_keys_and_endpoints() {
    let stack = Stack::builder().poll(false).start().await;
    let cli = Cli::new(&stack).await;
    let t = cli
        .json(
            &[
                "tenants",
                "put",
                "acme",
                "--name",
                "Acme",
                "--max-endpoints",
                "3",
            ],
            0,
        )
        .await;
    assert_eq!(t["id"], "acme");
    assert!(t["signing_secret"].as_str().unwrap().starts_with("whsec_"));
    let t = cli
        .json(
            &[
                "tenants",
                "put",
                "acme",
                "--defaults",
                r#"{"retry_schedule_seconds":[1]}"#,
            ],
            0,
        )
        .await;
    assert_eq!(t["defaults"]["retry_schedule_seconds"], json!([1]));
    assert!(t.get("signing_secret").is_none(), "shown on create only");
    let t = cli.json(&["tenants", "get", "acme"], 0).await;
    assert_eq!(t["name"], "Acme");
    let out = cli.run(&["tenants", "get", "acme"]).await;
    assert!(text(&out.stdout).contains("Acme"), "a table for people");

    let key = cli.json(&["-t", "acme", "api-keys", "create"], 0).await;
    let tenant_key = key["key"].as_str().unwrap().to_owned();
    crate::harness::record_secret(&tenant_key);
    let as_tenant = ["--key", &tenant_key, "-t", "acme"];

    let ep = cli
        .json(
            &joined(
                &as_tenant,
                &[
                    "endpoints",
                    "create",
                    "--url",
                    "http://127.0.0.2:9/h",
                    "--event-type",
                    "job.*",
                    "--event-type",
                    "x.y",
                    "--description",
                    "first",
                    "--settings",
                    r#"{"timeout_seconds": 5}"#,
                ],
            ),
            0,
        )
        .await;
    let ep_id = ep["id"].as_str().unwrap().to_owned();
    assert_eq!(ep["event_types"], json!(["job.*", "x.y"]));
    assert_eq!(ep["timeout_seconds"], 5);
    let list = cli
        .json(&joined(&as_tenant, &["endpoints", "list"]), 0)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let got = cli
        .json(&joined(&as_tenant, &["endpoints", "get", &ep_id]), 0)
        .await;
    assert_eq!(got["description"], "first");
    let upd = cli
        .json(
            &joined(
                &as_tenant,
                &[
                    "endpoints",
                    "update",
                    &ep_id,
                    "--description",
                    "second",
                    "--event-type",
                    "*",
                ],
            ),
            0,
        )
        .await;
    assert_eq!(
        (upd["description"].clone(), upd["event_types"].clone()),
        (json!("second"), json!(["*"]))
    );
    let off = cli
        .json(&joined(&as_tenant, &["endpoints", "disable", &ep_id]), 0)
        .await;
    assert_eq!(off["enabled"], false);
    let on = cli
        .json(&joined(&as_tenant, &["endpoints", "enable", &ep_id]), 0)
        .await;
    assert_eq!(on["enabled"], true);
    let rotated = cli
        .json(
            &joined(
                &as_tenant,
                &[
                    "endpoints",
                    "rotate-secret",
                    &ep_id,
                    "--grace-period-seconds",
                    "60",
                ],
            ),
            0,
        )
        .await;
    assert_ne!(rotated["secret"], ep["secret"]);

    // The API's errors: code, message and field shown; distinct exit codes.
    let bad = cli
        .json(
            &joined(
                &as_tenant,
                &[
                    "endpoints",
                    "create",
                    "--url",
                    "ftp://x",
                    "--event-type",
                    "a",
                ],
            ),
            1,
        )
        .await;
    assert_eq!(bad["error"]["field"], "url", "{bad}");
    let out = cli
        .run(&joined(
            &as_tenant,
            &[
                "endpoints",
                "create",
                "--url",
                "ftp://x",
                "--event-type",
                "a",
            ],
        ))
        .await;
    let err = text(&out.stderr);
    assert!(err.contains("422") && err.contains("(field: url)"), "{err}");
    let missing = cli
        .json(&joined(&as_tenant, &["endpoints", "get", "ep_nope"]), 4)
        .await;
    assert_eq!(missing["error"]["status"], 404);
    // A tenant key is not the admin key: 403 on an admin route of its own tenant.
    cli.json(&joined(&as_tenant, &["api-keys", "create"]), 3)
        .await;
    cli.json(
        &["--key", "wrong-key", "-t", "acme", "endpoints", "list"],
        3,
    )
    .await; // 401
    let mut no_key = cli.command(&["-t", "acme", "endpoints", "list"]);
    no_key.env_remove("HOOKRELAY_KEY");
    let out = tokio::task::spawn_blocking(move || no_key.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "no key at all: {}",
        text(&out.stderr)
    );

    let del = cli
        .json(&joined(&as_tenant, &["endpoints", "delete", &ep_id]), 0)
        .await;
    assert_eq!(del["deleted"], ep_id.as_str());
    cli.json(&joined(&as_tenant, &["endpoints", "get", &ep_id]), 4)
        .await;
    let key_id = key["id"].as_str().unwrap();
    cli.json(&["-t", "acme", "api-keys", "revoke", key_id], 0)
        .await;
    cli.json(&joined(&as_tenant, &["endpoints", "list"]), 3)
        .await;
}

/// `send` (flags, stdin, idempotent repeat), `tail` seeing the delivery appear, `deliveries`,
/// `events get`, and `verify` on what the sender really signed: accepted, and refused for a
/// tampered body, an old timestamp and a wrong secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_send_tail_deliveries_and_verify() {
    let stack = Stack::builder().start().await;
    let cli = acme(&stack).await;
    let rx = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["job.*"]}))
        .await;
    let (ep_id, secret) = (
        ep["id"].as_str().unwrap().to_owned(),
        ep["secret"].as_str().unwrap().to_owned(),
    );

    // tail: started first, primed by its first poll, then it must print the new delivery.
    let mut tail = cli.command(&[
        "-t",
        "acme",
        "tail",
        "--interval",
        "0.3",
        "--count",
        "1",
        "--output",
        "json",
    ]);
    let tail = tokio::task::spawn_blocking(move || tail.output().unwrap());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = cli
        .json(
            &[
                "-t",
                "acme",
                "send",
                "job.completed",
                "--data",
                r#"{"job_id":"j1"}"#,
                "--id",
                "job-j1",
            ],
            0,
        )
        .await;
    let event_id = sent["id"].as_str().unwrap().to_owned();
    let delivery_id = sent["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let tail = tail.await.unwrap();
    assert_eq!(tail.status.code(), Some(0), "{}", text(&tail.stderr));
    let line: Value = serde_json::from_slice(&tail.stdout).unwrap();
    assert_eq!(line["id"], delivery_id.as_str());
    assert_eq!(line["event_type"], "job.completed");
    assert_eq!(line["endpoint_id"], ep_id.as_str());

    // The same idempotency key: the first answer, nothing sent again.
    let again = cli
        .json(
            &[
                "-t",
                "acme",
                "send",
                "job.completed",
                "--data",
                r#"{"job_id":"other"}"#,
                "--id",
                "job-j1",
            ],
            0,
        )
        .await;
    assert_eq!(again["id"], event_id.as_str());
    // The payload on stdin.
    let mut piped = cli.command(&["-t", "acme", "send", "job.failed", "--output", "json"]);
    piped.write_stdin(r#"{"job_id":"j2"}"#);
    let piped = tokio::task::spawn_blocking(move || piped.output().unwrap())
        .await
        .unwrap();
    assert_eq!(piped.status.code(), Some(0), "{}", text(&piped.stderr));

    let d = stack
        .wait_delivery("acme", &delivery_id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(d["status"], "delivered");
    let got = cli
        .json(&["-t", "acme", "deliveries", "get", &delivery_id], 0)
        .await;
    assert_eq!(got["attempts"][0]["status_code"], 200);
    let list = cli
        .json(
            &["-t", "acme", "deliveries", "list", "--endpoint", &ep_id],
            0,
        )
        .await;
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == delivery_id.as_str())
    );
    let all = cli
        .json(
            &["-t", "acme", "deliveries", "list", "--status", "delivered"],
            0,
        )
        .await;
    assert!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered")
    );
    let event = cli
        .json(&["-t", "acme", "events", "get", &event_id], 0)
        .await;
    assert_eq!(event["payload"], json!({"job_id": "j1"}));
    let table = cli
        .run(&["-t", "acme", "deliveries", "get", &delivery_id])
        .await;
    assert!(text(&table.stdout).contains("delivered"));

    // verify: the request as the receiver got it.
    let first = rx
        .received()
        .into_iter()
        .find(|r| r.header("webhook-id") == Some(event_id.as_str()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = |body: &[u8]| {
        let mut raw = b"POST /hook HTTP/1.1\r\n".to_vec();
        for (n, v) in &first.headers {
            raw.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(body);
        raw
    };
    let good = dir.path().join("good.txt");
    std::fs::write(&good, capture(&first.body)).unwrap();
    let good = good.to_str().unwrap();
    let ok = cli
        .json(&["verify", "--secret", &secret, "--request", good], 0)
        .await;
    assert_eq!(ok["verified"], true);
    assert_eq!(ok["webhook_id"], event_id.as_str());
    let tampered = dir.path().join("tampered.txt");
    std::fs::write(
        &tampered,
        capture(
            &first
                .body
                .iter()
                .map(|b| if *b == b'1' { b'2' } else { *b })
                .collect::<Vec<u8>>(),
        ),
    )
    .unwrap();
    let out = cli
        .run(&[
            "verify",
            "--secret",
            &secret,
            "--request",
            tampered.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no signature matches"),
        "{}",
        text(&out.stderr)
    );
    let later = (first.at_ms / 1000 + 3600).to_string();
    let out = cli
        .run(&[
            "verify",
            "--secret",
            &secret,
            "--request",
            good,
            "--now",
            &later,
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("s old") && err.contains("the signature itself matches"),
        "{err}"
    );
    let out = cli
        .run(&[
            "verify",
            "--secret",
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "--request",
            good,
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    // On stdin, as `hookrelay verify --secret ... < request.txt`.
    let mut stdin = cli.command(&["verify", "--secret", &secret]);
    stdin.write_stdin(capture(&first.body));
    let stdin = tokio::task::spawn_blocking(move || stdin.output().unwrap())
        .await
        .unwrap();
    assert_eq!(stdin.status.code(), Some(0), "{}", text(&stdin.stderr));
    assert!(text(&stdin.stdout).starts_with("verified"));
}

/// `send --file`: 250 events through the batch route (3 requests), one refused with its field,
/// repeated ids answered as repeats; the summary counts them and the exit is 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_send_file_goes_through_the_batch_route() {
    let stack = Stack::builder().poll(false).start().await;
    let cli = acme(&stack).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..250)
        .map(|i| {
            json!({"event_type": "bulk.item", "payload": {"i": i}, "id": format!("bulk-{i}")})
                .to_string()
        })
        .collect();
    lines[7] = json!({"event_type": "not a type!", "payload": {}}).to_string();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let path = path.to_str().unwrap();
    let s = cli.json(&["-t", "acme", "send", "--file", path], 1).await;
    assert_eq!(
        (
            s["total"].as_u64(),
            s["sent"].as_u64(),
            s["accepted"].as_u64(),
            s["refused"].as_u64()
        ),
        (Some(250), Some(250), Some(249), Some(1)),
        "{s}"
    );
    assert_eq!(s["errors"][0]["index"], 7);
    assert_eq!(s["errors"][0]["error"]["field"], "event_type");
    // Again: every id is a repeat now (the refused one is refused again).
    let s = cli.json(&["-t", "acme", "send", "--file", path], 1).await;
    assert_eq!(
        (s["repeated"].as_u64(), s["accepted"].as_u64()),
        (Some(249), Some(0)),
        "{s}"
    );
    // A JSON array of valid events: exit 0, the progress drawn when asked for.
    let array = dir.path().join("events.json");
    std::fs::write(
        &array,
        json!([{"event_type": "a.b", "payload": {}}, {"event_type": "a.c", "payload": {"x": 1}}])
            .to_string(),
    )
    .unwrap();
    let out = cli
        .run(&[
            "-t",
            "acme",
            "send",
            "--file",
            array.to_str().unwrap(),
            "--progress",
            "always",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2/2"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("accepted (202)"));
}

/// `listen` receives real deliveries: it verifies them with the endpoint's secret, answers 500
/// to the first (`--fail 1`) and 2xx to the retry, and prints both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_listen_receives_and_verifies_deliveries() {
    let stack = Stack::builder().start().await;
    let cli = acme(&stack).await;
    let port = std::net::TcpListener::bind((RECEIVER_IP, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ep = stack
        .endpoint("acme", json!({"url": format!("http://{RECEIVER_IP}:{port}/hooks"), "event_types": ["*"], "retry_schedule_seconds": [1]}))
        .await;
    let secret = ep["secret"].as_str().unwrap().to_owned();
    let port_text = port.to_string();
    let mut listen = cli.command(&[
        "listen",
        "--host",
        RECEIVER_IP,
        "--port",
        &port_text,
        "--secret",
        &secret,
        "--fail",
        "1",
        "--count",
        "2",
        "--output",
        "json",
    ]);
    let listen = tokio::task::spawn_blocking(move || listen.output().unwrap());
    for _ in 0..100 {
        if tokio::net::TcpStream::connect((RECEIVER_IP, port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = stack
        .event(
            "acme",
            json!({"event_type": "demo.hello", "payload": {"hello": "world"}}),
        )
        .await;
    let out = listen.await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines
            .iter()
            .map(|l| l["answered"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [500, 204]
    );
    for l in &lines {
        assert_eq!(l["verified"], true, "{l}");
        assert_eq!(l["body"], json!({"hello": "world"}));
        assert_eq!(l["headers"]["webhook-id"], sent["id"]);
    }
    assert!(text(&out.stderr).contains("received 2 request(s): 2 verified"));
    let id = sent["deliveries"][0]["id"].as_str().unwrap();
    let d = stack
        .wait_delivery("acme", id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(
        (d["status"].clone(), d["attempt_count"].clone()),
        (json!("delivered"), json!(2))
    );
}

/// `recover` follows its job to the end with the right totals; bulk `retry` from a file
/// queues each delivery and reports the ones refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_recover_and_bulk_retry() {
    let stack = Stack::builder().start().await;
    let cli = acme(&stack).await;
    let rx = TestReceiver::start(vec![], Some(Reply::Status(500))).await;
    let ep = stack
        .endpoint(
            "acme",
            json!({"url": rx.url, "event_types": ["*"], "retry_schedule_seconds": []}),
        )
        .await;
    let ep_id = ep["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..3 {
        let v = stack
            .event("acme", json!({"event_type": "a.b", "payload": {"i": i}}))
            .await;
        ids.push(v["deliveries"][0]["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let d = stack
            .wait_delivery("acme", id, Duration::from_secs(20), final_status)
            .await;
        assert_eq!(d["status"], "failed");
    }
    rx.set_fallback(Reply::Status(200));
    let since = "2020-01-01T00:00:00Z";
    let out = cli
        .run(&[
            "-t", "acme", "recover", "-e", &ep_id, "--since", since, "--output", "json",
        ])
        .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a window over 14 days is refused: {}",
        text(&out.stderr)
    );
    let since = time_ago(3600);
    let out = cli
        .run(&[
            "-t",
            "acme",
            "recover",
            "-e",
            &ep_id,
            "--since",
            &since,
            "--output",
            "json",
            "--progress",
            "always",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            job["status"].clone(),
            job["requeued"].clone(),
            job["kind"].clone()
        ),
        (json!("done"), json!(3), json!("recover")),
        "{job}"
    );
    let again = cli
        .json(
            &["-t", "acme", "jobs", "get", job["id"].as_str().unwrap()],
            0,
        )
        .await;
    assert_eq!(again["requeued"], 3);
    cli.json(&["-t", "acme", "jobs", "get", "job_nope"], 4)
        .await;
    // --no-wait: the job as the API answered it (nothing failed is left: it requeues none).
    let started = cli
        .json(
            &[
                "-t",
                "acme",
                "recover",
                "-e",
                &ep_id,
                "--since",
                &since,
                "--no-wait",
            ],
            0,
        )
        .await;
    assert_eq!(started["kind"], "recover");
    assert!(
        text(&out.stderr).contains("recover job_"),
        "progress shown: {}",
        text(&out.stderr)
    );
    for id in &ids {
        let d = stack
            .wait_delivery("acme", id, Duration::from_secs(20), |d| {
                d["status"] == "delivered"
            })
            .await;
        assert_eq!(d["status"], "delivered");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.txt");
    std::fs::write(
        &file,
        format!(
            "# to retry\n{}\n{}\ndlv_01JZZZZZZZZZZZZZZZZZZZZZZZ\n",
            ids[0], ids[1]
        ),
    )
    .unwrap();
    let s = cli
        .json(
            &[
                "-t",
                "acme",
                "retry",
                "--from-file",
                file.to_str().unwrap(),
                ids[2].as_str(),
            ],
            1,
        )
        .await;
    assert_eq!(
        (
            s["total"].as_u64(),
            s["queued"].as_u64(),
            s["not_attempted"].as_u64()
        ),
        (Some(4), Some(3), Some(0)),
        "{s}"
    );
    assert_eq!(s["failed"][0]["id"], "dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ");
    let d = stack
        .wait_delivery("acme", &ids[0], Duration::from_secs(20), |d| {
            d["attempts"].as_array().is_some_and(|a| a.len() == 3)
        })
        .await;
    assert_eq!(d["attempts"][2]["manual"], true, "{d}");
}

fn time_ago(seconds: i64) -> String {
    shared::domain::clock::rfc3339(shared::domain::clock::now_millis() - seconds * 1000)
}

/// `dlq redrive` calls the route until it moves nothing more and reports the total.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_dlq_redrive_moves_everything_back() {
    let stack = Stack::builder().poll(false).start().await;
    let cli = acme(&stack).await;
    let rx = TestReceiver::start(vec![], None).await;
    stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["*"]}))
        .await;
    for i in 0..3 {
        stack
            .event("acme", json!({"event_type": "a.b", "payload": {"i": i}}))
            .await;
    }
    let mut moved = 0;
    while moved < 3 {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&stack.resources.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in got.messages.unwrap_or_default() {
            stack
                .sqs
                .send_message()
                .queue_url(&stack.resources.dlq_url)
                .message_body(m.body.unwrap())
                .send()
                .await
                .unwrap();
            stack
                .sqs
                .delete_message()
                .queue_url(&stack.resources.queue_url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
            moved += 1;
        }
    }
    let out = cli
        .run(&["dlq", "redrive", "--output", "json", "--progress", "always"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (s["moved"].as_u64(), s["calls"].as_u64()),
        (Some(3), Some(2)),
        "{s}"
    );
    assert!(
        text(&out.stderr).contains("moving DLQ messages"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(stack.queue_depth(&stack.resources.dlq_url).await.0, 0);
    let s = cli.json(&["dlq", "redrive"], 0).await;
    assert_eq!(
        (s["moved"].as_u64(), s["calls"].as_u64()),
        (Some(0), Some(1))
    );
    // A tenant key may not: 403 → exit 3.
    let key = cli.json(&["-t", "acme", "api-keys", "create"], 0).await;
    let k = key["key"].as_str().unwrap();
    crate::harness::record_secret(k);
    cli.json(&["--key", k, "dlq", "redrive"], 3).await;
}

/// The routes of issue 10 through the CLI: the event-type catalog, the tenant list, a test
/// event to one endpoint, the operator's view of unhealthy endpoints, DLQ depth, portal links.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_catalog_tenant_list_test_events_admin_views_and_portal() {
    let stack = Stack::builder().start().await;
    let cli = acme(&stack).await;
    stack.tenant("beta", json!({})).await;
    let schema = r#"{"type":"object","required":["job_id"]}"#;
    let t = cli
        .json(
            &[
                "event-types",
                "put",
                "job.completed",
                "--description",
                "A job finished",
                "--schema",
                schema,
                "--example",
                r#"{"job_id":"job_example"}"#,
            ],
            0,
        )
        .await;
    assert_eq!(t["name"], "job.completed");
    cli.json(
        &[
            "event-types",
            "put",
            "job.failed",
            "--description",
            "A job failed",
        ],
        0,
    )
    .await;
    let key = cli.json(&["-t", "acme", "api-keys", "create"], 0).await;
    let tenant_key = key["key"].as_str().unwrap().to_owned();
    crate::harness::record_secret(&tenant_key);
    let list = cli
        .json(&["--key", &tenant_key, "event-types", "list"], 0)
        .await;
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["job.completed", "job.failed"]);
    assert_eq!(list["strict"], false);
    let got = cli.json(&["event-types", "get", "job.completed"], 0).await;
    assert_eq!(got["schema"]["required"], json!(["job_id"]));
    cli.json(
        &[
            "--key",
            &tenant_key,
            "event-types",
            "put",
            "x.y",
            "--description",
            "no",
        ],
        3,
    )
    .await;
    cli.json(&["event-types", "delete", "job.failed"], 0).await;
    cli.json(&["event-types", "get", "job.failed"], 4).await;
    let table = cli.run(&["event-types", "list"]).await;
    assert!(
        text(&table.stdout).contains("A job finished")
            && text(&table.stdout).contains("not strict")
    );

    let tenants = cli
        .json(&["tenants", "list", "--limit", "1", "--all"], 0)
        .await;
    let ids: Vec<&str> = tenants["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "beta"], "{tenants:?}");

    // A test event to one endpoint: the catalog's example payload.
    let rx = TestReceiver::start(vec![], None).await;
    let ep = stack
        .endpoint("acme", json!({"url": rx.url, "event_types": ["job.*"]}))
        .await;
    let ep_id = ep["id"].as_str().unwrap();
    let sent = cli
        .json(&["-t", "acme", "endpoints", "test", ep_id], 0)
        .await;
    assert_eq!(sent["event_type"], "job.completed");
    let id = sent["deliveries"][0]["id"].as_str().unwrap();
    let d = stack
        .wait_delivery("acme", id, Duration::from_secs(20), final_status)
        .await;
    assert_eq!(d["status"], "delivered");
    assert_eq!(
        serde_json::from_slice::<Value>(&rx.received()[0].body).unwrap(),
        json!({"job_id": "job_example"})
    );
    let custom = cli
        .json(
            &[
                "-t",
                "acme",
                "endpoints",
                "test",
                ep_id,
                "--event-type",
                "job.completed",
                "--data",
                r#"{"job_id":"mine"}"#,
            ],
            0,
        )
        .await;
    assert_eq!(custom["deliveries"].as_array().unwrap().len(), 1);

    // The operator's views.
    let off = stack
        .endpoint(
            "beta",
            json!({"url": "https://example.com/off", "event_types": ["*"], "enabled": false}),
        )
        .await;
    let disabled = cli
        .json(&["admin", "endpoints", "--state", "disabled"], 0)
        .await;
    let found: Vec<&str> = disabled["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, [off["id"].as_str().unwrap()], "{disabled}");
    assert!(disabled["data"][0].get("secret").is_none());
    let dlq = cli.json(&["dlq", "status"], 0).await;
    assert_eq!(dlq["depth"], 0);
    let link = cli
        .json(&["-t", "acme", "portal", "--ttl-seconds", "60"], 0)
        .await;
    let url = link["url"].as_str().unwrap();
    crate::harness::record_secret(url.split("token=").nth(1).unwrap_or(url));
    assert!(url.contains("/portal#"), "{url}");
    assert!(link["expires_at"].is_string());
    cli.json(&["--key", &tenant_key, "-t", "acme", "portal"], 3)
        .await;
}

/// Issue 12's rejected-events queue through the CLI: an SQS record for a tenant that does not
/// exist yet is listed with its reason, and resubmitted once the tenant is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_lists_and_resubmits_rejected_events() {
    let stack = Stack::builder().poll(false).start().await;
    let cli = Cli::new(&stack).await;
    let body = r#"{"tenant_id": "cli-later", "event_type": "a.b", "payload": {"k": 1}}"#;
    let record = json!({"Records": [{"messageId": "m-cli-1", "receiptHandle": "r", "body": body,
        "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:producer", "awsRegion": "us-east-1"}]});
    let raw = serde_json::value::RawValue::from_string(record.to_string()).unwrap();
    let event =
        ingest::lambda_event::LambdaEvent::new(raw, ingest::lambda_event::Context::default());
    ingest::lambda::handle(stack.app.clone(), &stack.state, event)
        .await
        .unwrap();
    let list = cli.json(&["rejected", "list"], 0).await;
    assert_eq!(list["data"][0]["message_id"], "m-cli-1", "{list}");
    assert_eq!(list["data"][0]["reason"]["code"], "not_found");
    let human = cli.run(&["rejected", "list"]).await;
    assert!(
        text(&human.stdout).contains("not_found"),
        "{}",
        text(&human.stdout)
    );
    stack.tenant("cli-later", json!({})).await;
    let out = cli
        .run(&[
            "rejected",
            "resubmit",
            "--output",
            "json",
            "--progress",
            "always",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (done["accepted"].as_u64(), done["rejected_again"].as_u64()),
        (Some(1), Some(0)),
        "{done}"
    );
    assert!(
        text(&out.stderr).contains("resubmitting rejected events"),
        "{}",
        text(&out.stderr)
    );
    let list = cli.json(&["rejected", "list"], 0).await;
    assert!(list["data"].as_array().unwrap().is_empty(), "{list}");
}
