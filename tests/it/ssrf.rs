//! SSRF corpus. Traffic only ever goes to loopback: internal non-loopback addresses are checked
//! only where no request can follow (registration, the pure filter in unit tests); the
//! connector is checked with loopback addresses outside the allowlist (127.0.0.3, 127.0.0.4,
//! [::1]) in every spelling, and with names a test resolver maps to them, while listeners on
//! those addresses count connections. The allowlist is 127.0.0.2/32 (the receivers' address),
//! as in the local stack, whose own services are on 127.0.0.1 (see `loops.rs`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use delivery::WorkerOptions;
use serde_json::json;
use shared::adapters::http::{HttpSender, Lookup};
use shared::domain::address_policy::AddressPolicy;
use shared::domain::attempt::Outcome;
use shared::ports::{OutboundRequest, Sender};

use crate::harness::Stack;
use crate::receiver::TestReceiver;

/// Accepts connections on `addr` and counts them.
pub async fn listener(addr: &str) -> (u16, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind((addr, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((_sock, _)) = l.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, count)
}

/// A resolver answering from a table; each name's answers are used in turn (DNS rebinding).
fn table_lookup(table: Vec<(&str, Vec<Vec<&str>>)>) -> Lookup {
    let table: HashMap<String, Mutex<Vec<Vec<IpAddr>>>> = table
        .into_iter()
        .map(|(name, answers)| {
            let answers = answers
                .into_iter()
                .map(|a| a.into_iter().map(|ip| ip.parse().unwrap()).collect())
                .collect();
            (name.to_owned(), Mutex::new(answers))
        })
        .collect();
    let table = Arc::new(table);
    Arc::new(move |name: String| {
        let table = Arc::clone(&table);
        Box::pin(async move {
            let Some(answers) = table.get(name.trim_end_matches('.')) else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such test host",
                ));
            };
            let mut answers = answers.lock().unwrap();
            let next = if answers.len() > 1 {
                answers.remove(0)
            } else {
                answers[0].clone()
            };
            Ok(next)
        })
    })
}

fn request(url: &str) -> OutboundRequest {
    OutboundRequest {
        url: url.parse().unwrap(),
        headers: vec![],
        body: bytes::Bytes::from_static(b"{}"),
        timeout: Duration::from_secs(2),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_spelling_or_name_reaches_an_address_outside_the_allowlist() {
    let (p2, hits2) = listener("127.0.0.3").await;
    let (p3, hits3) = listener("127.0.0.4").await;
    let (p6, hits6) = listener("::1").await;
    let allowed = TestReceiver::start(vec![], None).await; // on 127.0.0.2: allowlisted
    let allowed_port: u16 = allowed
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hook")
        .parse()
        .unwrap();
    let lookup = table_lookup(vec![
        ("internal.test", vec![vec!["127.0.0.3"]]),
        ("other.test", vec![vec!["127.0.0.4"]]),
        ("v6.test", vec![vec!["::1"]]),
        ("mapped.test", vec![vec!["::ffff:127.0.0.3"]]),
        ("both.test", vec![vec!["127.0.0.3", "::1"]]),
        ("localhost", vec![vec!["127.0.0.3", "::1"]]),
        ("rebind.test", vec![vec!["127.0.0.2"], vec!["127.0.0.3"]]),
    ]);
    let policy = AddressPolicy::with_allowlist(
        AddressPolicy::parse_allowlist(crate::harness::RECEIVER_ALLOWLIST).unwrap(),
    );
    let sender = HttpSender::with_lookup(policy, lookup).unwrap();

    let corpus = [
        // Literal IPv4 in every spelling the URL parser accepts.
        format!("http://127.0.0.3:{p2}/"),
        format!("http://127.0.0.4:{p3}/"),
        format!("http://2130706435:{p2}/"),
        format!("http://0x7f000003:{p2}/"),
        format!("http://0x7f.3:{p2}/"),
        format!("http://0x7f.0.0.3:{p2}/"),
        format!("http://0177.0.0.3:{p2}/"),
        format!("http://0177.0.0.03:{p2}/"),
        format!("http://127.3:{p2}/"),
        format!("http://127.0.3:{p2}/"),
        format!("http://017700000003:{p2}/"),
        format!("https://127.0.0.3:{p2}/"),
        // Literal IPv6: loopback and IPv4-mapped forms.
        format!("http://[::1]:{p6}/"),
        format!("http://[0:0:0:0:0:0:0:1]:{p6}/"),
        format!("http://[0000::0001]:{p6}/"),
        format!("http://[::ffff:127.0.0.3]:{p2}/"),
        format!("http://[::ffff:7f00:3]:{p2}/"),
        format!("http://[::ffff:127.0.0.4]:{p3}/"),
        // Names that resolve to them.
        format!("http://internal.test:{p2}/"),
        format!("http://INTERNAL.test.:{p2}/"),
        format!("http://other.test:{p3}/"),
        format!("http://v6.test:{p6}/"),
        format!("http://mapped.test:{p2}/"),
        format!("http://both.test:{p2}/"),
        format!("http://localhost:{p2}/"),
        format!("http://unknown.test:{p2}/"),
    ];
    for url in &corpus {
        let result = sender.send(request(url)).await;
        let expected = if url.contains("unknown.test") {
            Outcome::NetworkError
        } else {
            Outcome::Blocked
        };
        assert_eq!(result.outcome, expected, "{url}: {result:?}");
        assert_eq!(result.status_code, None, "{url}");
    }

    // DNS rebinding: the first answer is allowed (127.0.0.2), the second is not.
    let first = sender
        .send(request(&format!("http://rebind.test:{allowed_port}/hook")))
        .await;
    assert_eq!(first.outcome, Outcome::Delivered, "{first:?}");
    let second = sender
        .send(request(&format!("http://rebind.test:{p2}/hook")))
        .await;
    assert_eq!(second.outcome, Outcome::Blocked, "{second:?}");

    // Through the whole pipeline: a name accepted at registration, blocked at connect time,
    // recorded `blocked`, not retried.
    let lookup = table_lookup(vec![("internal.test", vec![vec!["127.0.0.3"]])]);
    let options = WorkerOptions {
        cache_ttl: Duration::from_millis(200),
        ..WorkerOptions::default()
    };
    let stack = Stack::builder()
        .worker_options(options)
        .lookup(lookup)
        .start()
        .await;
    stack.tenant("acme", json!({})).await;
    stack
        .endpoint("acme", json!({"url": format!("http://internal.test:{p2}/hook"), "event_types": ["*"], "retry_schedule_seconds": [1, 1]}))
        .await;
    let v = stack
        .event("acme", json!({"event_type": "a.b", "payload": {}}))
        .await;
    let d = stack
        .wait_delivery(
            "acme",
            v["deliveries"][0]["id"].as_str().unwrap(),
            Duration::from_secs(20),
            |d| d["status"] != "pending",
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["attempt_count"].as_u64()),
        (Some("failed"), Some(1)),
        "{d}"
    );
    assert_eq!(d["attempts"][0]["outcome"], "blocked");
    assert!(d["last_error"].as_str().unwrap().contains("blocked"));

    // Registration refuses internal literals outright, so no request can follow.
    let registration = [
        "http://10.0.0.1/",
        "http://10.255.255.255:8080/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://198.18.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[::ffff:10.0.0.1]/",
        "http://0xa9fea9fe/",
        "http://2852039166/",
        "http://127.0.0.3/",
        "http://127.0.0.1/",
        "http://[::1]/",
    ];
    for url in registration {
        let (s, v) = stack
            .admin(
                "POST",
                "/v1/tenants/acme/endpoints",
                Some(&json!({"url": url, "event_types": ["*"]})),
            )
            .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("url")),
            "{url}: {v}"
        );
    }
    assert!(corpus.len() + 1 + registration.len() >= 40, "corpus size");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        (
            hits2.load(Ordering::SeqCst),
            hits3.load(Ordering::SeqCst),
            hits6.load(Ordering::SeqCst)
        ),
        (0, 0, 0),
        "a listener outside the allowlist was reached"
    );
    assert_eq!(
        allowed.count(),
        1,
        "the allowlisted receiver got exactly the one allowed request"
    );
}
