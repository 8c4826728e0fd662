//! `listen`: a local receiver for developers. Verifies each request with the scheme and
//! secret(s) given, prints it (headers, pretty body, the verdict) and answers 2xx — or 500 to
//! the first `--fail N`, to watch the retries. Binds 127.0.0.1 unless told otherwise.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use owo_colors::OwoColorize;
use serde_json::{Value, json};
use shared::domain::secret::Secret;
use shared::domain::settings::SignatureScheme;
use tokio::sync::Notify;

use super::Ctx;
use super::verify::{check, now, scheme_of, secrets_of};
use crate::args::ListenArgs;
use crate::exit::{CliError, CliResult};
use crate::output::{clean, print_json_line};
use crate::progress::Interrupt;

struct Listener {
    scheme: SignatureScheme,
    secrets: Vec<Secret>,
    tolerance: i64,
    fail_left: AtomicU64,
    status: StatusCode,
    reject_invalid: bool,
    json: bool,
    count: Option<u64>,
    received: AtomicU64,
    verified: AtomicU64,
    invalid: AtomicU64,
    done: Notify,
}

/// Header values never printed as they are: credentials, and the secret-header scheme's header.
fn masked(name: &str, scheme: &SignatureScheme) -> bool {
    let secret_header = match scheme {
        SignatureScheme::SecretHeader { header } => name.eq_ignore_ascii_case(header),
        _ => false,
    };
    secret_header
        || ["authorization", "cookie", "proxy-authorization"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
}

pub async fn run(ctx: &Ctx, args: ListenArgs) -> CliResult {
    let scheme = scheme_of(&args.scheme)?;
    if !(200..300).contains(&args.status) {
        return Err(CliError::usage("--status must be a 2xx status"));
    }
    let state = Arc::new(Listener {
        scheme,
        secrets: secrets_of(&args.scheme),
        tolerance: args.scheme.tolerance,
        fail_left: AtomicU64::new(args.fail),
        status: StatusCode::from_u16(args.status).map_err(|e| CliError::usage(e.to_string()))?,
        reject_invalid: args.reject_invalid,
        json: ctx.out.is_json(),
        count: args.count,
        received: AtomicU64::new(0),
        verified: AtomicU64::new(0),
        invalid: AtomicU64::new(0),
        done: Notify::new(),
    });
    let addr = SocketAddr::new(args.host, args.port);
    if !args.host.is_loopback() {
        crate::output::warn(&format!(
            "listening on {addr}: reachable from other machines"
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::failed(e.to_string()))?;
    let verifying = if state.secrets.is_empty() {
        "not verifying (no --secret)"
    } else {
        "verifying"
    };
    anstream::eprintln!("listening on http://{local}/ ({verifying}; Ctrl-C to stop)");
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(Arc::clone(&state));
    let interrupt = Interrupt::listen();
    let stop = Arc::clone(&state);
    let served = axum::serve(listener, app).with_graceful_shutdown(async move {
        tokio::select! {
            _ = interrupt.wait() => {},
            _ = stop.done.notified() => {},
        }
    });
    served.await.map_err(|e| CliError::failed(e.to_string()))?;
    let (r, v, i) = (
        state.received.load(Ordering::SeqCst),
        state.verified.load(Ordering::SeqCst),
        state.invalid.load(Ordering::SeqCst),
    );
    anstream::eprintln!("received {r} request(s): {v} verified, {i} failed verification");
    Ok(())
}

async fn receive(
    State(state): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let verdict = if state.secrets.is_empty() && state.scheme != (SignatureScheme::None {}) {
        None
    } else {
        Some(check(
            &state.scheme,
            &state.secrets,
            &pairs,
            &body,
            now(),
            state.tolerance,
        ))
    };
    let counter = match &verdict {
        Some(Ok(_)) => Some(&state.verified),
        Some(Err(_)) => Some(&state.invalid),
        None => None,
    };
    if let Some(c) = counter {
        c.fetch_add(1, Ordering::SeqCst);
    }
    let failing = state
        .fail_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answer = if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if state.reject_invalid && matches!(verdict, Some(Err(_))) {
        StatusCode::UNAUTHORIZED
    } else {
        state.status
    };
    let shown: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(n, v)| {
            if masked(&n, &state.scheme) {
                (n, "[masked]".into())
            } else {
                (n, v)
            }
        })
        .collect();
    print(
        &state,
        &method,
        &uri,
        &shown,
        &body,
        verdict
            .as_ref()
            .map(|r| r.as_ref().map(|_| ()).map_err(String::as_str)),
        answer,
    );
    let n = state.received.fetch_add(1, Ordering::SeqCst) + 1;
    if state.count.is_some_and(|c| n >= c) {
        state.done.notify_one();
    }
    answer
}

fn print(
    state: &Listener,
    method: &Method,
    uri: &Uri,
    headers: &[(String, String)],
    body: &[u8],
    verdict: Option<Result<(), &str>>,
    answer: StatusCode,
) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if state.json {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into()))
            .collect();
        let line = json!({
            "method": method.as_str(), "path": uri.to_string(), "headers": headers,
            "body": parsed.clone().unwrap_or_else(|| String::from_utf8_lossy(body).into()),
            "verified": verdict.map(|v| v.is_ok()), "reason": verdict.and_then(|v| v.err()),
            "answered": answer.as_u16(),
        });
        let _ = print_json_line(&line);
        return;
    }
    let verdict_text = match verdict {
        None => "not verified (no --secret)".dimmed().to_string(),
        Some(Ok(())) => "✓ verified".green().to_string(),
        Some(Err(reason)) => format!("{} {}", "✗ does not verify:".red(), clean(reason)),
    };
    anstream::println!(
        "{} {} {}  {}",
        "──".dimmed(),
        method.as_str().bold(),
        clean(&uri.to_string()),
        verdict_text
    );
    for (n, v) in headers {
        anstream::println!("  {}: {}", n.cyan(), clean(v));
    }
    let text = match &parsed {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    anstream::println!("{}", clean(&text));
    let code = answer.as_u16();
    let answered = if answer.is_success() {
        code.to_string().green().to_string()
    } else {
        code.to_string().red().to_string()
    };
    anstream::println!("  answered {answered}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_the_secret_header_are_masked() {
        let plain = SignatureScheme::StandardWebhooks;
        assert!(masked("Authorization", &plain));
        assert!(!masked("webhook-signature", &plain));
        let header = SignatureScheme::SecretHeader {
            header: "X-Webhook-Secret".into(),
        };
        assert!(masked("x-webhook-secret", &header));
    }
}
