//! `graphsync-soak`: starts and pauses emulator jobs many times under
//! injected faults and checks that no call was lost and no action doubled.
//!
//! Bounded in calls and in time, loopback only. Prints one JSON line:
//! `{"calls":…,"succeeded":…,"failed_typed":…,"ambiguous":…,"lost":…,
//! "doubled":…,"elapsed_s":…}` and exits non-zero when `lost` or `doubled`
//! is not 0.
//!
//! - lost: a call that ended with no outcome (it hung past its deadline).
//!   Every error graphsync returns is typed, so an untyped one cannot occur.
//! - doubled: a call whose action the emulator applied more than once: two
//!   state changes under one `client-request-id`, or a start that changed
//!   the job and was then sent again onto the running job.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_auth::{ClientSecretCredential, CredentialOptions};
use graph_model::{JobRef, NationalCloud, SynchronizationStatusCode as Code};
use graph_transport::{ClientOptions, GraphClient, HyperTransport, RetryOptions, TransportOptions};
use sync_emulator::{
    ActionRecord, Emulator, EmulatorOptions, FaultOptions, JobSeed, Seed, ServicePrincipalSeed,
    default_ids,
};
use sync_jobs::SyncJobsClient;

/// The run's size and limits.
struct Plan {
    jobs: usize,
    calls: usize,
    concurrency: usize,
    fault_rate: f64,
    seed: u64,
    max_seconds: u64,
    /// Retry ambiguous failures of start too: unsafe, and here to show
    /// that the soak catches the doubled starts it causes.
    retry_ambiguous: bool,
}

const USAGE: &str = "usage: graphsync-soak [--jobs N] [--calls N] [--concurrency N] [--fault-rate R] [--seed N] [--max-seconds N] [--retry-ambiguous]";

fn parse() -> Result<Plan, String> {
    let mut plan = Plan {
        jobs: 1_000,
        calls: 10_000,
        concurrency: 32,
        fault_rate: 0.2,
        seed: 1,
        max_seconds: 600,
        retry_ambiguous: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--retry-ambiguous" {
            plan.retry_ambiguous = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}\n{USAGE}");
        match flag.as_str() {
            "--jobs" => plan.jobs = value.parse().map_err(|e| bad(&e))?,
            "--calls" => plan.calls = value.parse().map_err(|e| bad(&e))?,
            "--concurrency" => plan.concurrency = value.parse().map_err(|e| bad(&e))?,
            "--fault-rate" => plan.fault_rate = value.parse().map_err(|e| bad(&e))?,
            "--seed" => plan.seed = value.parse().map_err(|e| bad(&e))?,
            "--max-seconds" => plan.max_seconds = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if plan.jobs == 0 || plan.concurrency == 0 || !(0.0..=1.0).contains(&plan.fault_rate) {
        return Err(format!(
            "jobs and concurrency must be positive, the fault rate in [0, 1]\n{USAGE}"
        ));
    }
    Ok(plan)
}

/// The fault mix: every kind the emulator injects, `rate` in all.
fn faults(rate: f64, seed: u64) -> FaultOptions {
    let share = rate / 8.0;
    FaultOptions::seeded(seed)
        .throttle(share * 2.0)
        .unavailable(share)
        .gateway_timeout(share)
        .drop_before(share)
        .drop_after(share)
        .malformed(share)
        .truncated(share)
        .retry_after_secs(0.01)
}

/// Ten jobs per service principal, all paused.
fn seed(jobs: usize) -> Seed {
    let mut seed = Seed::default_seed();
    seed.service_principals.clear();
    for sp in 0..jobs.div_ceil(10) {
        let mut owner = ServicePrincipalSeed::new(
            format!("50a50a50-0000-4000-8000-{sp:012}"),
            format!("50a50a51-0000-4000-8000-{sp:012}"),
            format!("50a50a52-0000-4000-8000-{sp:012}"),
        );
        owner.display_name = format!("soak {sp}");
        for j in 0..(jobs - sp * 10).min(10) {
            owner
                .jobs
                .push(JobSeed::new(format!("scim.{sp:016}{j:016}"), Code::Paused));
        }
        seed.service_principals.push(owner);
    }
    seed
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Succeeded,
    FailedTyped,
    Ambiguous,
    Lost,
}

struct Call {
    client_request_id: String,
    start: bool,
    fate: Fate,
}

fn main() -> ExitCode {
    let plan = match parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(plan)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(plan: Plan) -> Result<bool, Box<dyn std::error::Error>> {
    let emu = Emulator::start(
        EmulatorOptions::with_seed(seed(plan.jobs)).faults(faults(plan.fault_rate, plan.seed)),
    )
    .await?;
    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host())?;
    let transport = Arc::new(HyperTransport::with_options(
        &TransportOptions::default().timeout(Some(Duration::from_secs(5))),
    )?);
    let credential = ClientSecretCredential::new(
        emu.tenant_id(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
        transport.clone(),
        CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
    )?;
    let retry = RetryOptions::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(200))
        .max_elapsed(Duration::from_secs(10))
        .budget(1_000)
        .retry_ambiguous(plan.retry_ambiguous);
    let graph = GraphClient::new(
        transport,
        Arc::new(credential),
        ClientOptions::new(cloud)
            .allow_http_loopback(true)
            .retry(retry),
    )?;
    // The soak sends independent calls and counts their effects itself;
    // the client's start guard would turn some into refusals.
    let jobs = SyncJobsClient::new(graph).with_start_guard(Duration::ZERO);
    let targets: Vec<JobRef> = emu
        .info()
        .jobs
        .iter()
        .map(|j| JobRef::service_principal(&j.service_principal_id, &j.job_id))
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.max_seconds);
    // Each worker owns the jobs i ≡ w (mod concurrency), so no two calls
    // touch one job at once and each worker knows its jobs' states.
    let mut workers = tokio::task::JoinSet::new();
    let targets = Arc::new(targets);
    for w in 0..plan.concurrency.min(plan.jobs) {
        let jobs = jobs.clone();
        let targets = targets.clone();
        let (count, concurrency) = (plan.calls, plan.concurrency.min(plan.jobs));
        workers.spawn(async move {
            let mine: Vec<usize> = (w..targets.len()).step_by(concurrency).collect();
            let mut paused: HashMap<usize, bool> = mine.iter().map(|i| (*i, true)).collect();
            let mut calls = Vec::new();
            let mut n = w;
            while n < count && Instant::now() < deadline {
                let idx = mine[(n / concurrency) % mine.len()];
                let job = &targets[idx];
                let start = paused[&idx];
                let id = uuid::Uuid::new_v4().hyphenated().to_string();
                let Ok(client) = jobs.with_client_request_id(&id) else {
                    continue;
                };
                let call = async {
                    if start {
                        client.start(job).await.map(|_| ())
                    } else {
                        client.pause(job).await.map(|_| ())
                    }
                };
                let fate = match tokio::time::timeout(Duration::from_secs(60), call).await {
                    Err(_) => Fate::Lost,
                    Ok(Ok(())) => {
                        paused.insert(idx, !start);
                        Fate::Succeeded
                    }
                    Ok(Err(e)) => {
                        let ambiguous =
                            matches!(&e, sync_jobs::Error::Graph(g) if g.is_ambiguous());
                        // Whatever happened, learn the job's state again.
                        if let Ok(now) = jobs.get(job).await {
                            paused.insert(idx, now.status.code == Some(Code::Paused));
                        }
                        if ambiguous {
                            Fate::Ambiguous
                        } else {
                            Fate::FailedTyped
                        }
                    }
                };
                calls.push(Call {
                    client_request_id: id,
                    start,
                    fate,
                });
                n += concurrency;
            }
            calls
        });
    }
    let mut calls = Vec::new();
    while let Some(done) = workers.join_next().await {
        calls.extend(done?);
    }
    let elapsed = started.elapsed();

    let actions = emu.actions();
    let doubled = count_doubled(&calls, &actions);
    let count = |fate| calls.iter().filter(|c| c.fate == fate).count();
    let lost = count(Fate::Lost);
    let stats = emu.stats();
    println!(
        "{}",
        serde_json::json!({
            "calls": calls.len(),
            "succeeded": count(Fate::Succeeded),
            "failed_typed": count(Fate::FailedTyped),
            "ambiguous": count(Fate::Ambiguous),
            "lost": lost,
            "doubled": doubled,
            "elapsed_s": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "jobs": plan.jobs,
            "fault_rate": plan.fault_rate,
            "faults_injected": stats.faults_injected,
            "graph_requests": stats.graph_requests,
            "actions_applied": actions.len(),
        })
    );
    emu.shutdown().await;
    Ok(lost == 0 && doubled == 0)
}

/// Calls whose action the emulator applied more than once.
fn count_doubled(calls: &[Call], actions: &[ActionRecord]) -> usize {
    let mut by_id: HashMap<&str, Vec<&ActionRecord>> = HashMap::new();
    for a in actions {
        by_id
            .entry(a.client_request_id.as_str())
            .or_default()
            .push(a);
    }
    calls
        .iter()
        .filter(|c| c.fate != Fate::Ambiguous)
        .filter(|c| {
            let records = by_id
                .get(c.client_request_id.as_str())
                .map_or(&[][..], Vec::as_slice);
            let changed = records
                .iter()
                .filter(|a| a.status_before != a.status_after)
                .count();
            let repeated_start = c.start
                && changed >= 1
                && records
                    .iter()
                    .any(|a| a.action == "start" && a.warning.is_some());
            changed > 1 || repeated_start
        })
        .count()
}
