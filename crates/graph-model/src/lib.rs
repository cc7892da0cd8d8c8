//! Types and request values of the Microsoft Graph synchronization jobs API.
//!
//! This is the bottom layer of graphsync. It knows what the API looks like and
//! nothing about how to reach it: no async, no HTTP client. It holds
//!
//! - the serde types of a [`SynchronizationJob`] and everything nested in it,
//!   lenient where the service is sloppy (`""` for an absent timestamp,
//!   `"status": {}`, unknown enum members kept as `Other`);
//! - the [Graph error envelope](GraphErrorResponse);
//! - the [national clouds](NationalCloud) and [API versions](ApiVersion);
//! - [`JobRef`], the three ways to name a job's owner, and the
//!   [request values](requests) built from it, with every id percent-encoded
//!   as exactly one path segment.
//!
//! Layers above send these values (`graph-transport`) and give them meaning
//! (`sync-jobs`); tests can check every path without a network.
//!
//! ```
//! use graph_model::{requests, ApiVersion, JobRef, SynchronizationJob, SynchronizationStatusCode};
//!
//! // The request for "start this job", as a value.
//! let job = JobRef::service_principal_app_id("d0f1c6a0-0000-4000-8000-000000000001", "scim.abc")?;
//! let start = requests::start(&job, ApiVersion::V1, &[])?;
//! assert_eq!(
//!     start.path,
//!     "/servicePrincipals(appId='d0f1c6a0-0000-4000-8000-000000000001')/synchronization/jobs/scim.abc/start"
//! );
//!
//! // A job as Graph sends it, sloppy fields included.
//! let job: SynchronizationJob = serde_json::from_str(
//!     r#"{"id":"scim.abc","status":{"code":"Paused","quarantine":{"reason":"","currentBegan":""}}}"#,
//! )?;
//! assert_eq!(job.status.code, Some(SynchronizationStatusCode::Paused));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cloud;
mod duration;
mod enums;
mod error;
mod generated;
mod job;
mod job_ref;
mod lenient;
mod page;
mod provision;
pub mod request;
mod restart;

pub use cloud::{ApiVersion, CloudError, CustomCloud, NationalCloud, UnknownApiVersion};
pub use duration::{DurationParseError, IsoDuration};
pub use error::{GraphError, GraphErrorDetail, GraphErrorResponse, InnerError};
// Everything generated from the spec is public at the crate root, so a new
// spec entry needs no change here.
pub use generated::enums::*;
pub use generated::types::*;
pub use job_ref::{InvalidIdError, JobOwner, JobRef, push_segment};
pub use lenient::{format_timestamp, parse_timestamp};
pub use page::Page;
pub use provision::{
    ModifiedProperty, ProvisionDecodeError, ProvisionOnDemandResult, ProvisionOutcome,
    ProvisioningRecord, ProvisioningStep,
};
pub use request::{Operation, Request, RequestError, Target};
pub use restart::RestartScope;

/// The descriptor of every operation of the synchronization API, generated
/// from the spec: method, path below its [`Target`], body and response types,
/// success statuses, idempotency.
pub mod operations {
    pub use crate::generated::operations::*;
}

/// Request values for each operation (re-exported from [`request`]).
pub mod requests {
    pub use crate::request::{
        create_job, delete_job, get_job, get_job_schema, get_template, list_jobs, list_templates,
        pause, provision_on_demand, replace_job_schema, replace_secrets, restart, start,
        validate_credentials, validate_job_credentials,
    };
}

// Re-exported so users name the same `http`, `bytes` and `time` versions.
pub use bytes;
pub use http;
pub use time;
