//! `graphsync`: start and inspect Microsoft Graph synchronization
//! (provisioning) jobs from a terminal, or run a local emulator of the
//! service.
//!
//! Run `graphsync --help` for the commands; `graphsync demo` shows the whole
//! path (token endpoint → bearer → `POST …/start` → 204) against an
//! in-process emulator.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod config;
mod report;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use graph_model::{ApiVersion, InvalidIdError, JobRef};

use crate::config::Backend;

/// Exit status: success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: the operation failed (the service refused, or could not be reached).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status: the command line or the environment is wrong.
pub(crate) const EXIT_USAGE: u8 = 2;

const AFTER_HELP: &str = "\
Environment:
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
                        app-only sign-in with a client secret
  GRAPH_CLOUD           global (default), usgov (L4 / GCC High), usgov-dod (L5), china
  GRAPH_URL             another Graph root (plain http only to a loopback host)
  AZURE_AUTHORITY_HOST  another Entra authority host

Permissions (application): start needs Synchronization.ReadWrite.All, or
Application.ReadWrite.OwnedBy on an application the caller owns; get needs
Synchronization.Read.All (or either of those).

Exit status: 0 success, 1 the operation failed, 2 usage or configuration error.";

/// Start and inspect Microsoft Graph synchronization (provisioning) jobs.
#[derive(Debug, Parser)]
#[command(name = "graphsync", version, after_help = AFTER_HELP)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug: every HTTP exchange).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// The HTTP back-end.
    #[arg(
        long,
        value_enum,
        default_value_t,
        global = true,
        env = "GRAPHSYNC_TRANSPORT"
    )]
    transport: Backend,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a synchronization job (POST …/jobs/{jobId}/start).
    ///
    /// Start resumes a paused job from where it stopped and lifts a
    /// quarantine. Start only a paused or quarantined job: the service warns
    /// that calling start over and over on a running job can make it stop.
    Start(StartArgs),
    /// Show a synchronization job as JSON (GET …/jobs/{jobId}).
    Get(GetArgs),
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
struct Owner {
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
        if self.beta {
            ApiVersion::Beta
        } else {
            ApiVersion::V1
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    target: Target,
    /// Show the request that would be sent (token redacted) and send nothing.
    #[arg(long)]
    what_if: bool,
    /// Print `true` on success.
    #[arg(long)]
    pass_thru: bool,
    /// The client-request-id to send (default: a fresh UUID).
    #[arg(long, value_name = "ID")]
    client_request_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A seed file (JSON) instead of the default tenant and jobs.
    #[arg(long, value_name = "FILE")]
    seed: Option<std::path::PathBuf>,
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
            Command::Start(args) => commands::start(args, cli.transport).await,
            Command::Get(args) => commands::get(args, cli.transport).await,
            Command::Emulator(args) => commands::emulator(args).await,
            Command::Demo => commands::demo(cli.transport).await,
        }
    });
    ExitCode::from(code)
}
