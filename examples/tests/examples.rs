//! Each example that needs a service, run against the emulator: the
//! example's own code, compiled in here, over loopback HTTP.

// Two examples build on start_job.rs themselves, as standalone programs must;
// here that file is therefore compiled more than once.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::duplicate_mod,
    dead_code
)]

#[path = "../start_job.rs"]
mod start_job;

#[path = "../restart_after_incident.rs"]
mod restart_after_incident;

#[path = "../custom_transport.rs"]
mod custom_transport;

#[path = "../embedded_service.rs"]
mod embedded_service;

#[path = "../emulator_in_tests.rs"]
mod emulator_in_tests;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use graph_model::{
    JobOwner, JobRef, NationalCloud, QuarantineReason, SynchronizationStatusCode as Code,
};
use http_body_util::{BodyExt, Full};
use sync_emulator::default_ids::{self, ACTIVE, PAUSED};
use sync_emulator::{Emulator, EmulatorOptions, JobSeed, RunningEmulator, Seed};

fn cloud(emu: &RunningEmulator) -> NationalCloud {
    NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap()
}

/// The environment a deployment would set, as a lookup.
fn env(emu: &RunningEmulator) -> impl Fn(&str) -> Option<String> + use<> {
    let tenant = emu.tenant_id();
    move |k| match k {
        "AZURE_TENANT_ID" => Some(tenant.clone()),
        "AZURE_CLIENT_ID" => Some(default_ids::OPERATOR_CLIENT_ID.into()),
        "AZURE_CLIENT_SECRET" => Some(default_ids::OPERATOR_CLIENT_SECRET.into()),
        "PATH" => Some("/nonexistent".into()),
        _ => None,
    }
}

#[tokio::test]
async fn start_job_starts_a_paused_job_and_leaves_a_running_one() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = start_job::client(cloud(&emu), env(&emu)).unwrap();
    let paused = JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap();
    let active = JobRef::service_principal(ACTIVE.service_principal_id, ACTIVE.job_id).unwrap();
    let said = start_job::start(&jobs, &paused).await.unwrap();
    assert!(said.starts_with("started"), "{said}");
    let said = start_job::start(&jobs, &active).await.unwrap();
    assert!(said.starts_with("skipped: already active"), "{said}");
    assert_eq!(emu.actions().len(), 1);
}

#[tokio::test]
async fn restart_after_incident_picks_the_scope_by_quarantine_reason() {
    let mut seed = Seed::default_seed();
    let mut owners = Vec::new();
    for (i, sp) in seed.service_principals.iter_mut().enumerate() {
        let reasons = [
            QuarantineReason::EncounteredEscrowProportionThreshold,
            QuarantineReason::TooManyDeletes,
            QuarantineReason::EncounteredQuarantineException,
        ];
        for (k, reason) in reasons.into_iter().enumerate() {
            let mut job = JobSeed::new(format!("scim.{i:016x}{k:016x}"), Code::Quarantine);
            job.quarantine_reason = Some(reason);
            sp.jobs.push(job);
        }
        owners.push(JobOwner::service_principal(sp.id.clone()).unwrap());
    }
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = start_job::client(cloud(&emu), env(&emu)).unwrap();
    let report = restart_after_incident::restart_quarantined(&jobs, &owners, false)
        .await
        .unwrap();
    println!("{report:?}");
    let n = owners.len();
    assert_eq!(
        report.left_alone, n,
        "too many deletes: one per owner, left alone"
    );
    assert!(report.restarted >= 2 * n);
    assert_eq!(report.failed, 0);
    let restarts = emu
        .actions()
        .into_iter()
        .filter(|a| a.action == "restart")
        .count();
    assert_eq!(restarts, report.restarted);
    let forced = restart_after_incident::scope_for(Some(&QuarantineReason::TooManyDeletes), true);
    let expected: graph_model::RestartScope = "ForceDeletes, QuarantineState".parse().unwrap();
    assert_eq!(forced, Some(expected));
}

#[tokio::test]
async fn custom_transport_tags_requests_and_the_broker_token_is_cached() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    // The "broker" here signs in with a client secret against the emulator.
    let token = graph_auth::ClientSecretCredential::new(
        emu.tenant_id(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
        graph_transport::default_transport(&graph_transport::TransportOptions::default()).unwrap(),
        graph_auth::CredentialOptions::new(cloud(&emu)).allow_http_loopback(true),
    )
    .unwrap();
    let issued =
        graph_transport::TokenCredential::get_token(&token, &[&cloud(&emu).default_scope()])
            .await
            .unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = calls.clone();
    let secret = issued.token.expose().to_owned();
    let broker: custom_transport::Broker = Arc::new(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
        Ok((secret.clone(), Duration::from_secs(3600)))
    });
    let (jobs, transport) = custom_transport::client(cloud(&emu), broker).unwrap();
    let paused = JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap();
    for _ in 0..3 {
        jobs.get(&paused).await.unwrap();
    }
    assert_eq!(transport.sent.load(Ordering::Relaxed), 3);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "the broker was asked once"
    );
}

#[tokio::test]
async fn embedded_service_starts_jobs_for_callers_and_shuts_down_gracefully() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = start_job::client(cloud(&emu), env(&emu)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(embedded_service::serve(listener, jobs, shutdown));

    let http: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let call = |path: String| {
        let http = http.clone();
        async move {
            let req = http::Request::post(format!("http://{addr}{path}"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let resp = http.request(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let path = |sp: &str, job: &str| format!("/jobs/{sp}/{job}/start");
    let (status, body) = call(path(PAUSED.service_principal_id, PAUSED.job_id)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("started")),
        "{body}"
    );
    assert!(body["requestId"].is_string());
    let (status, body) = call(path(ACTIVE.service_principal_id, ACTIVE.job_id)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("skipped: already active"))
    );
    let (status, body) = call(path(PAUSED.service_principal_id, "scim.missing")).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["requestId"].is_string(),
        "the Graph request-id is passed on"
    );

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the service stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn emulator_in_tests_runs_as_a_test_would() {
    emulator_in_tests::check().await.unwrap();
}
