//! The smallest program that starts a job.
//!
//! It signs in with `DefaultCredential` (the environment's secret or
//! certificate, workload identity, managed identity, then the Azure CLI), and
//! starts the job only if it needs a start: a running job is left alone.
//!
//! ```sh
//! export GRAPH_CLOUD=global    # or usgov, usgov-dod, china
//! cargo run -p graphsync-examples --example start_job -- <servicePrincipalId> <jobId>
//! ```

// Items are `pub` so the tests can call them; an example has no API.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::missing_errors_doc
)]

use std::sync::Arc;

use graph_auth::{CredentialOptions, DefaultCredential};
use graph_model::{JobRef, NationalCloud};
use graph_transport::{ClientOptions, GraphClient, TransportOptions, default_transport};
use sync_jobs::{SafeStart, SyncJobsClient};

/// A jobs client for `cloud`, signed in with the default chain, which reads
/// its settings through `var`.
pub fn client(
    cloud: NationalCloud,
    var: impl Fn(&str) -> Option<String>,
) -> Result<SyncJobsClient, Box<dyn std::error::Error>> {
    let transport = default_transport(&TransportOptions::default())?;
    // Plain http is only ever allowed to a loopback host (a local emulator).
    let loopback = cloud.graph_root().starts_with("http://127.0.0.1");
    let credential = DefaultCredential::from_env(
        var,
        transport.clone(),
        CredentialOptions::new(cloud.clone()).allow_http_loopback(loopback),
    );
    let graph = GraphClient::new(
        transport,
        Arc::new(credential),
        ClientOptions::new(cloud).allow_http_loopback(loopback),
    )?;
    Ok(SyncJobsClient::new(graph))
}

/// Starts `job` if it needs it; says what happened.
pub async fn start(jobs: &SyncJobsClient, job: &JobRef) -> Result<String, sync_jobs::Error> {
    Ok(match jobs.start_if_needed(job, false).await? {
        SafeStart::Started { previous, outcome } => format!(
            "started {job} (was {}, request-id {})",
            previous.map_or("unknown".into(), |p| p.to_string()),
            outcome.request_id.as_deref().unwrap_or("none")
        ),
        other => format!("{}: {job}", other.summary()),
    })
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(sp), Some(job)) = (args.next(), args.next()) else {
        return Err("usage: start_job <servicePrincipalId> <jobId>".into());
    };
    let cloud: NationalCloud = match std::env::var("GRAPH_CLOUD") {
        Ok(name) => name.parse()?,
        Err(_) => NationalCloud::Global,
    };
    let jobs = client(cloud, |k| std::env::var(k).ok())?;
    let job = JobRef::service_principal(sp, job)?;
    println!("{}", start(&jobs, &job).await?);
    Ok(())
}
