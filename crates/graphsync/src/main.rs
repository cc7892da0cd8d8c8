//! `graphsync`: start and inspect Microsoft Graph synchronization
//! (provisioning) jobs from a terminal, or run a local emulator of the
//! service.
//!
//! Run `graphsync --help` for the commands; `graphsync demo` shows the whole
//! path (token endpoint → bearer → `POST …/start` → 204) against an
//! in-process emulator.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod actions;
mod commands;
mod config;
mod config_file;
mod jobs;
mod report;
mod table;
mod targets;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use graph_model::{ApiVersion, InvalidIdError, JobOwner, JobRef};

use crate::config::{AuthKind, Backend, Conn};

/// Exit status: success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: the operation failed (the service refused, or could not be reached).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status: the command line or the environment is wrong.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status: a bulk command failed for some jobs and not others.
pub(crate) const EXIT_PARTIAL: u8 = 3;
/// Exit status: the outcome is unknown for at least one job: the request
/// may have been applied (read the job before trying again).
pub(crate) const EXIT_AMBIGUOUS: u8 = 4;

const AFTER_HELP: &str = "\
Signing in (--auth, default auto: the first of these that works):
  secret             AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
  env                the secret, or else the certificate, from the environment
  certificate        AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_CERTIFICATE_PATH
                     (PEM, or PKCS#12 with AZURE_CLIENT_CERTIFICATE_PASSWORD)
  workload-identity  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE
  managed-identity   IMDS, or IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service);
                     AZURE_CLIENT_ID picks a user-assigned identity
  azure-cli          the account of `az login`

Environment:
  GRAPH_CLOUD           global (default), usgov (L4 / GCC High), usgov-dod (L5), china
  GRAPH_URL             another Graph root (plain http only to a loopback host)
  AZURE_AUTHORITY_HOST  another Entra authority host

Permissions (application): start, pause, restart, provision,
validate-credentials, create, delete, secrets and schema --replace need
Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy on an
application the caller owns; get, list, schema and templates need
Synchronization.Read.All (or either of those).

Config file: ~/.config/graphsync/config.toml (or --config FILE): cloud,
tenant_id, client_id, auth, transport, graph_url, authority_host,
client_certificate_path, and [defaults] output, concurrency. Flags win over
the environment, which wins over the file.

Try it without a tenant: `graphsync emulator` prints the settings to export.

Exit status:
  0  success (a start skipped because the job is running counts as success)
  1  the operation failed (for every job, in a bulk command)
  2  usage or configuration error
  3  a bulk command failed for some jobs
  4  the outcome is unknown for at least one job (it may have been applied)";

const START_HELP: &str = "\
Targets: --job ID with --service-principal/--application/--app-id, --job URL
(the job's Graph URL), --from FILE|- (one per line, or CSV with a header:
servicePrincipalId,jobId), or --all jobs of an owner (--template ID filters).
Many targets run through JSON batches of 20, --concurrency requests at once,
with a progress bar and a summary (--output ndjson: one line per job).

Examples:
  graphsync start --sp 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --what-if
  graphsync start --job https://graph.microsoft.com/v1.0/servicePrincipals/3f1e0c9a-0000-4000-8000-000000000001/synchronization/jobs/scim.e4bbf44533ea4eabb17027f3a92e92aa --wait --until steady
  graphsync start --from jobs.csv --confirm --output ndjson";

/// Start and inspect Microsoft Graph synchronization (provisioning) jobs.
#[derive(Debug, Parser)]
#[command(name = "graphsync", version, after_help = AFTER_HELP)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug: every HTTP exchange).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 900)]
    verbose: u8,
    /// The HTTP back-end [default: reqwest].
    #[arg(
        long,
        value_enum,
        global = true,
        env = "GRAPHSYNC_TRANSPORT",
        display_order = 901
    )]
    transport: Option<Backend>,
    /// How to sign in [default: auto].
    #[arg(
        long,
        value_enum,
        global = true,
        env = "GRAPHSYNC_AUTH",
        display_order = 902
    )]
    auth: Option<AuthKind>,
    /// The config file (default ~/.config/graphsync/config.toml, if it exists).
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        env = "GRAPHSYNC_CONFIG",
        display_order = 903
    )]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a job, or many (POST …/jobs/{jobId}/start).
    ///
    /// Start resumes a paused job from where it stopped and lifts a
    /// quarantine. The service warns that calling start over and over on a
    /// running job can make it stop, so graphsync reads the job first and
    /// starts only a Paused, Quarantine, NotRun or NotConfigured one; an
    /// Active job is left alone ("skipped: already active", exit 0) unless
    /// --force. A second start of the same job within 60 s in one process
    /// is refused.
    #[command(after_help = START_HELP)]
    Start(jobs::StartArgs),
    /// Pause a job, or many (POST …/jobs/{jobId}/pause); progress is kept.
    #[command(
        after_help = "Examples:\n  graphsync pause --sp 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --wait\n  graphsync pause --from jobs.csv --confirm"
    )]
    Pause(jobs::PauseArgs),
    /// Restart a job, or many, clearing what --scope names (POST …/jobs/{jobId}/restart).
    #[command(
        after_help = "Examples:\n  graphsync restart --sp 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --scope Watermark,Escrows,QuarantineState\n  graphsync restart --from quarantined.txt --scope QuarantineState --concurrency 8 -o ndjson"
    )]
    Restart(jobs::RestartArgs),
    /// Show one or many jobs live: state, progress, last run.
    #[command(
        after_help = "Examples:\n  graphsync watch --sp 3f1e0c9a-0000-4000-8000-000000000001 --all\n  graphsync watch --from jobs.txt --until active --timeout 600 -o ndjson"
    )]
    Watch(jobs::WatchArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Example:\n  graphsync completions bash > /etc/bash_completion.d/graphsync"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Provision objects now, outside the schedule (POST …/provisionOnDemand; 5 calls per 10 s per job).
    #[command(
        after_help = "Example:\n  graphsync provision --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --rule 03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8#V2 --subject 52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76:User"
    )]
    Provision(actions::ProvisionArgs),
    /// Check credentials against the target system (POST …/validateCredentials).
    #[command(
        after_help = "Examples:\n  graphsync validate-credentials --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --saved\n  graphsync validate-credentials --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --template scim --credential BaseAddress=https://scim.example.com/scim --credential SecretToken=…"
    )]
    ValidateCredentials(actions::ValidateArgs),
    /// Show a job (GET …/jobs/{jobId}): a summary on a terminal, JSON otherwise.
    #[command(
        after_help = "Example:\n  graphsync get --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --output table"
    )]
    Get(actions::GetArgs),
    /// List the jobs of a service principal or application, every page.
    #[command(
        after_help = "Example:\n  graphsync list --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --output json"
    )]
    List(actions::ListArgs),
    /// Create a job from a template (POST …/jobs; the job starts disabled).
    #[command(
        after_help = "Example:\n  graphsync create --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --template scim"
    )]
    Create(actions::CreateArgs),
    /// Delete a job and all its state (DELETE …/jobs/{jobId}).
    #[command(
        after_help = "Example:\n  graphsync delete --app-id b2c3d4e5-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --what-if"
    )]
    Delete(actions::JobActionArgs),
    /// Show a job's schema (its rules on a terminal, the whole document as JSON when piped), or replace it whole with --replace FILE.
    #[command(
        after_help = "Examples:\n  graphsync schema --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa -o json > schema.json\n  graphsync schema --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --job scim.e4bbf44533ea4eabb17027f3a92e92aa --replace schema.json"
    )]
    Schema(actions::SchemaArgs),
    /// Replace the secrets (target credentials) of a service principal (PUT …/synchronization/secrets).
    #[command(
        after_help = "Example:\n  graphsync secrets --service-principal 3f1e0c9a-0000-4000-8000-000000000001 --from-json secrets.json\n  (secrets.json: [{\"key\":\"BaseAddress\",\"value\":\"https://…\"},{\"key\":\"SecretToken\",\"value\":\"…\"}])"
    )]
    Secrets(actions::SecretsArgs),
    /// List the synchronization templates of a service principal or application, or show one.
    #[command(
        after_help = "Example:\n  graphsync templates --application c3d4e5f6-0000-4000-8000-000000000001 --template scim"
    )]
    Templates(actions::TemplatesArgs),
    /// Acquire an OAuth token for the target app with credentials (POST …/synchronization/acquireAccessToken).
    #[command(
        after_help = "Example:\n  graphsync acquire-access-token --sp 3f1e0c9a-0000-4000-8000-000000000001 --credential BaseAddress=https://… --credential SecretToken=…"
    )]
    AcquireAccessToken(actions::AcquireTokenArgs),
    /// Check that a service principal's synchronization answers (GET …/synchronization/Ping(), beta only).
    #[command(after_help = "Example:\n  graphsync ping --sp 3f1e0c9a-0000-4000-8000-000000000001")]
    Ping(actions::OwnerTarget),
    /// Sign in and show who that is: cloud, tenant, client id, roles, token expiry (never the token).
    #[command(after_help = "Example:\n  graphsync whoami --auth managed-identity")]
    Whoami(actions::WhoamiArgs),
    /// Run the local emulator; prints its connection details as one JSON line.
    Emulator(EmulatorArgs),
    /// Walk through starting a paused job against an in-process emulator.
    Demo,
}

/// Which job: its owner (one of three forms) and its id.
#[derive(Debug, Args)]
pub(crate) struct Target {
    #[command(flatten)]
    owner: Owner,
    /// The job id, e.g. scim.e4bbf44533ea4eabb17027f3a92e92aa.
    #[arg(long, value_name = "JOB_ID")]
    job: String,
    /// Use the beta API instead of v1.0.
    #[arg(long)]
    beta: bool,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Owner {
    /// The service principal's object id.
    #[arg(long, value_name = "ID", visible_alias = "sp")]
    service_principal: Option<String>,
    /// The application's object id.
    #[arg(long, value_name = "ID")]
    application: Option<String>,
    /// The application's appId (client id); addresses servicePrincipals(appId='…').
    #[arg(long, value_name = "APP_ID")]
    app_id: Option<String>,
}

/// The API version `--beta` selects.
pub(crate) fn api_version(beta: bool) -> ApiVersion {
    if beta {
        ApiVersion::Beta
    } else {
        ApiVersion::V1
    }
}

impl Owner {
    pub(crate) fn job_owner(&self) -> Result<JobOwner, InvalidIdError> {
        match (&self.service_principal, &self.application, &self.app_id) {
            (Some(id), _, _) => JobOwner::service_principal(id.clone()),
            (_, Some(id), _) => JobOwner::application(id.clone()),
            (_, _, Some(id)) => JobOwner::service_principal_app_id(id.clone()),
            (None, None, None) => JobOwner::service_principal(String::new()),
        }
    }
}

impl Target {
    pub(crate) fn job_ref(&self) -> Result<JobRef, InvalidIdError> {
        let job = self.job.clone();
        match (
            &self.owner.service_principal,
            &self.owner.application,
            &self.owner.app_id,
        ) {
            (Some(id), _, _) => JobRef::service_principal(id.clone(), job),
            (_, Some(id), _) => JobRef::application(id.clone(), job),
            (_, _, Some(id)) => JobRef::service_principal_app_id(id.clone(), job),
            // clap requires exactly one; an empty service principal id is
            // what this would be, and the same error says so.
            (None, None, None) => JobRef::service_principal(String::new(), job),
        }
    }

    pub(crate) fn version(&self) -> ApiVersion {
        api_version(self.beta)
    }
}

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A seed file (JSON) instead of the default tenant and jobs.
    #[arg(long, value_name = "FILE")]
    seed: Option<std::path::PathBuf>,
    /// How many items a page of a listing holds before @odata.nextLink.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..))]
    page_size: u16,
    #[command(flatten)]
    faults: FaultArgs,
}

/// Faults to inject into Graph requests (rates between 0 and 1, together at
/// most 1; the same seed gives the same faults for the same requests).
#[derive(Debug, Args)]
#[command(next_help_heading = "Fault injection")]
pub(crate) struct FaultArgs {
    /// The seed of the fault generator.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Rate of 429 Too Many Requests (before the action is applied).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_throttle: f64,
    /// Rate of 503 Service Unavailable (before).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_unavailable: f64,
    /// Rate of 504 Gateway Timeout (after the action is applied).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_gateway_timeout: f64,
    /// Rate of connections dropped before the action is applied.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_drop_before: f64,
    /// Rate of connections dropped after the action is applied.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_drop_after: f64,
    /// Rate of success bodies cut short (malformed JSON).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_malformed: f64,
    /// Rate of answers that promise more bytes than they send.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_truncated: f64,
    /// What Retry-After says on injected 429 and 503, in seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    fault_retry_after: f64,
    /// Latency added to every Graph answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    fault_latency_ms: u64,
}

impl FaultArgs {
    pub(crate) fn options(&self) -> sync_emulator::FaultOptions {
        sync_emulator::FaultOptions::seeded(self.fault_seed)
            .throttle(self.fault_throttle)
            .unavailable(self.fault_unavailable)
            .gateway_timeout(self.fault_gateway_timeout)
            .drop_before(self.fault_drop_before)
            .drop_after(self.fault_drop_after)
            .malformed(self.fault_malformed)
            .truncated(self.fault_truncated)
            .retry_after_secs(self.fault_retry_after)
            .latency_ms(self.fault_latency_ms)
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    // Colour only for a person at a terminal, and never when NO_COLOR is set.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(verbose > 1)
        .with_ansi(ansi)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let file = match config_file::FileConfig::load(cli.config.as_deref(), |k| std::env::var(k).ok())
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let conn = Conn {
        backend: cli.transport.or(file.transport).unwrap_or_default(),
        auth: cli.auth.or(file.auth).unwrap_or_default(),
    };
    config_file::set_loaded(file);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Start(args) => jobs::start(args, conn).await,
            Command::Get(args) => actions::get(args, conn).await,
            Command::Pause(args) => jobs::pause(args, conn).await,
            Command::Delete(args) => actions::delete(args, conn).await,
            Command::Restart(args) => jobs::restart(args, conn).await,
            Command::Watch(args) => jobs::watch(args, conn).await,
            Command::Completions { shell } => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(shell, &mut cmd, "graphsync", &mut std::io::stdout());
                EXIT_OK
            }
            Command::Provision(args) => actions::provision(args, conn).await,
            Command::ValidateCredentials(args) => actions::validate(args, conn).await,
            Command::List(args) => actions::list(args, conn).await,
            Command::Create(args) => actions::create(args, conn).await,
            Command::Schema(args) => actions::schema(args, conn).await,
            Command::Secrets(args) => actions::secrets(args, conn).await,
            Command::Templates(args) => actions::templates(args, conn).await,
            Command::Ping(args) => actions::ping(args, conn).await,
            Command::Whoami(args) => actions::whoami(args, conn).await,
            Command::AcquireAccessToken(args) => actions::acquire_access_token(args, conn).await,
            Command::Emulator(args) => commands::emulator(args).await,
            Command::Demo => commands::demo(conn).await,
        }
    });
    ExitCode::from(code)
}
