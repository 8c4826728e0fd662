//! `config` (show, save), `completions`, `man`, `health`.

use clap::CommandFactory;
use serde_json::json;

use super::Ctx;
use crate::args::{Cli, ConfigArgs, ConfigCmd};
use crate::exit::{CliError, CliResult};
use crate::output::{self, pairs};
use crate::profile::{self, ConfigFile, Setting};

pub fn config(ctx: &Ctx, args: ConfigArgs, file: ConfigFile) -> CliResult {
    match args.action.unwrap_or(ConfigCmd::Show) {
        ConfigCmd::Show => show(ctx),
        ConfigCmd::Save { make_default } => save(ctx, file, make_default),
    }
}

fn show(ctx: &Ctx) -> CliResult {
    let s = &ctx.settings;
    let key = Setting {
        value: s.key.value.as_deref().map(profile::mask),
        source: s.key.source.clone(),
    };
    let entry = |v: &Setting| json!({"value": v.value, "source": v.source.to_string()});
    let value = json!({
        "api": entry(&s.api),
        "key": entry(&key),
        "tenant": entry(&s.tenant),
        "profile": entry(&s.profile),
        "config_file": {"path": s.file.display().to_string(), "exists": s.file_found},
    });
    ctx.out.show(&value, |_| {
        let row = |name: &'static str, v: &Setting| {
            (
                name,
                format!("{}  ({})", v.value.as_deref().unwrap_or("-"), v.source),
            )
        };
        let found = if s.file_found { "" } else { " (not found)" };
        pairs(vec![
            row("api", &s.api),
            row("key", &key),
            row("tenant", &s.tenant),
            row("profile", &s.profile),
            ("config file", format!("{}{found}", s.file.display())),
        ])
    })
}

fn save(ctx: &Ctx, mut file: ConfigFile, make_default: bool) -> CliResult {
    let s = &ctx.settings;
    let name = s
        .profile
        .value
        .clone()
        .unwrap_or_else(|| profile::DEFAULT_PROFILE.into());
    let explicit = |v: &Setting| {
        matches!(v.source, profile::Source::Flag(_) | profile::Source::Env(_))
            .then(|| v.value.clone())
            .flatten()
    };
    let entry = file.profiles.entry(name.clone()).or_default();
    let mut changed = Vec::new();
    if let Some(api) = explicit(&s.api) {
        entry.api = Some(api);
        changed.push("api");
    }
    if let Some(key) = explicit(&s.key) {
        entry.key = Some(key);
        changed.push("key");
    }
    if let Some(tenant) = explicit(&s.tenant) {
        entry.tenant = Some(tenant);
        changed.push("tenant");
    }
    if changed.is_empty() && !make_default {
        return Err(CliError::usage(
            "nothing to save: give --api, --key and/or --tenant",
        ));
    }
    if make_default {
        file.default_profile = Some(name.clone());
    }
    profile::save(&s.file, &file)?;
    let value = json!({"profile": name, "saved": changed, "path": s.file.display().to_string()});
    ctx.out.show(&value, |_| {
        format!(
            "saved {} to profile `{name}` in {}",
            changed.join(", "),
            s.file.display()
        )
    })
}

pub fn completions(shell: clap_complete::Shell) -> CliResult {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "hookrelay", &mut std::io::stdout());
    Ok(())
}

pub fn man() -> CliResult {
    let man = clap_mangen::Man::new(Cli::command());
    let mut buf = Vec::new();
    man.render(&mut buf)
        .map_err(|e| CliError::failed(e.to_string()))?;
    std::io::Write::write_all(&mut std::io::stdout(), &buf)
        .map_err(|e| CliError::failed(e.to_string()))
}

pub async fn health(ctx: &Ctx) -> CliResult {
    let api = crate::api::Api::new(ctx.client(None)?);
    let value = api.health().await?;
    let status = value["http_status"].as_u64().unwrap_or(0);
    ctx.out.show(&value, |v| {
        let h = &v["health"];
        pairs(vec![
            ("status", output::field_of(h, "status")),
            ("table", output::field_of(h, "table")),
            ("queue", output::field_of(h, "queue")),
        ])
    })?;
    if status == 200 {
        Ok(())
    } else {
        Err(CliError::Api {
            status: status as u16,
            code: "degraded".into(),
            message: "the API cannot reach its table or queue".into(),
            field: None,
        })
    }
}
