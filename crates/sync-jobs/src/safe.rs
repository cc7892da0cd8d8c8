//! Starting safely: the service warns that starting a running job over and
//! over can make it stop the job. [`SyncJobsClient::start_if_needed`] reads
//! the job first and starts only one that is not running, and a
//! per-process [`StartGuard`] refuses a second start of the same job within
//! an interval.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use graph_model::{JobRef, SynchronizationStatusCode as Code};

use crate::{Error, GetOptions, StartOptions, StartOutcome, SyncJobsClient};

/// How long [`StartGuard::default`] refuses a second start of one job.
pub const DEFAULT_START_GUARD: Duration = Duration::from_secs(60);

/// Remembers when this process last started each job, and refuses another
/// start of the same job within `interval`. A pause forgets the job, so
/// pause-then-start is never refused. Shared by the clones of a
/// [`SyncJobsClient`].
#[derive(Debug)]
pub struct StartGuard {
    interval: Duration,
    started: Mutex<HashMap<String, Instant>>,
}

impl Default for StartGuard {
    fn default() -> Self {
        StartGuard::new(DEFAULT_START_GUARD)
    }
}

impl StartGuard {
    /// A guard of `interval` (zero turns it off).
    pub fn new(interval: Duration) -> Self {
        StartGuard {
            interval,
            started: Mutex::new(HashMap::new()),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long ago `job` was started, if that is within the interval.
    pub fn started_within(&self, job: &JobRef) -> Option<Duration> {
        if self.interval.is_zero() {
            return None;
        }
        let map = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        let ago = map.get(&job.path())?.elapsed();
        (ago < self.interval).then_some(ago)
    }

    pub(crate) fn check(&self, job: &JobRef) -> Result<(), Error> {
        match self.started_within(job) {
            Some(ago) => Err(Error::StartedRecently {
                job: job.path(),
                ago,
                interval: self.interval,
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn record(&self, job: &JobRef) {
        if self.interval.is_zero() {
            return;
        }
        let mut map = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget what has aged out, so a long-lived process does not grow.
        if map.len() >= 4096 {
            let interval = self.interval;
            map.retain(|_, at| at.elapsed() < interval);
        }
        map.insert(job.path(), Instant::now());
    }

    pub(crate) fn forget(&self, job: &JobRef) {
        let mut map = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&job.path());
    }
}

/// Whether a job in state `code` needs a start: paused, quarantined, never
/// run or never configured. An active job does not.
pub fn needs_start(code: Option<&Code>) -> bool {
    matches!(
        code,
        Some(Code::Paused | Code::Quarantine | Code::NotRun | Code::NotConfigured)
    )
}

/// What [`SyncJobsClient::start_if_needed`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SafeStart {
    /// The job needed a start and got one.
    Started {
        /// Its state before the start.
        previous: Option<Code>,
        /// The start's answer.
        outcome: StartOutcome,
    },
    /// The job is running already; nothing was sent.
    AlreadyActive,
    /// The job's state is one start is not meant for (a state this version
    /// does not know, or none); nothing was sent. `force` starts it anyway.
    NotStartable {
        /// The state the service reported.
        state: Option<Code>,
    },
    /// This process started the job moments ago; nothing was sent.
    StartedRecently {
        /// How long ago.
        ago: Duration,
    },
}

impl SafeStart {
    /// A short word for the outcome: `started`, `skipped: already active`…
    pub fn summary(&self) -> String {
        match self {
            SafeStart::Started { .. } => "started".into(),
            SafeStart::AlreadyActive => "skipped: already active".into(),
            SafeStart::NotStartable { state } => format!(
                "skipped: state {}",
                state.as_ref().map_or("unknown", |s| s.as_str())
            ),
            SafeStart::StartedRecently { ago } => {
                format!("skipped: started {} s ago by this process", ago.as_secs())
            }
        }
    }
}

impl SyncJobsClient {
    /// Reads `job` and starts it only if it is paused, quarantined, never
    /// run or never configured; an active job is left alone. With `force`,
    /// starts whatever the state (the guard still applies).
    ///
    /// ```no_run
    /// # async fn run(jobs: sync_jobs::SyncJobsClient, job: graph_model::JobRef) -> Result<(), sync_jobs::Error> {
    /// use sync_jobs::SafeStart;
    /// match jobs.start_if_needed(&job, false).await? {
    ///     SafeStart::Started { previous, .. } => println!("started (was {previous:?})"),
    ///     other => println!("{}", other.summary()),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`get`](Self::get) and [`start`](Self::start).
    pub async fn start_if_needed(&self, job: &JobRef, force: bool) -> Result<SafeStart, Error> {
        self.start_if_needed_with(job, force, &StartOptions::version(self.version()))
            .await
    }

    /// [`start_if_needed`](Self::start_if_needed) with start options.
    ///
    /// # Errors
    /// As [`start_if_needed`](Self::start_if_needed).
    pub async fn start_if_needed_with(
        &self,
        job: &JobRef,
        force: bool,
        options: &StartOptions,
    ) -> Result<SafeStart, Error> {
        if let Some(ago) = self.start_guard().started_within(job) {
            return Ok(SafeStart::StartedRecently { ago });
        }
        let current = self
            .get_with(job, &GetOptions::version(options.version))
            .await?;
        let previous = current.status.code;
        if !force {
            if previous == Some(Code::Active) {
                return Ok(SafeStart::AlreadyActive);
            }
            if !needs_start(previous.as_ref()) {
                return Ok(SafeStart::NotStartable { state: previous });
            }
        }
        let outcome = self.start_with(job, options).await?;
        Ok(SafeStart::Started { previous, outcome })
    }
}
