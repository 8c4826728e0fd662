//! Long work with progress bars: bulk `retry`, `recover` (follows the job), `dlq redrive`
//! (calls the route until it moves nothing more). Ctrl-C stops after the step in flight and
//! says what was done.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::{Ctx, read_path};
use crate::args::{DlqCmd, RecoverArgs, RetryArgs};
use crate::exit::{CliError, CliResult, Exit};
use crate::output::{pairs, table};
use crate::progress::{Interrupt, bar, spinner};

/// Delivery ids of a file: one per line, blank lines and `#` comments skipped, duplicates
/// dropped (the first kept).
pub fn parse_ids(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter(|l| seen.insert(l.to_string()))
        .map(str::to_owned)
        .collect()
}

pub async fn retry(ctx: &Ctx, args: RetryArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let mut text = args.ids.join("\n");
    if let Some(path) = &args.from_file {
        let file = String::from_utf8(read_path(path)?)
            .map_err(|_| CliError::usage("the file is not UTF-8"))?;
        text.push('\n');
        text.push_str(&file);
    }
    let ids = parse_ids(&text);
    if ids.is_empty() {
        return Err(CliError::usage(
            "no delivery ids: give them as arguments or with --from-file",
        ));
    }
    let interrupt = Interrupt::listen();
    let progress = bar(ids.len() as u64, "retrying");
    let (api, tenant) = (&api, tenant.as_str());
    let mut results = futures::stream::iter(ids.iter().cloned())
        .take_while(|_| std::future::ready(!interrupt.fired()))
        .map(|id| async move {
            let r = api.retry(tenant, &id).await;
            (id, r)
        })
        .buffer_unordered(args.concurrency.clamp(1, 32));
    let (mut queued, mut failed) = (Vec::new(), Vec::new());
    while let Some((id, r)) = results.next().await {
        match r {
            Ok(_) => queued.push(id),
            Err(e) => {
                failed.push(json!({"id": id, "error": e.to_string(), "exit": e.exit() as u8}))
            }
        }
        progress.inc(1);
    }
    crate::progress::finish(&progress);
    let skipped = ids.len() - queued.len() - failed.len();
    let summary = json!({"total": ids.len(), "queued": queued.len(), "failed": failed, "not_attempted": skipped});
    ctx.out.show(&summary, |_| {
        let head = pairs(vec![
            ("deliveries", ids.len().to_string()),
            ("retry queued", queued.len().to_string()),
            ("refused", failed.len().to_string()),
            ("not attempted", skipped.to_string()),
        ]);
        let rows: Vec<Vec<String>> = failed
            .iter()
            .map(|f| {
                vec![
                    crate::output::field_of(f, "id"),
                    crate::output::field_of(f, "error"),
                ]
            })
            .collect();
        if rows.is_empty() {
            head
        } else {
            format!("{head}\n{}", table(&["delivery", "error"], rows))
        }
    })?;
    if skipped > 0 {
        return Err(CliError::Interrupted(format!(
            "interrupted: {} of {} retries queued, {skipped} not attempted",
            queued.len(),
            ids.len()
        )));
    }
    if !failed.is_empty() {
        return Err(CliError::failed(format!(
            "{} of {} retries were refused",
            failed.len(),
            ids.len()
        )));
    }
    Ok(())
}

pub async fn recover(ctx: &Ctx, args: RecoverArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let body = json!({"since": args.since, "until": args.until});
    let mut job = api.recover(&tenant, &args.endpoint, &body).await?;
    if args.no_wait {
        return ctx.out.show(&job, super::resources::job_table);
    }
    let interrupt = Interrupt::listen();
    let progress = spinner("recover: deliveries read");
    while job.status == "running" {
        progress.set_position(job.done);
        progress.set_message(format!(
            "recover {}: requeued {}, deliveries read",
            job.id,
            job.requeued.unwrap_or(0)
        ));
        if interrupt.sleep(Duration::from_millis(500)).await {
            progress.abandon();
            return Err(CliError::Interrupted(format!(
                "stopped following: {} read, {} requeued so far; the job goes on (hookrelay jobs get {})",
                job.done,
                job.requeued.unwrap_or(0),
                job.id
            )));
        }
        job = api.get_job(&tenant, &job.id).await?;
    }
    progress.set_position(job.done);
    crate::progress::finish(&progress);
    ctx.out.show(&job, |j| {
        format!(
            "recover {}: {} deliveries read, {} requeued\n{}",
            j.status,
            j.done,
            j.requeued.unwrap_or(0),
            super::resources::job_table(j)
        )
    })?;
    if job.status == "failed" {
        return Err(CliError::failed(format!("job {} failed", job.id)));
    }
    Ok(())
}

/// A redrive loop never runs more calls than this. Each call drains the DLQ (or runs out of its
/// 20 s budget), so the loop normally ends on the call after the last message moved; a message
/// that keeps failing and coming back must not keep it going for ever.
const MAX_REDRIVE_CALLS: u32 = 1_000;

pub async fn dlq(ctx: &Ctx, cmd: DlqCmd) -> CliResult {
    let api = ctx.api()?;
    match cmd {
        DlqCmd::Status => {
            let s = api.dlq_status().await?;
            ctx.out.show(&s, |s| {
                pairs(vec![
                    ("messages", s.depth.to_string()),
                    ("in flight", s.in_flight.to_string()),
                ])
            })
        }
        DlqCmd::Redrive => redrive(ctx, &api).await,
    }
}

async fn redrive(ctx: &Ctx, api: &crate::api::Api) -> CliResult {
    // The depth sizes the bar; without the status route (older deployments) a spinner counts.
    let depth = match api.dlq_status().await {
        Ok(s) => Some(s.depth),
        Err(e) if matches!(e.exit(), Exit::NotFound) => None,
        Err(e) => return Err(e),
    };
    let progress = match depth {
        Some(d) => bar(d, "moving DLQ messages"),
        None => spinner("moving DLQ messages"),
    };
    let interrupt = Interrupt::listen();
    let (mut total, mut calls, mut interrupted) = (0u64, 0u32, false);
    loop {
        let moved = api.redrive().await?.moved;
        calls += 1;
        total += moved;
        if depth.is_some_and(|d| total > d) {
            progress.set_length(total);
        }
        progress.set_position(total);
        if moved == 0 || calls >= MAX_REDRIVE_CALLS {
            break;
        }
        if interrupt.fired() {
            interrupted = true;
            break;
        }
    }
    crate::progress::finish(&progress);
    let summary =
        json!({"moved": total, "calls": calls, "depth_before": depth, "interrupted": interrupted});
    ctx.out.show(&summary, |_| {
        format!("moved {total} message(s) from the DLQ to the delivery queue in {calls} call(s)")
    })?;
    if interrupted {
        return Err(CliError::Interrupted(format!(
            "interrupted after moving {total} message(s); the rest stay in the DLQ"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_files_skip_blanks_comments_and_repeats() {
        let ids = parse_ids("dlv_1\n\n# a comment\n dlv_2  # trailing\ndlv_1\n");
        assert_eq!(ids, vec!["dlv_1", "dlv_2"]);
        assert!(parse_ids("\n#\n").is_empty());
    }
}
