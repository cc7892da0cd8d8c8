//! One action on many jobs: [`SyncJobsClient::bulk`] starts, pauses or
//! restarts any number of jobs with bounded concurrency, through JSON
//! batches of 20, and yields one [`BulkItem`] per job as each finishes.
//!
//! - **Batched**: each HTTP request carries up to 20 job requests
//!   (`$batch`), so 1,000 jobs take 50 requests rather than 1,000.
//! - **Throttling per item**: Graph throttles items inside a batch one by
//!   one. A throttled item waits for its own `Retry-After` and goes out
//!   again in a later batch with other ready items; the rest of its batch
//!   is done already.
//! - **Safe start**: unless forced, a start reads each job first (batched
//!   too) and starts only those that need it; the [`StartGuard`] skips a job
//!   this process started moments ago, including a job listed twice.
//! - **Lost answers settled**: when a start's or pause's answer is lost (a
//!   504, a dropped connection), the job is read and, if it is in the
//!   target state, reported as done ("verified"); otherwise it is sent once
//!   more. What cannot be settled is reported [`BulkResult::Ambiguous`].
//! - **Bounded memory**: jobs are pulled from the input as capacity frees
//!   up, so a bulk of 100,000 jobs holds only what is in flight.
//!
//! [`StartGuard`]: crate::StartGuard

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use graph_model::batch::{self, BatchItem, BatchRequest, BatchResponse};
use graph_model::{
    JobRef, Request, RestartScope, SynchronizationJob, SynchronizationStatusCode as Code, requests,
};
use graph_transport::{GraphServiceError, HttpResponse};
use tokio::time::Instant;

use crate::safe::needs_start;
use crate::{Error, SyncJobsClient, check_status, decode, outcome_unknown};

/// What to do to every job of a bulk.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkAction {
    /// Start each job that needs it (paused, quarantined, never run or never
    /// configured); with `force`, start each job whatever its state.
    Start {
        /// Start without reading the state first.
        force: bool,
    },
    /// Pause each job.
    Pause,
    /// Restart each job, clearing what `scope` names (`None`: the portal's
    /// default).
    Restart {
        /// The reset scope.
        scope: Option<RestartScope>,
    },
}

impl BulkAction {
    /// The action's name: `start`, `pause` or `restart`.
    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::Start { .. } => "start",
            BulkAction::Pause => "pause",
            BulkAction::Restart { .. } => "restart",
        }
    }
}

/// How a bulk runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BulkOptions {
    /// HTTP requests in flight at once (each a batch of up to 20). Default 16.
    pub concurrency: usize,
    /// Send through `$batch` (default); `false` sends one request per job.
    pub batch: bool,
    /// How many times a throttled item is sent again. Default 5.
    pub max_item_retries: u32,
    /// The longest `Retry-After` an item waits for; a longer one fails the
    /// item. Default 60 s.
    pub max_retry_wait: Duration,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            concurrency: 16,
            batch: true,
            max_item_retries: 5,
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

impl BulkOptions {
    /// Sets the concurrency (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Turns batching on or off.
    pub fn batch(mut self, on: bool) -> Self {
        self.batch = on;
        self
    }
}

/// The result for one job of a bulk.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkItem {
    /// The job's position in the input, from 0.
    pub index: usize,
    /// The job.
    pub job: JobRef,
    /// What happened.
    pub result: BulkResult,
}

/// What happened to one job of a bulk.
#[derive(Debug)]
#[non_exhaustive]
pub enum BulkResult {
    /// The action was applied.
    Succeeded {
        /// The answer's status (204), or 204 when `verified`.
        status: u16,
        /// The service's `request-id` of the answer.
        request_id: Option<String>,
        /// For a safe start: the state before.
        previous: Option<Code>,
        /// The answer was lost and the job was read to confirm the effect.
        verified: bool,
    },
    /// Nothing was sent for this job, on purpose.
    Skipped {
        /// Why.
        reason: SkipReason,
    },
    /// The service refused, or the request could not be made; nothing was
    /// applied.
    Failed {
        /// Why.
        error: Error,
    },
    /// The request may or may not have been applied: its answer was lost
    /// and reading the job could not settle it.
    Ambiguous {
        /// The failure that left it unknown.
        error: Error,
    },
}

impl BulkResult {
    /// One word for the summary: `succeeded`, `skipped`, `failed`, `ambiguous`.
    pub fn kind(&self) -> &'static str {
        match self {
            BulkResult::Succeeded { .. } => "succeeded",
            BulkResult::Skipped { .. } => "skipped",
            BulkResult::Failed { .. } => "failed",
            BulkResult::Ambiguous { .. } => "ambiguous",
        }
    }
}

/// Why a job of a bulk was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The job is running; a start would only risk the service stopping it.
    AlreadyActive,
    /// The job's state is not one a start is meant for.
    NotStartable {
        /// The state.
        state: Option<Code>,
    },
    /// This process started the job moments ago (or it is listed twice).
    StartedRecently,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::AlreadyActive => f.write_str("already active"),
            SkipReason::NotStartable { state } => write!(
                f,
                "state {}",
                state.as_ref().map_or("unknown", |s| s.as_str())
            ),
            SkipReason::StartedRecently => f.write_str("started moments ago by this process"),
        }
    }
}

/// Where a job is in its bulk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Reading the state before a safe start.
    Read,
    /// Sending the action.
    Act,
    /// Reading the job after the action's answer was lost.
    Verify,
}

#[derive(Debug)]
struct Work {
    index: usize,
    job: JobRef,
    stage: Stage,
    /// Throttled sends of the current stage.
    throttled: u32,
    /// The action was sent and its answer lost once already.
    resent: bool,
    /// The start guard was claimed for this job by this work.
    claimed: bool,
    previous: Option<Code>,
}

/// What one item's send came back with.
type Answer = Result<HttpResponse, Error>;

type GroupFuture<'a> = Pin<Box<dyn Future<Output = Vec<(Work, Answer)>> + Send + 'a>>;

struct Engine<'a, I> {
    client: &'a SyncJobsClient,
    action: BulkAction,
    options: BulkOptions,
    input: I,
    input_done: bool,
    next_index: usize,
    ready: VecDeque<Work>,
    /// Throttled work and when it may go out again.
    delayed: Vec<(Instant, Work)>,
    in_flight: FuturesUnordered<GroupFuture<'a>>,
    out: VecDeque<BulkItem>,
}

impl SyncJobsClient {
    /// Applies `action` to every job of `jobs`, yielding one [`BulkItem`]
    /// per job as each finishes (not in input order; see
    /// [`BulkItem::index`]). Jobs are read from `jobs` only as capacity
    /// frees up. See the [module docs](crate::bulk) for how it batches,
    /// retries and settles lost answers.
    ///
    /// ```no_run
    /// # async fn run(jobs: sync_jobs::SyncJobsClient, targets: Vec<graph_model::JobRef>) {
    /// use futures_util::StreamExt;
    /// use sync_jobs::{BulkAction, BulkOptions, BulkResult};
    ///
    /// let mut results = std::pin::pin!(jobs.bulk(
    ///     BulkAction::Start { force: false },
    ///     targets,
    ///     BulkOptions::default(),
    /// ));
    /// while let Some(item) = results.next().await {
    ///     if let BulkResult::Failed { error } = &item.result {
    ///         eprintln!("{}: {error}", item.job);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn bulk<'a, I>(
        &'a self,
        action: BulkAction,
        jobs: I,
        options: BulkOptions,
    ) -> impl Stream<Item = BulkItem> + Send + 'a
    where
        I: IntoIterator<Item = JobRef>,
        I::IntoIter: Send + 'a,
    {
        let engine = Engine {
            client: self,
            action,
            options,
            input: jobs.into_iter(),
            input_done: false,
            next_index: 0,
            ready: VecDeque::new(),
            delayed: Vec::new(),
            in_flight: FuturesUnordered::new(),
            out: VecDeque::new(),
        };
        futures_util::stream::unfold(engine, |mut engine| async move {
            let item = engine.next_item().await?;
            Some((item, engine))
        })
    }
}

impl<'a, I: Iterator<Item = JobRef> + Send + 'a> Engine<'a, I> {
    fn group_size(&self) -> usize {
        if self.options.batch {
            batch::MAX_BATCH_REQUESTS
        } else {
            1
        }
    }

    async fn next_item(&mut self) -> Option<BulkItem> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            self.promote_delayed();
            self.dispatch();
            if !self.out.is_empty() {
                continue;
            }
            let earliest = self.delayed.iter().map(|(at, _)| *at).min();
            if self.in_flight.is_empty() {
                match earliest {
                    Some(at) => {
                        tokio::time::sleep_until(at).await;
                        continue;
                    }
                    None if self.ready.is_empty() && self.input_done => return None,
                    None => continue,
                }
            }
            // Wait for a batch to come back, or for a throttled item's
            // wait to end while there is room to send it.
            let room = self.in_flight.len() < self.options.concurrency;
            match earliest.filter(|_| room) {
                Some(at) => {
                    let sleep = std::pin::pin!(tokio::time::sleep_until(at));
                    let next = self.in_flight.next();
                    if let futures_util::future::Either::Left((Some(done), _)) =
                        futures_util::future::select(next, sleep).await
                    {
                        self.absorb(done);
                    }
                }
                None => {
                    if let Some(done) = self.in_flight.next().await {
                        self.absorb(done);
                    }
                }
            }
        }
    }

    /// Moves throttled items whose wait is over to the ready queue.
    fn promote_delayed(&mut self) {
        if self.delayed.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut i = 0;
        while i < self.delayed.len() {
            if self.delayed[i].0 <= now {
                let (_, w) = self.delayed.swap_remove(i);
                self.ready.push_back(w);
            } else {
                i += 1;
            }
        }
    }

    /// The next job from the input, at its first stage.
    fn pull(&mut self) -> Option<Work> {
        if self.input_done {
            return None;
        }
        let Some(job) = self.input.next() else {
            self.input_done = true;
            return None;
        };
        let index = self.next_index;
        self.next_index += 1;
        let stage = match self.action {
            BulkAction::Start { force: false } => Stage::Read,
            _ => Stage::Act,
        };
        Some(Work {
            index,
            job,
            stage,
            throttled: 0,
            resent: false,
            claimed: false,
            previous: None,
        })
    }

    /// Fills the free request slots with groups of ready work.
    ///
    /// A group smaller than a full batch goes out only when nothing is in
    /// flight: otherwise an answer still to come may bring work to fill it,
    /// and a full batch costs one request where two partial ones cost two.
    fn dispatch(&mut self) {
        while self.in_flight.len() < self.options.concurrency {
            let size = self.group_size();
            if self.ready.len() < size && self.input_done && !self.in_flight.is_empty() {
                return;
            }
            let mut group: Vec<(Work, Request)> = Vec::with_capacity(size);
            while group.len() < size {
                let Some(work) = self.ready.pop_front().or_else(|| self.pull()) else {
                    break;
                };
                if let Some(entry) = self.prepare(work) {
                    group.push(entry);
                }
            }
            if group.is_empty() {
                return;
            }
            let client = self.client;
            let batched = self.options.batch && group.len() > 1;
            let version = client.version();
            self.in_flight.push(Box::pin(async move {
                if batched {
                    send_batch(client, version, group).await
                } else {
                    let mut done = Vec::with_capacity(group.len());
                    for (work, request) in group {
                        let answer = client
                            .graph()
                            .send(&request)
                            .await
                            .map_err(|e| client.map_error(request.operation, e));
                        done.push((work, answer));
                    }
                    done
                }
            }));
        }
    }

    /// The request for `work`'s stage, or `None` when the work ended here
    /// (its result is queued).
    fn prepare(&mut self, mut work: Work) -> Option<(Work, Request)> {
        let client = self.client;
        let version = client.version();
        let request = match (work.stage, &self.action) {
            (Stage::Read | Stage::Verify, _) => Ok(requests::get_job(&work.job, version)),
            (Stage::Act, BulkAction::Start { .. }) => {
                // Claimed once, before the first send, so the same job
                // listed twice is started once; a resend keeps the claim.
                if !work.claimed {
                    if client.start_guard().claim(&work.job).is_err() {
                        self.finish(
                            work,
                            BulkResult::Skipped {
                                reason: SkipReason::StartedRecently,
                            },
                        );
                        return None;
                    }
                    work.claimed = true;
                }
                requests::start(&work.job, version, &[])
            }
            (Stage::Act, BulkAction::Pause) => {
                client.start_guard().forget(&work.job);
                Ok(requests::pause(&work.job, version))
            }
            (Stage::Act, BulkAction::Restart { scope }) => {
                requests::restart(&work.job, version, scope.clone())
            }
        };
        match request {
            Ok(r) => Some((work, client.prepare_request(r))),
            Err(e) => {
                self.finish(work, BulkResult::Failed { error: e.into() });
                None
            }
        }
    }

    fn finish(&mut self, work: Work, result: BulkResult) {
        if work.stage == Stage::Act
            && matches!(self.action, BulkAction::Start { .. })
            && matches!(result, BulkResult::Failed { .. })
        {
            // Refused: nothing started, so a later start is not refused.
            self.client.start_guard().forget(&work.job);
        }
        self.out.push_back(BulkItem {
            index: work.index,
            job: work.job,
            result,
        });
    }

    fn absorb(&mut self, done: Vec<(Work, Answer)>) {
        for (work, answer) in done {
            self.settle(work, answer);
        }
    }

    /// Decides what an answer means for its work: done, next stage, or
    /// another try.
    fn settle(&mut self, mut work: Work, answer: Answer) {
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                if let Some(wait) = self.throttle_wait(&work, &e) {
                    work.throttled += 1;
                    self.delayed.push((Instant::now() + wait, work));
                    return;
                }
                return self.settle_error(work, e);
            }
        };
        let operation = work.stage_operation(&self.action);
        if let Err(error) = check_status(operation, &response) {
            return self.finish(work, BulkResult::Failed { error });
        }
        match work.stage {
            Stage::Act => {
                let result = BulkResult::Succeeded {
                    status: response.status.as_u16(),
                    request_id: response.request_id().map(str::to_owned),
                    previous: work.previous.clone(),
                    verified: false,
                };
                self.finish(work, result);
            }
            Stage::Read | Stage::Verify => {
                let job: SynchronizationJob = match decode(operation, &response) {
                    Ok(j) => j,
                    Err(error) => return self.finish(work, BulkResult::Failed { error }),
                };
                let code = job.status.code;
                if work.stage == Stage::Read {
                    work.previous = code.clone();
                    if code == Some(Code::Active) {
                        return self.finish(
                            work,
                            BulkResult::Skipped {
                                reason: SkipReason::AlreadyActive,
                            },
                        );
                    }
                    if !needs_start(code.as_ref()) {
                        return self.finish(
                            work,
                            BulkResult::Skipped {
                                reason: SkipReason::NotStartable { state: code },
                            },
                        );
                    }
                    work.stage = Stage::Act;
                    work.throttled = 0;
                    self.ready.push_back(work);
                    return;
                }
                // Verify: in the target state means the lost answer was a
                // success; otherwise send the action once more.
                let reached = match self.action {
                    BulkAction::Start { .. } => matches!(code, Some(Code::Active | Code::NotRun)),
                    BulkAction::Pause => code == Some(Code::Paused),
                    BulkAction::Restart { .. } => false,
                };
                if reached {
                    let previous = work.previous.clone();
                    self.finish(
                        work,
                        BulkResult::Succeeded {
                            status: 204,
                            request_id: None,
                            previous,
                            verified: true,
                        },
                    );
                } else {
                    work.stage = Stage::Act;
                    work.resent = true;
                    work.throttled = 0;
                    self.ready.push_back(work);
                }
            }
        }
    }

    fn settle_error(&mut self, mut work: Work, error: Error) {
        if !outcome_unknown(&error) {
            return self.finish(work, BulkResult::Failed { error });
        }
        match (work.stage, &self.action) {
            // A lost read is harmless: read again, within the retry limit.
            (Stage::Read | Stage::Verify, _) if work.throttled < self.options.max_item_retries => {
                work.throttled += 1;
                self.ready.push_back(work);
            }
            // A lost start or pause: read the job to settle it, once.
            (Stage::Act, BulkAction::Start { .. } | BulkAction::Pause) if !work.resent => {
                work.stage = Stage::Verify;
                work.throttled = 0;
                self.ready.push_back(work);
            }
            _ => self.finish(work, BulkResult::Ambiguous { error }),
        }
    }

    /// How long a throttled item waits before it is sent again, or `None`
    /// when the failure is not throttling or the item has waited enough.
    fn throttle_wait(&self, work: &Work, e: &Error) -> Option<Duration> {
        let service = e.service_error()?;
        let status = service.status.as_u16();
        // Inside a batch the pipeline does not see the item's status, so the
        // item's 429 or 503 lands here; a single request's was retried by
        // the pipeline already.
        if !matches!(status, 429 | 503) || work.throttled >= self.options.max_item_retries {
            return None;
        }
        let wait = service
            .retry_after
            .unwrap_or_else(|| Duration::from_secs(1u64 << work.throttled.min(5)));
        (wait <= self.options.max_retry_wait).then_some(wait)
    }
}

impl Work {
    fn stage_operation(&self, action: &BulkAction) -> &'static graph_model::Operation {
        use graph_model::operations as ops;
        match (self.stage, action) {
            (Stage::Read | Stage::Verify, _) => &ops::GET_JOB,
            (Stage::Act, BulkAction::Start { .. }) => &ops::START,
            (Stage::Act, BulkAction::Pause) => &ops::PAUSE,
            (Stage::Act, BulkAction::Restart { .. }) => &ops::RESTART,
        }
    }
}

/// Sends a group as one `$batch` and pairs each work with its item's
/// answer. A batch that fails as a whole gives every item that failure.
async fn send_batch(
    client: &SyncJobsClient,
    version: graph_model::ApiVersion,
    group: Vec<(Work, Request)>,
) -> Vec<(Work, Answer)> {
    let mut items = Vec::with_capacity(group.len());
    let mut works = Vec::with_capacity(group.len());
    let mut done = Vec::new();
    for (work, request) in group {
        match BatchItem::from_request(work.index.to_string(), &request) {
            Ok(item) => {
                items.push(item);
                works.push((work, request));
            }
            Err(e) => done.push((work, Err(Error::Request(e)))),
        }
    }
    if items.is_empty() {
        return done;
    }
    let request = match batch::request(version, &BatchRequest::new(items)) {
        Ok(r) => client.prepare_request(r),
        Err(e) => {
            let reason = e.to_string();
            done.extend(
                works
                    .into_iter()
                    .map(|(w, _)| (w, Err(batch_error(reason.clone(), None, false)))),
            );
            return done;
        }
    };
    let mut answers = match client.graph().send(&request).await {
        Ok(response) => match read_batch(&response) {
            Ok(map) => map,
            Err(reason) => {
                // An unreadable 200: the items may have been applied.
                done.extend(
                    works
                        .into_iter()
                        .map(|(w, _)| (w, Err(batch_error(reason.clone(), None, true)))),
                );
                return done;
            }
        },
        Err(e) => {
            let applied = e.request_may_have_been_sent() && e.service_error().is_none()
                || e.service_error().is_some_and(|s| s.status.as_u16() == 504);
            let shared = Arc::new(e);
            done.extend(works.into_iter().map(|(w, _)| {
                (
                    w,
                    Err(batch_error(
                        "the $batch request failed".into(),
                        Some(shared.clone()),
                        applied,
                    )),
                )
            }));
            return done;
        }
    };
    for (work, request) in works {
        let answer = match answers.remove(&work.index.to_string()) {
            Some(response) if response.status.is_success() => Ok(response),
            Some(response) => {
                let cri = request
                    .headers
                    .get(&graph_transport::CLIENT_REQUEST_ID)
                    .and_then(|v| v.to_str().ok());
                Err(client.map_error(
                    request.operation,
                    graph_transport::Error::Service(Box::new(GraphServiceError::from_response(
                        &response, cri,
                    ))),
                ))
            }
            // Graph answers every item; a missing one may or may not have
            // been applied.
            None => Err(batch_error(
                "the batch answer has no response for this request".into(),
                None,
                true,
            )),
        };
        done.push((work, answer));
    }
    done
}

fn batch_error(
    reason: String,
    source: Option<Arc<graph_transport::Error>>,
    may_have_been_applied: bool,
) -> Error {
    Error::Batch {
        reason,
        source,
        may_have_been_applied,
    }
}

/// Reads a batch answer into item answers by id.
fn read_batch(response: &HttpResponse) -> Result<HashMap<String, HttpResponse>, String> {
    let parsed: BatchResponse = serde_json::from_slice(&response.body)
        .map_err(|e| format!("the batch answer is not readable: {e}"))?;
    Ok(parsed
        .responses
        .into_iter()
        .map(|item| {
            let (status, headers, body) = item.to_parts();
            (item.id, HttpResponse::new(status, headers, body))
        })
        .collect())
}
