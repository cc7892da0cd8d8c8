//! Requests as plain values: what to send, built without any I/O, so every
//! path, version and owner form can be checked in a unit test.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header};
use serde::Serialize;

use crate::cloud::ApiVersion;
use crate::job::SynchronizationJobApplicationParameters;
use crate::job_ref::JobRef;

/// What an operation is and what success looks like for it.
///
/// The transport layer reads [`Operation::idempotent`] to decide whether an
/// ambiguous failure may be retried; the action layer reads
/// [`Operation::success`] to check the answer.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The Graph name of the operation, e.g. `start`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// Whether sending it twice has the same effect as sending it once.
    pub idempotent: bool,
    /// The status codes the service documents for success.
    pub success: &'static [u16],
}

impl Operation {
    /// Describes an operation, e.g. one this crate does not build yet.
    pub const fn new(
        name: &'static str,
        method: Method,
        idempotent: bool,
        success: &'static [u16],
    ) -> Self {
        Operation {
            name,
            method,
            idempotent,
            success,
        }
    }
}

/// The operations this crate builds requests for.
pub mod operations {
    use super::*;

    /// `POST …/jobs/{jobId}/start`: 204 No Content. A service that answers
    /// 200 with a body (as an early beta draft described) is also accepted.
    pub static START: Operation = Operation::new("start", Method::POST, false, &[204, 200]);

    /// `GET …/jobs/{jobId}`: 200 with the job.
    pub static GET_JOB: Operation = Operation::new("get", Method::GET, true, &[200]);
}

/// A request to Graph, relative to a version root.
///
/// `path` is already percent-encoded; the transport joins it to
/// `{graph root}/{version}` without touching it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// What the request does (and so its method).
    pub operation: &'static Operation,
    /// The API version.
    pub version: ApiVersion,
    /// The percent-encoded path, starting with `/`.
    pub path: String,
    /// Headers specific to this request (`Content-Type` for a body).
    pub headers: HeaderMap,
    /// The body; empty when there is none.
    pub body: Bytes,
}

/// A request that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The option exists only in another API version.
    #[error("{option} is only available in the {only_in} API, not {version}")]
    NotInVersion {
        /// The option.
        option: &'static str,
        /// The version that has it.
        only_in: ApiVersion,
        /// The version asked for.
        version: ApiVersion,
    },
    /// The body could not be serialised.
    #[error("the request body could not be serialised: {0}")]
    Body(String),
}

impl Request {
    /// A bodiless request for `operation` at `path`.
    pub fn new(operation: &'static Operation, version: ApiVersion, path: String) -> Self {
        Request {
            operation,
            version,
            path,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// The HTTP method: the operation's.
    pub fn method(&self) -> &Method {
        &self.operation.method
    }

    /// Sets a JSON body and its `Content-Type`.
    ///
    /// # Errors
    /// When `value` cannot be serialised to JSON.
    pub fn with_json_body<T: Serialize + ?Sized>(
        mut self,
        value: &T,
    ) -> Result<Self, RequestError> {
        let body = serde_json::to_vec(value).map_err(|e| RequestError::Body(e.to_string()))?;
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Bytes::from(body);
        Ok(self)
    }
}

/// `POST {job}/start`.
///
/// Start resumes a paused job from where it stopped and lifts a quarantine.
/// The service documents it without a body on both versions; `parameters`
/// (beta only) sends the `parameters` collection that an early beta draft
/// described. Pass `&[]` for the documented call.
///
/// Start only a paused or quarantined job: starting a running job over and
/// over can make the service stop the job.
///
/// # Errors
/// [`RequestError::NotInVersion`] when parameters are given for v1.0.
///
/// ```
/// use graph_model::{ApiVersion, JobRef, requests};
/// let job = JobRef::application("app-object-id", "scim.0123")?;
/// let req = requests::start(&job, ApiVersion::Beta, &[])?;
/// assert_eq!(req.method(), http::Method::POST);
/// assert_eq!(req.path, "/applications/app-object-id/synchronization/jobs/scim.0123/start");
/// assert!(req.body.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start(
    job: &JobRef,
    version: ApiVersion,
    parameters: &[SynchronizationJobApplicationParameters],
) -> Result<Request, RequestError> {
    let request = Request::new(&operations::START, version, job.path_with_suffix("/start"));
    if parameters.is_empty() {
        return Ok(request);
    }
    if version != ApiVersion::Beta {
        return Err(RequestError::NotInVersion {
            option: "start parameters",
            only_in: ApiVersion::Beta,
            version,
        });
    }
    #[derive(Serialize)]
    struct Body<'a> {
        parameters: &'a [SynchronizationJobApplicationParameters],
    }
    request.with_json_body(&Body { parameters })
}

/// `GET {job}`.
pub fn get_job(job: &JobRef, version: ApiVersion) -> Request {
    Request::new(&operations::GET_JOB, version, job.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::SynchronizationJobSubject;

    fn owners() -> Vec<(JobRef, &'static str)> {
        vec![
            (
                JobRef::service_principal("sp-1", "scim.01").unwrap(),
                "/servicePrincipals/sp-1/synchronization/jobs/scim.01",
            ),
            (
                JobRef::service_principal_app_id("00000000-aaaa", "scim.01").unwrap(),
                "/servicePrincipals(appId='00000000-aaaa')/synchronization/jobs/scim.01",
            ),
            (
                JobRef::application("app-1", "scim.01").unwrap(),
                "/applications/app-1/synchronization/jobs/scim.01",
            ),
        ]
    }

    #[test]
    fn start_for_each_owner_and_version() {
        for (job, path) in owners() {
            for version in [ApiVersion::V1, ApiVersion::Beta] {
                let req = start(&job, version, &[]).unwrap();
                assert_eq!(req.method(), Method::POST);
                assert_eq!(req.version, version);
                assert_eq!(req.path, format!("{path}/start"));
                assert!(req.body.is_empty());
                assert!(req.headers.is_empty());
                assert!(!req.operation.idempotent);
                assert_eq!(req.operation.success, &[204, 200]);
            }
        }
    }

    #[test]
    fn get_for_each_owner_and_version() {
        for (job, path) in owners() {
            for version in [ApiVersion::V1, ApiVersion::Beta] {
                let req = get_job(&job, version);
                assert_eq!(req.method(), Method::GET);
                assert_eq!(req.path, path);
                assert!(req.operation.idempotent);
            }
        }
    }

    #[test]
    fn beta_start_parameters_become_a_json_body() {
        let job = JobRef::service_principal("sp", "j").unwrap();
        let params = [SynchronizationJobApplicationParameters::new(
            "rule#V2",
            vec![SynchronizationJobSubject::new("user-1", "User")],
        )];
        let req = start(&job, ApiVersion::Beta, &params).unwrap();
        assert_eq!(req.headers[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"parameters":[{"ruleId":"rule#V2","subjects":[
                {"objectId":"user-1","objectTypeName":"User"}]}]})
        );
        assert!(matches!(
            start(&job, ApiVersion::V1, &params),
            Err(RequestError::NotInVersion { .. })
        ));
    }
}
