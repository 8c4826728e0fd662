//! The rejected-events queue (issue 12): `rejected list` shows what it holds with each reason;
//! `rejected resubmit` submits it again after a fix, call after call, with a spinner, until a
//! call handles nothing more. Ctrl-C stops after the call in flight and says what was done.

use serde_json::{Value, json};

use super::Ctx;
use crate::args::RejectedCmd;
use crate::exit::CliResult;
use crate::output::{clean, table};
use crate::progress::{Interrupt, spinner};

/// Resubmit calls one run makes at most (each works for up to 20 s).
const MAX_CALLS: u32 = 50;

pub async fn run(ctx: &Ctx, cmd: RejectedCmd) -> CliResult {
    let api = ctx.api()?;
    match cmd {
        RejectedCmd::List { limit } => {
            let list = api.rejected(limit).await?;
            ctx.out.show(&list, |l| {
                if l["configured"] == false {
                    return "no rejected-events queue: no AWS source is on in this deployment\n"
                        .to_owned();
                }
                let rows = l["data"]
                    .as_array()
                    .map(|items| items.iter().map(row).collect())
                    .unwrap_or_default();
                table(&["REJECTED", "SOURCE", "MESSAGE", "REASON", "FIELD"], rows)
            })
        }
        RejectedCmd::Resubmit => resubmit(ctx, &api).await,
    }
}

fn row(r: &Value) -> Vec<String> {
    let s = |v: &Value| clean(v.as_str().unwrap_or(""));
    vec![
        s(&r["rejected_at"]),
        s(&r["source"]),
        s(&r["message_id"]),
        format!(
            "{}: {}",
            s(&r["reason"]["code"]),
            s(&r["reason"]["message"])
        ),
        s(&r["reason"]["field"]),
    ]
}

async fn resubmit(ctx: &Ctx, api: &crate::api::Api) -> CliResult {
    let progress = spinner("resubmitting rejected events");
    let interrupt = Interrupt::listen();
    let (mut accepted, mut again, mut calls) = (0u64, 0u64, 0u32);
    let mut left: u64;
    let mut interrupted = false;
    loop {
        let done = api.resubmit_rejected().await?;
        calls += 1;
        let n = |k: &str| done[k].as_u64().unwrap_or(0);
        accepted += n("accepted");
        again += n("rejected_again");
        left = n("left");
        progress.set_position(accepted + again);
        if n("accepted") + n("rejected_again") == 0 || calls >= MAX_CALLS {
            break;
        }
        if interrupt.fired() {
            interrupted = true;
            break;
        }
    }
    progress.finish_and_clear();
    let summary = json!({"accepted": accepted, "rejected_again": again, "left": left,
                         "calls": calls, "interrupted": interrupted});
    ctx.out.show(&summary, |_| {
        format!(
            "{accepted} accepted, {again} refused again (back in the queue with the new reason), \
             {left} left for a later try ({calls} call(s){})\n",
            if interrupted {
                ", stopped by Ctrl-C"
            } else {
                ""
            }
        )
    })
}
