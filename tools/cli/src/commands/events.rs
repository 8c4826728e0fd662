//! `send` (one event), `events get`, `deliveries list|get`.

use std::io::IsTerminal;

use serde_json::{Map, Value};

use super::{Ctx, json_arg, read_arg, read_stdin};
use crate::api::Api;
use crate::args::{DeliveryCmd, EventCmd, PageArgs, SendArgs};
use crate::exit::{CliError, CliResult};
use crate::model::{Accepted, Delivery, Event, Page};
use crate::output::{field, opt, pairs, table};

pub async fn send(ctx: &Ctx, args: SendArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let event_type = args
        .event_type
        .ok_or_else(|| CliError::usage("give the event type (or --file)"))?;
    let payload_bytes = match args.data.as_deref() {
        Some(d) => read_arg(d)?,
        None if !std::io::stdin().is_terminal() => read_stdin()?,
        None => {
            return Err(CliError::usage(
                "give the payload with --data JSON, --data @file, or on stdin",
            ));
        }
    };
    let payload: Value = serde_json::from_slice(&payload_bytes)
        .map_err(|e| CliError::usage(format!("the payload is not valid JSON: {e}")))?;
    let mut body = Map::new();
    body.insert("event_type".into(), event_type.into());
    body.insert("payload".into(), payload);
    if let Some(id) = args.id {
        body.insert("id".into(), id.into());
    }
    if let Some(url) = args.webhook_url {
        body.insert("webhook_url".into(), url.into());
    }
    if let Some(m) = args.metadata {
        body.insert("metadata".into(), json_arg("--metadata", &m)?);
    }
    let accepted = api.send_event(&tenant, &Value::Object(body)).await?;
    ctx.out.show(&accepted, accepted_table)
}

pub fn accepted_table(a: &Accepted) -> String {
    let head = format!(
        "event {} ({}) accepted, {} deliveries",
        a.id,
        a.event_type,
        a.deliveries.len()
    );
    if a.deliveries.is_empty() {
        return head;
    }
    let rows = a
        .deliveries
        .iter()
        .map(|d| vec![d.id.clone(), opt(&d.endpoint_id), d.url.clone()])
        .collect();
    format!("{head}\n{}", table(&["delivery", "endpoint", "url"], rows))
}

pub async fn events(ctx: &Ctx, cmd: EventCmd) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let EventCmd::Get { id } = cmd;
    let event = api.get_event(&tenant, &id).await?;
    ctx.out.show(&event, event_table)
}

fn event_table(e: &Event) -> String {
    let payload = e
        .rest
        .get("payload")
        .and_then(|p| serde_json::to_string_pretty(p).ok())
        .unwrap_or_else(|| "-".into());
    let head = pairs(vec![
        ("id", e.id.clone()),
        ("event type", e.event_type.clone()),
        ("created", field(&e.rest, "created_at")),
        ("metadata", field(&e.rest, "metadata")),
        ("payload", payload),
    ]);
    format!("{head}\n{}", delivery_rows(&e.deliveries))
}

pub async fn deliveries(ctx: &Ctx, cmd: DeliveryCmd) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    match cmd {
        DeliveryCmd::Get { id } => {
            let d = api.get_delivery(&tenant, &id).await?;
            ctx.out.show(&d, delivery_table)
        }
        DeliveryCmd::List {
            endpoint,
            status,
            page,
        } => {
            let status = status.map(|s| s.as_str());
            let endpoints = match endpoint {
                Some(e) => vec![e],
                None => api
                    .list_endpoints(&tenant)
                    .await?
                    .data
                    .into_iter()
                    .map(|e| e.id)
                    .collect(),
            };
            let mut all = Vec::new();
            let mut next = None;
            for ep in &endpoints {
                let (items, cursor) = pages(&api, &tenant, ep, status, &page).await?;
                all.extend(items);
                next = next.or(cursor.filter(|_| endpoints.len() == 1));
            }
            sort_newest_first(&mut all);
            if !page.all {
                all.truncate(page.limit as usize);
            }
            let list = Page {
                data: all,
                next_cursor: next,
                rest: Map::new(),
            };
            ctx.out.show(&list, |l| {
                let t = delivery_rows(&l.data);
                match &l.next_cursor {
                    Some(c) => format!("{t}\nmore: --cursor {c}"),
                    None => t,
                }
            })
        }
    }
}

async fn pages(
    api: &Api,
    tenant: &str,
    endpoint: &str,
    status: Option<&str>,
    page: &PageArgs,
) -> CliResult<(Vec<Delivery>, Option<String>)> {
    let mut items = Vec::new();
    let mut cursor = page.cursor.clone();
    loop {
        let p = api
            .endpoint_deliveries(
                tenant,
                endpoint,
                status,
                page.limit.clamp(1, 100),
                cursor.as_deref(),
            )
            .await?;
        items.extend(p.data);
        cursor = p.next_cursor;
        if !page.all || cursor.is_none() {
            return Ok((items, cursor));
        }
    }
}

/// By creation time, newest first (ids are time-sortable too: the tie-break).
pub fn sort_newest_first(list: &mut [Delivery]) {
    list.sort_by(|a, b| {
        let key = |d: &Delivery| (field(&d.rest, "created_at"), d.id.clone());
        key(b).cmp(&key(a))
    });
}

fn delivery_rows(list: &[Delivery]) -> String {
    let rows = list
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                field(&d.rest, "created_at"),
                d.event_type.clone(),
                opt(&d.endpoint_id),
                d.status.clone(),
                d.attempt_count.to_string(),
                match d.status.as_str() {
                    "pending" => field(&d.rest, "next_attempt_at"),
                    _ => field(&d.rest, "last_error"),
                },
            ]
        })
        .collect();
    table(
        &[
            "delivery",
            "created",
            "event type",
            "endpoint",
            "status",
            "attempts",
            "next attempt / last error",
        ],
        rows,
    )
}

fn delivery_table(d: &Delivery) -> String {
    let head = pairs(vec![
        ("id", d.id.clone()),
        ("event", field(&d.rest, "event_id")),
        ("event type", d.event_type.clone()),
        ("endpoint", opt(&d.endpoint_id)),
        ("url", field(&d.rest, "url")),
        ("status", d.status.clone()),
        ("attempts", d.attempt_count.to_string()),
        ("next attempt", field(&d.rest, "next_attempt_at")),
        ("last error", field(&d.rest, "last_error")),
    ]);
    let rows = d
        .attempts
        .iter()
        .flatten()
        .map(|a| {
            vec![
                a.number.to_string(),
                a.started_at.clone(),
                field(&a.rest, "duration_ms"),
                opt(&a.status_code),
                a.outcome.clone(),
                if a.manual {
                    "manual".into()
                } else {
                    String::new()
                },
                opt(&a.error),
            ]
        })
        .collect();
    let attempts = table(
        &["#", "started", "ms", "status", "outcome", "", "error"],
        rows,
    );
    format!("{head}\n{attempts}")
}
