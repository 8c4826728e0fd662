//! The resource commands: tenants, api-keys, endpoints, event-types, portal, admin views, jobs.

use serde_json::{Map, Value, json};

use super::{Ctx, json_arg};
use crate::args::{
    AdminCmd, EndpointCmd, EndpointFields, EndpointPatch, EndpointState, EventTypeCmd, JobCmd,
    KeyCmd, PageArgs, PortalArgs, TenantCmd,
};
use crate::exit::{CliError, CliResult};
use crate::model::{Endpoint, Job, Tenant};
use crate::output::{field, field_of, opt, pairs, table};

pub async fn tenants(ctx: &Ctx, cmd: TenantCmd) -> CliResult {
    let api = ctx.api()?;
    match cmd {
        TenantCmd::Put {
            id,
            name,
            max_endpoints,
            https_only,
            defaults,
        } => {
            let mut body = Map::new();
            insert(&mut body, "name", name.map(Value::from));
            insert(&mut body, "max_endpoints", max_endpoints.map(Value::from));
            insert(&mut body, "https_only", https_only.map(Value::from));
            if let Some(d) = defaults {
                body.insert("defaults".into(), json_arg("--defaults", &d)?);
            }
            let tenant = api.put_tenant(&id, &Value::Object(body)).await?;
            ctx.out.show(&tenant, tenant_table)
        }
        TenantCmd::Get { id } => {
            let id = match id {
                Some(id) => id,
                None => ctx.tenant()?,
            };
            let tenant = api.get_tenant(&id).await?;
            ctx.out.show(&tenant, tenant_table)
        }
        TenantCmd::List(page) => {
            let (data, next_cursor) = collect_pages(&page, |cursor| {
                let api = &api;
                async move { api.list_tenants(page.limit, cursor.as_deref()).await }
            })
            .await?;
            let list = crate::model::Page {
                data,
                next_cursor,
                rest: Map::new(),
            };
            ctx.out.show(&list, |l| {
                let rows = l
                    .data
                    .iter()
                    .map(|t: &Tenant| {
                        vec![
                            t.id.clone(),
                            opt(&t.name),
                            field(&t.rest, "created_at"),
                            field(&t.rest, "updated_at"),
                        ]
                    })
                    .collect();
                with_next(
                    table(&["id", "name", "created", "updated"], rows),
                    &l.next_cursor,
                )
            })
        }
    }
}

fn insert(body: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(v) = value {
        body.insert(name.into(), v);
    }
}

/// Every page (with `--all`) or the one asked for: the items and the last `next_cursor`.
async fn collect_pages<T, F, Fut>(
    page: &PageArgs,
    mut fetch: F,
) -> CliResult<(Vec<T>, Option<String>)>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = CliResult<crate::model::Page<T>>>,
{
    let mut items = Vec::new();
    let mut cursor = page.cursor.clone();
    loop {
        let p = fetch(cursor.clone()).await?;
        items.extend(p.data);
        cursor = p.next_cursor;
        if !page.all || cursor.is_none() {
            return Ok((items, cursor));
        }
    }
}

fn with_next(table: String, next: &Option<String>) -> String {
    match next {
        Some(c) => format!("{table}\nmore: --cursor {c}"),
        None => table,
    }
}

fn tenant_table(t: &Tenant) -> String {
    let mut rows = vec![
        ("id", t.id.clone()),
        ("name", opt(&t.name)),
        ("max endpoints", field(&t.rest, "max_endpoints")),
        ("https only", field(&t.rest, "https_only")),
        ("defaults", field(&t.rest, "defaults")),
        ("created", field(&t.rest, "created_at")),
    ];
    if t.rest.contains_key("signing_secret") {
        rows.push((
            "signing secret (shown once)",
            field(&t.rest, "signing_secret"),
        ));
    }
    pairs(rows)
}

pub async fn api_keys(ctx: &Ctx, cmd: KeyCmd) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    match cmd {
        KeyCmd::Create => {
            let key = api.create_key(&tenant).await?;
            ctx.out.show(&key, |k| {
                pairs(vec![
                    ("id", k.id.clone()),
                    ("key (shown once)", k.key.clone()),
                    ("tenant", tenant.clone()),
                ])
            })
        }
        KeyCmd::Revoke { key_id } => {
            api.revoke_key(&tenant, &key_id).await?;
            let value = json!({"revoked": key_id});
            ctx.out.show(&value, |_| format!("revoked {key_id}"))
        }
    }
}

pub async fn endpoints(ctx: &Ctx, cmd: EndpointCmd) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    // Tables show the secret where it is the point of the command (create, get,
    // rotate-secret), not after an update; `--output json` prints the API's answer as it is.
    let show_secret = matches!(
        cmd,
        EndpointCmd::Create(_) | EndpointCmd::Get { .. } | EndpointCmd::RotateSecret { .. }
    );
    let endpoint = match cmd {
        EndpointCmd::Create(fields) => api.create_endpoint(&tenant, &create_body(fields)?).await?,
        EndpointCmd::List => {
            let list = api.list_endpoints(&tenant).await?;
            return ctx.out.show(&list, |l| endpoint_rows(&l.data));
        }
        EndpointCmd::Get { id } => api.get_endpoint(&tenant, &id).await?,
        EndpointCmd::Update { id, fields } => {
            api.patch_endpoint(&tenant, &id, &patch_body(fields)?)
                .await?
        }
        EndpointCmd::Delete { id } => {
            api.delete_endpoint(&tenant, &id).await?;
            let value = json!({"deleted": id});
            return ctx.out.show(&value, |_| format!("deleted {id}"));
        }
        EndpointCmd::Enable { id } => {
            api.patch_endpoint(&tenant, &id, &json!({"enabled": true}))
                .await?
        }
        EndpointCmd::Disable { id } => {
            api.patch_endpoint(&tenant, &id, &json!({"enabled": false}))
                .await?
        }
        EndpointCmd::RotateSecret {
            id,
            grace_period_seconds,
        } => {
            let body = match grace_period_seconds {
                Some(g) => json!({"grace_period_seconds": g}),
                None => json!({}),
            };
            api.rotate_secret(&tenant, &id, &body).await?
        }
        EndpointCmd::Test {
            id,
            event_type,
            data,
        } => {
            let payload = data.map(|d| json_arg("--data", &d)).transpose()?;
            let accepted = api
                .test_endpoint(&tenant, &id, event_type.as_deref(), payload)
                .await?;
            return ctx.out.show(&accepted, super::events::accepted_table);
        }
    };
    ctx.out.show(&endpoint, |e| endpoint_table(e, show_secret))
}

fn create_body(f: EndpointFields) -> CliResult<Value> {
    let mut body = match f.settings {
        Some(s) => object(json_arg("--settings", &s)?, "--settings")?,
        None => Map::new(),
    };
    body.insert("url".into(), f.url.into());
    body.insert("event_types".into(), f.event_types.into());
    insert(&mut body, "description", f.description.map(Value::from));
    insert(&mut body, "secret", f.secret.map(Value::from));
    if f.disabled {
        body.insert("enabled".into(), false.into());
    }
    Ok(Value::Object(body))
}

fn patch_body(f: EndpointPatch) -> CliResult<Value> {
    let mut body = match f.settings {
        Some(s) => object(json_arg("--settings", &s)?, "--settings")?,
        None => Map::new(),
    };
    insert(&mut body, "url", f.url.map(Value::from));
    insert(&mut body, "description", f.description.map(Value::from));
    if !f.event_types.is_empty() {
        body.insert("event_types".into(), f.event_types.into());
    }
    if body.is_empty() {
        return Err(CliError::usage(
            "nothing to change: give --url, --event-type, --description or --settings",
        ));
    }
    Ok(Value::Object(body))
}

fn object(v: Value, name: &str) -> CliResult<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(CliError::usage(format!("{name} must be a JSON object"))),
    }
}

fn endpoint_rows(list: &[Endpoint]) -> String {
    let rows = list
        .iter()
        .map(|e| {
            let state = if e.enabled {
                "enabled".to_owned()
            } else {
                format!("disabled {}", field(&e.rest, "disabled_reason"))
            };
            vec![
                e.id.clone(),
                e.url.clone(),
                e.event_types.join(", "),
                state,
                opt(&e.description),
            ]
        })
        .collect();
    table(&["id", "url", "event types", "state", "description"], rows)
}

fn endpoint_table(e: &Endpoint, show_secret: bool) -> String {
    let secret = if show_secret {
        field(&e.rest, "secret")
    } else {
        "(not shown: hookrelay endpoints get)".into()
    };
    let mut rows = vec![
        ("id", e.id.clone()),
        ("url", e.url.clone()),
        ("event types", e.event_types.join(", ")),
        ("enabled", e.enabled.to_string()),
        ("description", opt(&e.description)),
        ("secret", secret),
    ];
    for name in [
        "disabled_reason",
        "signature",
        "retry_schedule_seconds",
        "retry_on",
        "timeout_seconds",
        "headers",
    ] {
        if e.rest.contains_key(name) {
            rows.push((name, field(&e.rest, name)));
        }
    }
    rows.push(("updated", field(&e.rest, "updated_at")));
    pairs(rows)
}

pub async fn event_types(ctx: &Ctx, cmd: EventTypeCmd) -> CliResult {
    let api = ctx.api()?;
    match cmd {
        EventTypeCmd::List => {
            let list = api.list_event_types().await?;
            ctx.out.show(&list, |l| {
                let rows = l
                    .data
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            opt(&t.description),
                            yes(t.rest.get("schema")),
                            yes(t.rest.get("example")),
                        ]
                    })
                    .collect();
                let mode = if l.strict {
                    "strict: events must use a listed type"
                } else {
                    "not strict: any type is accepted"
                };
                format!(
                    "{}\n{mode}",
                    table(&["name", "description", "schema", "example"], rows)
                )
            })
        }
        EventTypeCmd::Get { name } => {
            let t = api.get_event_type(&name).await?;
            ctx.out.show(&t, |t| {
                pairs(vec![
                    ("name", t.name.clone()),
                    ("description", opt(&t.description)),
                    ("schema", field(&t.rest, "schema")),
                    ("example", field(&t.rest, "example")),
                    ("updated", field(&t.rest, "updated_at")),
                ])
            })
        }
        EventTypeCmd::Put {
            name,
            description,
            schema,
            example,
        } => {
            let parse = |n: &str, v: Option<String>| v.map(|s| json_arg(n, &s)).transpose();
            let body = json!({
                "description": description,
                "schema": parse("--schema", schema)?,
                "example": parse("--example", example)?,
            });
            let t = api.put_event_type(&name, &body).await?;
            ctx.out.show(&t, |t| format!("saved event type {}", t.name))
        }
        EventTypeCmd::Delete { name } => {
            api.delete_event_type(&name).await?;
            let value = json!({"deleted": name});
            ctx.out
                .show(&value, |_| format!("deleted event type {name}"))
        }
    }
}

fn yes(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(_) => "yes".into(),
    }
}

pub async fn portal(ctx: &Ctx, args: PortalArgs) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let session = api
        .portal_session(&tenant, &json!({"ttl_seconds": args.ttl_seconds}))
        .await?;
    ctx.out.show(&session, |s| {
        pairs(vec![
            ("url", field_of(s, "url")),
            ("expires", field_of(s, "expires_at")),
        ])
    })
}

pub async fn admin(ctx: &Ctx, cmd: AdminCmd) -> CliResult {
    let api = ctx.api()?;
    let AdminCmd::Endpoints { state } = cmd;
    let state = state.map(|s| match s {
        EndpointState::Failing => "failing",
        EndpointState::Disabled => "disabled",
    });
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = api.endpoints_in_state(state, cursor.as_deref()).await?;
        all.extend(page.data);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let list = json!({ "data": all });
    ctx.out.show(&list, |_| {
        let columns = [
            "tenant_id",
            "id",
            "url",
            "enabled",
            "disabled_reason",
            "failing_since",
        ];
        let rows = all
            .iter()
            .map(|e| columns.iter().map(|f| field_of(e, f)).collect())
            .collect();
        table(
            &[
                "tenant",
                "endpoint",
                "url",
                "enabled",
                "disabled reason",
                "failing since",
            ],
            rows,
        )
    })
}

pub async fn jobs(ctx: &Ctx, cmd: JobCmd) -> CliResult {
    let (api, tenant) = (ctx.api()?, ctx.tenant()?);
    let JobCmd::Get { id } = cmd;
    let job = api.get_job(&tenant, &id).await?;
    ctx.out.show(&job, job_table)
}

pub fn job_table(j: &Job) -> String {
    pairs(vec![
        ("id", j.id.clone()),
        ("kind", j.kind.clone()),
        ("status", j.status.clone()),
        ("read", j.done.to_string()),
        ("requeued", opt(&j.requeued)),
        ("updated", field(&j.rest, "updated_at")),
    ])
}
