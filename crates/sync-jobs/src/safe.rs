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
///
/// Jobs are keyed by a 64-bit hash of their path, so the hot path neither
/// allocates nor grows without bound: entries older than the interval are
/// dropped whenever the table doubles.
#[derive(Debug)]
pub struct StartGuard {
    interval: Duration,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    started: HashMap<u64, Instant, Keyed>,
    /// The size at which aged entries are next dropped.
    prune_at: usize,
}

const PRUNE_FLOOR: usize = 1024;

/// FNV-1a over the job's path parts: a few nanoseconds, against SipHash's
/// tens. Flooding is no concern: the keys are the caller's own jobs.
fn key(job: &JobRef) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let owner = job.owner();
    let kind: &[u8] = match owner {
        graph_model::JobOwner::ServicePrincipal(_) => b"s",
        graph_model::JobOwner::Application(_) => b"a",
        _ => b"i",
    };
    for part in [kind, owner.id().as_bytes(), b"/", job.job_id().as_bytes()] {
        for b in part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The keys are hashes already: the map uses them as they are.
#[derive(Default)]
struct Identity(u64);

impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Keyed = std::hash::BuildHasherDefault<Identity>;

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
            table: Mutex::new(Table {
                started: HashMap::default(),
                prune_at: PRUNE_FLOOR,
            }),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long ago `job` was started, if that is within the interval.
    pub fn started_within(&self, job: &JobRef) -> Option<Duration> {
        if self.interval.is_zero() {
            return None;
        }
        let ago = self.table().started.get(&key(job))?.elapsed();
        (ago < self.interval).then_some(ago)
    }

    /// Records a start of `job` now, unless one was recorded within the
    /// interval: then how long ago that was. Checking and recording under
    /// one lock means two concurrent starts of a job cannot both pass.
    pub(crate) fn claim(&self, job: &JobRef) -> Result<(), Duration> {
        if self.interval.is_zero() {
            return Ok(());
        }
        let k = key(job);
        let mut t = self.table();
        let now = Instant::now();
        if let Some(at) = t.started.get(&k) {
            let ago = now.saturating_duration_since(*at);
            if ago < self.interval {
                return Err(ago);
            }
        }
        if t.started.len() >= t.prune_at {
            let interval = self.interval;
            t.started
                .retain(|_, at| now.saturating_duration_since(*at) < interval);
            t.prune_at = (t.started.len() * 2).max(PRUNE_FLOOR);
        }
        t.started.insert(k, now);
        Ok(())
    }

    pub(crate) fn check(&self, job: &JobRef) -> Result<(), Error> {
        match self.claim(job) {
            Ok(()) => Ok(()),
            Err(ago) => Err(Error::StartedRecently {
                job: job.path(),
                ago,
                interval: self.interval,
            }),
        }
    }

    pub(crate) fn forget(&self, job: &JobRef) {
        if self.interval.is_zero() {
            return;
        }
        self.table().started.remove(&key(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(i: usize) -> JobRef {
        JobRef::service_principal("sp", format!("scim.{i}")).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn claims_refuse_within_the_interval_and_forget_clears() {
        let guard = StartGuard::new(Duration::from_secs(60));
        assert!(guard.claim(&job(1)).is_ok());
        assert!(guard.claim(&job(1)).is_err());
        assert!(guard.claim(&job(2)).is_ok());
        guard.forget(&job(1));
        assert!(guard.claim(&job(1)).is_ok());
        let off = StartGuard::new(Duration::ZERO);
        assert!(off.claim(&job(1)).is_ok() && off.claim(&job(1)).is_ok());
    }

    #[test]
    fn aged_entries_are_dropped_as_the_table_grows() {
        let guard = StartGuard::new(Duration::from_nanos(1));
        for i in 0..20_000 {
            assert!(guard.claim(&job(i)).is_ok());
        }
        // Everything aged out at once, so the table never held more than
        // the pruning threshold.
        assert!(
            guard.table().started.len() <= PRUNE_FLOOR,
            "{}",
            guard.table().started.len()
        );
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
