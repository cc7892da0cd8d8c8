//! App-only tokens from a client secret (OAuth 2 client credentials grant).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use graph_model::{NationalCloud, http};
use graph_transport::{
    AccessToken, CLIENT_REQUEST_ID, CredentialError, HttpRequest, HttpResponse, Secret, Transport,
    USER_AGENT_PRODUCT, secrets_allowed,
};
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method};
use serde::Deserialize;
use url::Url;

use crate::cache::TokenCache;

/// Options shared by the credentials that call an Entra token endpoint.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CredentialOptions {
    /// The cloud whose authority host issues the tokens.
    pub cloud: NationalCloud,
    /// Allow a plain-http authority on a loopback host (a local emulator).
    pub allow_http_loopback: bool,
}

impl CredentialOptions {
    /// Options for `cloud`.
    pub fn new(cloud: NationalCloud) -> Self {
        CredentialOptions {
            cloud,
            ..Self::default()
        }
    }

    /// Allows a plain-http authority on a loopback host.
    pub fn allow_http_loopback(mut self, allow: bool) -> Self {
        self.allow_http_loopback = allow;
        self
    }
}

/// Gets app-only tokens with a client secret from the cloud's v2 token
/// endpoint, `{authority}/{tenant}/oauth2/v2.0/token`, and caches them.
///
/// The token request goes through the same [`Transport`] as Graph calls, so
/// whatever that transport does (proxying, recording, the emulator in tests)
/// covers tokens too.
pub struct ClientSecretCredential {
    endpoint: TokenEndpoint,
    secret: Secret,
    cache: TokenCache,
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("endpoint", &self.endpoint)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// An app registration's token endpoint: who asks (tenant and client) and
/// where, sending through which transport. What every credential that
/// calls `{authority}/{tenant}/oauth2/v2.0/token` shares.
pub(crate) struct TokenEndpoint {
    tenant_id: String,
    client_id: String,
    authority: String,
    url: Url,
    transport: Arc<dyn Transport>,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("url", &self.url.as_str())
            .finish()
    }
}

impl TokenEndpoint {
    /// The endpoint of `tenant_id` in `options.cloud`, for `client_id`.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] for an invalid tenant, an empty
    /// client id, or an authority a secret may not go to.
    pub(crate) fn new(
        tenant_id: String,
        client_id: String,
        transport: Arc<dyn Transport>,
        options: &CredentialOptions,
    ) -> Result<Self, CredentialError> {
        check_tenant(&tenant_id)?;
        if client_id.trim().is_empty() {
            return Err(CredentialError::Configuration(
                "the client id is empty".into(),
            ));
        }
        let url = token_url(options, &tenant_id)?;
        Ok(TokenEndpoint {
            tenant_id,
            client_id,
            authority: options.cloud.authority_host().to_owned(),
            url,
            transport,
        })
    }

    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn authority_host(&self) -> &str {
        &self.authority
    }

    /// Asks for a token with the client credentials grant; `proof` is the
    /// secret or the client assertion.
    pub(crate) async fn request(
        &self,
        proof: &[(&str, &str)],
        scopes: &[&str],
        requested_at: SystemTime,
    ) -> Result<AccessToken, CredentialError> {
        let mut form = vec![
            ("client_id", self.client_id.as_str()),
            ("grant_type", "client_credentials"),
        ];
        form.extend_from_slice(proof);
        request_token(
            &*self.transport,
            &self.url,
            &form,
            scopes,
            requested_at,
            (&self.tenant_id, &self.client_id),
        )
        .await
    }

    /// Asks for a token with a client assertion (a certificate-signed JWT,
    /// or a federated token) instead of a secret.
    pub(crate) async fn request_with_assertion(
        &self,
        assertion: &Secret,
        scopes: &[&str],
        requested_at: SystemTime,
    ) -> Result<AccessToken, CredentialError> {
        let proof = [
            ("client_assertion", assertion.expose()),
            ("client_assertion_type", JWT_BEARER),
        ];
        self.request(&proof, scopes, requested_at).await
    }
}

impl ClientSecretCredential {
    /// A credential for app `client_id` in `tenant_id`.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when an id is empty or not a valid
    /// tenant (a GUID or a domain name), the secret is empty, or the
    /// authority is plain http and not an allowed loopback host.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let endpoint = TokenEndpoint::new(tenant_id.into(), client_id.into(), transport, &options)?;
        let secret = secret.into();
        if secret.is_empty() {
            return Err(CredentialError::Configuration(
                "the client secret is empty".into(),
            ));
        }
        Ok(ClientSecretCredential {
            endpoint,
            secret,
            cache: TokenCache::new(),
        })
    }

    /// Replaces the token cache (to inject a clock in tests).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    /// The token endpoint this credential calls.
    pub fn token_url(&self) -> &Url {
        self.endpoint.url()
    }

    /// Drops the cached token for `scopes`, so the next call fetches a new one.
    pub fn evict(&self, scopes: &[&str]) {
        self.cache.evict(scopes);
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let proof = [("client_secret", self.secret.expose())];
        self.endpoint
            .request(&proof, scopes, self.cache.now())
            .await
    }
}

/// The client assertion type of a JWT.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Posts a client-credentials form (plus `scope`) to `token_url` and reads
/// the answer: what every credential that calls an Entra token endpoint
/// does.
async fn request_token(
    transport: &dyn Transport,
    token_url: &Url,
    form: &[(&str, &str)],
    scopes: &[&str],
    requested_at: SystemTime,
    (tenant_id, client_id): (&str, &str),
) -> Result<AccessToken, CredentialError> {
    // The serializer is not Send; it is gone before the first await.
    let body = {
        let scope = scopes.join(" ");
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        body.append_pair("scope", &scope);
        body.finish()
    };
    let mut request = HttpRequest::new(Method::POST, token_url.clone());
    let h = &mut request.headers;
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_PRODUCT));
    if let Ok(id) = HeaderValue::try_from(uuid::Uuid::new_v4().hyphenated().to_string()) {
        h.insert(CLIENT_REQUEST_ID.clone(), id);
    }
    request.body = Bytes::from(body);
    let response = transport
        .send(&request)
        .await
        .map_err(CredentialError::Transport)?;
    tracing::debug!(
        target: "graphsync::auth",
        status = response.status.as_u16(),
        tenant = %tenant_id,
        client_id = %client_id,
        "token response"
    );
    read_token_response(&response, requested_at)
}

crate::cache::cached_credential!(ClientSecretCredential, endpoint);

fn check_tenant(tenant: &str) -> Result<(), CredentialError> {
    let ok = !tenant.is_empty()
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !tenant.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(CredentialError::Configuration(format!(
            "{tenant:?} is not a tenant id (a GUID or a domain such as contoso.onmicrosoft.com)"
        )))
    }
}

fn token_url(options: &CredentialOptions, tenant: &str) -> Result<Url, CredentialError> {
    let text = format!(
        "{}/{tenant}/oauth2/v2.0/token",
        options.cloud.authority_host()
    );
    let url = Url::parse(&text).map_err(|e| {
        CredentialError::Configuration(format!("invalid token endpoint {text:?}: {e}"))
    })?;
    if secrets_allowed(&url, options.allow_http_loopback) {
        Ok(url)
    } else {
        Err(CredentialError::Configuration(format!(
            "refusing to send a client secret to {text}: use https (plain http is only allowed to a loopback host, when allowed)"
        )))
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    /// Unix seconds; what managed identity endpoints send (App Service
    /// sends only this).
    #[serde(default)]
    expires_on: Option<NumberOrString>,
}

/// Entra has sent lifetimes both as numbers and as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

impl NumberOrString {
    fn seconds(&self) -> Option<u64> {
        match self {
            NumberOrString::Number(n) => Some(*n),
            NumberOrString::String(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

/// Reads a token endpoint's answer (shared by the credentials that call one).
pub(crate) fn read_token_response(
    response: &HttpResponse,
    requested_at: SystemTime,
) -> Result<AccessToken, CredentialError> {
    if !response.status.is_success() {
        return Err(
            match serde_json::from_slice::<TokenErrorResponse>(&response.body) {
                Ok(e) => CredentialError::Authentication {
                    status: response.status.as_u16(),
                    error: e.error,
                    description: e.error_description.unwrap_or_default(),
                    trace_id: e.trace_id,
                    correlation_id: e.correlation_id,
                },
                Err(_) => CredentialError::InvalidResponse(format!(
                    "status {} without an OAuth error body",
                    response.status
                )),
            },
        );
    }
    let parsed: TokenResponse = serde_json::from_slice(&response.body).map_err(|e| {
        // The message names the missing field or the bad syntax; it never
        // echoes the body, which would hold the token.
        CredentialError::InvalidResponse(format!("not a token response: {e}"))
    })?;
    if let Some(kind) = &parsed.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(CredentialError::InvalidResponse(format!(
            "token type {kind:?} is not Bearer"
        )));
    }
    if parsed.access_token.is_empty() {
        return Err(CredentialError::InvalidResponse(
            "the access token is empty".into(),
        ));
    }
    let expires_on = match (
        parsed.expires_in.as_ref().and_then(NumberOrString::seconds),
        parsed.expires_on.as_ref().and_then(NumberOrString::seconds),
    ) {
        (Some(lifetime), _) => requested_at
            .checked_add(Duration::from_secs(lifetime))
            .ok_or_else(|| {
                CredentialError::InvalidResponse(format!("expires_in {lifetime} is out of range"))
            })?,
        (None, Some(unix)) => SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(unix))
            .ok_or_else(|| {
                CredentialError::InvalidResponse(format!("expires_on {unix} is out of range"))
            })?,
        (None, None) => {
            return Err(CredentialError::InvalidResponse(
                "expires_in is missing or invalid".into(),
            ));
        }
    };
    Ok(AccessToken::new(parsed.access_token, expires_on))
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph_transport::TokenCredential;
    use graph_transport::{MockTransport, RequestSent, TransportError, TransportErrorKind};
    use http::{HeaderMap, StatusCode};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn answer(status: u16, body: &'static str) -> HttpResponse {
        HttpResponse::new(
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            Bytes::from_static(body.as_bytes()),
        )
    }

    fn credential(transport: MockTransport, cloud: NationalCloud) -> ClientSecretCredential {
        ClientSecretCredential::new(
            "contoso.onmicrosoft.com",
            "client-1",
            "s3cret&=+",
            Arc::new(transport),
            CredentialOptions::new(cloud),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn token_request_per_cloud_and_cached() {
        for (cloud, endpoint, scope) in [
            (
                NationalCloud::Global,
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "https://graph.microsoft.com/.default",
            ),
            (
                NationalCloud::UsGovL5Dod,
                "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "https://dod-graph.microsoft.us/.default",
            ),
            (
                NationalCloud::China,
                "https://login.chinacloudapi.cn/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "https://microsoftgraph.chinacloudapi.cn/.default",
            ),
        ] {
            let calls = Arc::new(AtomicUsize::new(0));
            let seen = calls.clone();
            let mut transport = MockTransport::new();
            transport.expect_send().returning(move |req| {
                seen.fetch_add(1, Ordering::SeqCst);
                assert_eq!(req.method, Method::POST);
                assert_eq!(req.url.as_str(), endpoint);
                assert_eq!(
                    req.headers[CONTENT_TYPE],
                    "application/x-www-form-urlencoded"
                );
                let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect();
                let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                assert_eq!(get("grant_type"), Some("client_credentials"));
                assert_eq!(get("client_id"), Some("client-1"));
                assert_eq!(get("client_secret"), Some("s3cret&=+"));
                assert_eq!(get("scope"), Some(scope));
                assert!(!format!("{req:?}").contains("s3cret"), "secret in Debug");
                Ok(answer(
                    200,
                    r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
                ))
            });
            let cred = credential(transport, cloud.clone());
            let scope_owned = cloud.default_scope();
            for _ in 0..3 {
                let t = cred.get_token(&[&scope_owned]).await.unwrap();
                assert_eq!(t.token.expose(), "eyJ0");
                let left = t.expires_on.duration_since(SystemTime::now()).unwrap();
                assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3599));
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn entra_errors_are_typed() {
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Ok(answer(
                401,
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"t-1","correlation_id":"c-1"}"#,
            ))
        });
        let cred = credential(transport, NationalCloud::Global);
        match cred.get_token(&["s"]).await.unwrap_err() {
            CredentialError::Authentication {
                status,
                error,
                description,
                trace_id,
                correlation_id,
            } => {
                assert_eq!(status, 401);
                assert_eq!(error, "invalid_client");
                assert!(description.starts_with("AADSTS7000215"));
                assert_eq!(trace_id.as_deref(), Some("t-1"));
                assert_eq!(correlation_id.as_deref(), Some("c-1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn odd_answers_are_errors_that_never_echo_the_token() {
        for (status, body) in [
            (200, r#"{"token_type":"Bearer","access_token":"leak-me"}"#),
            (
                200,
                r#"{"token_type":"pop","expires_in":10,"access_token":"leak-me"}"#,
            ),
            (200, "not json leak-me"),
            (502, "<html>bad gateway</html>"),
        ] {
            let mut transport = MockTransport::new();
            transport
                .expect_send()
                .returning(move |_| Ok(answer(status, body)));
            let err = credential(transport, NationalCloud::Global)
                .get_token(&["s"])
                .await
                .unwrap_err();
            assert!(
                matches!(err, CredentialError::InvalidResponse(_)),
                "{err:?}"
            );
            assert!(!err.to_string().contains("leak-me"), "{err}");
        }
        // A lifetime past the end of time is an error, not a panic.
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Ok(answer(
                200,
                r#"{"token_type":"Bearer","expires_in":18446744073709551615,"access_token":"a"}"#,
            ))
        });
        let err = credential(transport, NationalCloud::Global)
            .get_token(&["s"])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        // expires_in as a string is fine.
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Ok(answer(
                200,
                r#"{"token_type":"Bearer","expires_in":"60","access_token":"a"}"#,
            ))
        });
        assert!(
            credential(transport, NationalCloud::Global)
                .get_token(&["s"])
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn unreachable_endpoint_is_a_transport_error() {
        let mut transport = MockTransport::new();
        transport.expect_send().returning(|_| {
            Err(TransportError::bare(
                TransportErrorKind::Connect,
                RequestSent::No,
            ))
        });
        let err = credential(transport, NationalCloud::Global)
            .get_token(&["s"])
            .await
            .unwrap_err();
        assert!(matches!(err, CredentialError::Transport(_)));
    }

    #[test]
    fn configuration_is_checked_up_front() {
        let new = |tenant: &str, client: &str, secret: &str, authority: &str, allow: bool| {
            let cloud = NationalCloud::Global
                .with_authority_host(authority)
                .unwrap();
            ClientSecretCredential::new(
                tenant,
                client,
                secret,
                Arc::new(MockTransport::new()),
                CredentialOptions::new(cloud).allow_http_loopback(allow),
            )
        };
        let ok = "https://login.microsoftonline.com";
        assert!(new("72f988bf-86f1-41af-91ab-2d7cd011db47", "c", "s", ok, false).is_ok());
        assert!(new("../common", "c", "s", ok, false).is_err());
        assert!(new("a/b", "c", "s", ok, false).is_err());
        assert!(new("", "c", "s", ok, false).is_err());
        assert!(new("t", " ", "s", ok, false).is_err());
        assert!(new("t", "c", "", ok, false).is_err());
        assert!(new("t", "c", "s", "http://login.example", true).is_err());
        assert!(new("t", "c", "s", "http://127.0.0.1:1", false).is_err());
        assert!(new("t", "c", "s", "http://127.0.0.1:1", true).is_ok());
        let c = new("t", "c", "hunter2", ok, false).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
