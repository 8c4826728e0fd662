//! The command line, declared once with clap derive; completions and the man page are generated
//! from it (`hookrelay completions`, `hookrelay man`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;

const SETTINGS_HELP: &str = "\
Settings (highest first): flags, then HOOKRELAY_API / HOOKRELAY_KEY / HOOKRELAY_TENANT, then the
profile (--profile, HOOKRELAY_PROFILE, the file's default_profile, else `default`) of
<config dir>/hookrelay/config.toml (HOOKRELAY_CONFIG to use another file). `hookrelay config`
shows which source each value came from.";

const TAIL_HELP: &str = "Follow deliveries as they happen, one line each: time, event type, endpoint, status, \
attempts, last status code.\n\nThere is no streaming route: every --interval seconds it reads the first \
page (newest first, --page-size deliveries) of each endpoint's delivery list (GET \
/v1/tenants/{t}/endpoints/{ep}/deliveries, with ?status= when --status is given) and prints the deliveries \
it has not seen, and those whose status or attempt count changed, fetching the delivery for its last \
status code. The tenant's endpoints are listed again every 10 polls. What exists when it starts is \
not printed (use `deliveries list`). A burst of more than --page-size deliveries on one endpoint \
between two polls shows only its newest --page-size.";

const VERIFY_HELP: &str = "Check a captured webhook the way a receiver must, and say exactly why it fails.\n\n\
The request is read from --request FILE or stdin: an HTTP request as captured (an optional request \
line `POST /path HTTP/1.1`, header lines `Name: value`, an empty line, the body bytes; a Content-Length \
header bounds the body). Or give --headers FILE (header lines) and --body FILE (the exact body bytes). \
Exits 0 when it verifies, 1 with the reason when it does not.";

#[derive(Debug, Parser)]
#[command(name = "hookrelay", version, about = "The Hookrelay command-line tool: manage tenants, endpoints and events, follow deliveries, verify and receive webhooks",
    before_long_help = SETTINGS_HELP, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The API's base URL (without /v1). [env: HOOKRELAY_API]
    #[arg(long, global = true)]
    pub api: Option<String>,
    /// The API key: the admin key or a tenant key. [env: HOOKRELAY_KEY]
    #[arg(long, global = true)]
    pub key: Option<String>,
    /// The tenant the command works on. [env: HOOKRELAY_TENANT]
    #[arg(long, short = 't', global = true)]
    pub tenant: Option<String>,
    /// The profile of the config file. [env: HOOKRELAY_PROFILE]
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// `table` for people, `json` for scripts (JSON lines for `tail` and `listen`).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Progress bars: `auto` (when stderr is a terminal), `always` (also into a pipe: one line
    /// per redraw), `never`.
    #[arg(long, global = true, value_enum, env = "HOOKRELAY_PROGRESS", default_value_t = crate::progress::ProgressMode::Auto)]
    pub progress: crate::progress::ProgressMode,
    /// Seconds before one API request is abandoned.
    #[arg(long, global = true, default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the settings in force and where each came from (the key masked), or save a profile.
    Config(ConfigArgs),
    /// Tenants: put (create or update), get, list (admin key).
    #[command(subcommand)]
    Tenants(TenantCmd),
    /// Tenant API keys: create (shown once), revoke (admin key).
    #[command(subcommand, name = "api-keys")]
    ApiKeys(KeyCmd),
    /// A tenant's endpoints.
    #[command(subcommand)]
    Endpoints(EndpointCmd),
    /// The event-type catalog.
    #[command(subcommand, name = "event-types")]
    EventTypes(EventTypeCmd),
    /// Send an event (from flags, a file or stdin), or a whole file of events through the batch
    /// route (JSON lines or a JSON array, 100 per request, with a progress bar).
    Send(SendArgs),
    /// Events: get one with its payload and deliveries.
    #[command(subcommand)]
    Events(EventCmd),
    /// Deliveries: list (one endpoint or all of the tenant's) and get (with every attempt).
    #[command(subcommand)]
    Deliveries(DeliveryCmd),
    /// Follow deliveries as they happen, one line each.
    #[command(long_about = TAIL_HELP)]
    Tail(TailArgs),
    /// One manual attempt now for each delivery given (or listed in a file), with a progress bar.
    Retry(RetryArgs),
    /// Put an endpoint's failed deliveries of a window through their schedule again, and follow
    /// the job with a progress bar.
    Recover(RecoverArgs),
    /// Jobs: get one (recover, resume).
    #[command(subcommand)]
    Jobs(JobCmd),
    /// The dead-letter queue (admin key): status, redrive.
    #[command(subcommand)]
    Dlq(DlqCmd),
    /// Events from EventBridge, SQS or SNS that could not be accepted (admin key): list, resubmit.
    #[command(subcommand)]
    Rejected(RejectedCmd),
    /// Operator views (admin key).
    #[command(subcommand)]
    Admin(AdminCmd),
    /// A link that opens the tenant's portal (admin key).
    Portal(PortalArgs),
    /// Is the API up (no key needed)?
    Health,
    /// Check a captured webhook the way a receiver must, and say exactly why it fails.
    #[command(long_about = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// A local receiver: verifies and prints each delivery, answers 2xx (or 500 to the first N).
    Listen(ListenArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: Option<ConfigCmd>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Show the settings and their sources (the default).
    Show,
    /// Save --api, --key and --tenant into a profile (--profile, else `default`).
    Save {
        /// Also make it the file's default profile.
        #[arg(long)]
        make_default: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create or update a tenant (201 with its signing secret on create).
    Put {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        max_endpoints: Option<u32>,
        #[arg(long)]
        https_only: Option<bool>,
        /// The tenant's default DeliverySettings, as JSON (or @file).
        #[arg(long)]
        defaults: Option<String>,
    },
    /// Show a tenant (the --tenant one when no id is given).
    Get { id: Option<String> },
    /// List tenants (admin key), page by page.
    List(PageArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Items per page.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Start after this cursor (from a previous page's next_cursor).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Follow next_cursor to the end.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create a tenant key (printed once).
    Create,
    /// Revoke a tenant key.
    Revoke { key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum EndpointCmd {
    /// Register an endpoint.
    Create(EndpointFields),
    List,
    Get {
        id: String,
    },
    /// Change an endpoint (only the fields given).
    Update {
        id: String,
        #[command(flatten)]
        fields: EndpointPatch,
    },
    Delete {
        id: String,
    },
    /// Enable it again (its deliveries stopped by the disabling resume, through a job).
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// A new secret; the old one keeps signing for the grace period.
    RotateSecret {
        id: String,
        #[arg(long)]
        grace_period_seconds: Option<u32>,
    },
    /// Send a test event to this endpoint only (202 with the event).
    Test {
        id: String,
        /// Default: the first catalogued type the endpoint subscribes to.
        #[arg(long)]
        event_type: Option<String>,
        /// The payload as JSON (or @file); default: the catalog's example for the type.
        #[arg(long, short = 'd')]
        data: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct EndpointFields {
    #[arg(long)]
    pub url: String,
    /// An event type to subscribe to (repeat; `*` = all, `job.*` = a subtree).
    #[arg(long = "event-type", required = true)]
    pub event_types: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Create it disabled.
    #[arg(long)]
    pub disabled: bool,
    /// Bring your own secret (`whsec_...` for Standard Webhooks).
    #[arg(long)]
    pub secret: Option<String>,
    /// DeliverySettings overrides as JSON (or @file), e.g. '{"retry_schedule_seconds":[1,5]}'.
    #[arg(long)]
    pub settings: Option<String>,
}

#[derive(Debug, Args)]
pub struct EndpointPatch {
    #[arg(long)]
    pub url: Option<String>,
    /// Replaces the subscriptions (repeat).
    #[arg(long = "event-type")]
    pub event_types: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// DeliverySettings fields as JSON (or @file); `null` puts a field back to the tenant default.
    #[arg(long)]
    pub settings: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EventTypeCmd {
    List,
    Get {
        name: String,
    },
    /// Create or update (admin key).
    Put {
        name: String,
        /// What the event means (shown to customers choosing subscriptions).
        #[arg(long)]
        description: String,
        /// A JSON Schema for the payload, as JSON (or @file).
        #[arg(long)]
        schema: Option<String>,
        /// An example payload, as JSON (or @file).
        #[arg(long)]
        example: Option<String>,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The event type (not with --file, where each event names its own).
    #[arg(required_unless_present = "file")]
    pub event_type: Option<String>,
    /// The payload as JSON, or @file, or `-` for stdin (the default when stdin is not a terminal).
    #[arg(long, short = 'd', conflicts_with = "file")]
    pub data: Option<String>,
    /// An idempotency key: a repeat within 24 h gets the first answer and sends nothing.
    #[arg(long, conflicts_with = "file")]
    pub id: Option<String>,
    /// A one-off receiver instead of the tenant's endpoints.
    #[arg(long, conflicts_with = "file")]
    pub webhook_url: Option<String>,
    /// Metadata kept with the event, as a JSON object (or @file).
    #[arg(long, conflicts_with = "file")]
    pub metadata: Option<String>,
    /// Many events: JSON lines or a JSON array of {"event_type", "payload", "id"?, ...},
    /// sent through the batch route 100 at a time (`-` for stdin).
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EventCmd {
    Get { id: String },
}

#[derive(Debug, Subcommand)]
pub enum DeliveryCmd {
    /// Newest first; without --endpoint, every endpoint of the tenant (merged by time).
    List {
        #[arg(long, short = 'e')]
        endpoint: Option<String>,
        #[arg(long, value_enum)]
        status: Option<Status>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// A delivery with every attempt.
    Get { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    Pending,
    Delivered,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Only this endpoint (default: every endpoint of the tenant).
    #[arg(long, short = 'e')]
    pub endpoint: Option<String>,
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Seconds between polls.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,
    #[arg(long, default_value_t = 50)]
    pub page_size: u32,
    /// Stop after printing this many lines.
    #[arg(long)]
    pub count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Delivery ids.
    pub ids: Vec<String>,
    /// A file of delivery ids, one per line (`#` comments; `-` for stdin).
    #[arg(long, short = 'f')]
    pub from_file: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    #[arg(long, short = 'e')]
    pub endpoint: String,
    /// RFC 3339 start of the window (e.g. 2026-11-30T00:00:00Z).
    #[arg(long)]
    pub since: String,
    /// RFC 3339 end of the window (default: now).
    #[arg(long)]
    pub until: Option<String>,
    /// Print the job and return without following it.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    Get { id: String },
}

pub use crate::args_queues::{DlqCmd, RejectedCmd};

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Endpoints across tenants that are failing or disabled (both without --state); every
    /// page is read.
    Endpoints {
        #[arg(long, value_enum)]
        state: Option<EndpointState>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointState {
    Failing,
    Disabled,
}

#[derive(Debug, Args)]
pub struct PortalArgs {
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    StandardWebhooks,
    HmacSha256Hex,
    SecretHeader,
    None,
}

#[derive(Debug, Clone, Args)]
pub struct SchemeArgs {
    /// The endpoint's secret (repeat during a rotation: any one may match).
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// How the deliveries are signed (the endpoint's `signature.scheme`).
    #[arg(long, value_enum, default_value_t = Scheme::StandardWebhooks)]
    pub scheme: Scheme,
    /// The header of hmac-sha256-hex and secret-header.
    #[arg(long)]
    pub header: Option<String>,
    /// The prefix of hmac-sha256-hex values (e.g. `sha256=`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Seconds a Standard Webhooks timestamp may be away from now.
    #[arg(long, default_value_t = 300)]
    pub tolerance: i64,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub scheme: SchemeArgs,
    /// The captured request (default: stdin).
    #[arg(long, conflicts_with_all = ["headers", "body"])]
    pub request: Option<PathBuf>,
    #[arg(long, requires = "body")]
    pub headers: Option<PathBuf>,
    #[arg(long, requires = "headers")]
    pub body: Option<PathBuf>,
    /// Verify as if it were this Unix time (default: now).
    #[arg(long)]
    pub now: Option<i64>,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The port (0 = any free one, printed at start).
    #[arg(long, short = 'p', default_value_t = 8080)]
    pub port: u16,
    /// The address to bind (loopback by default; anything else exposes the receiver).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Verify each delivery with this scheme and secret(s); without a secret, nothing is verified.
    #[command(flatten)]
    pub scheme: SchemeArgs,
    /// Answer 500 to the first N requests (to watch the retries), then 2xx.
    #[arg(long, default_value_t = 0)]
    pub fail: u64,
    /// The 2xx status answered.
    #[arg(long, default_value_t = 204)]
    pub status: u16,
    /// Answer 401 to a delivery that does not verify (default: print the reason, answer as usual).
    #[arg(long)]
    pub reject_invalid: bool,
    /// Stop after this many requests.
    #[arg(long)]
    pub count: Option<u64>,
}
