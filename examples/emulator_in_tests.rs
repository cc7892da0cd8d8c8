//! Testing your own code against `sync-emulator`, as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! sync-emulator = "0.1"
//! ```
//!
//! The code under test here is `pause_active_jobs`, something a user might
//! write. The test starts the emulator on a free port, seeds the jobs it
//! needs, injects throttling, runs the code over real HTTP, and asserts on
//! what the emulator recorded: the actions it applied, and its counters.
//! In a real project the body of `check` is a `#[tokio::test]`.
//!
//! ```sh
//! cargo run -p graphsync-examples --example emulator_in_tests
//! ```

// Items are `pub` so the tests can call them; an example has no API.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::missing_errors_doc
)]

use std::sync::Arc;

use graph_auth::{ClientSecretCredential, CredentialOptions};
use graph_model::{JobOwner, JobRef, NationalCloud, SynchronizationStatusCode};
use graph_transport::{ClientOptions, GraphClient, TransportOptions, default_transport};
use sync_emulator::{Emulator, EmulatorOptions, FaultOptions, JobSeed, Seed, default_ids};
use sync_jobs::SyncJobsClient;

/// The code under test: pauses every running job of `owner`, returns how
/// many it paused.
pub async fn pause_active_jobs(
    jobs: &SyncJobsClient,
    owner: &JobOwner,
) -> Result<usize, sync_jobs::Error> {
    let mut paused = 0;
    for job in jobs.list(owner).await? {
        if job.status.code == Some(SynchronizationStatusCode::Active) {
            let job =
                JobRef::new(owner.clone(), job.id).map_err(graph_model::RequestError::from)?;
            jobs.pause(&job).await?;
            paused += 1;
        }
    }
    Ok(paused)
}

/// What a test does: emulator up, seeded, faulty; code run; effects checked.
pub async fn check() -> Result<(), Box<dyn std::error::Error>> {
    // Seed: the default tenant plus five running jobs on one app.
    let mut seed = Seed::default_seed();
    let sp = seed.service_principals[0].id.clone();
    for i in 0..5 {
        seed.service_principals[0].jobs.push(JobSeed::new(
            format!("scim.{i:032x}"),
            SynchronizationStatusCode::Active,
        ));
    }
    // One Graph request in five answers 429: the code must ride it out.
    let faults = FaultOptions::seeded(7).throttle(0.2).retry_after_secs(0.01);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed).faults(faults)).await?;

    // A client pointed at the emulator, as production code would build one
    // for a cloud: only the cloud's endpoints differ.
    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host())?;
    let transport = default_transport(&TransportOptions::default())?;
    let credential = ClientSecretCredential::new(
        emu.tenant_id(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
        transport.clone(),
        CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
    )?;
    let graph = GraphClient::new(
        transport,
        Arc::new(credential),
        ClientOptions::new(cloud).allow_http_loopback(true),
    )?;
    let jobs = SyncJobsClient::new(graph);

    let owner = JobOwner::service_principal(sp)?;
    let paused = pause_active_jobs(&jobs, &owner).await?;

    // Assert on what the service saw, not only on what the code returned.
    let pauses = emu.actions().iter().filter(|a| a.action == "pause").count();
    let active_left = jobs
        .list(&owner)
        .await?
        .iter()
        .filter(|j| j.status.code == Some(SynchronizationStatusCode::Active))
        .count();
    let stats = emu.stats();
    if paused < 5 || pauses != paused || active_left != 0 {
        return Err(format!(
            "paused {paused}, emulator applied {pauses}, {active_left} still active"
        )
        .into());
    }
    println!(
        "ok: {paused} jobs paused, each once; {} faults injected over {} Graph requests",
        stats.faults_injected, stats.graph_requests
    );
    Ok(())
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    check().await
}
