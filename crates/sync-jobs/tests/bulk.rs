//! Bulk actions and safe start against the emulator over loopback HTTP.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use graph_model::{JobRef, RestartScope, SynchronizationStatusCode as Code};
use graph_transport::{HyperTransport, Transport, TransportOptions};
use sync_emulator::default_ids::{ACTIVE, OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET, PAUSED};
use sync_emulator::{Emulator, EmulatorOptions, FaultOptions, JobSeed, RunningEmulator, Seed};
use sync_jobs::bulk::SkipReason;
use sync_jobs::{BulkAction, BulkItem, BulkOptions, BulkResult, SafeStart, SyncJobsClient};

fn transport() -> Arc<dyn Transport> {
    Arc::new(HyperTransport::with_options(&TransportOptions::default()).unwrap())
}

fn operator(emu: &RunningEmulator) -> SyncJobsClient {
    common::client(emu, transport(), OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET)
}

/// The default seed plus `n` jobs on the first service principal, in the
/// states `state(i)` gives.
fn seed_with(n: usize, state: impl Fn(usize) -> Code) -> (Seed, Vec<JobRef>) {
    let mut seed = Seed::default_seed();
    let sp = &mut seed.service_principals[0];
    let mut refs = Vec::new();
    for i in 0..n {
        let id = format!("scim.{i:032x}");
        sp.jobs.push(JobSeed::new(id.clone(), state(i)));
        refs.push(JobRef::service_principal(&sp.id, &id).unwrap());
    }
    (seed, refs)
}

async fn run(
    jobs: &SyncJobsClient,
    action: BulkAction,
    targets: Vec<JobRef>,
    options: BulkOptions,
) -> Vec<BulkItem> {
    jobs.bulk(action, targets, options).collect().await
}

fn counts(items: &[BulkItem]) -> HashMap<&'static str, usize> {
    let mut m = HashMap::new();
    for i in items {
        *m.entry(i.result.kind()).or_default() += 1;
    }
    m
}

fn starts(emu: &RunningEmulator) -> usize {
    emu.actions().iter().filter(|a| a.action == "start").count()
}

#[tokio::test]
async fn start_if_needed_leaves_an_active_job_alone_and_starts_a_paused_one() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = operator(&emu);
    let active = JobRef::service_principal(ACTIVE.service_principal_id, ACTIVE.job_id).unwrap();
    let paused = JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap();

    assert_eq!(
        jobs.start_if_needed(&active, false).await.unwrap(),
        SafeStart::AlreadyActive
    );
    assert_eq!(starts(&emu), 0, "nothing was sent for the active job");

    let started = jobs.start_if_needed(&paused, false).await.unwrap();
    assert!(
        matches!(
            started,
            SafeStart::Started {
                previous: Some(Code::Paused),
                ..
            }
        ),
        "{started:?}"
    );
    assert_eq!(starts(&emu), 1);

    // The guard: a second start moments later is refused before sending,
    // by start_if_needed (an outcome) and by start (a typed error).
    assert!(matches!(
        jobs.start_if_needed(&paused, true).await.unwrap(),
        SafeStart::StartedRecently { .. }
    ));
    let e = jobs.start(&paused).await.unwrap_err();
    assert!(
        matches!(e, sync_jobs::Error::StartedRecently { .. }),
        "{e:?}"
    );
    assert_eq!(starts(&emu), 1);

    // A pause in between clears it; with the guard off it never applies.
    jobs.pause(&paused).await.unwrap();
    jobs.start(&paused).await.unwrap();
    let unguarded = jobs.with_start_guard(Duration::ZERO);
    assert!(matches!(
        unguarded.start_if_needed(&active, true).await.unwrap(),
        SafeStart::Started {
            previous: Some(Code::Active),
            ..
        }
    ));
    assert_eq!(starts(&emu), 3);
}

#[tokio::test]
async fn bulk_start_of_500_jobs_batches_20_per_request() {
    // Every fifth job is running already: a safe start skips it.
    let (seed, refs) = seed_with(500, |i| {
        if i % 5 == 0 {
            Code::Active
        } else {
            Code::Paused
        }
    });
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let before = emu.stats();

    let items = run(
        &jobs,
        BulkAction::Start { force: false },
        refs.clone(),
        BulkOptions::default(),
    )
    .await;
    let c = counts(&items);
    assert_eq!(items.len(), 500);
    assert_eq!(c.get("succeeded"), Some(&400), "{c:?}");
    assert_eq!(c.get("skipped"), Some(&100), "{c:?}");
    assert_eq!(
        starts(&emu),
        400,
        "one start per paused job, none for the active ones"
    );
    let stats = emu.stats();
    let requests = stats.graph_requests - before.graph_requests;
    // 500 reads and 400 starts: 45 full batches at best; a partial batch
    // or two at the end, depending on which answers come back first.
    assert_eq!(stats.batch_requests - before.batch_requests, requests);
    println!("500 safe starts: {requests} HTTP requests");
    assert!((45..=47).contains(&requests), "{stats:?}");
    // Each index appears once, each skipped one was active.
    let mut seen: Vec<usize> = items.iter().map(|i| i.index).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..500).collect::<Vec<_>>());
    for item in &items {
        if let BulkResult::Skipped { reason } = &item.result {
            assert_eq!(*reason, SkipReason::AlreadyActive);
            assert_eq!(item.index % 5, 0);
        }
    }

    // Forced, on a fresh process's guard: no reads, 25 batches for 500.
    let (seed, refs) = seed_with(500, |_| Code::Paused);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let before = emu.stats().graph_requests;
    let items = run(
        &jobs,
        BulkAction::Start { force: true },
        refs,
        BulkOptions::default(),
    )
    .await;
    assert_eq!(counts(&items).get("succeeded"), Some(&500));
    assert_eq!(emu.stats().graph_requests - before, 25);
}

#[tokio::test]
async fn throttled_items_wait_their_retry_after_and_nothing_is_lost_or_doubled() {
    let (seed, refs) = seed_with(500, |_| Code::Paused);
    let faults = FaultOptions::seeded(7).throttle(0.1).retry_after_secs(0.05);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed).faults(faults))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let items = run(
        &jobs,
        BulkAction::Start { force: false },
        refs.clone(),
        BulkOptions::default(),
    )
    .await;
    let c = counts(&items);
    assert_eq!(c.get("succeeded"), Some(&500), "{c:?}");
    let stats = emu.stats();
    println!("500 safe starts with 10% throttling: {stats:?}");
    assert!(stats.faults_injected > 0);
    // Exactly one start applied per job.
    let mut per_job: HashMap<String, usize> = HashMap::new();
    for a in emu.actions().iter().filter(|a| a.action == "start") {
        *per_job.entry(a.job_id.clone()).or_default() += 1;
    }
    assert_eq!(per_job.len(), 500);
    assert!(per_job.values().all(|n| *n == 1));
}

#[tokio::test]
async fn lost_answers_are_settled_by_reading_the_job() {
    // 504 after applying: the batch item's answer is lost.
    let (seed, refs) = seed_with(200, |_| Code::Active);
    let faults = FaultOptions::seeded(3).gateway_timeout(0.1);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed).faults(faults))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let items = run(&jobs, BulkAction::Pause, refs, BulkOptions::default()).await;
    let c = counts(&items);
    let verified = items
        .iter()
        .filter(|i| matches!(i.result, BulkResult::Succeeded { verified: true, .. }))
        .count();
    println!("200 pauses with 10% lost answers: {c:?}, {verified} verified by a read");
    assert_eq!(c.get("failed"), None, "{c:?}");
    assert!(verified > 0);
    // Whatever the client reports as done is done at the service.
    for item in &items {
        if matches!(item.result, BulkResult::Succeeded { .. }) {
            let job = emu.job(item.job.owner().id(), item.job.job_id()).unwrap();
            assert_eq!(job.status.code, Some(Code::Paused));
        }
    }
}

#[tokio::test]
async fn restart_and_unbatched_mode_and_refusals_per_item() {
    let (seed, mut refs) = seed_with(30, |_| Code::Quarantine);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = operator(&emu);
    // An unknown job among them fails alone with the service's 404.
    refs.push(JobRef::service_principal(PAUSED.service_principal_id, "scim.missing").unwrap());
    let scope: RestartScope = "QuarantineState, Watermark".parse().unwrap();
    let before = emu.stats().graph_requests;
    let items = run(
        &jobs,
        BulkAction::Restart { scope: Some(scope) },
        refs,
        BulkOptions::default().batch(false).concurrency(4),
    )
    .await;
    let c = counts(&items);
    assert_eq!(c.get("succeeded"), Some(&30), "{c:?}");
    assert_eq!(c.get("failed"), Some(&1), "{c:?}");
    assert_eq!(
        emu.stats().graph_requests - before,
        31,
        "one request per job"
    );
    let failed = items.iter().find(|i| i.index == 30).unwrap();
    let BulkResult::Failed { error } = &failed.result else {
        panic!()
    };
    assert_eq!(error.service_error().unwrap().status.as_u16(), 404);
    assert!(error.request_id().is_some());
}

#[tokio::test]
async fn a_job_listed_twice_is_started_once() {
    let (seed, refs) = seed_with(3, |_| Code::Paused);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let twice = vec![refs[0].clone(), refs[1].clone(), refs[0].clone()];
    let items = run(
        &jobs,
        BulkAction::Start { force: true },
        twice,
        BulkOptions::default(),
    )
    .await;
    let c = counts(&items);
    assert_eq!(c.get("succeeded"), Some(&2), "{c:?}");
    assert_eq!(c.get("skipped"), Some(&1), "{c:?}");
    assert_eq!(starts(&emu), 2);
}
