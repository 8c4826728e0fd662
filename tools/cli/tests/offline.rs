//! The `hookrelay` binary where no stack is needed: help and exit codes, completions and the
//! man page, settings' precedence and masking, `verify` for every scheme, `listen` verifying
//! and answering, and the API's error answers mapped to exit codes (a scripted local server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use shared::domain::secret::Secret;
use shared::domain::settings::SignatureScheme;
use shared::domain::signing::{SigningInput, signature_headers};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The binary with no setting from the machine it runs on.
fn hookrelay(config: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("hookrelay").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HOOKRELAY_")) {
        cmd.env_remove(k);
    }
    cmd.env("HOOKRELAY_CONFIG", config)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    cmd
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

#[test]
fn help_lists_exit_codes_and_tail_says_how_it_polls() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    hookrelay(&cfg).arg("--help").assert().success().stdout(
        predicate::str::contains("Exit codes:")
            .and(predicate::str::contains("3    authentication")),
    );
    hookrelay(&cfg)
        .args(["tail", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("There is no streaming route")
                .and(predicate::str::contains("--interval")),
        );
    hookrelay(&cfg).arg("--no-such").assert().code(2);
    hookrelay(&cfg).args(["endpoints"]).assert().code(2);
}

#[test]
fn completions_and_man_page_come_from_the_definition() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        hookrelay(&cfg)
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(
                predicate::str::contains("hookrelay")
                    .and(predicate::str::contains("rotate-secret")),
            );
    }
    hookrelay(&cfg)
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH hookrelay").and(predicate::str::contains("listen")));
}

#[test]
fn config_shows_each_source_and_masks_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hookrelay/config.toml");
    let key = "hr_profile_key_0123456789abcdef";
    // Saved from flags into the `staging` profile, made the default.
    hookrelay(&cfg)
        .args([
            "--profile",
            "staging",
            "--api",
            "http://127.0.0.1:9400",
            "--key",
            key,
            "--tenant",
            "acme",
            "config",
            "save",
            "--make-default",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("default_profile = \"staging\"") && text.contains(key),
        "{text}"
    );
    let out = hookrelay(&cfg)
        .env("HOOKRELAY_API", "http://127.0.0.1:9500")
        .args(["--tenant", "beta", "config", "-o", "json"])
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    assert_eq!(v["api"]["value"], "http://127.0.0.1:9500");
    assert_eq!(v["api"]["source"], "environment HOOKRELAY_API");
    assert_eq!(v["tenant"]["source"], "flag --tenant");
    assert_eq!(v["key"]["source"], "profile `staging`");
    assert_eq!(v["key"]["value"], "hr_p…cdef (31 characters)");
    assert_eq!(v["profile"]["source"], "config file default_profile");
    let out = hookrelay(&cfg).arg("config").assert().success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!table.contains(key), "the key is never shown: {table}");
    assert!(table.contains("profile `staging`"));
    // No key anywhere: exit 3 before any request.
    let empty = dir.path().join("none.toml");
    hookrelay(&empty)
        .args(["-t", "acme", "endpoints", "list"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no API key"));
    hookrelay(&empty).args(["config", "save"]).assert().code(2);
    // A broken file: exit 2 naming it, except for commands that need no settings.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "profiles = 3").unwrap();
    hookrelay(&broken)
        .arg("config")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.toml"));
    hookrelay(&broken)
        .args(["completions", "bash"])
        .assert()
        .success();
}

fn signed(scheme: &SignatureScheme, secret: &str, body: &[u8], ts: i64) -> Vec<(String, String)> {
    let secrets = [Secret::from_string(secret.into())];
    signature_headers(
        scheme,
        &secrets,
        SigningInput {
            msg_id: "evt_test",
            timestamp: ts,
            body,
        },
    )
    .unwrap()
}

fn request(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut raw = b"POST /hooks HTTP/1.1\ncontent-type: application/json\n".to_vec();
    for (n, v) in headers {
        raw.extend_from_slice(format!("{n}: {v}\n").as_bytes());
    }
    raw.extend_from_slice(b"\n");
    raw.extend_from_slice(body);
    raw
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn verify_checks_every_scheme_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let body = br#"{"job_id":"j1"}"#;
    let std = signed(&SignatureScheme::StandardWebhooks, SECRET, body, now());
    hookrelay(&cfg)
        .args(["verify", "--secret", SECRET])
        .write_stdin(request(&std, body))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "verified with secret 1 of 1, webhook-id evt_test",
        ));
    // During a rotation any of the secrets may match.
    hookrelay(&cfg)
        .args([
            "verify",
            "--secret",
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "--secret",
            SECRET,
        ])
        .write_stdin(request(&std, body))
        .assert()
        .success()
        .stdout(predicate::str::contains("secret 2 of 2"));
    hookrelay(&cfg)
        .args(["verify", "--secret", SECRET])
        .write_stdin(request(&std, br#"{"job_id":"j2"}"#))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no signature matches"));
    let old = signed(
        &SignatureScheme::StandardWebhooks,
        SECRET,
        body,
        now() - 600,
    );
    hookrelay(&cfg)
        .args(["verify", "--secret", SECRET])
        .write_stdin(request(&old, body))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("more than the 300 s tolerance"));
    hookrelay(&cfg)
        .args(["verify", "--secret", SECRET, "--tolerance", "900"])
        .write_stdin(request(&old, body))
        .assert()
        .success();
    hookrelay(&cfg)
        .args(["verify", "--secret", SECRET])
        .write_stdin(request(&std[..2], body))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`webhook-signature` header is missing",
        ));

    let hex = SignatureScheme::HmacSha256Hex {
        header: "Ittybit-Signature".into(),
        prefix: Some("sha256=".into()),
    };
    let plain = "ittybit-shared-secret-1";
    let h = signed(&hex, plain, body, 0);
    let hex_args = [
        "verify",
        "--scheme",
        "hmac-sha256-hex",
        "--header",
        "Ittybit-Signature",
        "--prefix",
        "sha256=",
        "--secret",
        plain,
    ];
    hookrelay(&cfg)
        .args(hex_args)
        .write_stdin(request(&h, body))
        .assert()
        .success();
    hookrelay(&cfg)
        .args(hex_args)
        .write_stdin(request(&h, b"{}"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not match the HMAC-SHA256"));
    hookrelay(&cfg)
        .args(["verify", "--scheme", "hmac-sha256-hex", "--secret", plain])
        .write_stdin(request(&h, body))
        .assert()
        .code(2);

    // Headers and body from two files.
    let (hf, bf) = (dir.path().join("h.txt"), dir.path().join("b.json"));
    std::fs::write(&hf, "X-Webhook-Secret: cg-endpoint-secret-1\n").unwrap();
    std::fs::write(&bf, body).unwrap();
    let files = [
        "--headers",
        hf.to_str().unwrap(),
        "--body",
        bf.to_str().unwrap(),
    ];
    hookrelay(&cfg)
        .args([
            "verify",
            "--scheme",
            "secret-header",
            "--header",
            "X-Webhook-Secret",
            "--secret",
            "cg-endpoint-secret-1",
        ])
        .args(files)
        .assert()
        .success();
    let out = hookrelay(&cfg)
        .args([
            "verify",
            "--scheme",
            "secret-header",
            "--header",
            "X-Webhook-Secret",
            "--secret",
            "other-secret-12345",
            "-o",
            "json",
        ])
        .args(files)
        .assert()
        .code(1);
    let v = json_of(&out.get_output().stdout);
    assert_eq!(v["verified"], false);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("is not the endpoint's secret")
    );
}

/// A scripted API: answers each connection with the next (status, body).
fn fake_api(answers: Vec<(u16, &'static str)>) -> String {
    slow_api(answers, Duration::ZERO)
}

/// The same, waiting `delay` before each answer.
fn slow_api(answers: Vec<(u16, &'static str)>, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut sink = vec![0; length];
            let _ = reader.read_exact(&mut sink);
            std::thread::sleep(delay);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn api_errors_map_to_exit_codes_with_code_message_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let cases: Vec<(u16, &'static str, i32, &str)> = vec![
        (
            503,
            r#"{"error":{"code":"unavailable","message":"The queue is unavailable."}}"#,
            5,
            "503 unavailable: The queue is unavailable.",
        ),
        (500, "oops", 5, "500 http_500: oops"),
        (
            429,
            r#"{"error":{"code":"rate_limited","message":"Slow down."}}"#,
            1,
            "429 rate_limited",
        ),
        (
            409,
            r#"{"error":{"code":"endpoint_limit_reached","message":"At most 3.","field":"url"}}"#,
            1,
            "(field: url)",
        ),
        (
            401,
            r#"{"error":{"code":"unauthorized","message":"Missing or wrong key."}}"#,
            3,
            "401 unauthorized",
        ),
        (
            404,
            r#"{"error":{"code":"not_found","message":"No such endpoint."}}"#,
            4,
            "404 not_found",
        ),
    ];
    for (status, body, code, shown) in cases {
        let api = fake_api(vec![(status, body)]);
        hookrelay(&cfg)
            .args([
                "--api",
                &api,
                "--key",
                "k",
                "-t",
                "acme",
                "endpoints",
                "get",
                "ep_1",
            ])
            .assert()
            .code(code)
            .stderr(predicate::str::contains(shown));
    }
    hookrelay(&cfg)
        .args([
            "--api",
            "http://127.0.0.1:1",
            "--key",
            "k",
            "-t",
            "acme",
            "endpoints",
            "list",
        ])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "cannot reach the API at http://127.0.0.1:1",
        ));
}

fn post(port: u16, headers: &[(String, String)], body: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "POST /hooks HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

#[test]
fn listen_verifies_prints_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hookrelay"))
        .env("HOOKRELAY_CONFIG", &cfg)
        .env("NO_COLOR", "1")
        .args([
            "listen",
            "--port",
            &port.to_string(),
            "--secret",
            SECRET,
            "--fail",
            "1",
            "--reject-invalid",
            "--count",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = br#"{"hello":"world"}"#;
    let good = signed(&SignatureScheme::StandardWebhooks, SECRET, body, now());
    assert!(
        post(port, &good, body).starts_with("HTTP/1.1 500"),
        "--fail 1: the first gets 500"
    );
    assert!(post(port, &good, body).starts_with("HTTP/1.1 204"));
    assert!(
        post(port, &good, b"{}").starts_with("HTTP/1.1 401"),
        "a tampered body with --reject-invalid"
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("✓ verified").count(), 2, "{stdout}");
    assert!(
        stdout.contains("✗ does not verify: no signature matches"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"hello\": \"world\""),
        "the body pretty-printed: {stdout}"
    );
    assert!(
        stdout.contains("answered 500")
            && stdout.contains("answered 204")
            && stdout.contains("answered 401")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("listening on http://127.0.0.1:{port}/")),
        "{stderr}"
    );
    assert!(
        stderr.contains("received 3 request(s): 2 verified, 1 failed verification"),
        "{stderr}"
    );
}

fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Ctrl-C during a bulk retry: the request in flight finishes, nothing more is sent, the
/// summary says what was done and the exit is 130.
#[test]
fn ctrl_c_stops_bulk_work_and_says_what_was_done() {
    let dir = tempfile::tempdir().unwrap();
    let answer = (202, r#"{"id":"dlv_x","status":"failed","queued":true}"#);
    let api = slow_api(vec![answer; 40], Duration::from_millis(150));
    let ids: Vec<String> = (0..40).map(|i| format!("dlv_{i}")).collect();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hookrelay"))
        .env("HOOKRELAY_CONFIG", dir.path().join("c.toml"))
        .env("NO_COLOR", "1")
        .args([
            "--api",
            &api,
            "--key",
            "k",
            "-t",
            "acme",
            "retry",
            "--concurrency",
            "1",
            "-o",
            "json",
        ])
        .args(&ids)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    let (queued, skipped) = (
        v["queued"].as_u64().unwrap(),
        v["not_attempted"].as_u64().unwrap(),
    );
    assert!(queued >= 1 && skipped >= 1, "{v}");
    assert_eq!(queued + skipped, 40, "{v}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("interrupted: {queued} of 40 retries queued")),
        "{stderr}"
    );

    // `listen` stops on Ctrl-C with its count.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hookrelay"))
        .env("HOOKRELAY_CONFIG", dir.path().join("c.toml"))
        .args(["listen", "--port", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(post(port, &[], b"{}").starts_with("HTTP/1.1 204"));
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("received 1 request(s)"), "{stderr}");
}
