//! One emulated job: what Graph shows of it, the state behind it (watermark,
//! escrows, held deletions, the connector's cache), and the state machine
//! that start, pause, restart and the virtual clock drive.

use std::collections::VecDeque;
use std::time::Duration;

use graph_model::time::OffsetDateTime;
use graph_model::{
    IsoDuration, KeyValuePair, QuarantineReason, RestartScope, StringKeyLongValuePair,
    SynchronizationError, SynchronizationJob, SynchronizationProgress, SynchronizationQuarantine,
    SynchronizationSchedule, SynchronizationScheduleState, SynchronizationStatus,
    SynchronizationStatusCode as Code, SynchronizationTaskExecution,
    SynchronizationTaskExecutionResult,
};
use serde::Serialize;
use serde_json::json;

use crate::seed::JobSeed;
use crate::state::Timings;

/// The interval of a disabled job: .NET's `TimeSpan.MaxValue`, as Graph sends it.
pub(crate) const NEVER_INTERVAL: &str = "P10675199DT2H48M5.4775807S";
/// The interval of a running job (Entra's provisioning cycle).
pub(crate) const ACTIVE_INTERVAL: &str = "PT40M";
/// [`ACTIVE_INTERVAL`] as a duration.
const CYCLE_INTERVAL: Duration = Duration::from_secs(40 * 60);
/// How long an incremental cycle takes.
const DELTA_CYCLE: Duration = Duration::from_secs(60);
/// Objects in a job's scope unless the seed says otherwise.
const DEFAULT_OBJECTS: i64 = 25;
/// provisionOnDemand: at most this many calls per window per job.
pub(crate) const POD_LIMIT: usize = 5;
/// provisionOnDemand: the window.
pub(crate) const POD_WINDOW: Duration = Duration::from_secs(10);

/// Graph's "never": 0001-01-01T00:00:00Z.
const NEVER: OffsetDateTime = time::macros::datetime!(0001-01-01 0:00 UTC);

/// The state behind a job that Graph does not show, exposed by the control
/// API so tests can check what a restart cleared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JobInternals {
    /// Whether a watermark exists: cycles import only changes since it.
    pub watermark: bool,
    /// Objects held as escrows (failed, retried each cycle).
    pub escrows: i64,
    /// Deletions held back by accidental-deletion prevention.
    pub held_deletions: i64,
    /// Held deletions a restart with `ForceDeletes` let through.
    pub released_deletions: i64,
    /// Entries in the connector's cache of the target.
    pub connector_cache_entries: i64,
    /// Objects in the job's scope.
    pub objects: i64,
    /// Whether a cycle is under way (or interrupted by a pause).
    pub cycle_in_progress: bool,
}

/// A cycle under way.
#[derive(Clone, Copy, Debug)]
struct Cycle {
    began: OffsetDateTime,
    due: OffsetDateTime,
    /// A full (initial) cycle reads every object; an incremental one only
    /// changes since the watermark.
    full: bool,
}

#[derive(Debug)]
pub(crate) struct JobState {
    pub(crate) job: SynchronizationJob,
    pub(crate) internals: JobInternals,
    pub(crate) schema: serde_json::Value,
    cycle: Option<Cycle>,
    /// A cycle interrupted by pause: how far it got and how long it had left.
    paused_cycle: Option<(Duration, Duration, bool)>,
    /// When the next incremental cycle begins (running jobs with a watermark).
    next_cycle: Option<OffsetDateTime>,
    /// When provisionOnDemand was last called, within the window.
    pod_calls: VecDeque<OffsetDateTime>,
}

/// What an action did to a job.
#[derive(Debug)]
pub(crate) struct Effect {
    pub(crate) before: Code,
    pub(crate) after: Code,
    pub(crate) detail: Option<String>,
    pub(crate) warning: Option<String>,
}

/// A UUID derived from `text` (FNV-1a, 128-bit): the same text always
/// gives the same id, so seeded rule ids are stable across runs.
pub(crate) fn stable_uuid(text: &str) -> uuid::fmt::Hyphenated {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let hash = text
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    uuid::Uuid::from_u128(hash).hyphenated()
}

fn interval(text: &str) -> Option<IsoDuration> {
    text.parse().ok()
}

fn execution(
    began: OffsetDateTime,
    ended: OffsetDateTime,
    result: SynchronizationTaskExecutionResult,
    error: Option<SynchronizationError>,
) -> SynchronizationTaskExecution {
    let mut ex = SynchronizationTaskExecution::default();
    ex.activity_identifier = Some(uuid::Uuid::new_v4().hyphenated().to_string());
    ex.time_began = Some(began);
    ex.time_ended = Some(ended);
    ex.state = Some(result);
    ex.error = error;
    ex
}

/// The schema a new job gets: one rule from Entra users to the target, and
/// directories the client does not model (kept through a read-modify-write).
fn default_schema(job_id: &str, template_id: &str) -> serde_json::Value {
    json!({
        "id": job_id,
        "version": "Date:2026-01-01T00:00:00Z",
        "synchronizationRules": [{
            "id": format!("{}#V2", stable_uuid(job_id)),
            "name": "USER_TO_TARGET",
            "editable": true,
            "priority": 1,
            "sourceDirectoryName": "Azure Active Directory",
            "targetDirectoryName": template_id,
            "metadata": [],
            "objectMappings": [{
                "enabled": true,
                "name": "Provision Microsoft Entra ID Users",
                "sourceObjectName": "User",
                "targetObjectName": "User",
                "attributeMappings": []
            }]
        }],
        "directories": [
            {"id": "aad", "name": "Azure Active Directory", "objects": []},
            {"id": "target", "name": template_id, "objects": []}
        ]
    })
}

impl JobState {
    /// A job as `create` makes it: disabled, never run.
    pub(crate) fn created(id: String, template_id: &str) -> Self {
        let mut seed = JobSeed::new(id, Code::NotConfigured);
        seed.template_id = Some(template_id.to_owned());
        let now = OffsetDateTime::now_utc();
        let timings = Timings {
            first_cycle: Duration::ZERO,
            token_lifetime: Duration::ZERO,
            page_size: 1,
        };
        JobState::from_seed(&seed, now, &timings)
    }

    pub(crate) fn from_seed(seed: &JobSeed, now: OffsetDateTime, timings: &Timings) -> Self {
        let mut job = SynchronizationJob::new(seed.id.clone());
        job.template_id = Some(seed.template_id().to_owned());
        job.synchronization_job_settings = vec![
            KeyValuePair::new("QuarantineTooManyDeletesThreshold", "500"),
            KeyValuePair::new("Domain", "{\"Value\":\"\",\"Version\":\"1\"}"),
        ];
        let objects = seed.objects.unwrap_or(DEFAULT_OBJECTS).max(0);
        let mut schedule = SynchronizationSchedule::default();
        schedule.interval = interval(ACTIVE_INTERVAL);
        let mut status = SynchronizationStatus::default();
        status.code = Some(seed.status.clone());
        status.steady_state_first_achieved_time = Some(NEVER);
        status.steady_state_last_achieved_time = Some(NEVER);
        let mut state = JobState {
            job,
            internals: JobInternals {
                escrows: seed.escrows.max(0),
                held_deletions: seed.held_deletions.max(0),
                objects,
                ..JobInternals::default()
            },
            schema: default_schema(&seed.id, seed.template_id()),
            cycle: None,
            paused_cycle: None,
            next_cycle: None,
            pod_calls: VecDeque::new(),
        };
        let hours_ago = |h: i64| now - time::Duration::hours(h);
        match &seed.status {
            Code::NotConfigured => {
                schedule.interval = interval(NEVER_INTERVAL);
                schedule.state = Some(SynchronizationScheduleState::Disabled);
            }
            Code::NotRun => {
                schedule.state = Some(SynchronizationScheduleState::Active);
                state.cycle = Some(Cycle {
                    began: now,
                    due: now + timings.first_cycle,
                    full: true,
                });
            }
            Code::Active | Code::Paused => {
                let active = seed.status == Code::Active;
                schedule.state = Some(if active {
                    SynchronizationScheduleState::Active
                } else {
                    SynchronizationScheduleState::Paused
                });
                state.internals.watermark = true;
                state.internals.connector_cache_entries = objects;
                let run = state.full_run(hours_ago(1), hours_ago(1) + time::Duration::minutes(3));
                status.steady_state_first_achieved_time = Some(now - time::Duration::days(7));
                status.steady_state_last_achieved_time = run.time_ended;
                status.last_execution = Some(run.clone());
                status.last_successful_execution = Some(run.clone());
                status.last_successful_execution_with_exports = Some(run);
                status.synchronized_entry_count_by_type =
                    vec![StringKeyLongValuePair::new("User to User", objects)];
                if active {
                    state.next_cycle = Some(now + CYCLE_INTERVAL);
                }
            }
            _ => {
                // Quarantine, or a member this emulator does not know: a
                // quarantined job that tried and failed.
                schedule.state = Some(SynchronizationScheduleState::Active);
                state.internals.watermark = true;
                state.internals.connector_cache_entries = objects;
                let mut error = SynchronizationError::default();
                error.code = Some(
                    seed.quarantine_error_code
                        .clone()
                        .unwrap_or_else(|| "InvalidCredentials".into()),
                );
                error.message = Some(
                    "The provisioning service could not sign in to the target application with the saved credentials.".into(),
                );
                error.tenant_actionable = true;
                let mut q = SynchronizationQuarantine::default();
                q.current_began = Some(hours_ago(1));
                q.series_began = q.current_began;
                q.next_attempt = Some(now + time::Duration::hours(11));
                q.reason = Some(
                    seed.quarantine_reason
                        .clone()
                        .unwrap_or(QuarantineReason::EncounteredQuarantineException),
                );
                q.series_count = 1;
                q.error = Some(error.clone());
                status.quarantine = Some(q);
                status.count_successive_complete_failures = 1;
                status.last_execution = Some(execution(
                    hours_ago(1),
                    hours_ago(1) + time::Duration::minutes(3),
                    SynchronizationTaskExecutionResult::Failed,
                    Some(error),
                ));
                status.troubleshooting_url = Some("https://aka.ms/ProvisioningQuarantine".into());
            }
        }
        state.job.schedule = schedule;
        state.job.status = status;
        state
    }

    pub(crate) fn code(&self) -> Code {
        self.job.status.code.clone().unwrap_or(Code::NotConfigured)
    }

    fn set_code(&mut self, code: Code) {
        let schedule = match code {
            Code::Paused => SynchronizationScheduleState::Paused,
            Code::NotConfigured => SynchronizationScheduleState::Disabled,
            _ => SynchronizationScheduleState::Active,
        };
        self.job.status.code = Some(code);
        let disabled = schedule == SynchronizationScheduleState::Disabled;
        self.job.schedule.state = Some(schedule);
        if !disabled
            && self
                .job
                .schedule
                .interval
                .as_ref()
                .is_none_or(|i| i.as_str() == NEVER_INTERVAL)
        {
            self.job.schedule.interval = interval(ACTIVE_INTERVAL);
        }
    }

    /// A run with the job's escrows: they fail again every cycle.
    fn run_with_escrows(
        &self,
        began: OffsetDateTime,
        ended: OffsetDateTime,
    ) -> SynchronizationTaskExecution {
        let escrows = self.internals.escrows;
        let result = if escrows > 0 {
            SynchronizationTaskExecutionResult::EntryLevelErrors
        } else {
            SynchronizationTaskExecutionResult::Succeeded
        };
        let mut run = execution(began, ended, result, None);
        run.count_escrowed = escrows;
        run.count_escrowed_raw = escrows;
        run
    }

    /// A run that read every object.
    fn full_run(
        &self,
        began: OffsetDateTime,
        ended: OffsetDateTime,
    ) -> SynchronizationTaskExecution {
        let i = &self.internals;
        let mut run = self.run_with_escrows(began, ended);
        run.count_imported = i.objects;
        run.count_entitled = i.objects;
        run.count_entitled_for_provisioning = i.objects;
        run.count_exports = i.objects;
        run.count_exported = (i.objects - i.escrows).max(0);
        run
    }

    /// A run that read only changes since the watermark: the escrows
    /// retried, and deletions a restart released.
    fn delta_run(
        &self,
        began: OffsetDateTime,
        ended: OffsetDateTime,
    ) -> SynchronizationTaskExecution {
        let i = &self.internals;
        let mut run = self.run_with_escrows(began, ended);
        run.count_imported_deltas = i.escrows;
        run.count_exports = i.escrows;
        run.count_exported = i.released_deletions;
        run
    }

    fn complete(&mut self, run: SynchronizationTaskExecution, full: bool) {
        let ended = run.time_ended;
        let status = &mut self.job.status;
        if status
            .steady_state_first_achieved_time
            .is_none_or(|t| t.year() <= 1)
        {
            status.steady_state_first_achieved_time = ended;
        }
        status.steady_state_last_achieved_time = ended;
        status.count_successive_complete_failures = 0;
        status.progress.clear();
        if run.count_exported > 0 {
            status.last_successful_execution_with_exports = Some(run.clone());
        }
        status.last_successful_execution = Some(run.clone());
        status.last_execution = Some(run);
        if full {
            status.synchronized_entry_count_by_type = vec![StringKeyLongValuePair::new(
                "User to User",
                self.internals.objects,
            )];
            self.internals.watermark = true;
            self.internals.connector_cache_entries = self.internals.objects;
        }
        self.internals.released_deletions = 0;
        if self.code() == Code::NotRun {
            self.set_code(Code::Active);
        }
    }

    /// Moves the job along the virtual clock: finishes a cycle that is due,
    /// runs the incremental cycles that came due, updates progress.
    pub(crate) fn tick(&mut self, now: OffsetDateTime) {
        if !matches!(self.code(), Code::Active | Code::NotRun) {
            return;
        }
        if let Some(cycle) = self.cycle {
            if now < cycle.due {
                let total = (cycle.due - cycle.began).as_seconds_f64();
                let done = (now - cycle.began).as_seconds_f64();
                let units = if cycle.full {
                    self.internals.objects
                } else {
                    self.internals.escrows.max(1)
                };
                let completed = if total > 0.0 {
                    ((units as f64) * (done / total)).floor() as i64
                } else {
                    units
                };
                let mut p = SynchronizationProgress::default();
                p.completed_units = completed.clamp(0, units);
                p.total_units = units;
                p.units = Some("Users".into());
                p.progress_observation_date_time = Some(now);
                self.job.status.progress = vec![p];
                return;
            }
            let run = if cycle.full {
                self.full_run(cycle.began, cycle.due)
            } else {
                self.delta_run(cycle.began, cycle.due)
            };
            self.complete(run, cycle.full);
            self.cycle = None;
            self.next_cycle = Some(cycle.due + CYCLE_INTERVAL);
        }
        if let Some(next) = self.next_cycle
            && now >= next
        {
            // Every cycle that came due ran; Graph shows the last one.
            let behind = (now - next).as_seconds_f64();
            let cycles = (behind / CYCLE_INTERVAL.as_secs_f64()).floor() as u32;
            let began = next + CYCLE_INTERVAL * cycles;
            let ended = began + DELTA_CYCLE;
            if now >= ended {
                let run = self.delta_run(began, ended);
                self.complete(run, false);
                self.next_cycle = Some(began + CYCLE_INTERVAL);
            } else {
                self.cycle = Some(Cycle {
                    began,
                    due: ended,
                    full: false,
                });
                self.next_cycle = None;
            }
        }
    }

    /// Begins a cycle now: a full one when there is no watermark.
    fn run_now(&mut self, now: OffsetDateTime, timings: &Timings) {
        let full = !self.internals.watermark;
        let length = if full {
            timings.first_cycle
        } else {
            DELTA_CYCLE
        };
        self.cycle = Some(Cycle {
            began: now,
            due: now + length,
            full,
        });
        self.next_cycle = None;
        self.set_code(if full { Code::NotRun } else { Code::Active });
        self.tick(now);
    }

    fn lift_quarantine(&mut self) {
        let status = &mut self.job.status;
        status.quarantine = None;
        status.count_successive_complete_failures = 0;
        status.troubleshooting_url = None;
    }

    fn is_running(&self) -> bool {
        matches!(self.code(), Code::Active | Code::NotRun)
    }

    /// `start`: resume a paused job where it stopped, lift a quarantine, or
    /// begin the first cycle of a job that never ran. On a running job it
    /// changes nothing but says so: that is the call the service warns
    /// against.
    pub(crate) fn start(&mut self, now: OffsetDateTime, timings: &Timings) -> Effect {
        let before = self.code();
        if self.is_running() {
            return Effect {
                after: before.clone(),
                warning: Some(format!(
                    "start was called on a job that is already running ({before}); the service warns that repeated start calls on a running job can make it stop the job"
                )),
                before,
                detail: None,
            };
        }
        self.lift_quarantine();
        let detail = self.resume(now, timings);
        Effect {
            before,
            after: self.code(),
            detail,
            warning: None,
        }
    }

    /// Carries on from where a pause left off, or begins a cycle.
    fn resume(&mut self, now: OffsetDateTime, timings: &Timings) -> Option<String> {
        if let Some((done, left, full)) = self.paused_cycle.take() {
            self.cycle = Some(Cycle {
                began: now - done,
                due: now + left,
                full,
            });
            self.set_code(if full { Code::NotRun } else { Code::Active });
            self.tick(now);
            return Some(format!(
                "resumed the interrupted cycle with {} s to go",
                left.as_secs()
            ));
        }
        self.run_now(now, timings);
        None
    }

    /// `pause`: stop where the job is; progress and the watermark are kept.
    pub(crate) fn pause(&mut self, now: OffsetDateTime) -> Effect {
        self.tick(now);
        let before = self.code();
        let mut detail = None;
        if let Some(cycle) = self.cycle.take() {
            let done = Duration::try_from(now - cycle.began).unwrap_or_default();
            let left = Duration::try_from(cycle.due - now).unwrap_or_default();
            self.paused_cycle = Some((done, left, cycle.full));
            detail = Some(format!(
                "paused mid-cycle; {} s of it are left for the next start",
                left.as_secs()
            ));
        }
        self.next_cycle = None;
        if before != Code::Paused {
            self.set_code(Code::Paused);
        }
        Effect {
            before,
            after: self.code(),
            detail,
            warning: None,
        }
    }

    /// `restart`: clear what `scope` names and run again. No scope at all
    /// means what the portal's "Restart provisioning" does (quarantine
    /// state, watermark, escrows); `None` clears nothing and starts the job
    /// as start would.
    pub(crate) fn restart(
        &mut self,
        now: OffsetDateTime,
        timings: &Timings,
        scope: Option<&RestartScope>,
    ) -> Effect {
        self.tick(now);
        let before = self.code();
        let portal_default =
            RestartScope::QUARANTINE_STATE | RestartScope::WATERMARK | RestartScope::ESCROWS;
        let scope = scope.cloned().unwrap_or(portal_default);
        let mut cleared = Vec::new();
        let i = &mut self.internals;
        if scope.contains(RestartScope::CONNECTOR_DATA_STORE) {
            i.connector_cache_entries = 0;
            i.watermark = false;
            cleared.push("connector data store".to_owned());
        }
        if scope.contains(RestartScope::ESCROWS) {
            cleared.push(format!("{} escrows", i.escrows));
            i.escrows = 0;
        }
        if scope.contains(RestartScope::WATERMARK) {
            i.watermark = false;
            cleared.push("watermark".to_owned());
        }
        let mut lift = scope.is_none() || scope.contains(RestartScope::QUARANTINE_STATE);
        if scope.contains(RestartScope::FORCE_DELETES) {
            cleared.push(format!("released {} held deletions", i.held_deletions));
            i.released_deletions += i.held_deletions;
            i.held_deletions = 0;
            let too_many_deletes = self
                .job
                .status
                .quarantine
                .as_ref()
                .is_some_and(|q| q.reason == Some(QuarantineReason::TooManyDeletes));
            lift |= too_many_deletes;
        }
        if scope.contains(RestartScope::QUARANTINE_STATE) && self.job.status.quarantine.is_some() {
            cleared.push("quarantine".to_owned());
        }
        if lift {
            self.lift_quarantine();
        }
        // A restart forces reprocessing: an interrupted cycle is dropped and
        // a new one begins, unless the job stays quarantined.
        self.paused_cycle = None;
        if self.job.status.quarantine.is_none() {
            self.run_now(now, timings);
        }
        Effect {
            before,
            after: self.code(),
            detail: Some(format!(
                "resetScope {scope}: {}",
                if cleared.is_empty() {
                    "nothing cleared".to_owned()
                } else {
                    cleared.join(", ")
                }
            )),
            warning: None,
        }
    }

    /// Counts a provisionOnDemand call; `Err` with the seconds to wait when
    /// the job is over the documented limit.
    pub(crate) fn admit_provision_on_demand(&mut self, now: OffsetDateTime) -> Result<(), u64> {
        while self
            .pod_calls
            .front()
            .is_some_and(|t| now - *t >= POD_WINDOW)
        {
            self.pod_calls.pop_front();
        }
        if self.pod_calls.len() >= POD_LIMIT {
            let oldest = self.pod_calls.front().copied().unwrap_or(now);
            let wait = (oldest + POD_WINDOW - now).as_seconds_f64().ceil().max(1.0);
            return Err(wait as u64);
        }
        self.pod_calls.push_back(now);
        Ok(())
    }

    /// The job's internals as the control API shows them.
    pub(crate) fn internals(&self) -> JobInternals {
        JobInternals {
            cycle_in_progress: self.cycle.is_some() || self.paused_cycle.is_some(),
            ..self.internals.clone()
        }
    }

    /// The ids of the rules of the job's schema.
    pub(crate) fn rule_ids(&self) -> Vec<String> {
        self.schema["synchronizationRules"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings() -> Timings {
        Timings {
            first_cycle: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(3599),
            page_size: 100,
        }
    }

    fn job(code: Code) -> JobState {
        JobState::from_seed(
            &JobSeed::new("scim.1", code),
            OffsetDateTime::now_utc(),
            &timings(),
        )
    }

    #[test]
    fn start_moves_paused_and_quarantined_jobs_to_active() {
        for code in [Code::Paused, Code::Quarantine] {
            let mut j = job(code.clone());
            let effect = j.start(OffsetDateTime::now_utc(), &timings());
            assert_eq!(effect.before, code);
            assert_eq!(effect.after, Code::Active);
            assert!(effect.warning.is_none());
            assert!(j.job.status.quarantine.is_none());
            assert_eq!(
                j.job.schedule.state,
                Some(SynchronizationScheduleState::Active)
            );
        }
    }

    #[test]
    fn not_configured_goes_through_not_run_to_active_on_the_clock_with_progress() {
        let now = OffsetDateTime::now_utc();
        let mut j = job(Code::NotConfigured);
        assert_eq!(
            j.job.schedule.interval.as_ref().unwrap().as_str(),
            NEVER_INTERVAL
        );
        let effect = j.start(now, &timings());
        assert_eq!(effect.after, Code::NotRun);
        j.tick(now + Duration::from_secs(30));
        assert_eq!(j.code(), Code::NotRun);
        let p = &j.job.status.progress[0];
        assert_eq!((p.completed_units, p.total_units), (12, 25));
        j.tick(now + Duration::from_secs(60));
        assert_eq!(j.code(), Code::Active);
        assert!(j.job.status.progress.is_empty());
        let last = j.job.status.last_execution.as_ref().unwrap();
        assert_eq!(last.time_ended, Some(now + Duration::from_secs(60)));
        assert_eq!(last.count_exported, 25);
        assert!(j.job.status.steady_state_reached().is_some());
        assert!(j.internals.watermark);
    }

    #[test]
    fn start_on_a_running_job_changes_nothing_but_warns() {
        for code in [Code::Active, Code::NotRun] {
            let mut j = job(code.clone());
            let before = j.job.clone();
            let effect = j.start(OffsetDateTime::now_utc(), &timings());
            assert_eq!(effect.after, code);
            assert!(effect.warning.unwrap().contains("already running"));
            assert_eq!(j.job, before);
        }
    }

    #[test]
    fn pause_keeps_progress_and_start_resumes_it() {
        let now = OffsetDateTime::now_utc();
        let mut j = job(Code::NotConfigured);
        j.start(now, &timings());
        let paused_at = now + Duration::from_secs(40);
        let effect = j.pause(paused_at);
        assert_eq!(effect.after, Code::Paused);
        assert_eq!(j.job.status.progress[0].completed_units, 16);
        // Time passes while paused: nothing moves.
        j.tick(paused_at + Duration::from_secs(3600));
        assert_eq!(j.job.status.progress[0].completed_units, 16);
        let resumed = paused_at + Duration::from_secs(3600);
        j.start(resumed, &timings());
        assert_eq!(j.code(), Code::NotRun);
        j.tick(resumed + Duration::from_secs(19));
        assert_eq!(j.code(), Code::NotRun);
        j.tick(resumed + Duration::from_secs(20));
        assert_eq!(j.code(), Code::Active);
    }

    #[test]
    fn incremental_cycles_run_on_the_interval() {
        let now = OffsetDateTime::now_utc();
        let mut j = job(Code::Active);
        let before = j.job.status.last_execution.clone();
        j.tick(now + CYCLE_INTERVAL * 3 + DELTA_CYCLE * 2);
        let last = j.job.status.last_execution.clone().unwrap();
        assert_ne!(Some(&last), before.as_ref());
        assert_eq!(
            j.job.status.steady_state_last_achieved_time,
            last.time_ended
        );
    }

    #[test]
    fn restart_honours_each_flag() {
        let now = OffsetDateTime::now_utc();
        let seed = JobSeed {
            escrows: 4,
            held_deletions: 7,
            quarantine_reason: Some(QuarantineReason::TooManyDeletes),
            ..JobSeed::new("scim.q", Code::Quarantine)
        };
        // Escrows only: escrows go, the quarantine stays.
        let mut j = JobState::from_seed(&seed, now, &timings());
        let e = j.restart(now, &timings(), Some(&RestartScope::ESCROWS));
        assert_eq!(e.after, Code::Quarantine);
        assert_eq!(j.internals.escrows, 0);
        assert!(j.internals.watermark);
        // ForceDeletes releases held deletions and lifts a TooManyDeletes quarantine.
        let e = j.restart(now, &timings(), Some(&RestartScope::FORCE_DELETES));
        assert_eq!(j.internals.held_deletions, 0);
        assert_eq!(j.internals.released_deletions, 7);
        assert_eq!(e.after, Code::Active);
        // Watermark: the next cycle is a full one.
        let e = j.restart(now, &timings(), Some(&RestartScope::WATERMARK));
        assert!(!j.internals.watermark);
        assert_eq!(e.after, Code::NotRun);
        // No scope: the portal's default lifts a quarantine.
        let mut q = JobState::from_seed(&JobSeed::new("scim.r", Code::Quarantine), now, &timings());
        let e = q.restart(now, &timings(), None);
        assert_eq!(e.after, Code::NotRun);
        assert!(q.job.status.quarantine.is_none());
        // Full clears the connector cache too, but not held deletions.
        let mut f = JobState::from_seed(&seed, now, &timings());
        f.restart(now, &timings(), Some(&RestartScope::FULL));
        assert_eq!(f.internals.connector_cache_entries, 0);
        assert_eq!(f.internals.held_deletions, 7);
        assert!(f.job.status.quarantine.is_none());
    }

    #[test]
    fn provision_on_demand_allows_five_per_ten_seconds() {
        let now = OffsetDateTime::now_utc();
        let mut j = job(Code::Active);
        for _ in 0..POD_LIMIT {
            j.admit_provision_on_demand(now).unwrap();
        }
        assert_eq!(j.admit_provision_on_demand(now), Err(10));
        assert_eq!(
            j.admit_provision_on_demand(now + Duration::from_secs(7)),
            Err(3)
        );
        j.admit_provision_on_demand(now + POD_WINDOW).unwrap();
    }
}
