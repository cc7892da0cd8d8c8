//! Tokens from the managed identity of the Azure resource the program runs
//! on: the Instance Metadata Service of VMs, scale sets and AKS nodes, or
//! the local endpoint App Service and Functions provide.

use std::fmt;
use std::sync::Arc;

use graph_model::http;
use graph_transport::{
    AccessToken, CLIENT_REQUEST_ID, CredentialError, HttpRequest, Secret, Transport,
    USER_AGENT_PRODUCT,
};
use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderName, HeaderValue, Method};
use url::{Host, Url};

use crate::cache::TokenCache;
use crate::client_secret::read_token_response;

/// The Instance Metadata Service's token endpoint.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The IMDS API version.
pub const IMDS_API_VERSION: &str = "2018-02-01";
/// The App Service identity endpoint's API version.
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Which managed identity to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedIdentityId {
    /// The resource's system-assigned identity.
    #[default]
    SystemAssigned,
    /// A user-assigned identity, by client id.
    ClientId(String),
    /// A user-assigned identity, by object (principal) id.
    ObjectId(String),
    /// A user-assigned identity, by Azure resource id.
    ResourceId(String),
}

/// Where the managed identity endpoint is.
#[derive(Clone)]
#[non_exhaustive]
pub enum ManagedIdentitySource {
    /// The Instance Metadata Service (default `169.254.169.254`).
    Imds {
        /// The token endpoint.
        endpoint: Url,
    },
    /// App Service and Functions: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
    AppService {
        /// The token endpoint.
        endpoint: Url,
        /// The header value that proves the caller runs on the resource.
        header: Secret,
    },
}

impl fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManagedIdentitySource::Imds { endpoint } => f
                .debug_struct("Imds")
                .field("endpoint", &endpoint.as_str())
                .finish(),
            ManagedIdentitySource::AppService { endpoint, header } => f
                .debug_struct("AppService")
                .field("endpoint", &endpoint.as_str())
                .field("header", header)
                .finish(),
        }
    }
}

impl ManagedIdentitySource {
    /// The default IMDS endpoint.
    pub fn imds() -> Self {
        // A constant, checked by a test: it cannot fail at run time.
        let endpoint = Url::parse(IMDS_ENDPOINT).expect("IMDS_ENDPOINT is a valid URL");
        ManagedIdentitySource::Imds { endpoint }
    }

    /// What the environment says: App Service when `IDENTITY_ENDPOINT` and
    /// `IDENTITY_HEADER` are set, IMDS otherwise.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when `IDENTITY_ENDPOINT` is not a URL.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialError> {
        match (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) if !endpoint.is_empty() && !header.is_empty() => {
                let endpoint = Url::parse(&endpoint).map_err(|e| {
                    CredentialError::Configuration(format!(
                        "IDENTITY_ENDPOINT {endpoint:?} is not a URL: {e}"
                    ))
                })?;
                Ok(ManagedIdentitySource::AppService {
                    endpoint,
                    header: Secret::new(header),
                })
            }
            _ => Ok(Self::imds()),
        }
    }

    fn endpoint(&self) -> &Url {
        match self {
            ManagedIdentitySource::Imds { endpoint }
            | ManagedIdentitySource::AppService { endpoint, .. } => endpoint,
        }
    }
}

/// Gets tokens for the managed identity of the resource the program runs
/// on, and caches them.
///
/// The endpoints are plain http by design (they never leave the machine),
/// so plain http is accepted for loopback and link-local hosts only.
pub struct ManagedIdentityCredential {
    id: ManagedIdentityId,
    source: ManagedIdentitySource,
    transport: Arc<dyn Transport>,
    cache: TokenCache,
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("id", &self.id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl ManagedIdentityCredential {
    /// A credential for identity `id` at `source`.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when the endpoint is plain http
    /// on a host that is neither loopback nor link-local, or an id is empty.
    pub fn new(
        id: ManagedIdentityId,
        source: ManagedIdentitySource,
        transport: Arc<dyn Transport>,
    ) -> Result<Self, CredentialError> {
        let endpoint = source.endpoint();
        // Loopback as the pipeline defines it, plus IMDS's link-local range.
        let local = graph_transport::is_loopback(endpoint)
            || matches!(endpoint.host(), Some(Host::Ipv4(ip)) if ip.is_link_local());
        if endpoint.scheme() != "https" && !(endpoint.scheme() == "http" && local) {
            return Err(CredentialError::Configuration(format!(
                "the managed identity endpoint {endpoint} must be https, or http on a loopback or link-local host"
            )));
        }
        if let ManagedIdentityId::ClientId(v)
        | ManagedIdentityId::ObjectId(v)
        | ManagedIdentityId::ResourceId(v) = &id
            && v.trim().is_empty()
        {
            return Err(CredentialError::Configuration(
                "the managed identity id is empty".into(),
            ));
        }
        Ok(ManagedIdentityCredential {
            id,
            source,
            transport,
            cache: TokenCache::new(),
        })
    }

    /// Replaces the token cache (to inject a clock in tests).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    fn request(&self, resource: &str) -> HttpRequest {
        let mut url = self.source.endpoint().clone();
        {
            let mut q = url.query_pairs_mut();
            match &self.source {
                ManagedIdentitySource::Imds { .. } => {
                    q.append_pair("api-version", IMDS_API_VERSION);
                }
                ManagedIdentitySource::AppService { .. } => {
                    q.append_pair("api-version", APP_SERVICE_API_VERSION);
                }
            }
            q.append_pair("resource", resource);
            let app_service = matches!(self.source, ManagedIdentitySource::AppService { .. });
            match &self.id {
                ManagedIdentityId::SystemAssigned => {}
                ManagedIdentityId::ClientId(v) => {
                    q.append_pair("client_id", v);
                }
                ManagedIdentityId::ObjectId(v) => {
                    q.append_pair(
                        if app_service {
                            "principal_id"
                        } else {
                            "object_id"
                        },
                        v,
                    );
                }
                ManagedIdentityId::ResourceId(v) => {
                    q.append_pair(
                        if app_service {
                            "mi_res_id"
                        } else {
                            "msi_res_id"
                        },
                        v,
                    );
                }
            }
        }
        let mut request = HttpRequest::new(Method::GET, url);
        let h = &mut request.headers;
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_PRODUCT));
        if let Ok(id) = HeaderValue::try_from(uuid::Uuid::new_v4().hyphenated().to_string()) {
            h.insert(CLIENT_REQUEST_ID.clone(), id);
        }
        match &self.source {
            ManagedIdentitySource::Imds { .. } => {
                h.insert(
                    HeaderName::from_static("metadata"),
                    HeaderValue::from_static("true"),
                );
            }
            ManagedIdentitySource::AppService { header, .. } => {
                if let Ok(mut v) = HeaderValue::try_from(header.expose()) {
                    v.set_sensitive(true);
                    h.insert(HeaderName::from_static("x-identity-header"), v);
                }
            }
        }
        request
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let [scope] = scopes else {
            return Err(CredentialError::Configuration(
                "a managed identity token is for exactly one resource".into(),
            ));
        };
        // Managed identity endpoints speak v1: a resource, not a scope.
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        let requested_at = self.cache.now();
        let response = self
            .transport
            .send(&self.request(resource))
            .await
            .map_err(CredentialError::Transport)?;
        tracing::debug!(
            target: "graphsync::auth",
            status = response.status.as_u16(),
            source = ?self.source,
            id = ?self.id,
            "managed identity token response"
        );
        read_token_response(&response, requested_at)
    }
}

crate::cache::cached_credential!(ManagedIdentityCredential);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_picks_app_service_or_imds() {
        let env = |k: &str| match k {
            "IDENTITY_ENDPOINT" => Some("http://127.0.0.1:41234/msi/token".to_owned()),
            "IDENTITY_HEADER" => Some("hdr".to_owned()),
            _ => None,
        };
        let source = ManagedIdentitySource::from_env(env).unwrap();
        assert!(matches!(source, ManagedIdentitySource::AppService { .. }));
        assert!(!format!("{source:?}").contains("hdr"));
        let source = ManagedIdentitySource::from_env(|_| None).unwrap();
        assert!(matches!(source, ManagedIdentitySource::Imds { .. }));
    }

    #[test]
    fn requests_name_the_identity_as_each_endpoint_expects() {
        let t: Arc<dyn Transport> = Arc::new(graph_transport::MockTransport::new());
        let imds = ManagedIdentityCredential::new(
            ManagedIdentityId::ResourceId("/subscriptions/x/rg/id".into()),
            ManagedIdentitySource::imds(),
            t.clone(),
        )
        .unwrap();
        let r = imds.request("https://graph.microsoft.com");
        assert_eq!(r.headers["metadata"], "true");
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("api-version".into(), "2018-02-01".into())));
        assert!(q.contains(&("resource".into(), "https://graph.microsoft.com".into())));
        assert!(q.contains(&("msi_res_id".into(), "/subscriptions/x/rg/id".into())));

        let app = ManagedIdentityCredential::new(
            ManagedIdentityId::ObjectId("oid".into()),
            ManagedIdentitySource::AppService {
                endpoint: Url::parse("http://127.0.0.1:9/msi/token").unwrap(),
                header: Secret::new("hdr"),
            },
            t.clone(),
        )
        .unwrap();
        let r = app.request("https://graph.microsoft.us");
        assert_eq!(r.headers["x-identity-header"], "hdr");
        assert!(r.url.query().unwrap().contains("principal_id=oid"));
        assert!(r.url.query().unwrap().contains("api-version=2019-08-01"));

        let remote = ManagedIdentitySource::Imds {
            endpoint: Url::parse("http://example.com/token").unwrap(),
        };
        assert!(
            ManagedIdentityCredential::new(ManagedIdentityId::SystemAssigned, remote, t).is_err()
        );
    }
}
