//! The pipeline every Graph request goes through, in a fixed order:
//!
//! 1. per call: `client-request-id` (a fresh UUID unless the request has one),
//!    `User-Agent`, `Accept`, and `Content-Length: 0` on a bodiless POST, PUT
//!    or PATCH (Graph answers 411 without it);
//! 2. retry (see [`RetryOptions`]): 429/503, and 504 or a lost connection
//!    when the operation is safe to repeat, waiting at least `Retry-After`;
//!    a 401 drops the refused token from the credential's cache and tries
//!    once more with a fresh one; every try sends the same bytes;
//! 3. per try: a bearer token from the credential (which caches), refused
//!    over plain http unless the host is loopback and the caller opted in;
//! 4. a `tracing` event per try (method, path, status, request-id, attempt,
//!    elapsed; never a token);
//! 5. the [`Transport`].
//!
//! The stages are plain code rather than a chain of boxed policies: there are
//! few of them, their order is not negotiable, and a custom [`Transport`]
//! (which may wrap another) is the extension point.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_model::{NationalCloud, Request};
use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION, USER_AGENT,
};
use http::{HeaderName, HeaderValue, Method};
use url::{Host, Url};

use crate::credential::{AccessToken, CredentialError, Secret, TokenCredential};
use crate::error::{Error, GraphServiceError};
use crate::retry::{RetryBudget, RetryOptions, jitter_seed};
use crate::transport::{HttpRequest, HttpResponse, RequestSent, Transport};

/// The `client-request-id` header: the caller's id for a request, echoed by
/// Graph and quoted in support cases.
pub static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// This crate's `User-Agent` product token.
pub const USER_AGENT_PRODUCT: &str = concat!("graphsync/", env!("CARGO_PKG_VERSION"));

/// Options of a [`GraphClient`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The cloud to call; its Graph root is where requests go and its
    /// `.default` scope is what tokens are asked for.
    pub cloud: NationalCloud,
    /// Allow plain `http` when the host is loopback (`127.0.0.0/8`, `::1`,
    /// `localhost`), as for a local emulator. Off by default: a token is
    /// never sent in clear text to anywhere else.
    pub allow_http_loopback: bool,
    /// A product token appended to `User-Agent` (`myapp/1.2`).
    pub user_agent_suffix: Option<String>,
    /// How failed tries are retried.
    pub retry: RetryOptions,
}

impl ClientOptions {
    /// Options for `cloud`, everything else default.
    pub fn new(cloud: NationalCloud) -> Self {
        ClientOptions {
            cloud,
            ..Self::default()
        }
    }

    /// Allows plain `http` to a loopback host (see the field).
    pub fn allow_http_loopback(mut self, allow: bool) -> Self {
        self.allow_http_loopback = allow;
        self
    }

    /// Appends a product token to `User-Agent`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// How failed tries are retried.
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }
}

/// Refuses a credential that signs in at another cloud's authority than
/// `cloud`'s: its tokens are for that cloud, and would be sent to this one.
fn check_same_cloud(credential: &dyn TokenCredential, cloud: &NationalCloud) -> Result<(), Error> {
    let Some(theirs) = credential.authority_host() else {
        return Ok(());
    };
    let norm = |h: &str| h.trim_end_matches('/').to_ascii_lowercase();
    if norm(theirs) == norm(cloud.authority_host()) {
        return Ok(());
    }
    Err(Error::InvalidOptions(format!(
        "the credential signs in at {theirs}, but this client calls {} ({} cloud, whose authority is {}); \
         build the credential for the same cloud (CredentialOptions::new with the client's NationalCloud)",
        cloud.graph_root(),
        cloud.name(),
        cloud.authority_host(),
    )))
}

/// A Graph client: the pipeline over a [`Transport`] and a
/// [`TokenCredential`]. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    credential: Arc<dyn TokenCredential>,
    cloud: NationalCloud,
    /// The Graph root, parsed and checked once; request URLs are resolved
    /// against it, so per request only the path is parsed.
    root: Url,
    scope: String,
    user_agent: HeaderValue,
    allow_http_loopback: bool,
    retry: RetryOptions,
    budget: RetryBudget,
    /// The `Authorization` value of the token last used: a token is the
    /// same for an hour, and building the header (a copy and a check of
    /// every byte of a 2 KB token) is work done once per token, not per call.
    bearer: std::sync::RwLock<Option<(Secret, HeaderValue)>>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("cloud", &self.inner.cloud)
            .field("transport", &self.inner.transport)
            .field("credential", &self.inner.credential)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client for `options.cloud` over `transport`, authenticated by
    /// `credential`.
    ///
    /// # Errors
    /// [`Error::InsecureUrl`] when the Graph root is plain http and not an
    /// allowed loopback host; [`Error::InvalidOptions`] when the user agent
    /// suffix cannot be a header.
    pub fn new(
        transport: Arc<dyn Transport>,
        credential: Arc<dyn TokenCredential>,
        options: ClientOptions,
    ) -> Result<Self, Error> {
        let root = options.cloud.graph_root();
        let root_url = Url::parse(root).map_err(|e| Error::InvalidUrl {
            url: root.to_owned(),
            reason: e.to_string(),
        })?;
        check_scheme(&root_url, options.allow_http_loopback)?;
        check_same_cloud(credential.as_ref(), &options.cloud)?;
        let user_agent = match &options.user_agent_suffix {
            None => HeaderValue::from_static(USER_AGENT_PRODUCT),
            Some(suffix) => HeaderValue::try_from(format!("{USER_AGENT_PRODUCT} {suffix}"))
                .map_err(|_| {
                    Error::InvalidOptions(format!(
                        "user agent suffix {suffix:?} is not a valid header value"
                    ))
                })?,
        };
        Ok(GraphClient {
            inner: Arc::new(Inner {
                transport,
                credential,
                root: root_url,
                bearer: std::sync::RwLock::new(None),
                scope: options.cloud.default_scope().into_owned(),
                cloud: options.cloud,
                user_agent,
                allow_http_loopback: options.allow_http_loopback,
                budget: RetryBudget::new(options.retry.budget),
                retry: options.retry,
            }),
        })
    }

    /// The cloud this client calls.
    pub fn cloud(&self) -> &NationalCloud {
        &self.inner.cloud
    }

    /// The scope tokens are requested for.
    pub fn scope(&self) -> &str {
        &self.inner.scope
    }

    /// The credential this client signs in with.
    pub fn credential(&self) -> &Arc<dyn TokenCredential> {
        &self.inner.credential
    }

    /// Runs the per-call stage: the request as it will be sent, except for
    /// `Authorization`, which is added on each try. Nothing is sent; this is
    /// what "what if" shows.
    ///
    /// # Errors
    /// When the URL cannot be formed or is not allowed.
    pub fn prepare(&self, request: &Request) -> Result<HttpRequest, Error> {
        let url = match &request.next_link {
            Some(link) => {
                let url = self.next_link_url(link)?;
                check_scheme(&url, self.inner.allow_http_loopback)?;
                url
            }
            None => {
                // Relative to the root checked in new(): only the path is
                // parsed, and scheme and host cannot change.
                let base_path = self.inner.root.path().trim_end_matches('/');
                let mut rel = String::with_capacity(base_path.len() + 8 + request.path.len());
                rel.push_str(base_path);
                rel.push('/');
                rel.push_str(request.version.as_str());
                rel.push_str(&request.path);
                let url = Url::options()
                    .base_url(Some(&self.inner.root))
                    .parse(&rel)
                    .map_err(|e| Error::InvalidUrl {
                        url: format!("{}{rel}", self.inner.cloud.graph_root()),
                        reason: e.to_string(),
                    })?;
                if url.host_str() != self.inner.root.host_str() {
                    return Err(Error::InvalidUrl {
                        url: url.to_string(),
                        reason: "the path leaves the Graph host".into(),
                    });
                }
                url
            }
        };

        let mut headers = request.headers.clone();
        if !headers.contains_key(&CLIENT_REQUEST_ID) {
            headers.insert(CLIENT_REQUEST_ID.clone(), crate::request_id::fresh());
        }
        headers.insert(USER_AGENT, self.inner.user_agent.clone());
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        }
        if request.body.is_empty()
            && matches!(
                *request.method(),
                Method::POST | Method::PUT | Method::PATCH
            )
        {
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        Ok(HttpRequest {
            method: request.method().clone(),
            url,
            headers,
            body: request.body.clone(),
        })
    }

    /// An `@odata.nextLink`, followed verbatim but only to the Graph host
    /// this client was configured for: a link elsewhere never gets a token.
    fn next_link_url(&self, link: &str) -> Result<Url, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: link.to_owned(),
            reason,
        };
        let url = Url::parse(link).map_err(|e| invalid(e.to_string()))?;
        let root = Url::parse(self.inner.cloud.graph_root()).map_err(|e| invalid(e.to_string()))?;
        if !same_origin(&url, &root) {
            return Err(invalid(format!(
                "the next page link leads away from the configured Graph host {}",
                self.inner.cloud.graph_root()
            )));
        }
        Ok(url)
    }

    /// The client-wide retry budget (retries left in a burst).
    pub fn retry_budget(&self) -> &RetryBudget {
        &self.inner.budget
    }

    /// Sends `request` through the whole pipeline, retrying as
    /// [`RetryOptions`] says.
    ///
    /// Any 2xx answer is returned; whether it is the one the operation
    /// expects is for the caller to judge.
    ///
    /// # Errors
    /// [`Error::Service`] for a non-2xx answer (with the Graph error, its
    /// `request-id`, `Retry-After` and the tries made),
    /// [`Error::Ambiguous`] when a non-idempotent request may have been
    /// applied, [`Error::Credential`] when no token could be had,
    /// [`Error::Transport`] when no answer came back.
    pub async fn send(&self, request: &Request) -> Result<HttpResponse, Error> {
        let mut http = self.prepare(request)?;
        let retry = &self.inner.retry;
        let may_repeat = request.operation.idempotent || retry.retry_ambiguous;
        // The runtime's clock, so a paused test clock governs the limit too.
        let started = tokio::time::Instant::now();
        let mut attempt = 1u32;
        let mut retries = 0u32;
        let mut reauthorized = false;
        let mut redirects = 0u32;
        // Once a redirect leaves the Graph origin, no token goes along.
        let mut authorize = true;
        loop {
            let token = if authorize {
                Some(
                    self.inner
                        .credential
                        .get_token(&[self.inner.scope.as_str()])
                        .await
                        .map_err(Error::Credential)?,
                )
            } else {
                None
            };
            let err = match self.send_try(&mut http, token.as_ref(), attempt).await {
                Ok(response) if is_redirect(response.status) => {
                    redirects += 1;
                    authorize &= follow_redirect(&mut http, &response, redirects)?;
                    continue;
                }
                Ok(response) => {
                    if attempt == 1 {
                        self.inner.budget.earn();
                    }
                    return Ok(response);
                }
                Err(e) => e,
            };
            // A refused token: drop it where it is cached, once.
            if let (Some(401), Some(token), false) = (status_of(&err), &token, reauthorized) {
                reauthorized = true;
                self.inner
                    .credential
                    .invalidate(&[self.inner.scope.as_str()], &token.token);
                attempt += 1;
                continue;
            }
            let wait_hint = match classify(&err, may_repeat) {
                Class::Final => return Err(with_attempts(err, attempt)),
                Class::Ambiguous => {
                    return Err(Error::Ambiguous {
                        method: http.method.clone(),
                        path: http.url.path().to_owned(),
                        attempts: attempt,
                        cause: Box::new(with_attempts(err, attempt)),
                    });
                }
                Class::Retry(hint) => hint,
            };
            if retries >= retry.max_retries {
                return Err(with_attempts(err, attempt));
            }
            // Retry-After is a floor under the backoff; one longer than the
            // longest wait allowed ends the call (the caller can schedule).
            if wait_hint.is_some_and(|h| h > retry.max_backoff) {
                return Err(with_attempts(err, attempt));
            }
            let backoff = retry.backoff(retries + 1, jitter_seed());
            let wait = wait_hint
                .map_or(backoff, |h| h.max(backoff))
                .min(retry.max_backoff);
            if started.elapsed() + wait > retry.max_elapsed || !self.inner.budget.try_spend() {
                return Err(with_attempts(err, attempt));
            }
            tracing::debug!(
                target: "graphsync::http",
                method = %http.method,
                path = http.url.path(),
                error = %err,
                attempt,
                wait_ms = wait.as_secs_f64() * 1000.0,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            retries += 1;
            attempt += 1;
            http.headers
                .insert(RETRY_ATTEMPT.clone(), HeaderValue::from(retries));
        }
    }

    /// The `Authorization` header for `token`, built once per token.
    fn bearer(&self, token: &Secret) -> Result<HeaderValue, Error> {
        let cache = &self.inner.bearer;
        if let Some((seen, value)) = cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && seen.is_same(token)
        {
            return Ok(value.clone());
        }
        let mut value =
            HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(|_| {
                Error::Credential(CredentialError::InvalidResponse(
                    "the access token has characters that cannot go in a header".into(),
                ))
            })?;
        value.set_sensitive(true);
        *cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((token.clone(), value.clone()));
        Ok(value)
    }

    async fn send_try(
        &self,
        http: &mut HttpRequest,
        token: Option<&AccessToken>,
        attempt: u32,
    ) -> Result<HttpResponse, Error> {
        // prepare() checked the URL; a redirect keeps the token only on the
        // same origin, so the check still holds and is not repeated per try.
        if let Some(token) = token {
            http.headers
                .insert(AUTHORIZATION, self.bearer(&token.token)?);
        }

        // Timing is for the debug log only: no clock reads when it is off.
        let started =
            tracing::enabled!(target: "graphsync::http", tracing::Level::DEBUG).then(Instant::now);
        let result = self.inner.transport.send(http).await;
        let elapsed_ms = started.map_or(0.0, |s| s.elapsed().as_secs_f64() * 1000.0);
        let client_request_id = http
            .headers
            .get(&CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok());
        match result {
            Ok(response) => {
                tracing::debug!(
                    target: "graphsync::http",
                    method = %http.method,
                    path = http.url.path(),
                    status = response.status.as_u16(),
                    request_id = response.request_id().unwrap_or(""),
                    client_request_id = client_request_id.unwrap_or(""),
                    attempt,
                    elapsed_ms,
                    "graph response"
                );
                if response.status.is_success() || is_redirect(response.status) {
                    Ok(response)
                } else {
                    Err(Error::Service(Box::new(GraphServiceError::from_response(
                        &response,
                        client_request_id,
                    ))))
                }
            }
            Err(source) => {
                tracing::debug!(
                    target: "graphsync::http",
                    method = %http.method,
                    path = http.url.path(),
                    error = %source,
                    client_request_id = client_request_id.unwrap_or(""),
                    attempt,
                    elapsed_ms,
                    "graph request failed"
                );
                Err(Error::Transport {
                    method: http.method.clone(),
                    path: http.url.path().to_owned(),
                    source,
                })
            }
        }
    }
}

/// How many redirects one call follows.
pub const MAX_REDIRECTS: u32 = 5;

fn is_redirect(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Points `http` at the redirect's target. Returns whether the target is
/// on the same origin (scheme, host case-insensitively, port), and so may
/// still get a token; credentials are removed from the request otherwise.
fn follow_redirect(
    http: &mut HttpRequest,
    response: &HttpResponse,
    redirects: u32,
) -> Result<bool, Error> {
    let refuse = |location: &str, reason: &str| Error::Redirect {
        location: location.to_owned(),
        reason: reason.to_owned(),
    };
    let location = response.header("location").unwrap_or("");
    if redirects > MAX_REDIRECTS {
        return Err(refuse(location, "more than 5 redirects"));
    }
    if location.is_empty() {
        return Err(refuse(location, "the redirect has no Location"));
    }
    let next = http
        .url
        .join(location)
        .map_err(|e| refuse(location, &e.to_string()))?;
    if http.url.scheme() == "https" && next.scheme() != "https" {
        return Err(refuse(location, "a redirect from https to http is refused"));
    }
    let same_origin = same_origin(&next, &http.url);
    if !same_origin {
        for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
            http.headers.remove(name);
        }
    }
    if response.status == http::StatusCode::SEE_OTHER {
        http.method = Method::GET;
        http.body = bytes::Bytes::new();
        http.headers.remove(CONTENT_TYPE);
        http.headers.remove(CONTENT_LENGTH);
    }
    tracing::debug!(
        target: "graphsync::http",
        status = response.status.as_u16(),
        to = %next,
        same_origin,
        "following a redirect"
    );
    http.url = next;
    Ok(same_origin)
}

/// The `retry-attempt` header: which retry this is (1 for the first).
pub static RETRY_ATTEMPT: HeaderName = HeaderName::from_static("retry-attempt");

/// What to do after a failed try.
enum Class {
    /// Try again, waiting at least this long if the service said so.
    Retry(Option<Duration>),
    /// The request may have been applied and may not be repeated.
    Ambiguous,
    /// Give up with this error.
    Final,
}

fn status_of(err: &Error) -> Option<u16> {
    err.service_error().map(|e| e.status.as_u16())
}

fn classify(err: &Error, may_repeat: bool) -> Class {
    let maybe_applied = if may_repeat {
        Class::Retry(None)
    } else {
        Class::Ambiguous
    };
    match err {
        Error::Service(e) => match e.status.as_u16() {
            // The service did not act: always safe to try again.
            429 | 503 => Class::Retry(e.retry_after),
            // The gateway gave up; the service behind it may have acted.
            504 => match maybe_applied {
                Class::Retry(_) => Class::Retry(e.retry_after),
                other => other,
            },
            _ => Class::Final,
        },
        Error::Transport { source, .. } => match source.request_sent() {
            RequestSent::No => Class::Retry(None),
            _ => maybe_applied,
        },
        _ => Class::Final,
    }
}

fn with_attempts(mut err: Error, attempts: u32) -> Error {
    if let Error::Service(e) = &mut err {
        e.attempts = attempts;
    }
    err
}

/// Whether two URLs share scheme, host (compared case-insensitively) and
/// port: the line a token, cookie or proxy credential never crosses.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether `url` is on a loopback host.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a secret (token, client secret) may be sent to `url`: always over
/// https; over plain http only to a loopback host, and only when allowed.
pub fn secrets_allowed(url: &Url, allow_http_loopback: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => allow_http_loopback && is_loopback(url),
        _ => false,
    }
}

fn check_scheme(url: &Url, allow_http_loopback: bool) -> Result<(), Error> {
    if secrets_allowed(url, allow_http_loopback) {
        return Ok(());
    }
    match url.scheme() {
        "http" => Err(Error::InsecureUrl {
            url: url.as_str().to_owned(),
        }),
        other => Err(Error::InvalidUrl {
            url: url.as_str().to_owned(),
            reason: format!("unsupported scheme {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{AccessToken, MockTokenCredential};
    use crate::transport::{MockTransport, RequestSent, TransportError, TransportErrorKind};
    use bytes::Bytes;
    use graph_model::{ApiVersion, JobRef, requests};
    use http::{HeaderMap, StatusCode};
    use std::time::{Duration, SystemTime};

    fn credential(token: &'static str) -> MockTokenCredential {
        let mut c = MockTokenCredential::new();
        c.expect_get_token().returning(move |scopes| {
            assert_eq!(scopes, ["https://graph.microsoft.com/.default"]);
            Ok(AccessToken::new(
                token,
                SystemTime::now() + Duration::from_secs(3600),
            ))
        });
        c
    }

    fn job() -> JobRef {
        JobRef::service_principal("sp", "scim.1").unwrap()
    }

    fn client(transport: MockTransport) -> GraphClient {
        GraphClient::new(
            Arc::new(transport),
            Arc::new(credential("tok-123")),
            ClientOptions::default(),
        )
        .unwrap()
    }

    fn response(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: &'static str,
    ) -> HttpResponse {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        HttpResponse::new(
            StatusCode::from_u16(status).unwrap(),
            h,
            Bytes::from_static(body.as_bytes()),
        )
    }

    #[tokio::test]
    async fn start_goes_out_with_the_pipeline_headers() {
        let mut transport = MockTransport::new();
        transport.expect_send().times(1).returning(|req| {
            assert_eq!(req.method, Method::POST);
            assert_eq!(
                req.url.as_str(),
                "https://graph.microsoft.com/beta/servicePrincipals/sp/synchronization/jobs/scim.1/start"
            );
            assert_eq!(req.headers[CONTENT_LENGTH], "0");
            assert_eq!(req.headers[USER_AGENT], USER_AGENT_PRODUCT);
            let id = req.headers[&CLIENT_REQUEST_ID].to_str().unwrap();
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
            let auth = &req.headers[AUTHORIZATION];
            assert_eq!(auth, "Bearer tok-123");
            assert!(auth.is_sensitive());
            assert!(!format!("{req:?}").contains("tok-123"), "token leaked into Debug");
            assert!(req.body.is_empty());
            Ok(response(204, &[("request-id", "rid")], ""))
        });
        let request = requests::start(&job(), ApiVersion::Beta, &[]).unwrap();
        let resp = client(transport).send(&request).await.unwrap();
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(resp.request_id(), Some("rid"));
    }

    #[tokio::test]
    async fn get_has_no_content_length_and_keeps_a_given_client_request_id() {
        let mut transport = MockTransport::new();
        transport.expect_send().times(1).returning(|req| {
            assert_eq!(req.method, Method::GET);
            assert!(!req.headers.contains_key(CONTENT_LENGTH));
            assert_eq!(req.headers[&CLIENT_REQUEST_ID], "my-id");
            Ok(response(200, &[], "{}"))
        });
        let mut request = requests::get_job(&job(), ApiVersion::V1);
        request
            .headers
            .insert(CLIENT_REQUEST_ID.clone(), HeaderValue::from_static("my-id"));
        client(transport).send(&request).await.unwrap();
    }

    #[tokio::test]
    async fn error_answers_become_service_errors_with_ids() {
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Ok(response(
                404,
                &[("request-id", "r-404"), ("client-request-id", "c-404")],
                r#"{"error":{"code":"ResourceNotFound","message":"no such job"}}"#,
            ))
        });
        let err = client(transport)
            .send(&requests::get_job(&job(), ApiVersion::V1))
            .await
            .unwrap_err();
        let service = err.service_error().unwrap();
        assert_eq!(service.status, StatusCode::NOT_FOUND);
        assert_eq!(service.code, "ResourceNotFound");
        assert_eq!(err.request_id(), Some("r-404"));
        assert_eq!(service.client_request_id.as_deref(), Some("c-404"));
        assert!(err.request_may_have_been_sent());
    }

    #[tokio::test]
    async fn transport_failures_keep_whether_the_request_was_sent() {
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Err(TransportError::bare(
                TransportErrorKind::Connect,
                RequestSent::No,
            ))
        });
        let err = client(transport)
            .send(&requests::start(&job(), ApiVersion::V1, &[]).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport { .. }));
        assert!(!err.request_may_have_been_sent());
        assert_eq!(
            err.to_string(),
            "POST /v1.0/servicePrincipals/sp/synchronization/jobs/scim.1/start failed"
        );
    }

    #[tokio::test]
    async fn no_token_means_nothing_is_sent() {
        let mut transport = MockTransport::new();
        transport.expect_send().never();
        let mut credential = MockTokenCredential::new();
        credential
            .expect_get_token()
            .returning(|_| Err(CredentialError::Configuration("no secret".into())));
        let client = GraphClient::new(
            Arc::new(transport),
            Arc::new(credential),
            ClientOptions::default(),
        )
        .unwrap();
        let err = client
            .send(&requests::start(&job(), ApiVersion::V1, &[]).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Credential(_)));
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_allowed() {
        let make = |root: &str, allow: bool| {
            let cloud = NationalCloud::custom(root, "https://login.example").unwrap();
            GraphClient::new(
                Arc::new(MockTransport::new()),
                Arc::new(MockTokenCredential::new()),
                ClientOptions::new(cloud).allow_http_loopback(allow),
            )
        };
        assert!(make("http://127.0.0.1:8080", true).is_ok());
        assert!(make("http://[::1]:8080", true).is_ok());
        assert!(make("http://localhost:8080", true).is_ok());
        assert!(matches!(
            make("http://127.0.0.1:8080", false),
            Err(Error::InsecureUrl { .. })
        ));
        assert!(matches!(
            make("http://graph.example", true),
            Err(Error::InsecureUrl { .. })
        ));
        assert!(matches!(
            make("http://127.0.0.1.evil.example", true),
            Err(Error::InsecureUrl { .. })
        ));
        assert!(make("https://graph.example", false).is_ok());
    }

    #[test]
    fn user_agent_suffix_is_appended() {
        let mut transport = MockTransport::new();
        transport.expect_send().never();
        let client = GraphClient::new(
            Arc::new(transport),
            Arc::new(MockTokenCredential::new()),
            ClientOptions::default().user_agent_suffix("ops-bot/2.0"),
        )
        .unwrap();
        let http = client
            .prepare(&requests::get_job(&job(), ApiVersion::V1))
            .unwrap();
        assert_eq!(
            http.headers[USER_AGENT],
            format!("{USER_AGENT_PRODUCT} ops-bot/2.0")
        );
        assert!(!http.headers.contains_key(AUTHORIZATION));
    }

    #[test]
    fn a_root_with_a_path_keeps_it_and_ids_differ_per_request() {
        let mut transport = MockTransport::new();
        transport.expect_send().never();
        let cloud =
            NationalCloud::custom("https://proxy.example/graph/", "https://login.example").unwrap();
        let client = GraphClient::new(
            Arc::new(transport),
            Arc::new(MockTokenCredential::new()),
            ClientOptions::new(cloud),
        )
        .unwrap();
        let a = client
            .prepare(&requests::get_job(&job(), ApiVersion::Beta))
            .unwrap();
        assert!(
            a.url
                .as_str()
                .starts_with("https://proxy.example/graph/beta/servicePrincipals/"),
            "{}",
            a.url
        );
        let b = client
            .prepare(&requests::get_job(&job(), ApiVersion::Beta))
            .unwrap();
        assert_ne!(a.headers[&CLIENT_REQUEST_ID], b.headers[&CLIENT_REQUEST_ID]);
    }
}
