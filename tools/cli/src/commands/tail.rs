//! `tail`: follows deliveries by polling the endpoints' delivery lists (there is no streaming
//! route) and prints each delivery that is new or whose status or attempt count changed.

use std::collections::HashMap;
use std::time::Duration;

use owo_colors::OwoColorize;
use serde_json::json;

use super::Ctx;
use crate::api::Api;
use crate::args::TailArgs;
use crate::exit::{CliResult, Exit};
use crate::model::Delivery;
use crate::output::{clean, opt, print_json_line, status, warn};
use crate::progress::Interrupt;

/// The endpoints' list is read again every this many polls (new endpoints are picked up).
const REFRESH_ENDPOINTS_EVERY: u64 = 10;

/// What has been seen of each delivery: its status and attempt count.
#[derive(Debug, Default)]
pub struct Seen(HashMap<String, (String, u32)>);

impl Seen {
    /// The deliveries of `page` that are new or changed since the last call; with `quiet`
    /// (the first poll) they are only remembered.
    pub fn changes(&mut self, page: Vec<Delivery>, quiet: bool) -> Vec<Delivery> {
        let mut out = Vec::new();
        for d in page {
            let now = (d.status.clone(), d.attempt_count);
            if self.0.get(&d.id) != Some(&now) {
                self.0.insert(d.id.clone(), now);
                if !quiet {
                    out.push(d);
                }
            }
        }
        // Oldest first, as they happened.
        out.reverse();
        out
    }
}

/// One line: time, event type, endpoint, status, attempts, last status code.
pub fn line(d: &Delivery, last_code: Option<u16>) -> String {
    format!(
        "{}  {:<24} {:<30} {} attempts={:<3} last={}",
        clean(&d.updated_at).dimmed(),
        clean(&d.event_type),
        clean(&opt(&d.endpoint_id)),
        status(&format!("{:<9}", d.status)),
        d.attempt_count,
        opt(&last_code)
    )
}

pub async fn run(ctx: &Ctx, args: TailArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let interrupt = Interrupt::listen();
    let interval = Duration::from_secs_f64(args.interval.clamp(0.2, 3600.0));
    let status_filter = args.status.map(|s| s.as_str());
    let mut seen = Seen::default();
    let mut endpoints: Vec<String> = Vec::new();
    let (mut printed, mut polls) = (0u64, 0u64);
    if !ctx.out.is_json() {
        anstream::eprintln!(
            "following {} every {:.1} s (Ctrl-C to stop)",
            args.endpoint
                .as_deref()
                .map(|e| format!("endpoint {e}"))
                .unwrap_or_else(|| format!("every endpoint of {tenant}")),
            interval.as_secs_f64()
        );
    }
    loop {
        if polls % REFRESH_ENDPOINTS_EVERY == 0 {
            endpoints = match &args.endpoint {
                Some(e) => vec![e.clone()],
                None => match api.list_endpoints(&tenant).await {
                    Ok(list) => list.data.into_iter().map(|e| e.id).collect(),
                    Err(e) if transient(&e) => {
                        warn(&e.to_string());
                        endpoints
                    }
                    Err(e) => return Err(e),
                },
            };
        }
        for ep in &endpoints {
            let page = match api
                .endpoint_deliveries(
                    &tenant,
                    ep,
                    status_filter,
                    args.page_size.clamp(1, 100),
                    None,
                )
                .await
            {
                Ok(p) => p.data,
                Err(e) if transient(&e) => {
                    warn(&e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            for d in seen.changes(page, polls == 0) {
                show(ctx, &api, &tenant, d).await?;
                printed += 1;
                if args.count.is_some_and(|n| printed >= n) {
                    return Ok(());
                }
            }
        }
        polls += 1;
        if interrupt.sleep(interval).await {
            anstream::eprintln!("stopped after {polls} polls: {printed} deliveries shown");
            return Ok(());
        }
    }
}

fn transient(e: &crate::exit::CliError) -> bool {
    e.exit() == Exit::Server
}

async fn show(ctx: &Ctx, api: &Api, tenant: &str, d: Delivery) -> CliResult {
    let last_code = match api.get_delivery(tenant, &d.id).await {
        Ok(full) => full
            .attempts
            .as_ref()
            .and_then(|a| a.last())
            .and_then(|a| a.status_code),
        Err(_) => None,
    };
    if ctx.out.is_json() {
        let mut v = serde_json::to_value(&d).unwrap_or_else(|_| json!({"id": d.id}));
        v["last_status_code"] = json!(last_code);
        print_json_line(&v)
    } else {
        anstream::println!("{}", line(&d, last_code));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(id: &str, status: &str, attempts: u32) -> Delivery {
        serde_json::from_value(
            json!({"id": id, "event_type": "job.completed", "endpoint_id": "ep_1",
            "status": status, "attempt_count": attempts, "updated_at": "2026-11-30T10:00:00Z"}),
        )
        .unwrap()
    }

    #[test]
    fn the_first_poll_primes_and_later_ones_show_new_and_changed_oldest_first() {
        let mut seen = Seen::default();
        assert!(
            seen.changes(vec![d("dlv_1", "delivered", 1)], true)
                .is_empty()
        );
        assert!(
            seen.changes(vec![d("dlv_1", "delivered", 1)], false)
                .is_empty()
        );
        let shown = seen.changes(
            vec![
                d("dlv_3", "pending", 1),
                d("dlv_2", "pending", 0),
                d("dlv_1", "delivered", 1),
            ],
            false,
        );
        assert_eq!(
            shown.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["dlv_2", "dlv_3"]
        );
        let shown = seen.changes(
            vec![d("dlv_3", "failed", 2), d("dlv_2", "pending", 0)],
            false,
        );
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].status, "failed");
    }

    #[test]
    fn a_line_names_time_type_endpoint_status_attempts_and_code() {
        let l = line(&d("dlv_1", "delivered", 2), Some(200));
        for part in [
            "2026-11-30T10:00:00Z",
            "job.completed",
            "ep_1",
            "delivered",
            "attempts=2",
            "last=200",
        ] {
            assert!(l.contains(part), "{l}");
        }
        assert!(line(&d("dlv_1", "pending", 0), None).contains("last=-"));
    }
}
