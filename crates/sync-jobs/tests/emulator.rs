//! The whole stack against the emulator over loopback HTTP: credential →
//! token endpoint → bearer → `POST …/start` → 204, through each back-end.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use graph_model::{ApiVersion, JobRef, SynchronizationStatusCode};
use graph_transport::{HyperTransport, ReqwestTransport, Transport, TransportOptions};
use sync_emulator::default_ids::{PAUSED, QUARANTINED};
use sync_emulator::{Emulator, EmulatorOptions, default_ids};
use sync_jobs::{Error, GetOptions, StartOptions};

mod common;

use common::{client, operator};

const PAUSED_SP: &str = PAUSED.service_principal_id;
const PAUSED_JOB: &str = PAUSED.job_id;

fn backends() -> Vec<(&'static str, Arc<dyn Transport>)> {
    let options = TransportOptions::default();
    vec![
        (
            "reqwest",
            Arc::new(ReqwestTransport::with_options(&options).unwrap()),
        ),
        (
            "hyper",
            Arc::new(HyperTransport::with_options(&options).unwrap()),
        ),
    ]
}

#[tokio::test]
async fn start_a_paused_job_end_to_end_on_each_backend_owner_form_and_version() {
    let jobs = [
        JobRef::service_principal(PAUSED_SP, PAUSED_JOB).unwrap(),
        JobRef::service_principal_app_id(PAUSED.app_id, PAUSED_JOB).unwrap(),
        JobRef::application(PAUSED.application_id, PAUSED_JOB).unwrap(),
    ];
    for (name, transport) in backends() {
        for job in &jobs {
            for version in [ApiVersion::V1, ApiVersion::Beta] {
                let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
                let jobs_client = operator(&emu, transport.clone());
                let before = jobs_client
                    .get_with(job, &GetOptions::version(version))
                    .await
                    .unwrap();
                assert_eq!(before.status.code, Some(SynchronizationStatusCode::Paused));

                let outcome = jobs_client
                    .start_with(job, &StartOptions::version(version))
                    .await
                    .unwrap_or_else(|e| panic!("{name} {job} {version}: {e}"));
                assert_eq!(outcome.status, 204, "{name}");
                assert!(outcome.request_id.is_some());
                assert!(outcome.result.is_none());

                let after = jobs_client.get(job).await.unwrap();
                assert_eq!(after.status.code, Some(SynchronizationStatusCode::Active));
                let actions = emu.actions();
                assert_eq!(actions.len(), 1, "{name}: exactly one start applied");
                assert_eq!(actions[0].api_version, version.as_str());
                assert_eq!(
                    Some(actions[0].client_request_id.as_str()),
                    outcome.client_request_id.as_deref()
                );
                assert_eq!(
                    Some(actions[0].request_id.as_str()),
                    outcome.request_id.as_deref()
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_request_serves_many_concurrent_calls() {
    for (name, transport) in backends() {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let jobs_client = operator(&emu, transport);
        let job = JobRef::service_principal(QUARANTINED.service_principal_id, QUARANTINED.job_id)
            .unwrap();
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (c, j) = (jobs_client.clone(), job.clone());
            calls.spawn(async move { c.get(&j).await });
        }
        while let Some(result) = calls.join_next().await {
            result.unwrap().unwrap();
        }
        jobs_client.start(&job).await.unwrap();
        assert!(
            jobs_client
                .get(&job)
                .await
                .unwrap()
                .status
                .quarantine
                .is_none()
        );
        let stats = emu.stats();
        assert_eq!(
            stats.token_requests, 1,
            "{name}: cold concurrent callers share one token request"
        );
        assert_eq!(stats.graph_requests, 22, "{name}");
    }
}

#[tokio::test]
async fn service_errors_keep_code_and_request_id() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    for (name, transport) in backends() {
        let reader = client(
            &emu,
            transport.clone(),
            default_ids::READER_CLIENT_ID,
            default_ids::READER_CLIENT_SECRET,
        );
        let job = JobRef::service_principal(PAUSED_SP, PAUSED_JOB).unwrap();
        let err = reader.start(&job).await.unwrap_err();
        let service = err
            .service_error()
            .unwrap_or_else(|| panic!("{name}: {err:?}"));
        assert_eq!(service.status, 403);
        assert_eq!(service.code, "Authorization_RequestDenied");
        assert!(err.request_id().is_some());

        let missing = JobRef::service_principal(PAUSED_SP, "scim.missing").unwrap();
        let err = operator(&emu, transport.clone())
            .get(&missing)
            .await
            .unwrap_err();
        assert_eq!(err.service_error().unwrap().status, 404);

        let wrong_secret = client(&emu, transport, default_ids::OPERATOR_CLIENT_ID, "nope");
        let err = wrong_secret.start(&job).await.unwrap_err();
        match err {
            Error::Graph(graph_transport::Error::Credential(
                graph_auth::CredentialError::Authentication {
                    error, description, ..
                },
            )) => {
                assert_eq!(error, "invalid_client");
                assert!(description.starts_with("AADSTS7000215"));
            }
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
    assert!(
        emu.actions().is_empty(),
        "no refused call may apply anything"
    );
}
