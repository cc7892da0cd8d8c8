//! The emulated tenant: jobs and their state machine, issued tokens, the
//! virtual clock, and the log of applied actions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use graph_model::time::OffsetDateTime;
use graph_model::{
    IsoDuration, JobOwner, KeyValuePair, QuarantineReason, SynchronizationError,
    SynchronizationJob, SynchronizationQuarantine, SynchronizationSchedule,
    SynchronizationScheduleState, SynchronizationStatus, SynchronizationStatusCode,
    SynchronizationTaskExecution, SynchronizationTaskExecutionResult,
};
use serde::Serialize;

use crate::seed::{ClientSeed, JobSeed, Seed, roles};

/// The interval of a disabled job: .NET's `TimeSpan.MaxValue`, as Graph sends it.
pub(crate) const NEVER_INTERVAL: &str = "P10675199DT2H48M5.4775807S";
/// The default interval of a running job (Entra's provisioning cycle).
pub(crate) const ACTIVE_INTERVAL: &str = "PT40M";

/// A clock that runs with real time and can be pushed forward, so tests of
/// "wait until the job is active" do not sleep.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    real_start: Instant,
    time_start: OffsetDateTime,
    offset: Duration,
}

impl VirtualClock {
    pub(crate) fn new() -> Self {
        VirtualClock {
            real_start: Instant::now(),
            time_start: OffsetDateTime::now_utc(),
            offset: Duration::ZERO,
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.time_start + self.real_start.elapsed() + self.offset
    }

    /// Moves the clock forward by `by`.
    ///
    /// # Errors
    /// When the clock would pass [`MAX_CLOCK_OFFSET`] ahead of real time;
    /// the clock is then unchanged.
    pub(crate) fn advance(&mut self, by: Duration) -> Result<(), ClockError> {
        let offset = self
            .offset
            .checked_add(by)
            .filter(|o| *o <= MAX_CLOCK_OFFSET)
            .ok_or(ClockError { requested: by })?;
        self.offset = offset;
        Ok(())
    }
}

/// How far ahead of real time the virtual clock may run: 100 years, which
/// keeps every date the emulator computes far inside the representable range.
pub const MAX_CLOCK_OFFSET: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The virtual clock cannot move that far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot advance the clock by {requested:?}: it may run at most 100 years ahead")]
pub struct ClockError {
    /// The advance that was asked for.
    pub requested: Duration,
}

/// One action the emulator applied (or accepted), in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ActionRecord {
    /// 1, 2, 3… in the order the emulator applied them.
    pub sequence: u64,
    /// The virtual time of the action (RFC 3339).
    pub time: String,
    /// The Graph action, e.g. `start`.
    pub action: String,
    /// `v1.0` or `beta`.
    pub api_version: String,
    /// The object id of the service principal that owns the job.
    pub service_principal_id: String,
    /// How the request named the owner: `servicePrincipals`,
    /// `servicePrincipals(appId)` or `applications`.
    pub addressed_as: String,
    /// The job id.
    pub job_id: String,
    /// The client (app) that called.
    pub client_id: String,
    /// The job's status before.
    pub status_before: String,
    /// The job's status after.
    pub status_after: String,
    /// Set when the call was accepted but is one the service warns against
    /// (start on a running job).
    pub warning: Option<String>,
    /// The `request-id` the emulator answered with.
    pub request_id: String,
    /// The `client-request-id` of the call.
    pub client_request_id: String,
}

#[derive(Debug)]
pub(crate) struct TokenInfo {
    pub(crate) client_id: String,
    pub(crate) roles: Vec<String>,
    pub(crate) owned_applications: Vec<String>,
    pub(crate) expires: OffsetDateTime,
}

#[derive(Debug)]
pub(crate) struct JobState {
    pub(crate) job: SynchronizationJob,
    /// When a NotRun job's first cycle completes.
    first_cycle_due: Option<OffsetDateTime>,
    first_cycle_began: Option<OffsetDateTime>,
}

#[derive(Debug)]
pub(crate) struct ServicePrincipalState {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) application_id: String,
    pub(crate) display_name: String,
    pub(crate) jobs: Vec<JobState>,
}

/// Timings of the emulated service.
#[derive(Clone, Debug)]
pub(crate) struct Timings {
    pub(crate) first_cycle: Duration,
    pub(crate) token_lifetime: Duration,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) tenant_id: String,
    pub(crate) clients: Vec<ClientSeed>,
    pub(crate) service_principals: Vec<ServicePrincipalState>,
    pub(crate) tokens: HashMap<String, TokenInfo>,
    pub(crate) actions: Vec<ActionRecord>,
    pub(crate) stats: Stats,
    pub(crate) clock: VirtualClock,
    pub(crate) timings: Timings,
}

/// Counts of the requests the emulator has served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Requests to the token endpoint, successful or not.
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Requests to Graph routes (`/v1.0/…`, `/beta/…`), whatever the answer.
    pub graph_requests: u64,
}

/// Read or write access, for the permission check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// What `start` did to a job.
#[derive(Debug)]
pub(crate) struct StartEffect {
    pub(crate) before: SynchronizationStatusCode,
    pub(crate) after: SynchronizationStatusCode,
    pub(crate) warning: Option<String>,
}

impl State {
    pub(crate) fn new(seed: &Seed, timings: Timings) -> Self {
        let clock = VirtualClock::new();
        let now = clock.now();
        let service_principals = seed
            .service_principals
            .iter()
            .map(|sp| ServicePrincipalState {
                id: sp.id.clone(),
                app_id: sp.app_id.clone(),
                application_id: sp.application_id.clone(),
                display_name: sp.display_name.clone(),
                jobs: sp
                    .jobs
                    .iter()
                    .map(|j| JobState::from_seed(j, now, &timings))
                    .collect(),
            })
            .collect();
        State {
            tenant_id: seed.tenant_id.clone(),
            clients: seed.clients.clone(),
            service_principals,
            tokens: HashMap::new(),
            actions: Vec::new(),
            stats: Stats::default(),
            clock,
            timings,
        }
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&ClientSeed> {
        self.clients
            .iter()
            .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The index of the service principal `owner` names.
    pub(crate) fn find_owner(&self, owner: &JobOwner) -> Option<usize> {
        self.service_principals.iter().position(|sp| match owner {
            JobOwner::ServicePrincipal(id) => sp.id.eq_ignore_ascii_case(id),
            JobOwner::ServicePrincipalAppId(id) => sp.app_id.eq_ignore_ascii_case(id),
            JobOwner::Application(id) => sp.application_id.eq_ignore_ascii_case(id),
            _ => false,
        })
    }

    /// Advances every job whose state depends on time.
    pub(crate) fn tick(&mut self) {
        let now = self.clock.now();
        for sp in &mut self.service_principals {
            for job in &mut sp.jobs {
                job.tick(now);
            }
        }
    }

    pub(crate) fn issue_token(&mut self, client: &ClientSeed) -> (String, Duration) {
        let token = format!(
            "emu.{}.{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let lifetime = self.timings.token_lifetime;
        self.stats.tokens_issued += 1;
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                client_id: client.client_id.clone(),
                roles: client.roles.clone(),
                owned_applications: client.owned_applications.clone(),
                expires: self.clock.now() + lifetime,
            },
        );
        (token, lifetime)
    }

    pub(crate) fn record(&mut self, mut record: ActionRecord) -> &ActionRecord {
        record.sequence = self.actions.len() as u64 + 1;
        self.actions.push(record);
        &self.actions[self.actions.len() - 1]
    }
}

/// Whether a token's roles allow `access` to jobs of `application_id`.
pub(crate) fn authorized(token: &TokenInfo, access: Access, application_id: &str) -> bool {
    let has = |role: &str| token.roles.iter().any(|r| r.eq_ignore_ascii_case(role));
    if has(roles::SYNC_READ_WRITE_ALL) {
        return true;
    }
    if access == Access::Read && has(roles::SYNC_READ_ALL) {
        return true;
    }
    has(roles::APP_READ_WRITE_OWNED_BY)
        && token
            .owned_applications
            .iter()
            .any(|a| a.eq_ignore_ascii_case(application_id))
}

fn interval(text: &str) -> Option<IsoDuration> {
    text.parse().ok()
}

/// Graph's "never": 0001-01-01T00:00:00Z.
const NEVER: OffsetDateTime = time::macros::datetime!(0001-01-01 0:00 UTC);

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

impl JobState {
    fn from_seed(seed: &JobSeed, now: OffsetDateTime, timings: &Timings) -> Self {
        use SynchronizationStatusCode as Code;
        let mut job = SynchronizationJob::new(seed.id.clone());
        job.template_id = Some(seed.template_id().to_owned());
        job.synchronization_job_settings = vec![
            KeyValuePair::new("QuarantineTooManyDeletesThreshold", "500"),
            KeyValuePair::new("Domain", "{\"Value\":\"\",\"Version\":\"1\"}"),
        ];
        let mut schedule = SynchronizationSchedule::default();
        schedule.interval = interval(ACTIVE_INTERVAL);
        let mut status = SynchronizationStatus::default();
        status.code = Some(seed.status.clone());
        status.steady_state_first_achieved_time = Some(NEVER);
        status.steady_state_last_achieved_time = Some(NEVER);

        let past_run = |hours_ago: i64, result, error| {
            let began = now - graph_model::time::Duration::hours(hours_ago);
            execution(
                began,
                began + graph_model::time::Duration::minutes(3),
                result,
                error,
            )
        };
        let mut state = JobState {
            job,
            first_cycle_due: None,
            first_cycle_began: None,
        };
        match &seed.status {
            Code::NotConfigured => {
                schedule.interval = interval(NEVER_INTERVAL);
                schedule.state = Some(SynchronizationScheduleState::Disabled);
            }
            Code::NotRun => {
                schedule.state = Some(SynchronizationScheduleState::Active);
                state.first_cycle_began = Some(now);
                state.first_cycle_due = Some(now + timings.first_cycle);
            }
            Code::Active | Code::Paused => {
                schedule.state = Some(if seed.status == Code::Active {
                    SynchronizationScheduleState::Active
                } else {
                    SynchronizationScheduleState::Paused
                });
                let run = past_run(1, SynchronizationTaskExecutionResult::Succeeded, None);
                status.steady_state_first_achieved_time =
                    Some(now - graph_model::time::Duration::days(7));
                status.steady_state_last_achieved_time = run.time_ended;
                status.last_execution = Some(run.clone());
                status.last_successful_execution = Some(run.clone());
                status.last_successful_execution_with_exports = Some(run);
            }
            _ => {
                // Quarantine, or a member this emulator does not know: a
                // quarantined job that tried and failed.
                schedule.state = Some(SynchronizationScheduleState::Active);
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
                q.current_began = Some(now - graph_model::time::Duration::hours(1));
                q.series_began = q.current_began;
                q.next_attempt = Some(now + graph_model::time::Duration::hours(11));
                q.reason = Some(
                    seed.quarantine_reason
                        .clone()
                        .unwrap_or(QuarantineReason::EncounteredQuarantineException),
                );
                q.series_count = 1;
                q.error = Some(error.clone());
                status.quarantine = Some(q);
                status.count_successive_complete_failures = 1;
                status.last_execution = Some(past_run(
                    1,
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

    pub(crate) fn code(&self) -> SynchronizationStatusCode {
        self.job
            .status
            .code
            .clone()
            .unwrap_or(SynchronizationStatusCode::NotConfigured)
    }

    fn tick(&mut self, now: OffsetDateTime) {
        let (Some(due), Some(began)) = (self.first_cycle_due, self.first_cycle_began) else {
            return;
        };
        if self.code() != SynchronizationStatusCode::NotRun || now < due {
            return;
        }
        let run = execution(
            began,
            due,
            SynchronizationTaskExecutionResult::Succeeded,
            None,
        );
        let status = &mut self.job.status;
        status.code = Some(SynchronizationStatusCode::Active);
        if status
            .steady_state_first_achieved_time
            .is_none_or(|t| t.year() <= 1)
        {
            status.steady_state_first_achieved_time = Some(due);
        }
        status.steady_state_last_achieved_time = Some(due);
        status.last_execution = Some(run.clone());
        status.last_successful_execution = Some(run);
        self.first_cycle_due = None;
        self.first_cycle_began = None;
    }

    /// `start`: resume a paused job, lift a quarantine, or begin the first
    /// cycle of a job that never ran. On a running job it changes nothing,
    /// but says so: that is the call the service warns against.
    pub(crate) fn start(&mut self, now: OffsetDateTime, timings: &Timings) -> StartEffect {
        use SynchronizationStatusCode as Code;
        let before = self.code();
        let mut warning = None;
        match &before {
            Code::Active | Code::NotRun => {
                warning = Some(format!(
                    "start was called on a job that is already running ({before}); the service warns that repeated start calls on a running job can make it stop the job"
                ));
            }
            Code::NotConfigured => {
                self.job.status.code = Some(Code::NotRun);
                self.job.schedule.state = Some(SynchronizationScheduleState::Active);
                self.job.schedule.interval = interval(ACTIVE_INTERVAL);
                self.first_cycle_began = Some(now);
                self.first_cycle_due = Some(now + timings.first_cycle);
            }
            _ => {
                // Paused, Quarantine (and anything unknown): resume.
                self.job.status.code = Some(Code::Active);
                self.job.status.quarantine = None;
                self.job.status.count_successive_complete_failures = 0;
                self.job.status.troubleshooting_url = None;
                self.job.schedule.state = Some(SynchronizationScheduleState::Active);
                if self
                    .job
                    .schedule
                    .interval
                    .as_ref()
                    .is_none_or(|i| i.as_str() == NEVER_INTERVAL)
                {
                    self.job.schedule.interval = interval(ACTIVE_INTERVAL);
                }
            }
        }
        StartEffect {
            before,
            after: self.code(),
            warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SynchronizationStatusCode as Code;

    fn timings() -> Timings {
        Timings {
            first_cycle: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(3599),
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
    fn not_configured_goes_through_not_run_to_active_on_the_clock() {
        let now = OffsetDateTime::now_utc();
        let mut j = job(Code::NotConfigured);
        assert_eq!(
            j.job.schedule.interval.as_ref().unwrap().as_str(),
            NEVER_INTERVAL
        );
        let effect = j.start(now, &timings());
        assert_eq!(effect.after, Code::NotRun);
        j.tick(now + Duration::from_secs(59));
        assert_eq!(j.code(), Code::NotRun);
        j.tick(now + Duration::from_secs(60));
        assert_eq!(j.code(), Code::Active);
        let last = j.job.status.last_execution.as_ref().unwrap();
        assert_eq!(last.time_ended, Some(now + Duration::from_secs(60)));
        assert!(j.job.status.steady_state_reached().is_some());
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
}
