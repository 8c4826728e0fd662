//! The fault-injection suite: ≥ 1,000 events over several endpoints while receivers fail in
//! every way (500s, hangs past the timeout, refused connections, connections closed
//! mid-response, redirects, 410), the delivery function is killed mid-batch, and the table and
//! queue fail for a while (faults injected beneath the real SDK clients). At the end every
//! accepted delivery must be delivered, failed, or in the DLQ — lost: 0 — and no receiver may
//! see a POST for a delivery after its success was recorded. Prints its counts.
//!
//! Run by `scripts/test` (ignored in the plain run: it takes a few minutes):
//! `cargo test -p integration-tests --test it -- --ignored --nocapture fault`

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::AttributeValue;
use delivery::{Worker, WorkerOptions};
use devstack::poller::{Poller, PollerConfig};
use futures::StreamExt;
use serde_json::{Value, json};
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::dynamo::log_item::from_record_item;
use shared::adapters::http::HttpSender;
use shared::adapters::kms::KmsVault;
use shared::adapters::sealer::SecretSealer;
use shared::adapters::sqs::SqsQueue;
use shared::domain::address_policy::AddressPolicy;
use shared::domain::attempt::Outcome;
use shared::domain::model::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{InProcess, Stack, aws_config};
use crate::receiver::{Reply, TestReceiver};

/// Events sent (FAULT_EVENTS overrides, for trying the suite on a smaller scale).
fn events() -> usize {
    std::env::var("FAULT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}
const POLLERS: usize = 4;

/// Fails SDK calls while `down` is set, and one in `1000 / per_mille` calls at random.
#[derive(Debug, Clone)]
struct Chaos {
    down: Arc<AtomicBool>,
    per_mille: u32,
    injected: Arc<AtomicUsize>,
}

impl Intercept for Chaos {
    fn name(&self) -> &'static str {
        "chaos"
    }
    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if self.down.load(Ordering::SeqCst) || rand::random::<u32>() % 1000 < self.per_mille {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err("injected fault".into());
        }
        Ok(())
    }
}

/// A receiver that reads the request, then closes the connection mid-response: before the
/// status line for half the requests, in the body for the others.
async fn mid_close_receiver() -> (String, Arc<Mutex<Vec<(String, i64)>>>) {
    let listener = tokio::net::TcpListener::bind((crate::harness::RECEIVER_IP, 0))
        .await
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok((mut sock, _)) = listener.accept().await {
            n += 1;
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then the body by its content-length.
                loop {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let id = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("webhook-id:").map(|v| v.trim().to_owned())
                                })
                                .unwrap_or_default();
                            log.lock()
                                .unwrap()
                                .push((id, shared::domain::clock::now_millis()));
                            break;
                        }
                    }
                }
                let reply: &[u8] = if n.is_multiple_of(2) {
                    b"HTTP/1.1 5"
                } else {
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100\r\n\r\npartial"
                };
                let _ = sock.write_all(reply).await;
                // Dropped: the connection closes mid-response.
            });
        }
    });
    (url, seen)
}

/// Every delivery log record of tenant `acme`, read back: each delivery's latest state, and
/// every attempt recorded.
async fn read_logs(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> (HashMap<String, DeliveryRecord>, Vec<AttemptRecord>) {
    let mut latest: HashMap<String, DeliveryRecord> = HashMap::new();
    let mut attempts = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", AttributeValue::S("DLV#acme#".into()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items.unwrap_or_default() {
            let record = from_record_item(&item).unwrap();
            attempts.extend(record.attempt);
            let d = record.state;
            if latest.get(&d.id).is_none_or(|l| l.seq < d.seq) {
                latest.insert(d.id.clone(), d);
            }
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return (latest, attempts),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore = "the fault-injection suite takes minutes; scripts/test runs it"]
async fn fault_injection_nothing_is_lost() {
    let stack = Stack::builder()
        .params(&["DeliveryQueueVisibilitySeconds=8"])
        .poll(false)
        .start()
        .await;
    stack
        .tenant(
            "acme",
            json!({"defaults": {"retry_schedule_seconds": [1, 1, 2], "timeout_seconds": 1}}),
        )
        .await;

    // Receivers.
    let ok = TestReceiver::start(vec![], Some(Reply::Sometimes(5, 500))).await;
    let flaky = TestReceiver::start(vec![], Some(Reply::Sometimes(50, 500))).await;
    let hang = TestReceiver::start(
        vec![],
        Some(Reply::SometimesHang(40, Duration::from_millis(2500))),
    )
    .await;
    let redirect = TestReceiver::start(vec![], Some(Reply::Redirect)).await;
    let gone = TestReceiver::start(vec![], Some(Reply::Status(410))).await;
    let (mid_close, mid_close_seen) = mid_close_receiver().await;
    let refused = {
        let l = std::net::TcpListener::bind((crate::harness::RECEIVER_IP, 0)).unwrap();
        format!("http://{}/hook", l.local_addr().unwrap()) // closed when `l` drops
    };
    let mut endpoints: Vec<(String, String)> = Vec::new(); // (endpoint id, kind)
    for (kind, url, types) in [
        ("ok", ok.url.clone(), json!(["*"])),
        ("flaky", flaky.url.clone(), json!(["e.0", "e.1"])),
        ("hang", hang.url.clone(), json!(["e.2"])),
        ("refused", refused.clone(), json!(["e.3"])),
        ("mid_close", mid_close.clone(), json!(["e.4"])),
        ("redirect", redirect.url.clone(), json!(["e.0"])),
        ("gone", gone.url.clone(), json!(["e.1"])),
    ] {
        let ep = stack
            .endpoint("acme", json!({"url": url, "event_types": types}))
            .await;
        endpoints.push((ep["id"].as_str().unwrap().to_owned(), kind.to_owned()));
    }
    let kind_of: HashMap<String, String> = endpoints.iter().cloned().collect();

    // The delivery function, with faults beneath its real SDK clients.
    let down = Arc::new(AtomicBool::new(false));
    let injected = Arc::new(AtomicUsize::new(0));
    let chaos = Chaos {
        down: Arc::clone(&down),
        per_mille: 10,
        injected: Arc::clone(&injected),
    };
    let aws = aws_config().await;
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(chaos.clone())
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&aws)
            .interceptor(chaos)
            .build(),
    );
    let policy = AddressPolicy::with_allowlist(
        AddressPolicy::parse_allowlist(crate::harness::RECEIVER_ALLOWLIST).unwrap(),
    );
    let worker = Arc::new(Worker::new(
        DynamoStore::new(
            ddb,
            &stack.resources.table_name,
            SecretSealer::new(Arc::new(KmsVault::from_config(
                &aws,
                &stack.resources.secrets_key_id,
            ))),
        ),
        SqsQueue::new(sqs, &stack.resources.queue_url),
        HttpSender::new(policy).unwrap(),
        WorkerOptions {
            cache_ttl: Duration::from_millis(500),
            // Deployed: 5 minutes; here the back-off after an injected fault is kept short so
            // the run ends in minutes (as retry schedules are shortened).
            max_transient_backoff: Duration::from_secs(4),
            // The queue's visibility here (8 s) is shorter than an attempt may take.
            queue_visibility: Some(Duration::from_secs(8)),
            ..WorkerOptions::default()
        },
    ));
    let poller_config = PollerConfig {
        queue_url: stack.resources.queue_url.clone(),
        batch_size: 10,
        wait_seconds: 1,
        region: "us-east-1".into(),
    };
    let spawn_poller = || {
        let worker = Arc::clone(&worker);
        let sqs = stack.sqs.clone();
        let config = poller_config.clone();
        tokio::spawn(async move {
            let poller = Poller::new(sqs, config, InProcess(worker)).await.unwrap();
            poller.run().await;
        })
    };
    let mut pollers: Vec<_> = (0..POLLERS).map(|_| spawn_poller()).collect();

    // Events, 8 at a time; the delivery function works while they arrive.
    let started = Instant::now();
    let accepted: Vec<Value> = futures::stream::iter(0..events())
        .map(|i| {
            let stack = &stack;
            async move {
                let body = json!({"event_type": format!("e.{}", i % 5), "payload": {"i": i}});
                let (s, v) = stack
                    .admin("POST", "/v1/tenants/acme/events", Some(&body))
                    .await;
                assert_eq!(s, 202, "{v}");
                v
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut expected: HashMap<String, (String, String)> = HashMap::new(); // delivery → (event, endpoint)
    for v in &accepted {
        for d in v["deliveries"].as_array().unwrap() {
            expected.insert(
                d["id"].as_str().unwrap().to_owned(),
                (
                    v["id"].as_str().unwrap().to_owned(),
                    d["endpoint_id"].as_str().unwrap().to_owned(),
                ),
            );
        }
    }

    // Faults while it runs: kill a delivery function mid-batch three times, take the table and
    // queue down for 4 s.
    let mut kills = 0;
    for (round, poller) in pollers.iter_mut().take(3).enumerate() {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        poller.abort();
        *poller = spawn_poller();
        kills += 1;
        if round == 1 {
            down.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(4)).await;
            down.store(false, Ordering::SeqCst);
        }
    }

    // Wait for every delivery to end (or sit in the DLQ) and the queue to drain.
    let table = stack.resources.table_name.clone();
    let deadline = Instant::now() + Duration::from_secs(420);
    let clean_ddb = aws_sdk_dynamodb::Client::new(&aws);
    // The queue is cheap to ask; the table is scanned only once the queue looks drained.
    loop {
        let drained = stack.queue_depth(&stack.resources.queue_url).await == (0, 0);
        if drained {
            let (latest, _) = read_logs(&clean_ddb, &table).await;
            // Nothing recorded yet counts as pending too.
            let pending = expected
                .keys()
                .filter(|id| {
                    latest
                        .get(*id)
                        .is_none_or(|d| d.status == DeliveryStatus::Pending)
                })
                .count();
            if pending == 0 {
                break;
            }
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    for p in &pollers {
        p.abort();
    }
    let elapsed = started.elapsed();

    // Accounting.
    let (deliveries, attempts) = read_logs(&clean_ddb, &table).await;
    let mut dlq: HashSet<String> = HashSet::new();
    loop {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&stack.resources.dlq_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let msgs = got.messages.unwrap_or_default();
        if msgs.is_empty() {
            break;
        }
        for m in msgs {
            if let Ok(v) = serde_json::from_str::<Value>(m.body.as_deref().unwrap_or("")) {
                dlq.insert(v["delivery_id"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut lost = Vec::new();
    for (id, (_, ep)) in &expected {
        let status = deliveries
            .get(id)
            .map_or_else(|| "missing".into(), |d| d.status.as_str().to_owned());
        let bucket = match status.as_str() {
            "delivered" | "failed" => status.clone(),
            _ if dlq.contains(id) => "dlq".into(),
            _ => {
                lost.push(id.clone());
                "lost".into()
            }
        };
        *by_status.entry(bucket.clone()).or_default() += 1;
        *by_kind.entry((kind_of[ep].clone(), bucket)).or_default() += 1;
    }

    // Attempts: outcome counts, and when each delivered one ended.
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut delivered_end: HashMap<String, i64> = HashMap::new();
    for a in &attempts {
        let name = serde_json::to_value(a.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *outcomes.entry(name).or_default() += 1;
        if a.outcome == Outcome::Delivered {
            delivered_end.insert(
                a.delivery_id.clone(),
                a.started_at + i64::try_from(a.duration_ms).unwrap_or(0),
            );
        }
    }
    // A POST that arrived after its delivery's recorded success is a second POST.
    let by_event_endpoint: HashMap<(String, String), String> = expected
        .iter()
        .map(|(d, (e, ep))| ((e.clone(), ep.clone()), d.clone()))
        .collect();
    let ep_of = |kind: &str| {
        endpoints
            .iter()
            .find(|(_, k)| k == kind)
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    let mut arrivals: Vec<(String, String, i64)> = Vec::new(); // (endpoint, event, at)
    for (kind, rx) in [
        ("ok", &ok),
        ("flaky", &flaky),
        ("hang", &hang),
        ("redirect", &redirect),
        ("gone", &gone),
    ] {
        for r in rx.received() {
            arrivals.push((
                ep_of(kind),
                r.header("webhook-id").unwrap_or_default().to_owned(),
                r.at_ms,
            ));
        }
    }
    for (event, at) in mid_close_seen.lock().unwrap().iter() {
        arrivals.push((ep_of("mid_close"), event.clone(), *at));
    }
    let second_posts = arrivals
        .iter()
        .filter(|(ep, event, at)| {
            by_event_endpoint
                .get(&(event.clone(), ep.clone()))
                .and_then(|d| delivered_end.get(d))
                // Millisecond clocks on both sides: 5 ms of slack; a real second POST comes a
                // poll cycle (hundreds of ms) after the success at the earliest.
                .is_some_and(|end| *at > *end + 5)
        })
        .count();
    let followed_redirects = redirect
        .received()
        .iter()
        .filter(|r| r.path == "/redirected")
        .count();

    let report = format!(
        "fault injection: {} events, {} deliveries over {} endpoints in {:.0?}\n\
         faults: {} delivery-function kills mid-batch, 4 s table+queue outage, {} injected SDK failures in all\n\
         deliveries: delivered {}, failed {}, in DLQ {}, lost {}\n\
         attempts by outcome: {:?}\n\
         by endpoint kind: {:?}\n\
         second POSTs after a recorded delivery: {}; redirects followed: {}",
        accepted.len(),
        expected.len(),
        endpoints.len(),
        elapsed,
        kills,
        injected.load(Ordering::SeqCst),
        by_status.get("delivered").unwrap_or(&0),
        by_status.get("failed").unwrap_or(&0),
        by_status.get("dlq").unwrap_or(&0),
        lost.len(),
        outcomes,
        by_kind,
        second_posts,
        followed_redirects,
    );
    println!("{report}");
    let _ = std::fs::create_dir_all(crate::harness::capture_dir());
    let _ = std::fs::write(
        crate::harness::capture_dir().join("fault-report.txt"),
        &report,
    );

    let depth = stack.queue_depth(&stack.resources.queue_url).await;
    let lost_states: Vec<String> = lost
        .iter()
        .take(5)
        .map(|id| match deliveries.get(id) {
            Some(d) => format!(
                "{id}: {} after {} attempt(s), record {}, next {:?}, last error {:?}",
                d.status, d.attempt_count, d.seq, d.next_attempt_at, d.last_error
            ),
            None => format!("{id}: nothing recorded"),
        })
        .collect();
    println!("queue at the end (visible, in flight): {depth:?}; lost: {lost_states:#?}");
    assert!(accepted.len() >= events());
    assert!(
        lost.is_empty(),
        "lost deliveries: {:?}",
        &lost[..lost.len().min(10)]
    );
    assert_eq!(
        second_posts, 0,
        "a receiver saw a POST after the delivery was recorded delivered"
    );
    assert_eq!(followed_redirects, 0);
    assert!(
        kills >= 1 && injected.load(Ordering::SeqCst) > 0,
        "the faults happened"
    );
    // Every kind of failure showed up.
    for outcome in ["delivered", "http_error", "timeout", "network_error"] {
        assert!(
            outcomes.get(outcome).copied().unwrap_or(0) > 0,
            "no {outcome} attempt: {outcomes:?}"
        );
    }
    assert_eq!(
        by_kind.get(&("refused".into(), "delivered".into())),
        None,
        "refused connections cannot deliver"
    );
    let ok_delivered = by_kind
        .get(&("ok".into(), "delivered".into()))
        .copied()
        .unwrap_or(0);
    assert!(
        ok_delivered * 10 >= accepted.len() * 9,
        "the healthy endpoint got {ok_delivered} of {}",
        accepted.len()
    );
}
