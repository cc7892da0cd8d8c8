//! `start`, `pause`, `restart` and `watch`: one job or many.
//!
//! One job: start reads it first and starts it only if it needs it
//! (`--force` starts whatever the state); `--wait` follows it to a target
//! state. Many jobs (`--job` repeated, `--from`, `--all`): the bulk API,
//! batched 20 per request, with a progress bar and a summary.

use std::io::{BufRead as _, IsTerminal, Write as _};
use std::time::Duration;

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use graph_model::{JobRef, SynchronizationJob, SynchronizationStatusCode as Code, requests};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use sync_jobs::{
    BulkAction, BulkItem, BulkOptions, BulkResult, SafeStart, StartOptions, SyncJobsClient,
};

use crate::actions::{Ctx, Output, failed, print_json, usage};
use crate::config::Conn;
use crate::table::Table;
use crate::targets::JobTargets;
use crate::{EXIT_AMBIGUOUS, EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE};

/// `--confirm` and `--yes`.
#[derive(Debug, Args, Default)]
pub(crate) struct ConfirmFlags {
    /// Ask before sending (y/N). Without a terminal to ask on, refuses
    /// unless --yes is given too.
    #[arg(long)]
    pub(crate) confirm: bool,
    /// Answer yes to --confirm.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

impl ConfirmFlags {
    /// `Ok` to go ahead; `Err(exit status)` when not confirmed.
    pub(crate) fn check(&self, question: &str) -> Result<(), u8> {
        if !self.confirm || self.yes {
            return Ok(());
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            eprintln!(
                "error: --confirm needs a terminal to ask on; add --yes to go ahead without asking"
            );
            return Err(EXIT_USAGE);
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return Err(EXIT_USAGE);
        }
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            eprintln!("not confirmed; nothing was sent");
            Err(EXIT_FAILED)
        }
    }
}

/// The state `--wait` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Until {
    /// The job is running (Active).
    Active,
    /// The job is running and has reached steady state again.
    Steady,
    /// The job is paused.
    Paused,
}

/// `--wait` and its limits.
#[derive(Debug, Args)]
pub(crate) struct WaitFlags {
    /// Follow the job until it reaches --until, showing its progress; exits
    /// non-zero if it lands in quarantine.
    #[arg(long)]
    pub(crate) wait: bool,
    /// The state to wait for (default: active for start and restart, paused
    /// for pause).
    #[arg(long, value_enum, requires = "wait")]
    pub(crate) until: Option<Until>,
    /// Give up waiting after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub(crate) timeout: f64,
    /// Seconds between reads of the job.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub(crate) interval: f64,
}

/// Flags of the commands that act on jobs.
#[derive(Debug, Args)]
pub(crate) struct ActFlags {
    /// Show the request(s) that would be sent (token redacted) and send nothing.
    #[arg(long)]
    pub(crate) what_if: bool,
    #[command(flatten)]
    pub(crate) confirm: ConfirmFlags,
    /// Print `true` on success.
    #[arg(long)]
    pub(crate) pass_thru: bool,
    /// How to print the result (ndjson: one line per job).
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub(crate) output: Output,
    /// With many jobs: requests in flight at once (each carries up to 20 jobs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) concurrency: Option<u16>,
    /// With many jobs: one request per job instead of JSON batches.
    #[arg(long)]
    pub(crate) no_batch: bool,
    #[command(flatten)]
    pub(crate) wait: WaitFlags,
}

#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    pub(crate) targets: JobTargets,
    /// Start even a job that is running (not recommended: the service
    /// warns that repeated starts of a running job can make it stop).
    #[arg(long)]
    pub(crate) force: bool,
    /// The client-request-id to send (default: a fresh UUID).
    #[arg(long, value_name = "ID")]
    pub(crate) client_request_id: Option<String>,
    #[command(flatten)]
    pub(crate) flags: ActFlags,
}

#[derive(Debug, Args)]
pub(crate) struct PauseArgs {
    #[command(flatten)]
    pub(crate) targets: JobTargets,
    #[command(flatten)]
    pub(crate) flags: ActFlags,
}

#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    #[command(flatten)]
    pub(crate) targets: JobTargets,
    /// What to clear: any of None, ConnectorDataStore, Escrows, Watermark,
    /// QuarantineState, Full, ForceDeletes, comma-separated or repeated.
    /// Without it the service restarts as the portal's "Restart
    /// provisioning" does (about QuarantineState, Watermark, Escrows).
    #[arg(long, value_name = "FLAGS")]
    pub(crate) scope: Vec<String>,
    #[command(flatten)]
    pub(crate) flags: ActFlags,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    pub(crate) targets: JobTargets,
    /// Seconds between refreshes.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub(crate) interval: f64,
    /// Stop when every job has reached this state.
    #[arg(long, value_enum)]
    pub(crate) until: Option<Until>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<f64>,
    /// Stop after this many refreshes.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// How to print (json/ndjson: one object per job per refresh).
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub(crate) output: Output,
}

fn seconds(value: f64, flag: &str) -> Result<Duration, u8> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| usage(format!("{flag}: {value} is not a number of seconds")))
}

/// The jobs of `targets`, with `--all` expanded through a listing.
async fn resolve(
    ctx: &Ctx,
    targets: &JobTargets,
) -> Result<(Vec<JobRef>, graph_model::ApiVersion), u8> {
    let host = url::Url::parse(ctx.settings.cloud.graph_root())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let named = targets.named(host.as_deref()).map_err(usage)?;
    let version = targets.version(&named);
    let mut jobs = named.jobs;
    if targets.all {
        let owner = targets
            .owner
            .owner()
            .map_err(usage)?
            .ok_or_else(|| usage("--all needs an owner"))?;
        let client = ctx.client(version)?;
        let listed = client.list(&owner).await.map_err(failed("list"))?;
        for j in listed {
            if let Some(t) = &targets.template_filter
                && !j
                    .template_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(t))
            {
                continue;
            }
            jobs.push(JobRef::new(owner.clone(), j.id).map_err(usage)?);
        }
        if jobs.is_empty() {
            eprintln!("no jobs matched");
        }
    }
    Ok((jobs, version))
}

/// `graphsync start`.
pub(crate) async fn start(args: StartArgs, conn: Conn) -> u8 {
    let action = BulkAction::Start { force: args.force };
    act(
        conn,
        &args.targets,
        &args.flags,
        action,
        args.client_request_id.as_deref(),
    )
    .await
}

/// `graphsync pause`.
pub(crate) async fn pause(args: PauseArgs, conn: Conn) -> u8 {
    act(conn, &args.targets, &args.flags, BulkAction::Pause, None).await
}

/// `graphsync restart`.
pub(crate) async fn restart(args: RestartArgs, conn: Conn) -> u8 {
    let scope = match crate::actions::parse_scope(&args.scope) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    act(
        conn,
        &args.targets,
        &args.flags,
        BulkAction::Restart { scope },
        None,
    )
    .await
}

fn title(action: &BulkAction) -> &'static str {
    match action {
        BulkAction::Start { .. } => "Start",
        BulkAction::Pause => "Pause",
        _ => "Restart",
    }
}

fn request_for(
    action: &BulkAction,
    job: &JobRef,
    options: &StartOptions,
    jobs: &SyncJobsClient,
) -> Result<graph_model::Request, String> {
    match action {
        BulkAction::Start { .. } => jobs.start_request(job, options).map_err(|e| e.to_string()),
        BulkAction::Pause => Ok(requests::pause(job, options.version)),
        BulkAction::Restart { scope } => {
            requests::restart(job, options.version, scope.clone()).map_err(|e| e.to_string())
        }
        _ => Err("unknown action".into()),
    }
}

async fn act(
    conn: Conn,
    targets: &JobTargets,
    flags: &ActFlags,
    action: BulkAction,
    client_request_id: Option<&str>,
) -> u8 {
    let run = async {
        let ctx = Ctx::new(conn)?;
        let (jobs_list, version) = resolve(&ctx, targets).await?;
        let mut options = StartOptions::version(version);
        options.client_request_id = client_request_id.map(str::to_owned);
        let bulk = targets.is_bulk();
        if flags.what_if {
            let offline = ctx.offline()?;
            if let BulkAction::Start { force: false } = action {
                eprintln!(
                    "(a start first reads each job and is sent only if the job is not running)"
                );
            }
            for (i, job) in jobs_list.iter().enumerate() {
                let req = request_for(&action, job, &options, &offline);
                if i == 0 {
                    ctx.what_if(title(&action), &job.to_string(), req)?;
                } else if let Ok(r) = req {
                    println!("{} {}", r.method(), r.path);
                }
            }
            if bulk && jobs_list.len() > 1 {
                println!(
                    "{} jobs, sent in {} JSON batch request(s) of up to 20",
                    jobs_list.len(),
                    jobs_list.len().div_ceil(20)
                );
            }
            return Ok(EXIT_OK);
        }
        if jobs_list.is_empty() {
            eprintln!("no jobs to {}", action.name());
            return Ok(EXIT_OK);
        }
        let question = if jobs_list.len() == 1 {
            format!("{} {}?", title(&action), jobs_list[0])
        } else {
            format!("{} {} jobs?", title(&action), jobs_list.len())
        };
        flags.confirm.check(&question)?;
        let client = ctx.client(version)?;
        if !bulk {
            return single(&client, &jobs_list[0], &action, &options, flags).await;
        }
        if flags.wait.wait {
            return Err(usage(
                "--wait follows one job; use `graphsync watch` for many",
            ));
        }
        let concurrency = flags
            .concurrency
            .map(usize::from)
            .or(ctx.defaults.concurrency)
            .unwrap_or(16);
        let output = ctx.output(flags.output);
        Ok(run_bulk(
            &client,
            action,
            jobs_list,
            concurrency,
            !flags.no_batch,
            output,
            flags.pass_thru,
        )
        .await)
    };
    match run.await {
        Ok(code) | Err(code) => code,
    }
}

/// One job: a safe start (or pause, restart), then `--wait`.
async fn single(
    client: &SyncJobsClient,
    job: &JobRef,
    action: &BulkAction,
    options: &StartOptions,
    flags: &ActFlags,
) -> Result<u8, u8> {
    // Like the PowerShell cmdlets, a single action prints nothing on stdout
    // unless asked: --pass-thru, or --output json/ndjson.
    let json_out = matches!(flags.output, Output::Json | Output::Ndjson);
    let until = flags.wait.until.unwrap_or(match action {
        BulkAction::Pause => Until::Paused,
        _ => Until::Active,
    });
    // What --until steady compares against: the steady state before.
    let baseline = if flags.wait.wait && until == Until::Steady {
        client
            .get(job)
            .await
            .ok()
            .and_then(|j| j.status.steady_state_reached())
    } else {
        None
    };
    let (word, status, request_id, verified) = match action {
        BulkAction::Start { force } => {
            let outcome = client
                .start_if_needed_with(job, *force, options)
                .await
                .map_err(failed("start"))?;
            match outcome {
                SafeStart::Started { outcome, .. } => {
                    if let Some(result) = &outcome.result {
                        print_json(result);
                    }
                    (
                        "started".to_owned(),
                        Some(outcome.status),
                        outcome.request_id,
                        outcome.verified,
                    )
                }
                other => {
                    let summary = other.summary();
                    if json_out && !flags.pass_thru {
                        print_json(
                            &json!({"operation": "start", "target": job.to_string(), "result": summary}),
                        );
                    }
                    eprintln!(
                        "{summary}: {job}{}",
                        match other {
                            SafeStart::AlreadyActive => " (use --force to start it anyway)",
                            _ => "",
                        }
                    );
                    if flags.pass_thru {
                        println!("true");
                    }
                    return Ok(EXIT_OK);
                }
            }
        }
        BulkAction::Pause => {
            let o = client.pause(job).await.map_err(failed("pause"))?;
            (
                "paused".to_owned(),
                Some(o.status),
                o.request_id,
                o.verified,
            )
        }
        BulkAction::Restart { scope } => {
            let o = client
                .restart(job, scope.clone())
                .await
                .map_err(failed("restart"))?;
            let word = match scope {
                Some(s) => format!("restarted (resetScope {s})"),
                None => "restarted".into(),
            };
            (word, Some(o.status), o.request_id, o.verified)
        }
        _ => return Err(usage("unknown action")),
    };
    if json_out && !flags.pass_thru {
        print_json(&json!({
            "operation": action.name(),
            "target": job.to_string(),
            "result": word,
            "status": status,
            "requestId": request_id,
            "verified": verified,
        }));
    }
    if verified {
        eprintln!("{word} {job} (the answer was lost; reading the job confirmed it)");
    } else {
        eprintln!(
            "{word} {job} ({}, request-id {})",
            status.map_or("-".into(), |s| {
                let reason = http::StatusCode::from_u16(s)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                format!("{s} {reason}").trim_end().to_owned()
            }),
            request_id.as_deref().unwrap_or("none")
        );
    }
    if flags.wait.wait {
        let code = wait(
            client,
            job,
            until,
            baseline,
            seconds(flags.wait.timeout, "--timeout")?,
            seconds(flags.wait.interval, "--interval")?,
        )
        .await;
        if code != EXIT_OK {
            return Ok(code);
        }
    }
    if flags.pass_thru {
        println!("true");
    }
    Ok(EXIT_OK)
}

/// Whether `job` is where `until` wants it.
fn reached(
    job: &SynchronizationJob,
    until: Until,
    baseline: Option<graph_model::time::OffsetDateTime>,
) -> bool {
    let code = job.status.code.as_ref();
    match until {
        Until::Active => code == Some(&Code::Active),
        Until::Paused => code == Some(&Code::Paused),
        Until::Steady => {
            code == Some(&Code::Active)
                && job
                    .status
                    .steady_state_reached()
                    .is_some_and(|t| baseline.is_none_or(|b| t > b))
        }
    }
}

/// One line about a job's progress: state, units, last run's counts.
fn progress_line(job: &SynchronizationJob) -> String {
    let s = &job.status;
    let mut line = s
        .code
        .as_ref()
        .map_or("unknown".to_owned(), |c| c.to_string());
    for p in &s.progress {
        line.push_str(&format!(
            " · {}/{} {}",
            p.completed_units,
            p.total_units,
            p.units.as_ref().map_or(String::new(), |u| u.to_string())
        ));
    }
    if let Some(last) = &s.last_execution {
        line.push_str(&format!(
            " · last run {}: imported {}, exported {}, escrowed {}",
            last.state
                .as_ref()
                .map_or("-".to_owned(), |x| x.to_string()),
            last.count_imported,
            last.count_exported,
            last.count_escrowed
        ));
    }
    line.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Polls `job` until `until`, quarantine, or `timeout`; a live line on a
/// terminal, a plain line per change otherwise.
async fn wait(
    client: &SyncJobsClient,
    job: &JobRef,
    until: Until,
    baseline: Option<graph_model::time::OffsetDateTime>,
    timeout: Duration,
    interval: Duration,
) -> u8 {
    let live = std::io::stderr().is_terminal();
    let bar = if live {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    } else {
        ProgressBar::hidden()
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_line = String::new();
    loop {
        match client.get(job).await {
            Ok(current) => {
                let line = progress_line(&current);
                if live {
                    bar.set_message(line.clone());
                } else if line != last_line {
                    eprintln!("{line}");
                }
                last_line = line;
                if current.status.code == Some(Code::Quarantine) {
                    bar.finish_and_clear();
                    let q = current.status.quarantine.as_ref();
                    eprintln!(
                        "error: {job} is in quarantine: {}",
                        q.and_then(|q| q.reason.as_ref())
                            .map_or("no reason given".into(), |r| r.to_string())
                    );
                    if let Some(e) = q.and_then(|q| q.error.as_ref()) {
                        eprintln!(
                            "  {}: {}",
                            e.code.as_deref().unwrap_or("-"),
                            e.message.as_deref().unwrap_or("-")
                        );
                    }
                    return EXIT_FAILED;
                }
                if reached(&current, until, baseline) {
                    bar.finish_and_clear();
                    eprintln!("{job} reached {until:?}: {last_line}");
                    return EXIT_OK;
                }
            }
            Err(e) => {
                // A failed read is reported and retried; the deadline still holds.
                bar.suspend(|| eprintln!("warning: could not read the job: {e}"));
            }
        }
        if tokio::time::Instant::now() + interval > deadline {
            bar.finish_and_clear();
            eprintln!(
                "error: {job} did not reach {until:?} within {} s (last: {last_line})",
                timeout.as_secs()
            );
            return EXIT_FAILED;
        }
        tokio::time::sleep(interval).await;
    }
}

/// Many jobs through the bulk API: progress, per-job lines, a summary.
async fn run_bulk(
    client: &SyncJobsClient,
    action: BulkAction,
    jobs: Vec<JobRef>,
    concurrency: usize,
    batch: bool,
    output: Output,
    pass_thru: bool,
) -> u8 {
    let total = jobs.len() as u64;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let name = action.name();
    let options = BulkOptions::default().concurrency(concurrency).batch(batch);
    let mut stream = std::pin::pin!(client.bulk(action, jobs, options));
    let mut results: Vec<BulkItem> = Vec::new();
    let mut counts = [0usize; 4];
    while let Some(item) = stream.next().await {
        let k = kind_index(&item.result);
        counts[k] += 1;
        if output == Output::Ndjson {
            bar.suspend(|| println!("{}", item_json(&item)));
        }
        bar.inc(1);
        bar.set_message(format!(
            "{} succeeded, {} skipped, {} failed, {} ambiguous",
            counts[0], counts[1], counts[2], counts[3]
        ));
        results.push(item);
    }
    bar.finish_and_clear();
    results.sort_by_key(|i| i.index);
    match output {
        Output::Ndjson => {}
        o if o.json() => print_json(&results.iter().map(item_json).collect::<Vec<_>>()),
        _ => print!("{}", summary_table(&results)),
    }
    eprintln!(
        "{name}: {} jobs: {} succeeded, {} skipped, {} failed, {} ambiguous",
        results.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    let code = if counts[3] > 0 {
        eprintln!(
            "hint: ambiguous jobs may or may not have been changed; read them (graphsync get) before trying again"
        );
        EXIT_AMBIGUOUS
    } else if counts[2] > 0 && counts[2] == results.len() {
        EXIT_FAILED
    } else if counts[2] > 0 {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    };
    if pass_thru && code == EXIT_OK {
        println!("true");
    }
    code
}

fn kind_index(r: &BulkResult) -> usize {
    match r {
        BulkResult::Succeeded { .. } => 0,
        BulkResult::Skipped { .. } => 1,
        BulkResult::Ambiguous { .. } => 3,
        _ => 2,
    }
}

fn reason(r: &BulkResult) -> String {
    match r {
        BulkResult::Succeeded { verified: true, .. } => "confirmed by reading the job".into(),
        BulkResult::Succeeded {
            previous: Some(p), ..
        } => format!("was {p}"),
        BulkResult::Succeeded { .. } => String::new(),
        BulkResult::Skipped { reason } => reason.to_string(),
        BulkResult::Failed { error } | BulkResult::Ambiguous { error } => {
            let mut text = match error.service_error() {
                Some(s) => format!("{} {}: {}", s.status.as_u16(), s.code, s.message),
                None => error.to_string(),
            };
            if let sync_jobs::Error::PermissionDenied { needs, .. } = error {
                text = format!("{text} (needs {needs})");
            }
            text
        }
        _ => String::new(),
    }
}

fn item_json(item: &BulkItem) -> serde_json::Value {
    let (status, request_id) = match &item.result {
        BulkResult::Succeeded {
            status, request_id, ..
        } => (Some(*status), request_id.clone()),
        BulkResult::Failed { error } | BulkResult::Ambiguous { error } => (
            error.service_error().map(|s| s.status.as_u16()),
            error.request_id().map(str::to_owned),
        ),
        _ => (None, None),
    };
    json!({
        "index": item.index,
        "servicePrincipalId": item.job.owner().id(),
        "jobId": item.job.job_id(),
        "target": item.job.to_string(),
        "result": item.result.kind(),
        "reason": reason(&item.result),
        "status": status,
        "requestId": request_id,
    })
}

fn summary_table(results: &[BulkItem]) -> String {
    let mut t = Table::new(["#", "JOB", "OWNER", "RESULT", "DETAIL"]);
    for item in results {
        t.row([
            item.index.to_string(),
            item.job.job_id().to_owned(),
            item.job.owner().id().to_owned(),
            item.result.kind().to_owned(),
            reason(&item.result),
        ]);
    }
    t.render()
}

/// `graphsync watch`.
pub(crate) async fn watch(args: WatchArgs, conn: Conn) -> u8 {
    let run = async {
        let ctx = Ctx::new(conn)?;
        let (jobs, version) = resolve(&ctx, &args.targets).await?;
        let client = ctx.client(version)?;
        let interval = seconds(args.interval, "--interval")?;
        let deadline = match args.timeout {
            Some(t) => Some(tokio::time::Instant::now() + seconds(t, "--timeout")?),
            None => None,
        };
        let output = ctx.output(args.output);
        let live =
            output == Output::Table || (output == Output::Auto && std::io::stdout().is_terminal());
        let mut previous: Vec<String> = vec![String::new(); jobs.len()];
        let mut round = 0u64;
        loop {
            round += 1;
            let reads: Vec<_> = futures_util::stream::iter(jobs.iter().map(|j| client.get(j)))
                .buffered(16)
                .collect()
                .await;
            let mut all_reached = args.until.is_some();
            let mut table = Table::new(["JOB", "OWNER", "STATE", "PROGRESS"]);
            for (i, (job, read)) in jobs.iter().zip(&reads).enumerate() {
                let line = match read {
                    Ok(j) => {
                        if let Some(u) = args.until {
                            all_reached &= reached(j, u, None);
                        }
                        progress_line(j)
                    }
                    Err(e) => {
                        all_reached = false;
                        format!("error: {e}")
                    }
                };
                let (state, rest) = line.split_once(" · ").unwrap_or((&line, ""));
                table.row([
                    job.job_id().to_owned(),
                    job.owner().id().to_owned(),
                    state.to_owned(),
                    rest.to_owned(),
                ]);
                if !live && line != previous[i] {
                    if output.json() || output == Output::Ndjson {
                        println!(
                            "{}",
                            json!({"round": round, "target": job.to_string(), "jobId": job.job_id(), "state": state, "detail": rest})
                        );
                    } else {
                        println!("{job}: {line}");
                    }
                }
                previous[i] = line;
            }
            if live {
                // Redraw in place: home, clear, the table.
                print!("\x1b[H\x1b[2J{}", table.render());
                let _ = std::io::stdout().flush();
            }
            if all_reached {
                return Ok(EXIT_OK);
            }
            if args.count.is_some_and(|c| round >= c) {
                return Ok(EXIT_OK);
            }
            if deadline.is_some_and(|d| tokio::time::Instant::now() + interval > d) {
                return Ok(if args.until.is_some() {
                    EXIT_FAILED
                } else {
                    EXIT_OK
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = tokio::signal::ctrl_c() => return Ok(EXIT_OK),
            }
        }
    };
    match run.await {
        Ok(code) | Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(json: &str) -> SynchronizationJob {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn target_states_and_steady_state_after_the_baseline() {
        let active = job(
            r#"{"id":"j","status":{"code":"Active","steadyStateLastAchievedTime":"2026-01-01T00:00:00Z"}}"#,
        );
        let paused = job(r#"{"id":"j","status":{"code":"Paused"}}"#);
        assert!(reached(&active, Until::Active, None));
        assert!(!reached(&paused, Until::Active, None));
        assert!(reached(&paused, Until::Paused, None));
        let before = graph_model::parse_timestamp("2025-12-31T00:00:00Z").ok();
        let same = graph_model::parse_timestamp("2026-01-01T00:00:00Z").ok();
        assert!(reached(&active, Until::Steady, before));
        assert!(
            !reached(&active, Until::Steady, same),
            "steady again means after the action"
        );
    }

    #[test]
    fn progress_lines_hold_no_control_characters() {
        let j = job(
            r#"{"id":"j","status":{"code":"Active","progress":[{"completedUnits":3,"totalUnits":10,"units":"Escrows"}],
            "lastExecution":{"state":"Succeeded\u001b[2J","countImported":5,"countExported":4,"countEscrowed":1}}}"#,
        );
        let line = progress_line(&j);
        assert!(line.starts_with("Active · 3/10"), "{line}");
        assert!(
            line.contains("imported 5, exported 4, escrowed 1"),
            "{line}"
        );
        assert!(!line.contains('\u{1b}'), "{line}");
    }
}
