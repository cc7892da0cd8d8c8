//! Sending requests to Microsoft Graph: the pluggable [`Transport`], its
//! reqwest and hyper back-ends, and the pipeline in [`GraphClient`].
//!
//! This layer sits between the request values of `graph-model` and the
//! actions of `sync-jobs`. It knows HTTP and nothing about synchronization:
//! any Graph action reuses it.
//!
//! - [`Transport`] sends one request; [`ReqwestTransport`] (feature `reqwest`,
//!   on by default) and [`HyperTransport`] (feature `hyper`) implement it with
//!   rustls on ring. Implement it yourself to wrap or replace them.
//! - [`TokenCredential`] gets bearer tokens; `graph-auth` has the credentials.
//! - [`GraphClient`] runs the pipeline: `client-request-id`, `User-Agent`,
//!   `Content-Length: 0` on bodiless writes, a token per try, `tracing`
//!   events, and typed errors that keep Graph's `request-id`.
//! - Feature `mock` exports `MockTransport` and `MockTokenCredential`
//!   (mockall) for tests of code built on this crate.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//! use async_trait::async_trait;
//! use graph_model::{requests, ApiVersion, JobRef, NationalCloud};
//! use graph_transport::{
//!     AccessToken, ClientOptions, CredentialError, GraphClient, HttpRequest, HttpResponse,
//!     TokenCredential, Transport, TransportError,
//! };
//!
//! // A transport that answers every request with 204, to show the pipeline's work.
//! #[derive(Debug)]
//! struct NoContent;
//! #[async_trait]
//! impl Transport for NoContent {
//!     async fn send(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
//!         assert_eq!(req.headers["content-length"], "0");
//!         assert!(req.headers.contains_key("client-request-id"));
//!         Ok(HttpResponse::new(http::StatusCode::NO_CONTENT, Default::default(), Default::default()))
//!     }
//! }
//! #[derive(Debug)]
//! struct Fixed;
//! #[async_trait]
//! impl TokenCredential for Fixed {
//!     async fn get_token<'a>(&self, _: &'a [&'a str]) -> Result<AccessToken, CredentialError> {
//!         Ok(AccessToken::new("token", SystemTime::now() + Duration::from_secs(3600)))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let client = GraphClient::new(Arc::new(NoContent), Arc::new(Fixed), ClientOptions::new(NationalCloud::UsGovL4))?;
//! let job = JobRef::service_principal("sp-id", "scim.01")?;
//! let request = requests::start(&job, ApiVersion::V1, &[])?;
//! assert_eq!(
//!     client.prepare(&request)?.url.as_str(),
//!     "https://graph.microsoft.us/v1.0/servicePrincipals/sp-id/synchronization/jobs/scim.01/start"
//! );
//! let response = client.send(&request).await?;
//! assert_eq!(response.status, 204);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod credential;
mod error;
#[cfg(feature = "hyper")]
mod hyper_backend;
mod options;
mod request_id;
#[cfg(feature = "reqwest")]
mod reqwest_backend;
mod retry;
#[cfg(test)]
mod retry_tests;
#[cfg(any(feature = "reqwest", feature = "hyper"))]
mod tls;
mod transport;

pub use client::{
    CLIENT_REQUEST_ID, ClientOptions, GraphClient, MAX_REDIRECTS, RETRY_ATTEMPT,
    USER_AGENT_PRODUCT, is_loopback, secrets_allowed,
};
pub use credential::{AccessToken, CredentialError, Secret, TokenCredential};
pub use error::{Error, GraphServiceError, retry_after};
#[cfg(feature = "hyper")]
pub use hyper_backend::HyperTransport;
pub use options::TransportOptions;
#[cfg(feature = "reqwest")]
pub use reqwest_backend::ReqwestTransport;
pub use retry::{RetryBudget, RetryOptions};
pub use transport::{
    HttpRequest, HttpResponse, RequestSent, Transport, TransportError, TransportErrorKind,
};

#[cfg(any(test, feature = "mock"))]
pub use credential::MockTokenCredential;
#[cfg(any(test, feature = "mock"))]
pub use transport::MockTransport;

/// The default back-end: reqwest when its feature is on, else hyper.
///
/// # Errors
/// When TLS cannot be set up.
#[cfg(any(feature = "reqwest", feature = "hyper"))]
pub fn default_transport(
    options: &TransportOptions,
) -> Result<std::sync::Arc<dyn Transport>, TransportError> {
    #[cfg(feature = "reqwest")]
    {
        Ok(std::sync::Arc::new(ReqwestTransport::with_options(
            options,
        )?))
    }
    #[cfg(not(feature = "reqwest"))]
    {
        Ok(std::sync::Arc::new(HyperTransport::with_options(options)?))
    }
}
