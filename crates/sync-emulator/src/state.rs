//! The emulated tenant: jobs and their state machine, issued tokens, the
//! virtual clock, and the log of applied actions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use graph_model::time::OffsetDateTime;
use graph_model::{JobOwner, SynchronizationSecretKeyStringValuePair};
use serde::Serialize;

use crate::fault::FaultOptions;
pub(crate) use crate::job::JobState;
use crate::seed::{ClientSeed, ManagedIdentitySeed, Seed, roles};

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
        let now = self.time_start + self.real_start.elapsed() + self.offset;
        // Graph's timestamps have 100 ns resolution (7 fractional digits).
        let nanos = now.nanosecond();
        now.replace_nanosecond(nanos - nanos % 100).unwrap_or(now)
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
    /// The job id; empty for actions on the owner (secrets, validate
    /// without a job).
    pub job_id: String,
    /// The client (app) that called.
    pub client_id: String,
    /// The job's status before.
    pub status_before: String,
    /// The job's status after.
    pub status_after: String,
    /// What the action changed beyond the status, e.g. the flags a restart
    /// cleared.
    pub detail: Option<String>,
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
pub(crate) struct ServicePrincipalState {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) application_id: String,
    pub(crate) display_name: String,
    pub(crate) jobs: Vec<JobState>,
    pub(crate) templates: Vec<String>,
    pub(crate) secrets: Vec<SynchronizationSecretKeyStringValuePair>,
}

/// Timings of the emulated service.
#[derive(Clone, Debug)]
pub(crate) struct Timings {
    pub(crate) first_cycle: Duration,
    pub(crate) token_lifetime: Duration,
    pub(crate) page_size: usize,
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
    pub(crate) faults: FaultOptions,
    pub(crate) managed_identities: Vec<ManagedIdentitySeed>,
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
    /// Faults injected (see [`FaultOptions`](crate::FaultOptions)).
    pub faults_injected: u64,
    /// `$batch` requests served (each also counts in `graph_requests`).
    pub batch_requests: u64,
    /// Requests carried inside batches.
    pub batched_items: u64,
}

/// Read or write access, for the permission check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
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
                templates: sp.template_ids(),
                secrets: Vec::new(),
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
            faults: FaultOptions::none(),
            managed_identities: seed.managed_identities.clone(),
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

    /// Issues an access token for `client`: a JWT with the claims an Entra
    /// app-only token for Graph carries (`tid`, `appid`, `roles`, `exp`…), so
    /// tools can show who they are signed in as. Its signature is random:
    /// the emulator recognises its tokens by looking them up, and nothing
    /// outside it should trust them.
    pub(crate) fn issue_token(&mut self, client: &ClientSeed) -> (String, Duration) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let lifetime = self.timings.token_lifetime;
        let now = self.clock.now().unix_timestamp();
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": "graphsync-emulator"});
        let claims = serde_json::json!({
            "aud": "00000003-0000-0000-c000-000000000000",
            "iss": format!("https://sts.windows.net/{}/", self.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime.as_secs() as i64,
            "tid": self.tenant_id,
            "appid": client.client_id,
            "azp": client.client_id,
            "idtyp": "app",
            "roles": client.roles,
            "uti": uuid::Uuid::new_v4().simple().to_string(),
        });
        let token = format!(
            "{}.{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string()),
            b64.encode(uuid::Uuid::new_v4().as_bytes()),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_ticks_in_graphs_100_ns_units() {
        let mut clock = VirtualClock::new();
        for _ in 0..50 {
            assert_eq!(clock.now().nanosecond() % 100, 0);
            clock.advance(Duration::from_nanos(37)).unwrap();
        }
    }
}
