//! After an incident: find the quarantined jobs of many service principals
//! and restart each with the reset scope its quarantine calls for, a bounded
//! number of requests at a time, with tracing on stderr.
//!
//! - Escrow thresholds: clear the escrows and the quarantine.
//! - Too many deletes: left alone unless `--force-deletes`, because
//!   releasing held deletions deletes accounts in the target; review first.
//! - Anything else: clear the quarantine.
//!
//! ```sh
//! cargo run -p graphsync-examples --example restart_after_incident -- sp-1 sp-2 … [--force-deletes]
//! ```

// Items are `pub` so the tests can call them; an example has no API.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::missing_errors_doc
)]

use std::collections::BTreeMap;

use futures_util::StreamExt;
use graph_model::{JobOwner, JobRef, QuarantineReason, RestartScope, SynchronizationStatusCode};
use sync_jobs::{BulkAction, BulkOptions, BulkResult, SyncJobsClient};

#[path = "start_job.rs"]
#[allow(dead_code)]
mod start_job;

/// The reset scope for a job quarantined for `reason`; `None` to leave it.
pub fn scope_for(reason: Option<&QuarantineReason>, force_deletes: bool) -> Option<RestartScope> {
    let flags = match reason {
        Some(
            QuarantineReason::EncounteredBaseEscrowThreshold
            | QuarantineReason::EncounteredTotalEscrowThreshold
            | QuarantineReason::EncounteredEscrowProportionThreshold,
        ) => "Escrows, QuarantineState",
        Some(QuarantineReason::TooManyDeletes) if force_deletes => "ForceDeletes, QuarantineState",
        Some(QuarantineReason::TooManyDeletes) => return None,
        _ => "QuarantineState",
    };
    flags.parse().ok()
}

/// What the run did, by outcome.
#[derive(Debug, Default)]
pub struct Report {
    /// Jobs restarted.
    pub restarted: usize,
    /// Quarantined jobs left alone (too many deletes, not forced).
    pub left_alone: usize,
    /// Jobs whose restart failed or whose outcome is unknown.
    pub failed: usize,
}

/// Lists the jobs of `owners` (8 at a time), restarts the quarantined ones.
pub async fn restart_quarantined(
    jobs: &SyncJobsClient,
    owners: &[JobOwner],
    force_deletes: bool,
) -> Result<Report, sync_jobs::Error> {
    let listed: Vec<_> = futures_util::stream::iter(owners.iter().cloned())
        .map(|owner| async move { jobs.list(&owner).await.map(|all| (owner, all)) })
        .buffer_unordered(8)
        .collect()
        .await;
    // Group by reset scope: one bulk (batched, bounded) per scope.
    let mut by_scope: BTreeMap<String, (RestartScope, Vec<JobRef>)> = BTreeMap::new();
    let mut report = Report::default();
    for result in listed {
        let (owner, all) = result?;
        for job in all {
            if job.status.code != Some(SynchronizationStatusCode::Quarantine) {
                continue;
            }
            let reason = job
                .status
                .quarantine
                .as_ref()
                .and_then(|q| q.reason.as_ref());
            let Some(scope) = scope_for(reason, force_deletes) else {
                tracing::warn!(job = %job.id, "too many deletes: review before releasing them");
                report.left_alone += 1;
                continue;
            };
            let job_ref = JobRef::new(owner.clone(), job.id.clone())
                .map_err(graph_model::RequestError::from)?;
            by_scope
                .entry(scope.to_string())
                .or_insert_with(|| (scope.clone(), Vec::new()))
                .1
                .push(job_ref);
        }
    }
    for (name, (scope, targets)) in by_scope {
        tracing::info!(scope = %name, jobs = targets.len(), "restarting");
        let options = BulkOptions::default().concurrency(4);
        let mut results =
            std::pin::pin!(jobs.bulk(BulkAction::Restart { scope: Some(scope) }, targets, options));
        while let Some(item) = results.next().await {
            match &item.result {
                BulkResult::Succeeded { .. } => {
                    tracing::info!(job = %item.job, "restarted");
                    report.restarted += 1;
                }
                other => {
                    tracing::error!(job = %item.job, result = other.kind(), ?other, "not restarted");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let force_deletes = args.iter().any(|a| a == "--force-deletes");
    let owners = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(|id| JobOwner::service_principal(id.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    if owners.is_empty() {
        return Err("usage: restart_after_incident <servicePrincipalId>… [--force-deletes]".into());
    }
    let cloud = match std::env::var("GRAPH_CLOUD") {
        Ok(name) => name.parse()?,
        Err(_) => graph_model::NationalCloud::Global,
    };
    let jobs = start_job::client(cloud, |k| std::env::var(k).ok())?;
    let report = restart_quarantined(&jobs, &owners, force_deletes).await?;
    println!("{report:?}");
    Ok(())
}
