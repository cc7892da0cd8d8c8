//! The Microsoft Graph synchronization job actions.
//!
//! This is the layer SDK users call. [`SyncJobsClient`] takes a
//! [`GraphClient`] (any transport, any credential, any cloud) and gives each
//! job action a typed method: [`list`](SyncJobsClient::list) (every page)
//! and [`list_pages`](SyncJobsClient::list_pages), [`get`](SyncJobsClient::get),
//! [`create`](SyncJobsClient::create), [`delete`](SyncJobsClient::delete),
//! [`start`](SyncJobsClient::start), [`pause`](SyncJobsClient::pause),
//! [`restart`](SyncJobsClient::restart),
//! [`provision_on_demand`](SyncJobsClient::provision_on_demand),
//! [`validate_credentials`](SyncJobsClient::validate_credentials),
//! [`schema`](SyncJobsClient::schema), [`replace_secrets`](SyncJobsClient::replace_secrets),
//! [`templates`](SyncJobsClient::templates) and more. Each method is a few
//! lines: build the request value (`graph-model`, whose operation
//! descriptors are generated from the API spec), send it
//! (`graph-transport`), check the status the operation documents, decode
//! the body.
//!
//! **Start only a paused or quarantined job.** The service warns that calling
//! start over and over on a running job can make it stop the job. Read the
//! job first ([`SyncJobsClient::get`]) when you are not sure.
//!
//! ```no_run
//! use std::sync::Arc;
//! use graph_auth::{ClientSecretCredential, CredentialOptions};
//! use graph_model::{JobRef, NationalCloud, SynchronizationStatusCode};
//! use graph_transport::{default_transport, ClientOptions, GraphClient, TransportOptions};
//! use sync_jobs::SyncJobsClient;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = NationalCloud::Global;
//! let transport = default_transport(&TransportOptions::default())?;
//! let credential = ClientSecretCredential::new(
//!     std::env::var("AZURE_TENANT_ID")?,
//!     std::env::var("AZURE_CLIENT_ID")?,
//!     std::env::var("AZURE_CLIENT_SECRET")?,
//!     transport.clone(),
//!     CredentialOptions::new(cloud.clone()),
//! )?;
//! let graph = GraphClient::new(transport, Arc::new(credential), ClientOptions::new(cloud))?;
//! let jobs = SyncJobsClient::new(graph);
//!
//! let job = JobRef::service_principal("3f1e0c9a-…", "scim.e4bbf44533ea4eabb17027f3a92e92aa")?;
//! let current = jobs.get(&job).await?;
//! if matches!(
//!     current.status.code,
//!     Some(SynchronizationStatusCode::Paused | SynchronizationStatusCode::Quarantine)
//! ) {
//!     let started = jobs.start(&job).await?;
//!     println!("started (request-id {:?})", started.request_id);
//! }
//! # Ok(()) }
//! ```

mod actions;
pub mod bulk;
mod safe;

pub use actions::Pages;
pub use bulk::{BulkAction, BulkItem, BulkOptions, BulkResult};
pub use safe::{DEFAULT_START_GUARD, SafeStart, StartGuard, needs_start};

use graph_model::http;
use graph_model::{
    ApiVersion, JobRef, Operation, Request, RequestError, StringKeyStringValuePair,
    SynchronizationJob, SynchronizationJobApplicationParameters, requests,
};
use graph_transport::{CLIENT_REQUEST_ID, GraphClient, HttpResponse};
use http::HeaderValue;
use serde::de::DeserializeOwned;

/// Errors of the job actions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request failed in the pipeline or the service refused it.
    #[error(transparent)]
    Graph(#[from] graph_transport::Error),
    /// The request could not be built from the options given.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// An option is invalid.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The service answered with a success status the operation does not
    /// document, so its effect is unknown.
    #[error("{operation} answered {status}, which is not a documented success{}", request_id_suffix(.request_id))]
    UnexpectedStatus {
        /// The operation.
        operation: &'static str,
        /// The status.
        status: u16,
        /// The service's request id.
        request_id: Option<String>,
    },
    /// The service refused for lack of permission (403); says what to grant.
    #[error("{operation} was refused for lack of permission: it needs the {needs}")]
    PermissionDenied {
        /// The operation.
        operation: &'static str,
        /// What it needs, least privileged first.
        needs: graph_model::Permissions,
        /// The service's answer.
        #[source]
        source: Box<graph_transport::Error>,
    },
    /// A listing's next-page link points back at a page already read (or
    /// the listing ran past any sensible length): following it would never end.
    #[error("{operation} stopped after {pages} pages: the service sent the page link {link} again")]
    Paging {
        /// The operation.
        operation: &'static str,
        /// The repeated link.
        link: String,
        /// Pages read so far.
        pages: usize,
    },
    /// The `$batch` request that carried this request failed as a whole,
    /// or its answer was unreadable or left this request out.
    #[error("{reason}")]
    Batch {
        /// What went wrong.
        reason: String,
        /// The batch's own failure, shared by every request it carried.
        #[source]
        source: Option<std::sync::Arc<graph_transport::Error>>,
        /// Whether this request may have been applied all the same.
        may_have_been_applied: bool,
    },
    /// This process started the job moments ago; starting it again so soon
    /// is what the service warns against (see [`StartGuard`]).
    #[error("{job} was started {}s ago by this process; not starting it again within {}s", .ago.as_secs(), .interval.as_secs())]
    StartedRecently {
        /// The job's path.
        job: String,
        /// How long ago.
        ago: std::time::Duration,
        /// The guard's interval.
        interval: std::time::Duration,
    },
    /// The response body could not be read as the operation's result.
    #[error("could not read the {operation} response at {path}: {message}{}", request_id_suffix(.request_id))]
    Decode {
        /// The operation.
        operation: &'static str,
        /// Where in the body the problem is (`status.quarantine.currentBegan`).
        path: String,
        /// What is wrong.
        message: String,
        /// The service's request id.
        request_id: Option<String>,
    },
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request-id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// The service's `request-id`, whenever the service answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Graph(e) => e.request_id(),
            Error::PermissionDenied { source, .. } => source.request_id(),
            Error::Batch { source, .. } => source.as_deref().and_then(|s| s.request_id()),
            Error::UnexpectedStatus { request_id, .. } | Error::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            Error::Request(_)
            | Error::InvalidOption { .. }
            | Error::Paging { .. }
            | Error::StartedRecently { .. } => None,
        }
    }

    /// Whether the request may have been applied although it failed: its
    /// answer was lost (a timeout, a dropped connection, a 504) and
    /// nothing settled it. Read the job to find out before trying again.
    pub fn is_ambiguous(&self) -> bool {
        outcome_unknown(self)
    }

    /// The Graph error, when the service answered with one.
    pub fn service_error(&self) -> Option<&graph_transport::GraphServiceError> {
        match self {
            Error::Graph(e) => e.service_error(),
            Error::PermissionDenied { source, .. } => source.service_error(),
            Error::Batch { source, .. } => source.as_deref().and_then(|s| s.service_error()),
            _ => None,
        }
    }
}

/// Options of [`SyncJobsClient::start_with`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct StartOptions {
    /// The API version. Default v1.0.
    pub version: ApiVersion,
    /// Beta only: the `parameters` collection an early beta draft of start
    /// accepted. The documented call has no body; leave this empty.
    pub parameters: Vec<SynchronizationJobApplicationParameters>,
    /// The `client-request-id` to send, instead of a fresh UUID.
    pub client_request_id: Option<String>,
}

impl StartOptions {
    /// Options for `version`.
    pub fn version(version: ApiVersion) -> Self {
        StartOptions {
            version,
            ..Self::default()
        }
    }
}

/// Options of [`SyncJobsClient::get_with`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GetOptions {
    /// The API version. Default v1.0.
    pub version: ApiVersion,
    /// The `client-request-id` to send, instead of a fresh UUID.
    pub client_request_id: Option<String>,
}

impl GetOptions {
    /// Options for `version`.
    pub fn version(version: ApiVersion) -> Self {
        GetOptions {
            version,
            ..Self::default()
        }
    }
}

/// What a successful start returned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOutcome {
    /// The status: 204 as documented, or 200 from a service that answers
    /// with a body.
    pub status: u16,
    /// The service's `request-id`.
    pub request_id: Option<String>,
    /// The `client-request-id` that was sent.
    pub client_request_id: Option<String>,
    /// The body of a 200 answer.
    pub result: Option<StringKeyStringValuePair>,
    /// `true` when the answer was lost (a timeout, a dropped connection, a
    /// 504) and the start was confirmed by reading the job, which was
    /// running; no answer's ids are then known.
    pub verified: bool,
}

/// What a successful action that returns no body told us.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The operation, e.g. `pause`.
    pub operation: &'static str,
    /// The status (204 for most actions).
    pub status: u16,
    /// The service's `request-id`.
    pub request_id: Option<String>,
    /// The `client-request-id` that was sent.
    pub client_request_id: Option<String>,
    /// `true` when the answer was lost and the effect was confirmed by
    /// reading the object afterwards.
    pub verified: bool,
}

impl Outcome {
    fn new(request: &Request, response: &HttpResponse) -> Self {
        Outcome {
            operation: request.operation.name,
            status: response.status.as_u16(),
            request_id: response.request_id().map(str::to_owned),
            client_request_id: sent_client_request_id(request, response),
            verified: false,
        }
    }

    fn verified(operation: &'static str) -> Self {
        Outcome {
            operation,
            status: 204,
            request_id: None,
            client_request_id: None,
            verified: true,
        }
    }
}

fn sent_client_request_id(request: &Request, response: &HttpResponse) -> Option<String> {
    response
        .header(CLIENT_REQUEST_ID.as_str())
        .map(str::to_owned)
        .or_else(|| {
            request
                .headers
                .get(&CLIENT_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
}

/// The synchronization job actions over a [`GraphClient`].
///
/// Cheap to clone; share one. [`with_version`](Self::with_version) gives a
/// copy that calls the beta endpoint.
#[derive(Clone, Debug)]
pub struct SyncJobsClient {
    graph: GraphClient,
    version: ApiVersion,
    client_request_id: Option<HeaderValue>,
    start_guard: std::sync::Arc<StartGuard>,
}

impl SyncJobsClient {
    /// The actions over `graph`, on the v1.0 endpoint.
    pub fn new(graph: GraphClient) -> Self {
        SyncJobsClient {
            graph,
            version: ApiVersion::V1,
            client_request_id: None,
            start_guard: std::sync::Arc::new(StartGuard::default()),
        }
    }

    /// A copy with its own [`StartGuard`] of `interval`
    /// ([`DEFAULT_START_GUARD`] unless set; zero turns the guard off).
    pub fn with_start_guard(&self, interval: std::time::Duration) -> Self {
        SyncJobsClient {
            start_guard: std::sync::Arc::new(StartGuard::new(interval)),
            ..self.clone()
        }
    }

    /// The guard against starting one job twice in a row.
    pub fn start_guard(&self) -> &StartGuard {
        &self.start_guard
    }

    /// A copy that calls `version` (start and get keep their own options).
    pub fn with_version(&self, version: ApiVersion) -> Self {
        SyncJobsClient {
            version,
            ..self.clone()
        }
    }

    /// The API version the actions call.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// A copy that sends `id` as the `client-request-id` of its calls, for
    /// correlating one call with the service's logs. Use it for one call:
    /// the id should be unique per request.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `id` cannot be sent as a header.
    pub fn with_client_request_id(&self, id: &str) -> Result<Self, Error> {
        Ok(SyncJobsClient {
            client_request_id: Some(client_request_id_header(id)?),
            ..self.clone()
        })
    }

    /// Applies what this client adds to every request it sends.
    pub(crate) fn prepare_request(&self, mut request: Request) -> Request {
        if let Some(id) = &self.client_request_id {
            request
                .headers
                .insert(CLIENT_REQUEST_ID.clone(), id.clone());
        }
        request
    }

    /// The Graph client underneath.
    pub fn graph(&self) -> &GraphClient {
        &self.graph
    }

    /// The request [`start_with`](Self::start_with) would send, as a value:
    /// nothing is sent. Pass it to [`GraphClient::prepare`] to see the
    /// headers and URL too (this is how "what if" works).
    ///
    /// # Errors
    /// When the options do not fit the version or the client request id is
    /// not a valid header value.
    pub fn start_request(&self, job: &JobRef, options: &StartOptions) -> Result<Request, Error> {
        let mut request =
            self.prepare_request(requests::start(job, options.version, &options.parameters)?);
        set_client_request_id(&mut request, options.client_request_id.as_deref())?;
        Ok(request)
    }

    /// Starts `job` (no body, on this client's version): resumes a paused job from where it
    /// stopped, or lifts a quarantine.
    ///
    /// Start only a paused or quarantined job: starting a running job
    /// over and over can make the service stop it.
    /// [`start_if_needed`](Self::start_if_needed) checks the state first; and
    /// a second start of the same job within the [`StartGuard`]'s interval
    /// is refused with [`Error::StartedRecently`] before anything is sent.
    ///
    /// # Errors
    /// [`Error::Graph`] when the service refuses (with its code and
    /// request-id) or cannot be reached; [`Error::UnexpectedStatus`] for an
    /// undocumented success status.
    pub async fn start(&self, job: &JobRef) -> Result<StartOutcome, Error> {
        self.start_with(job, &StartOptions::version(self.version))
            .await
    }

    /// Starts `job` with options (beta, parameters, client request id).
    ///
    /// # Errors
    /// As [`start`](Self::start), plus [`Error::Request`] when parameters
    /// are given for v1.0.
    pub async fn start_with(
        &self,
        job: &JobRef,
        options: &StartOptions,
    ) -> Result<StartOutcome, Error> {
        let request = self.start_request(job, options)?;
        self.start_guard.check(job)?;
        let outcome = self.send_start(&request, job, options).await;
        // A start that was refused did nothing: it must not block the next.
        // One that may have been applied counts, so it is not repeated.
        if outcome.as_ref().is_err_and(|e| !outcome_unknown(e)) {
            self.start_guard.forget(job);
        }
        outcome
    }

    async fn send_start(
        &self,
        request: &Request,
        job: &JobRef,
        options: &StartOptions,
    ) -> Result<StartOutcome, Error> {
        let request = request.clone();
        let response = match self.execute(&request).await {
            Ok(r) => r,
            Err(e) if outcome_unknown(&e) => {
                // The start may have been applied. Read the job rather than
                // start it again blindly: the service warns against repeated
                // starts of a running job.
                let read = GetOptions::version(options.version);
                // If the job cannot be read either, the outcome stays unknown.
                let Ok(current) = self.get_with(job, &read).await else {
                    return Err(e);
                };
                if is_running(&current) {
                    return Ok(StartOutcome {
                        status: 204,
                        request_id: None,
                        client_request_id: None,
                        result: None,
                        verified: true,
                    });
                }
                // Not running: the start did not take. One more try.
                self.execute(&request).await.map_err(|_| e)?
            }
            Err(e) => return Err(e),
        };
        let result = if response.status == 200 && !response.body.is_empty() {
            Some(decode::<StringKeyStringValuePair>(
                request.operation,
                &response,
            )?)
        } else {
            None
        };
        Ok(StartOutcome {
            status: response.status.as_u16(),
            request_id: response.request_id().map(str::to_owned),
            client_request_id: sent_client_request_id(&request, &response),
            result,
            verified: false,
        })
    }

    /// Reads `job` (on this client's version).
    ///
    /// # Errors
    /// [`Error::Graph`] when the service refuses or cannot be reached;
    /// [`Error::Decode`] when the body is not a job.
    pub async fn get(&self, job: &JobRef) -> Result<SynchronizationJob, Error> {
        self.get_with(job, &GetOptions::version(self.version)).await
    }

    /// Reads `job` with options.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn get_with(
        &self,
        job: &JobRef,
        options: &GetOptions,
    ) -> Result<SynchronizationJob, Error> {
        let mut request = self.prepare_request(requests::get_job(job, options.version));
        set_client_request_id(&mut request, options.client_request_id.as_deref())?;
        let response = self.execute(&request).await?;
        decode(request.operation, &response)
    }

    /// Sends `request` and checks the answer is a success its operation
    /// documents: what every action has in common.
    pub(crate) async fn execute(&self, request: &Request) -> Result<HttpResponse, Error> {
        let response = self
            .graph
            .send(request)
            .await
            .map_err(|e| self.map_error(request.operation, e))?;
        check_status(request.operation, &response)?;
        Ok(response)
    }

    /// A pipeline failure of `operation` as an action error: a 403 names
    /// the permissions the operation needs.
    pub(crate) fn map_error(
        &self,
        operation: &'static Operation,
        e: graph_transport::Error,
    ) -> Error {
        if e.service_error().is_some_and(|s| s.status.as_u16() == 403) {
            Error::PermissionDenied {
                operation: operation.name,
                needs: graph_model::Permissions::of(operation),
                source: Box::new(e),
            }
        } else {
            Error::Graph(e)
        }
    }
}

/// Whether a failed call may still have been applied: the request went
/// out and no answer says otherwise.
pub(crate) fn outcome_unknown(e: &Error) -> bool {
    match e {
        Error::Graph(g) => {
            g.is_ambiguous() || g.service_error().is_some_and(|s| s.status.as_u16() == 504)
        }
        Error::Batch {
            may_have_been_applied,
            ..
        } => *may_have_been_applied,
        _ => false,
    }
}

/// Whether the job is running (what a start leads to).
fn is_running(job: &SynchronizationJob) -> bool {
    use graph_model::SynchronizationStatusCode as Code;
    matches!(job.status.code, Some(Code::Active | Code::NotRun))
}

/// A `client-request-id` as a header value, or why it cannot be one.
fn client_request_id_header(id: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(id).map_err(|_| Error::InvalidOption {
        option: "client request id",
        reason: format!("{id:?} cannot be sent as a header"),
    })
}

fn set_client_request_id(request: &mut Request, id: Option<&str>) -> Result<(), Error> {
    if let Some(id) = id {
        request
            .headers
            .insert(CLIENT_REQUEST_ID.clone(), client_request_id_header(id)?);
    }
    Ok(())
}

fn check_status(operation: &'static Operation, response: &HttpResponse) -> Result<(), Error> {
    if operation.success.contains(&response.status.as_u16()) {
        Ok(())
    } else {
        Err(Error::UnexpectedStatus {
            operation: operation.name,
            status: response.status.as_u16(),
            request_id: response.request_id().map(str::to_owned),
        })
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static Operation,
    response: &HttpResponse,
) -> Result<T, Error> {
    // The common case reads the body once, without tracking where it is;
    // only a body that fails is read again to say where it went wrong.
    if let Ok(value) = serde_json::from_slice(&response.body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(&response.body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        operation: operation.name,
        path: e.path().to_string(),
        message: e.inner().to_string(),
        request_id: response.request_id().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use graph_model::SynchronizationStatusCode;
    use graph_transport::{AccessToken, ClientOptions, MockTokenCredential, MockTransport};
    use http::{HeaderMap, StatusCode};
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    fn client(transport: MockTransport) -> SyncJobsClient {
        let mut credential = MockTokenCredential::new();
        credential.expect_get_token().returning(|_| {
            Ok(AccessToken::new(
                "t",
                SystemTime::now() + Duration::from_secs(3600),
            ))
        });
        SyncJobsClient::new(
            GraphClient::new(
                Arc::new(transport),
                Arc::new(credential),
                ClientOptions::default(),
            )
            .unwrap(),
        )
    }

    fn answer(status: u16, body: &'static str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        headers.insert("request-id", HeaderValue::from_static("rid-1"));
        HttpResponse::new(
            StatusCode::from_u16(status).unwrap(),
            headers,
            Bytes::from_static(body.as_bytes()),
        )
    }

    fn job() -> JobRef {
        JobRef::service_principal("sp", "scim.1").unwrap()
    }

    #[tokio::test]
    async fn start_accepts_204_and_keeps_ids() {
        let mut t = MockTransport::new();
        t.expect_send().times(1).returning(|req| {
            assert_eq!(req.headers[&CLIENT_REQUEST_ID], "c-1");
            Ok(answer(204, ""))
        });
        let options = StartOptions {
            client_request_id: Some("c-1".into()),
            ..StartOptions::default()
        };
        let out = client(t).start_with(&job(), &options).await.unwrap();
        assert_eq!(out.status, 204);
        assert_eq!(out.request_id.as_deref(), Some("rid-1"));
        assert_eq!(out.client_request_id.as_deref(), Some("c-1"));
        assert_eq!(out.result, None);
    }

    #[tokio::test]
    async fn start_returns_a_200_body_instead_of_failing() {
        let mut t = MockTransport::new();
        t.expect_send().returning(|_| {
            Ok(answer(
                200,
                r#"{"key":"{\"result\":\"Success\"}","value":"{}"}"#,
            ))
        });
        let out = client(t).start(&job()).await.unwrap();
        assert_eq!(out.status, 200);
        assert_eq!(
            out.result,
            Some(StringKeyStringValuePair::new(
                r#"{"result":"Success"}"#,
                "{}"
            ))
        );
    }

    #[tokio::test]
    async fn start_refuses_an_undocumented_success() {
        let mut t = MockTransport::new();
        t.expect_send().returning(|_| Ok(answer(202, "")));
        let err = client(t).start(&job()).await.unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedStatus { status: 202, .. }),
            "{err}"
        );
        assert_eq!(err.request_id(), Some("rid-1"));
    }

    #[tokio::test]
    async fn v1_start_with_parameters_sends_nothing() {
        let mut t = MockTransport::new();
        t.expect_send().never();
        let options = StartOptions {
            parameters: vec![SynchronizationJobApplicationParameters::default()],
            ..StartOptions::default()
        };
        let err = client(t).start_with(&job(), &options).await.unwrap_err();
        assert!(matches!(
            err,
            Error::Request(RequestError::NotInVersion { .. })
        ));
    }

    #[tokio::test]
    async fn get_decodes_the_job_and_points_at_bad_fields() {
        let mut t = MockTransport::new();
        t.expect_send().times(1).returning(|_| {
            Ok(answer(
                200,
                r#"{"id":"scim.1","status":{"code":"Quarantine"}}"#,
            ))
        });
        let got = client(t).get(&job()).await.unwrap();
        assert_eq!(got.status.code, Some(SynchronizationStatusCode::Quarantine));

        let mut t = MockTransport::new();
        t.expect_send().returning(|_| {
            Ok(answer(
                200,
                r#"{"id":"scim.1","status":{"quarantine":{"currentBegan":"whenever"}}}"#,
            ))
        });
        let err = client(t).get(&job()).await.unwrap_err();
        match &err {
            Error::Decode {
                path, request_id, ..
            } => {
                assert_eq!(path, "status.quarantine.currentBegan");
                assert_eq!(request_id.as_deref(), Some("rid-1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn service_errors_pass_through_with_request_id() {
        let mut t = MockTransport::new();
        t.expect_send().returning(|_| {
            Ok(answer(
                403,
                r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#,
            ))
        });
        let err = client(t).start(&job()).await.unwrap_err();
        assert_eq!(
            err.service_error().unwrap().code,
            "Authorization_RequestDenied"
        );
        assert_eq!(err.request_id(), Some("rid-1"));
        // A 403 says what to grant; the service's answer is its source.
        assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("start was refused for lack of permission: it needs the application permission Application.ReadWrite.OwnedBy or Synchronization.ReadWrite.All"),
            "{text}"
        );
        assert_eq!(
            std::error::Error::source(&err).unwrap().to_string(),
            "Graph answered 403 Forbidden: Authorization_RequestDenied: Insufficient privileges to complete the operation. (request-id rid-1)"
        );
    }

    #[tokio::test]
    async fn a_lost_start_answer_is_settled_by_reading_the_job() {
        // 504 on start, then the job reads Active: verified, not resent.
        let mut t = MockTransport::new();
        let mut seq = mockall::Sequence::new();
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|req| {
                assert!(req.url.path().ends_with("/start"));
                Ok(answer(
                    504,
                    r#"{"error":{"code":"GatewayTimeout","message":"m"}}"#,
                ))
            });
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|req| {
                assert_eq!(req.method, http::Method::GET);
                Ok(answer(200, r#"{"id":"scim.1","status":{"code":"Active"}}"#))
            });
        let out = client(t).start(&job()).await.unwrap();
        assert!(out.verified);

        // 504 on start, the job still Paused: start is sent once more.
        let mut t = MockTransport::new();
        let mut seq = mockall::Sequence::new();
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(answer(504, "")));
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(answer(200, r#"{"id":"scim.1","status":{"code":"Paused"}}"#)));
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|req| {
                assert!(req.url.path().ends_with("/start"));
                Ok(answer(204, ""))
            });
        let out = client(t).start(&job()).await.unwrap();
        assert!(!out.verified);
        assert_eq!(out.status, 204);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_is_safe_to_repeat_and_a_lasting_504_is_settled_by_reading() {
        use graph_transport::{RequestSent, TransportError, TransportErrorKind};
        // A timeout on pause is simply retried: pausing twice is pausing.
        let mut t = MockTransport::new();
        let mut seq = mockall::Sequence::new();
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| {
                Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    RequestSent::Maybe,
                    "timed out",
                ))
            });
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(answer(204, "")));
        let out = client(t).pause(&job()).await.unwrap();
        assert!(!out.verified);

        // 504 on every try: the job is read, and it is paused.
        let mut t = MockTransport::new();
        let mut seq = mockall::Sequence::new();
        t.expect_send()
            .times(4)
            .in_sequence(&mut seq)
            .returning(|_| Ok(answer(504, "")));
        t.expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(answer(200, r#"{"id":"scim.1","status":{"code":"Paused"}}"#)));
        let out = client(t).pause(&job()).await.unwrap();
        assert!(out.verified);
    }
}

// The README's Rust examples compile and run as doc tests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
