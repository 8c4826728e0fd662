//! One module per group of commands; [`run`] dispatches. [`Ctx`] holds the resolved settings
//! and builds the API client when a command needs one.

mod bulk;
mod events;
mod listen;
mod meta;
mod rejected;
mod resources;
mod send_file;
mod tail;
mod verify;

use std::time::Duration;

use serde_json::Value;

use crate::api::Api;
use crate::args::{Cli, Command};
use crate::client::Client;
use crate::exit::{CliError, CliResult};
use crate::output::Out;
use crate::profile::{self, Flags, Settings};

pub use send_file::parse_events;
pub use tail::Seen;

pub struct Ctx {
    pub settings: Settings,
    pub out: Out,
    pub timeout: Duration,
}

impl Ctx {
    /// The API client with the key; exit 3 when there is no key.
    pub fn api(&self) -> CliResult<Api> {
        let key = self.settings.key.value.clone().ok_or_else(|| {
            CliError::Auth(
                "no API key: give --key, set HOOKRELAY_KEY, or save one in a profile (hookrelay config save --key ...)".into(),
            )
        })?;
        self.client(Some(key)).map(Api::new)
    }

    pub fn client(&self, key: Option<String>) -> CliResult<Client> {
        let base = self
            .settings
            .api
            .value
            .clone()
            .unwrap_or_else(|| profile::DEFAULT_API.into());
        Client::new(&base, key, self.timeout)
    }

    /// The tenant the command works on; a usage error when none is set.
    pub fn tenant(&self) -> CliResult<String> {
        self.settings.tenant.value.clone().ok_or_else(|| {
            CliError::usage(
                "no tenant: give --tenant/-t, set HOOKRELAY_TENANT, or save one in a profile",
            )
        })
    }
}

pub async fn run(cli: Cli) -> CliResult {
    let env = |name: &str| std::env::var(name).ok();
    let path = profile::config_path(&env);
    // A broken config file stops only the commands that read settings from it.
    let local = matches!(
        cli.command,
        Command::Completions { .. } | Command::Man | Command::Verify(_) | Command::Listen(_)
    );
    let (file, found) = match profile::load(&path) {
        Ok(loaded) => loaded,
        Err(_) if local => (profile::ConfigFile::default(), false),
        Err(e) => return Err(e),
    };
    let g = &cli.global;
    crate::progress::set_mode(g.progress);
    let flags = Flags {
        profile: g.profile.clone(),
        api: g.api.clone(),
        key: g.key.clone(),
        tenant: g.tenant.clone(),
    };
    let ctx = Ctx {
        settings: profile::resolve(&flags, &env, &file, &path, found),
        out: Out { format: g.output },
        timeout: Duration::from_secs(g.timeout.max(1)),
    };
    match cli.command {
        Command::Config(args) => meta::config(&ctx, args, file),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man => meta::man(),
        Command::Health => meta::health(&ctx).await,
        Command::Tenants(cmd) => resources::tenants(&ctx, cmd).await,
        Command::ApiKeys(cmd) => resources::api_keys(&ctx, cmd).await,
        Command::Endpoints(cmd) => resources::endpoints(&ctx, cmd).await,
        Command::EventTypes(cmd) => resources::event_types(&ctx, cmd).await,
        Command::Portal(args) => resources::portal(&ctx, args).await,
        Command::Admin(cmd) => resources::admin(&ctx, cmd).await,
        Command::Jobs(cmd) => resources::jobs(&ctx, cmd).await,
        Command::Send(args) if args.file.is_some() => send_file::run(&ctx, args).await,
        Command::Send(args) => events::send(&ctx, args).await,
        Command::Events(cmd) => events::events(&ctx, cmd).await,
        Command::Deliveries(cmd) => events::deliveries(&ctx, cmd).await,
        Command::Tail(args) => tail::run(&ctx, args).await,
        Command::Retry(args) => bulk::retry(&ctx, args).await,
        Command::Recover(args) => bulk::recover(&ctx, args).await,
        Command::Dlq(cmd) => bulk::dlq(&ctx, cmd).await,
        Command::Rejected(cmd) => rejected::run(&ctx, cmd).await,
        Command::Verify(args) => verify::run(&ctx, args),
        Command::Listen(args) => listen::run(&ctx, args).await,
    }
}

/// A JSON argument: literal JSON, `@file`, or `-` for stdin.
pub fn json_arg(name: &str, text: &str) -> CliResult<Value> {
    let raw = read_arg(text)?;
    serde_json::from_slice(&raw)
        .map_err(|e| CliError::usage(format!("{name} is not valid JSON: {e}")))
}

/// The bytes of an argument: `@file`, `-` for stdin, or the text itself.
pub fn read_arg(text: &str) -> CliResult<Vec<u8>> {
    if text == "-" {
        return read_stdin();
    }
    match text.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| CliError::failed(format!("{path}: {e}"))),
        None => Ok(text.as_bytes().to_vec()),
    }
}

pub fn read_stdin() -> CliResult<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
        .map_err(|e| CliError::failed(format!("stdin: {e}")))?;
    Ok(buf)
}

/// A file's bytes, or stdin's for `-`.
pub fn read_path(path: &std::path::Path) -> CliResult<Vec<u8>> {
    if path.as_os_str() == "-" {
        return read_stdin();
    }
    std::fs::read(path).map_err(|e| CliError::failed(format!("{}: {e}", path.display())))
}
