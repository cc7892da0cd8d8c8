//! A local emulator of the Microsoft Graph synchronization jobs service,
//! over real HTTP on loopback, as Azurite is for Azure Storage.
//!
//! It stands beside graphsync's layers rather than in them: it depends on
//! `graph-model` only (the same types and generated operation descriptors
//! the client uses), so it can serve any client, in any language, and is a
//! dev-dependency of your tests.
//!
//! It serves what graphsync and your own code call:
//!
//! - the token endpoint `POST /{tenant}/oauth2/v2.0/token` (client
//!   credentials with a client secret or a certificate or federated
//!   assertion), issuing tokens that carry the client's application
//!   permissions, and the managed identity endpoints (IMDS and App Service);
//! - `POST /{version}/$batch` with up to 20 requests, each served and
//!   throttled on its own;
//! - every operation of the synchronization jobs API under `/v1.0` and
//!   `/beta` (list with `@odata.nextLink` paging, get, create, delete,
//!   start, pause, restart, provisionOnDemand, validateCredentials in both
//!   forms, schema get and replace, secrets, templates, acquireAccessToken,
//!   and beta's `Ping()`), routed by the same generated operation
//!   descriptors the client builds its requests from, for all three ways to
//!   name the owner (`/servicePrincipals/{id}`,
//!   `/servicePrincipals(appId='{appId}')`, `/applications/{id}`), with
//!   Graph's status codes, error envelope and `request-id` /
//!   `client-request-id` headers: 401 without a valid token, 403 without the
//!   permission, 404 for an unknown object, 405 for a wrong method, 411 for
//!   a POST without `Content-Length`, 429 with `Retry-After` past
//!   provisionOnDemand's 5 calls per 10 seconds per job;
//! - a job state machine on a virtual clock: start resumes a Paused job
//!   (where its cycle stopped) and lifts a Quarantine; a new or NotConfigured
//!   job goes to NotRun, shows progress, and becomes Active when its first
//!   cycle ends; running jobs run an incremental cycle every 40 minutes;
//!   pause keeps progress; restart clears what each `resetScope` flag names
//!   (watermark, escrows, quarantine, connector cache, held deletions —
//!   see [`JobInternals`]); start on a running job is accepted, changes
//!   nothing, and is flagged (`x-emulator-warning` header, a warning in the
//!   action log) because the service warns against it;
//! - a control API under `/_emulator/` (`health`, `jobs`, `actions`,
//!   `stats`, `clock`, `clock/advance`) and the same from Rust on
//!   [`RunningEmulator`].
//!
//! Where the service's answer is undocumented (the text of `Ping()`, the
//! error code when credentials fail to validate), the emulator's own is
//! used and documented at the handler.
//!
//! Every action it applies is recorded, so a test can prove nothing was lost
//! and nothing was applied twice.
//!
//! ```
//! use sync_emulator::{Emulator, EmulatorOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let emulator = Emulator::start(EmulatorOptions::default()).await?;
//! let info = emulator.info();
//! assert!(info.graph_url.starts_with("http://127.0.0.1:"));
//! assert_eq!(info.jobs.len(), 4); // Paused, Quarantine, Active, NotConfigured
//! assert!(emulator.actions().is_empty());
//! emulator.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod batch;
mod fault;
mod job;
mod route;
mod seed;
mod service;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graph_model::SynchronizationJob;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use fault::{FaultError, FaultOptions};
pub use job::JobInternals;
pub use seed::{
    ClientSeed, JobSeed, ManagedIdentitySeed, Seed, SeedError, ServicePrincipalSeed, default_ids,
    roles,
};
pub use service::WARNING_HEADER;
pub use state::{ActionRecord, ClockError, MAX_CLOCK_OFFSET, Stats};

use job::JobState;
use service::Shared;
use state::{State, Timings};

/// How to run the emulator.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EmulatorOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The initial tenant, clients and jobs.
    pub seed: Seed,
    /// How long the first cycle of a newly started job takes on the virtual
    /// clock before it becomes Active. Default 60 s.
    pub first_cycle: Duration,
    /// The lifetime of issued tokens. Default 3599 s, as Entra's.
    pub token_lifetime: Duration,
    /// How many items a page of a listing holds before `@odata.nextLink`
    /// leads to the next. Default 100.
    pub page_size: usize,
    /// Faults to inject into Graph requests. Default none.
    pub faults: FaultOptions,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            port: 0,
            seed: Seed::default_seed(),
            first_cycle: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(3599),
            page_size: 100,
            faults: FaultOptions::none(),
        }
    }
}

impl EmulatorOptions {
    /// Options with `seed` and the defaults otherwise.
    pub fn with_seed(seed: Seed) -> Self {
        EmulatorOptions {
            seed,
            ..Self::default()
        }
    }

    /// Listens on `port` (0 for any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Injects `faults` into Graph requests.
    pub fn faults(mut self, faults: FaultOptions) -> Self {
        self.faults = faults;
        self
    }

    /// Pages listings `size` items at a time.
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = size;
        self
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The seed is invalid.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// An option is out of range.
    #[error("invalid emulator options: {0}")]
    InvalidOptions(String),
    /// The port could not be bound.
    #[error("could not listen on 127.0.0.1:{port}")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A job as the emulator's info lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobInfo {
    /// The owning service principal's object id.
    pub service_principal_id: String,
    /// The application's object id.
    pub application_id: String,
    /// The application's appId.
    pub app_id: String,
    /// The service principal's display name.
    pub display_name: String,
    /// The job id.
    pub job_id: String,
    /// The job's status code now.
    pub status: String,
}

/// A client as the emulator's info lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The client id.
    pub client_id: String,
    /// Its secret (the emulator's, not a real one).
    pub client_secret: String,
    /// Its application permissions.
    pub roles: Vec<String>,
}

/// Everything a script needs to point a client at the emulator:
/// `graphsync emulator` prints this as its first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmulatorInfo {
    /// The Graph root (`GRAPH_URL`).
    pub graph_url: String,
    /// The authority host (`AZURE_AUTHORITY_HOST`).
    pub authority_host: String,
    /// The tenant id (`AZURE_TENANT_ID`).
    pub tenant_id: String,
    /// A client with write access (`AZURE_CLIENT_ID`), if the seed has one.
    pub client_id: String,
    /// Its secret (`AZURE_CLIENT_SECRET`).
    pub client_secret: String,
    /// The App Service managed identity endpoint (`IDENTITY_ENDPOINT`).
    pub identity_endpoint: String,
    /// The header value it expects (`IDENTITY_HEADER`).
    pub identity_header: String,
    /// Every client.
    pub clients: Vec<ClientInfo>,
    /// Every job.
    pub jobs: Vec<JobInfo>,
}

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds 127.0.0.1:`options.port` and serves on the current tokio
    /// runtime until [`RunningEmulator::shutdown`] or drop.
    ///
    /// # Errors
    /// When the seed or an option is invalid, or the port cannot be bound.
    pub async fn start(options: EmulatorOptions) -> Result<RunningEmulator, EmulatorError> {
        options.seed.validate()?;
        options
            .faults
            .validate()
            .map_err(|e| EmulatorError::InvalidOptions(e.to_string()))?;
        if options.page_size == 0 {
            return Err(EmulatorError::InvalidOptions(
                "page_size must be at least 1".into(),
            ));
        }
        for (name, value) in [
            ("first_cycle", options.first_cycle),
            ("token_lifetime", options.token_lifetime),
        ] {
            if value > MAX_CLOCK_OFFSET {
                return Err(EmulatorError::InvalidOptions(format!(
                    "{name} of {value:?} is more than 100 years"
                )));
            }
        }
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let base_url = format!("http://{addr}");
        let state = State::new(
            &options.seed,
            Timings {
                first_cycle: options.first_cycle,
                token_lifetime: options.token_lifetime,
                page_size: options.page_size,
            },
        );
        let mut state = state;
        state.faults = options.faults.clone();
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            base_url: base_url.clone(),
            identity_header: uuid::Uuid::new_v4().simple().to_string(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), stop_rx));
        tracing::info!(target: "sync_emulator", %base_url, "emulator listening");
        Ok(RunningEmulator {
            addr,
            base_url,
            shared,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| service::handle(shared.clone(), req));
                    // A client that drops the connection mid-request is not
                    // the emulator's problem; the error is only logged.
                    if let Err(e) = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(target: "sync_emulator", error = %e, "connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Graph root, e.g. `http://127.0.0.1:49152` (requests go to
    /// `{graph_url}/v1.0/...`).
    pub fn graph_url(&self) -> &str {
        &self.base_url
    }

    /// The authority host (the token endpoint is
    /// `{authority_host}/{tenant}/oauth2/v2.0/token`).
    pub fn authority_host(&self) -> &str {
        &self.base_url
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> String {
        self.shared.lock().tenant_id.clone()
    }

    /// The connection details and jobs, as `graphsync emulator` prints them.
    pub fn info(&self) -> EmulatorInfo {
        let mut state = self.shared.lock();
        state.tick();
        let writer = state
            .clients
            .iter()
            .find(|c| {
                c.roles
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(roles::SYNC_READ_WRITE_ALL))
            })
            .or_else(|| state.clients.first());
        EmulatorInfo {
            graph_url: self.base_url.clone(),
            authority_host: self.base_url.clone(),
            tenant_id: state.tenant_id.clone(),
            client_id: writer.map(|c| c.client_id.clone()).unwrap_or_default(),
            client_secret: writer.map(|c| c.client_secret.clone()).unwrap_or_default(),
            identity_endpoint: self.identity_endpoint(),
            identity_header: self.shared.identity_header.clone(),
            clients: state
                .clients
                .iter()
                .map(|c| ClientInfo {
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.clone(),
                    roles: c.roles.clone(),
                })
                .collect(),
            jobs: state
                .service_principals
                .iter()
                .flat_map(|sp| {
                    sp.jobs.iter().map(move |j| JobInfo {
                        service_principal_id: sp.id.clone(),
                        application_id: sp.application_id.clone(),
                        app_id: sp.app_id.clone(),
                        display_name: sp.display_name.clone(),
                        job_id: j.job.id.clone(),
                        status: j.code().to_string(),
                    })
                })
                .collect(),
        }
    }

    /// Every action applied so far, in order.
    pub fn actions(&self) -> Vec<ActionRecord> {
        self.shared.lock().actions.clone()
    }

    /// A job as a GET would return it now, found by service principal
    /// object id and job id.
    pub fn job(&self, service_principal_id: &str, job_id: &str) -> Option<SynchronizationJob> {
        self.with_job(service_principal_id, job_id, |j| j.job.clone())
    }

    /// The state behind a job that Graph does not show (watermark, escrows,
    /// held deletions…), to check what an action changed.
    pub fn job_internals(&self, service_principal_id: &str, job_id: &str) -> Option<JobInternals> {
        self.with_job(service_principal_id, job_id, JobState::internals)
    }

    /// Reads a job as of now (the clock's effects applied first).
    fn with_job<R>(
        &self,
        service_principal_id: &str,
        job_id: &str,
        read: impl FnOnce(&JobState) -> R,
    ) -> Option<R> {
        let mut state = self.shared.lock();
        state.tick();
        state
            .service_principals
            .iter()
            .find(|sp| sp.id.eq_ignore_ascii_case(service_principal_id))?
            .jobs
            .iter()
            .find(|j| j.job.id.eq_ignore_ascii_case(job_id))
            .map(read)
    }

    /// The `IDENTITY_ENDPOINT` of its App Service managed identity endpoint.
    pub fn identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.base_url)
    }

    /// The `IDENTITY_HEADER` that endpoint expects.
    pub fn identity_header(&self) -> &str {
        &self.shared.identity_header
    }

    /// The URL of its IMDS token endpoint.
    pub fn imds_endpoint(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.base_url)
    }

    /// Every access token the emulator has issued, so a test can check none
    /// of them leaked into its logs.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().tokens.keys().cloned().collect()
    }

    /// Changes the faults injected from now on.
    ///
    /// # Errors
    /// When the options are invalid; the faults are then unchanged.
    pub fn set_faults(&self, faults: FaultOptions) -> Result<(), FaultError> {
        faults.validate()?;
        self.shared.lock().faults = faults;
        Ok(())
    }

    /// How many requests it has served, by kind.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats
    }

    /// Moves the virtual clock forward (jobs advance, tokens age).
    ///
    /// # Errors
    /// When the clock would run more than 100 years ahead of real time.
    pub fn advance_clock(&self, by: Duration) -> Result<(), ClockError> {
        let mut state = self.shared.lock();
        state.clock.advance(by)?;
        state.tick();
        Ok(())
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
