//! Requests as plain values: what to send, built without any I/O, so every
//! path, version and owner form can be checked in a unit test.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header};
use serde::Serialize;

use crate::cloud::ApiVersion;
use crate::generated::operations;
use crate::generated::types::*;
use crate::job_ref::{InvalidIdError, JobOwner, JobRef, check_id, push_segment};
use crate::restart::RestartScope;

/// What an operation is and what success looks like for it.
///
/// The descriptors of the synchronization API are generated from the spec
/// into [`operations`](crate::operations). The transport layer reads
/// [`Operation::idempotent`] to decide whether an ambiguous failure may be
/// retried; the action layer reads [`Operation::success`] to check the answer.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The Graph name of the operation, e.g. `start` or `list jobs`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The object the path starts from.
    pub target: Target,
    /// The path below the target, e.g. `/start` (empty for the target itself).
    pub suffix: &'static str,
    /// The Rust type of the request body, if there is one.
    pub request_body: Option<&'static str>,
    /// The Rust type of the response body, if there is one.
    pub response: Option<&'static str>,
    /// Whether sending it twice has the same effect as sending it once.
    pub idempotent: bool,
    /// The status codes the service documents for success (the first is
    /// the documented one).
    pub success: &'static [u16],
    /// Set when the beta endpoint marks the operation deprecated: since
    /// when, the removal date and what replaces it.
    pub beta_deprecation: Option<&'static str>,
    /// Set when only one API version has the operation.
    pub only_in: Option<ApiVersion>,
}

/// The object an operation's path starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// `{owner}/synchronization`, for the jobs and templates collections and
    /// the secrets.
    Synchronization,
    /// `{owner}/synchronization/jobs/{jobId}`.
    Job,
    /// `{owner}/synchronization/templates/{templateId}`.
    Template,
    /// The version root itself, for `$batch`.
    Root,
}

impl Operation {
    /// Describes an operation on a job that the spec does not cover.
    pub const fn new(
        name: &'static str,
        method: Method,
        idempotent: bool,
        success: &'static [u16],
    ) -> Self {
        Operation {
            name,
            method,
            target: Target::Job,
            suffix: "",
            request_body: None,
            response: None,
            idempotent,
            success,
            beta_deprecation: None,
            only_in: None,
        }
    }

    /// Whether `version` has the operation.
    pub fn is_in(&self, version: ApiVersion) -> bool {
        self.only_in.is_none_or(|only| only == version)
    }

    /// Whether `status` is one of the success statuses.
    pub fn is_success(&self, status: u16) -> bool {
        self.success.contains(&status)
    }
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
    /// An absolute URL to use instead of root + version + `path`: the
    /// `@odata.nextLink` of a page, followed verbatim. The transport sends it
    /// only to the Graph host it was configured for.
    pub next_link: Option<String>,
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
    /// An id cannot be used in a path.
    #[error(transparent)]
    InvalidId(#[from] InvalidIdError),
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
            next_link: None,
        }
    }

    /// The request for `operation` on `job` (the operation's target must be
    /// [`Target::Job`]).
    pub fn for_job(operation: &'static Operation, version: ApiVersion, job: &JobRef) -> Self {
        debug_assert_eq!(operation.target, Target::Job, "{}", operation.name);
        Request::new(operation, version, job.path_with_suffix(operation.suffix))
    }

    /// The request for `operation` on the synchronization of `owner` (the
    /// operation's target must be [`Target::Synchronization`]).
    pub fn for_owner(operation: &'static Operation, version: ApiVersion, owner: &JobOwner) -> Self {
        debug_assert_eq!(
            operation.target,
            Target::Synchronization,
            "{}",
            operation.name
        );
        let mut path = String::with_capacity(48 + owner.id().len() + operation.suffix.len());
        owner.write_path(&mut path);
        path.push_str("/synchronization");
        path.push_str(operation.suffix);
        Request::new(operation, version, path)
    }

    /// The request for `operation` on a template of `owner` (the operation's
    /// target must be [`Target::Template`]).
    ///
    /// # Errors
    /// [`RequestError::InvalidId`] when `template_id` cannot be a path segment.
    pub fn for_template(
        operation: &'static Operation,
        version: ApiVersion,
        owner: &JobOwner,
        template_id: &str,
    ) -> Result<Self, RequestError> {
        debug_assert_eq!(operation.target, Target::Template, "{}", operation.name);
        check_id("template id", template_id)?;
        let mut path = String::with_capacity(64 + owner.id().len() + template_id.len());
        owner.write_path(&mut path);
        path.push_str("/synchronization/templates/");
        push_segment(&mut path, template_id);
        path.push_str(operation.suffix);
        Ok(Request::new(operation, version, path))
    }

    /// The request for the page at `next_link` (an `@odata.nextLink`) of the
    /// listing `operation`.
    pub fn next_page(operation: &'static Operation, version: ApiVersion, next_link: &str) -> Self {
        let mut request = Request::new(operation, version, String::new());
        request.next_link = Some(next_link.to_owned());
        request
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
    let request = Request::for_job(&operations::START, version, job);
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
    Request::for_job(&operations::GET_JOB, version, job)
}

/// `GET {owner}/synchronization/jobs`: the first page of the owner's jobs.
/// Follow each page's `@odata.nextLink` with [`Request::next_page`].
pub fn list_jobs(owner: &JobOwner, version: ApiVersion) -> Request {
    Request::for_owner(&operations::LIST_JOBS, version, owner)
}

/// `POST {owner}/synchronization/jobs` with `{"templateId": …}`: creates a
/// job from one of the owner's templates. The job starts disabled
/// (`NotConfigured`); start it when its secrets are in place.
///
/// # Errors
/// [`RequestError::InvalidId`] for an empty template id.
pub fn create_job(
    owner: &JobOwner,
    version: ApiVersion,
    template_id: &str,
) -> Result<Request, RequestError> {
    check_id("template id", template_id)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        template_id: &'a str,
    }
    Request::for_owner(&operations::CREATE_JOB, version, owner)
        .with_json_body(&Body { template_id })
}

/// `DELETE {job}`: stops the job and deletes all its state. Accounts already
/// provisioned are left alone.
pub fn delete_job(job: &JobRef, version: ApiVersion) -> Request {
    Request::for_job(&operations::DELETE_JOB, version, job)
}

/// `POST {job}/pause`: the job keeps its progress; the next start resumes it.
pub fn pause(job: &JobRef, version: ApiVersion) -> Request {
    Request::for_job(&operations::PAUSE, version, job)
}

/// `POST {job}/restart` with `{"criteria":{"resetScope": …}}`.
///
/// `None` sends no criteria, which restarts as the portal's "Restart
/// provisioning" does (about `QuarantineState, Watermark, Escrows`).
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
///
/// ```
/// use graph_model::{ApiVersion, JobRef, RestartScope, requests};
/// let job = JobRef::service_principal("sp", "scim.1")?;
/// let scope = RestartScope::WATERMARK | RestartScope::QUARANTINE_STATE;
/// let req = requests::restart(&job, ApiVersion::V1, Some(scope))?;
/// assert_eq!(req.body, r#"{"criteria":{"resetScope":"Watermark, QuarantineState"}}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn restart(
    job: &JobRef,
    version: ApiVersion,
    scope: Option<RestartScope>,
) -> Result<Request, RequestError> {
    let body = RestartBody {
        criteria: Some(SynchronizationJobRestartCriteria { reset_scope: scope }),
    };
    Request::for_job(&operations::RESTART, version, job).with_json_body(&body)
}

/// `POST {job}/provisionOnDemand`: provisions the given objects now. The
/// service allows 5 calls per 10 seconds per job.
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
pub fn provision_on_demand(
    job: &JobRef,
    version: ApiVersion,
    parameters: &[SynchronizationJobApplicationParameters],
) -> Result<Request, RequestError> {
    #[derive(Serialize)]
    struct Body<'a> {
        parameters: &'a [SynchronizationJobApplicationParameters],
    }
    Request::for_job(&operations::PROVISION_ON_DEMAND, version, job)
        .with_json_body(&Body { parameters })
}

/// `POST {job}/validateCredentials`: checks that credentials (or the saved
/// ones) reach the target system.
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
pub fn validate_job_credentials(
    job: &JobRef,
    version: ApiVersion,
    body: &ValidateCredentialsBody,
) -> Result<Request, RequestError> {
    Request::for_job(&operations::VALIDATE_JOB_CREDENTIALS, version, job).with_json_body(body)
}

/// `POST {owner}/synchronization/jobs/validateCredentials`: checks
/// credentials for a template before any job exists.
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
pub fn validate_credentials(
    owner: &JobOwner,
    version: ApiVersion,
    body: &ValidateCredentialsBody,
) -> Result<Request, RequestError> {
    Request::for_owner(&operations::VALIDATE_CREDENTIALS, version, owner).with_json_body(body)
}

/// `GET {job}/schema`.
pub fn get_job_schema(job: &JobRef, version: ApiVersion) -> Request {
    Request::for_job(&operations::GET_JOB_SCHEMA, version, job)
}

/// `PUT {job}/schema`: replaces the job's schema whole.
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
pub fn replace_job_schema(
    job: &JobRef,
    version: ApiVersion,
    schema: &SynchronizationSchema,
) -> Result<Request, RequestError> {
    Request::for_job(&operations::REPLACE_JOB_SCHEMA, version, job).with_json_body(schema)
}

/// `PUT {owner}/synchronization/secrets` with `{"value":[…]}`: replaces the
/// credentials the owner's jobs use.
///
/// # Errors
/// [`RequestError::Body`] if the body cannot be serialised.
pub fn replace_secrets(
    owner: &JobOwner,
    version: ApiVersion,
    secrets: &[SynchronizationSecretKeyStringValuePair],
) -> Result<Request, RequestError> {
    #[derive(Serialize)]
    struct Body<'a> {
        value: &'a [SynchronizationSecretKeyStringValuePair],
    }
    Request::for_owner(&operations::REPLACE_SECRETS, version, owner)
        .with_json_body(&Body { value: secrets })
}

/// `GET {owner}/synchronization/Ping()` (beta only): whether the owner's
/// synchronization answers.
///
/// # Errors
/// [`RequestError::NotInVersion`] for v1.0, which has no such function.
pub fn ping(owner: &JobOwner, version: ApiVersion) -> Result<Request, RequestError> {
    in_version(&operations::PING, version)?;
    Ok(Request::for_owner(&operations::PING, version, owner))
}

/// Refuses an operation the version does not have.
fn in_version(operation: &'static Operation, version: ApiVersion) -> Result<(), RequestError> {
    match operation.only_in {
        Some(only_in) if only_in != version => Err(RequestError::NotInVersion {
            option: operation.name,
            only_in,
            version,
        }),
        _ => Ok(()),
    }
}

/// `GET {owner}/synchronization/templates`: the first page of templates.
pub fn list_templates(owner: &JobOwner, version: ApiVersion) -> Request {
    Request::for_owner(&operations::LIST_TEMPLATES, version, owner)
}

/// `GET {owner}/synchronization/templates/{templateId}`.
///
/// # Errors
/// [`RequestError::InvalidId`] when the template id cannot be a path segment.
pub fn get_template(
    owner: &JobOwner,
    version: ApiVersion,
    template_id: &str,
) -> Result<Request, RequestError> {
    Request::for_template(&operations::GET_TEMPLATE, version, owner, template_id)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn every_operation_builds_its_path_for_each_owner() {
        for (job, path) in owners() {
            let owner = job.owner().clone();
            let sync = path.trim_end_matches("/jobs/scim.01");
            let v = ApiVersion::V1;
            let scope = Some(RestartScope::FULL);
            let body = ValidateCredentialsBody::default();
            let cases: Vec<(Request, String)> = vec![
                (list_jobs(&owner, v), format!("{sync}/jobs")),
                (
                    create_job(&owner, v, "scim").unwrap(),
                    format!("{sync}/jobs"),
                ),
                (delete_job(&job, v), path.to_owned()),
                (pause(&job, v), format!("{path}/pause")),
                (restart(&job, v, scope).unwrap(), format!("{path}/restart")),
                (
                    provision_on_demand(&job, v, &[]).unwrap(),
                    format!("{path}/provisionOnDemand"),
                ),
                (
                    validate_job_credentials(&job, v, &body).unwrap(),
                    format!("{path}/validateCredentials"),
                ),
                (
                    validate_credentials(&owner, v, &body).unwrap(),
                    format!("{sync}/jobs/validateCredentials"),
                ),
                (get_job_schema(&job, v), format!("{path}/schema")),
                (
                    replace_job_schema(&job, v, &SynchronizationSchema::default()).unwrap(),
                    format!("{path}/schema"),
                ),
                (
                    replace_secrets(&owner, v, &[]).unwrap(),
                    format!("{sync}/secrets"),
                ),
                (list_templates(&owner, v), format!("{sync}/templates")),
                (
                    get_template(&owner, v, "scim").unwrap(),
                    format!("{sync}/templates/scim"),
                ),
            ];
            for (req, want) in cases {
                assert_eq!(req.path, want, "{}", req.operation.name);
                let has_body = req.operation.request_body.is_some();
                assert_eq!(!req.body.is_empty(), has_body, "{}", req.operation.name);
            }
        }
    }

    #[test]
    fn bodies_match_the_documented_shapes() {
        let job = JobRef::service_principal("sp", "j").unwrap();
        let owner = job.owner().clone();
        let json = |r: Request| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap();
        assert_eq!(
            json(create_job(&owner, ApiVersion::V1, "scim").unwrap()),
            serde_json::json!({"templateId": "scim"})
        );
        assert_eq!(
            json(restart(&job, ApiVersion::V1, None).unwrap()),
            serde_json::json!({"criteria": {}})
        );
        let secrets = [SynchronizationSecretKeyStringValuePair::new(
            crate::SynchronizationSecret::BaseAddress,
            "https://scim.example",
        )];
        assert_eq!(
            json(replace_secrets(&owner, ApiVersion::V1, &secrets).unwrap()),
            serde_json::json!({"value": [{"key": "BaseAddress", "value": "https://scim.example"}]})
        );
        let body = ValidateCredentialsBody::saved();
        assert_eq!(
            json(validate_job_credentials(&job, ApiVersion::V1, &body).unwrap()),
            serde_json::json!({"useSavedCredentials": true})
        );
    }

    #[test]
    fn template_ids_are_one_segment_and_never_empty() {
        let owner = JobOwner::service_principal("sp").unwrap();
        let req = get_template(&owner, ApiVersion::Beta, "a/b c").unwrap();
        assert_eq!(
            req.path,
            "/servicePrincipals/sp/synchronization/templates/a%2Fb%20c"
        );
        assert!(matches!(
            get_template(&owner, ApiVersion::V1, ".."),
            Err(RequestError::InvalidId(_))
        ));
        assert!(create_job(&owner, ApiVersion::V1, " ").is_err());
    }

    #[test]
    fn generated_descriptors_are_consistent() {
        for op in crate::operations::ALL {
            assert!(!op.success.is_empty(), "{}", op.name);
            let safe = matches!(op.method, Method::GET | Method::PUT | Method::DELETE);
            if safe {
                assert!(op.idempotent, "{}", op.name);
            }
            if op.request_body.is_some() {
                assert!(
                    matches!(op.method, Method::POST | Method::PUT),
                    "{}",
                    op.name
                );
            }
        }
        assert!(!operations::START.idempotent);
        assert!(!operations::RESTART.idempotent);
        assert!(!operations::PROVISION_ON_DEMAND.idempotent);
        assert_eq!(operations::CREATE_JOB.success, &[201, 200]);
        assert_eq!(
            operations::PROVISION_ON_DEMAND.response,
            Some("StringKeyStringValuePair")
        );
        assert!(operations::VALIDATE_CREDENTIALS.beta_deprecation.is_some());
        assert!(operations::START.beta_deprecation.is_none());
    }
}
