//! No secret and no token in logs or `Debug` output, through a whole run:
//! sign-in, every kind of call, a refused token, an error, on both
//! back-ends, with `tracing` captured at TRACE level.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graph_auth::{ClientSecretCredential, CredentialOptions};
use graph_model::{JobRef, NationalCloud, RestartScope};
use graph_transport::{
    ClientOptions, GraphClient, HyperTransport, ReqwestTransport, TokenCredential, Transport,
    TransportOptions,
};
use sync_emulator::default_ids::{self, PAUSED};
use sync_emulator::{Emulator, EmulatorOptions};
use sync_jobs::SyncJobsClient;

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn neither_the_client_secret_nor_any_token_is_logged_or_debug_printed() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut debug_text = String::new();
    let mut tokens = Vec::new();
    runtime.block_on(async {
        let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
        let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap();
        let backends: Vec<Arc<dyn Transport>> = vec![
            Arc::new(ReqwestTransport::with_options(&TransportOptions::default()).unwrap()),
            Arc::new(HyperTransport::with_options(&TransportOptions::default()).unwrap()),
        ];
        for transport in backends {
            let credential = Arc::new(
                ClientSecretCredential::new(
                    emu.tenant_id(),
                    default_ids::OPERATOR_CLIENT_ID,
                    default_ids::OPERATOR_CLIENT_SECRET,
                    transport.clone(),
                    CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
                )
                .unwrap(),
            );
            let graph = GraphClient::new(
                transport.clone(),
                credential.clone(),
                ClientOptions::new(cloud.clone()).allow_http_loopback(true),
            )
            .unwrap();
            let jobs = SyncJobsClient::new(graph.clone());
            let job = JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap();
            let owner = job.owner().clone();

            jobs.get(&job).await.unwrap();
            jobs.start(&job).await.unwrap();
            jobs.pause(&job).await.unwrap();
            jobs.restart(&job, Some(RestartScope::FULL)).await.unwrap();
            jobs.list(&owner).await.unwrap();
            jobs.templates(&owner).await.unwrap();
            // A refused token (the emulator's clock passes its lifetime)
            // and a fresh one fetched.
            emu.advance_clock(Duration::from_secs(2 * 3600)).unwrap();
            jobs.get(&job).await.unwrap();
            // An error answer.
            let missing = JobRef::service_principal(PAUSED.service_principal_id, "nope").unwrap();
            let err = jobs.get(&missing).await.unwrap_err();

            let token = credential
                .get_token(&[graph.scope()])
                .await
                .unwrap();
            tokens.push(token.token.expose().to_owned());
            let request = graph
                .prepare(&graph_model::requests::get_job(&job, graph_model::ApiVersion::V1))
                .unwrap();
            debug_text.push_str(&format!(
                "{credential:?}\n{graph:?}\n{jobs:?}\n{token:?}\n{request:?}\n{err:?}\n{err}\n{transport:?}\n"
            ));
        }
        // The tokens the emulator issued, all of them.
        tokens.extend(emu.issued_tokens());
        emu.shutdown().await;
    });

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("graph response"), "TRACE logs were captured");
    assert!(tokens.len() >= 4, "{tokens:?}");
    for haystack in [&logs, &debug_text] {
        assert!(!haystack.contains(default_ids::OPERATOR_CLIENT_SECRET));
        for token in &tokens {
            assert!(!haystack.contains(token.as_str()), "a token leaked");
        }
    }
}
