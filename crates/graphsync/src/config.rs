//! Where the CLI gets its cloud, endpoints and credentials: the environment
//! variables the Azure SDKs use, plus `GRAPH_CLOUD` and `GRAPH_URL`.

use std::sync::Arc;

use graph_auth::{
    AzureCliCredential, ClientCertificateCredential, ClientSecretCredential, CredentialOptions,
    DefaultCredential, EnvironmentCredential, ManagedIdentityCredential, ManagedIdentityId,
    ManagedIdentitySource, WorkloadIdentityCredential,
};
use graph_model::{CloudError, NationalCloud};
use graph_transport::{
    AccessToken, ClientOptions, CredentialError, GraphClient, HyperTransport, ReqwestTransport,
    Secret, TokenCredential, Transport, TransportOptions, is_loopback,
};
use sync_jobs::SyncJobsClient;

/// Which HTTP back-end to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Backend {
    /// reqwest (the default).
    #[default]
    Reqwest,
    /// hyper-util's client.
    Hyper,
}

/// How the CLI signs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthKind {
    /// The first that works: client secret from the environment, workload
    /// identity, managed identity, Azure CLI.
    #[default]
    Auto,
    /// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET.
    Secret,
    /// The environment's client secret, or its certificate when no secret
    /// is set: the Azure SDKs' EnvironmentCredential.
    Env,
    /// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH
    /// (a PEM file with the certificate and its RSA key, or a PKCS#12 file
    /// opened with AZURE_CLIENT_CERTIFICATE_PASSWORD).
    Certificate,
    /// The managed identity of the Azure resource (IMDS, or App Service's
    /// IDENTITY_ENDPOINT); AZURE_CLIENT_ID picks a user-assigned one.
    ManagedIdentity,
    /// AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and AZURE_CLIENT_ID.
    WorkloadIdentity,
    /// The account signed in to the Azure CLI (`az login`).
    AzureCli,
}

/// The HTTP back-end and the way to sign in, as the command line chose them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Conn {
    pub(crate) backend: Backend,
    pub(crate) auth: AuthKind,
}

/// The variables the credentials read.
const CREDENTIAL_VARS: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "PATH",
];

/// Why the CLI cannot be configured from the environment.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("GRAPH_CLOUD: {0}")]
    Cloud(#[source] CloudError),
    #[error("{var}: {source}")]
    Endpoint {
        var: &'static str,
        #[source]
        source: CloudError,
    },
    #[error(
        "missing {0}: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or run `graphsync emulator` and use what it prints)"
    )]
    MissingCredentials(String),
    #[error("the credential could not be set up")]
    Credential(#[source] CredentialError),
    #[error("the HTTP client could not be set up")]
    Transport(#[source] graph_transport::TransportError),
    #[error("the Graph client could not be set up")]
    Graph(#[source] graph_transport::Error),
}

/// Settings read from the environment.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) cloud: NationalCloud,
    /// Plain http is allowed because `GRAPH_URL` / `AZURE_AUTHORITY_HOST`
    /// name a loopback host (a local emulator).
    pub(crate) allow_http_loopback: bool,
    pub(crate) tenant_id: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<String>,
    /// The credential variables, as read.
    pub(crate) env: std::collections::HashMap<String, String>,
}

impl Settings {
    /// Reads the settings through `var` (the process environment, or a map
    /// in tests). Empty values count as unset.
    pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut cloud = match get("GRAPH_CLOUD") {
            Some(name) => name.parse().map_err(ConfigError::Cloud)?,
            None => NationalCloud::Global,
        };
        let mut loopback_only = true;
        let mut any_http = false;
        if let Some(url) = get("GRAPH_URL") {
            cloud = cloud
                .with_graph_root(&url)
                .map_err(|source| ConfigError::Endpoint {
                    var: "GRAPH_URL",
                    source,
                })?;
            check_http(cloud.graph_root(), &mut any_http, &mut loopback_only);
        }
        if let Some(host) = get("AZURE_AUTHORITY_HOST") {
            cloud = cloud
                .with_authority_host(&host)
                .map_err(|source| ConfigError::Endpoint {
                    var: "AZURE_AUTHORITY_HOST",
                    source,
                })?;
            check_http(cloud.authority_host(), &mut any_http, &mut loopback_only);
        }
        Ok(Settings {
            cloud,
            allow_http_loopback: any_http && loopback_only,
            tenant_id: get("AZURE_TENANT_ID"),
            client_id: get("AZURE_CLIENT_ID"),
            client_secret: get("AZURE_CLIENT_SECRET"),
            env: CREDENTIAL_VARS
                .iter()
                .filter_map(|k| Some(((*k).to_owned(), get(k)?)))
                .collect(),
        })
    }

    /// A client for the job actions, signed in as `conn.auth` says.
    pub(crate) fn jobs_client(&self, conn: Conn) -> Result<SyncJobsClient, ConfigError> {
        let transport = transport(conn.backend)?;
        let options = CredentialOptions::new(self.cloud.clone())
            .allow_http_loopback(self.allow_http_loopback);
        let env = |k: &str| self.env.get(k).cloned();
        let credential: Arc<dyn TokenCredential> = match conn.auth {
            AuthKind::Auto => {
                Arc::new(DefaultCredential::from_env(env, transport.clone(), options))
            }
            AuthKind::Env => Arc::new(
                EnvironmentCredential::from_env(env, transport.clone(), options)
                    .map_err(ConfigError::Credential)?,
            ),
            AuthKind::Secret => {
                let missing: Vec<&str> = [
                    ("AZURE_TENANT_ID", &self.tenant_id),
                    ("AZURE_CLIENT_ID", &self.client_id),
                    ("AZURE_CLIENT_SECRET", &self.client_secret),
                ]
                .into_iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| k)
                .collect();
                if !missing.is_empty() {
                    return Err(ConfigError::MissingCredentials(missing.join(", ")));
                }
                Arc::new(
                    ClientSecretCredential::new(
                        self.tenant_id.clone().unwrap_or_default(),
                        self.client_id.clone().unwrap_or_default(),
                        self.client_secret.clone().unwrap_or_default(),
                        transport.clone(),
                        options,
                    )
                    .map_err(ConfigError::Credential)?,
                )
            }
            AuthKind::Certificate => {
                let (Some(tenant), Some(client), Some(path)) = (
                    self.tenant_id.clone(),
                    self.client_id.clone(),
                    self.env.get("AZURE_CLIENT_CERTIFICATE_PATH").cloned(),
                ) else {
                    return Err(ConfigError::MissingCredentials(
                        "AZURE_TENANT_ID, AZURE_CLIENT_ID or AZURE_CLIENT_CERTIFICATE_PATH".into(),
                    ));
                };
                let password = self
                    .env
                    .get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
                    .map(Secret::new);
                Arc::new(
                    ClientCertificateCredential::from_file(
                        tenant,
                        client,
                        path,
                        password.as_ref(),
                        transport.clone(),
                        options,
                    )
                    .map_err(ConfigError::Credential)?,
                )
            }
            AuthKind::ManagedIdentity => {
                let source =
                    ManagedIdentitySource::from_env(env).map_err(ConfigError::Credential)?;
                let id = self.client_id.clone().map_or(
                    ManagedIdentityId::SystemAssigned,
                    ManagedIdentityId::ClientId,
                );
                Arc::new(
                    ManagedIdentityCredential::new(id, source, transport.clone())
                        .map_err(ConfigError::Credential)?,
                )
            }
            AuthKind::WorkloadIdentity => Arc::new(
                WorkloadIdentityCredential::from_env(env, transport.clone(), options)
                    .map_err(ConfigError::Credential)?,
            ),
            AuthKind::AzureCli => {
                let mut cli = AzureCliCredential::new();
                if let Some(tenant) = &self.tenant_id {
                    cli = cli.with_tenant(tenant.clone());
                }
                Arc::new(cli)
            }
        };
        self.client_with(transport, credential)
    }

    /// A client that can prepare requests but never gets a token: what
    /// `--what-if` uses, so it works without credentials and sends nothing.
    pub(crate) fn offline_client(&self) -> Result<SyncJobsClient, ConfigError> {
        #[derive(Debug)]
        struct NoToken;
        #[async_trait::async_trait]
        impl TokenCredential for NoToken {
            async fn get_token<'a>(
                &self,
                _: &'a [&'a str],
            ) -> Result<AccessToken, CredentialError> {
                Err(CredentialError::Configuration(
                    "what-if never requests a token".into(),
                ))
            }
        }
        #[derive(Debug)]
        struct NoTransport;
        #[async_trait::async_trait]
        impl Transport for NoTransport {
            async fn send(
                &self,
                _: &graph_transport::HttpRequest,
            ) -> Result<graph_transport::HttpResponse, graph_transport::TransportError>
            {
                Err(graph_transport::TransportError::bare(
                    graph_transport::TransportErrorKind::InvalidRequest,
                    graph_transport::RequestSent::No,
                ))
            }
        }
        self.client_with(Arc::new(NoTransport), Arc::new(NoToken))
    }

    fn client_with(
        &self,
        transport: Arc<dyn Transport>,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<SyncJobsClient, ConfigError> {
        let options = ClientOptions::new(self.cloud.clone())
            .allow_http_loopback(self.allow_http_loopback)
            .user_agent_suffix("graphsync-cli");
        let graph = GraphClient::new(transport, credential, options).map_err(ConfigError::Graph)?;
        Ok(SyncJobsClient::new(graph))
    }
}

fn check_http(url: &str, any_http: &mut bool, loopback_only: &mut bool) {
    if let Ok(parsed) = url::Url::parse(url)
        && parsed.scheme() == "http"
    {
        *any_http = true;
        if !is_loopback(&parsed) {
            *loopback_only = false;
        }
    }
}

pub(crate) fn transport(backend: Backend) -> Result<Arc<dyn Transport>, ConfigError> {
    let options = TransportOptions::default();
    Ok(match backend {
        Backend::Reqwest => {
            Arc::new(ReqwestTransport::with_options(&options).map_err(ConfigError::Transport)?)
        }
        Backend::Hyper => {
            Arc::new(HyperTransport::with_options(&options).map_err(ConfigError::Transport)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_conn() -> Conn {
        Conn {
            backend: Backend::Reqwest,
            auth: AuthKind::Secret,
        }
    }
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_the_global_cloud() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.cloud, NationalCloud::Global);
        assert!(!s.allow_http_loopback);
    }

    #[test]
    fn cloud_names_and_overrides() {
        let s = settings(&[("GRAPH_CLOUD", "usgov-dod")]).unwrap();
        assert_eq!(s.cloud.graph_root(), "https://dod-graph.microsoft.us");
        assert_eq!(s.cloud.authority_host(), "https://login.microsoftonline.us");
        let s = settings(&[
            ("GRAPH_CLOUD", "china"),
            ("AZURE_AUTHORITY_HOST", "https://login.partner.example/"),
        ])
        .unwrap();
        assert_eq!(
            s.cloud.graph_root(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
        assert_eq!(s.cloud.authority_host(), "https://login.partner.example");
        assert!(matches!(
            settings(&[("GRAPH_CLOUD", "moon")]),
            Err(ConfigError::Cloud(_))
        ));
        assert!(matches!(
            settings(&[("GRAPH_URL", "not a url")]),
            Err(ConfigError::Endpoint { .. })
        ));
    }

    #[test]
    fn plain_http_is_allowed_only_when_every_http_endpoint_is_loopback() {
        let s = settings(&[
            ("GRAPH_URL", "http://127.0.0.1:5000"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:5000"),
        ])
        .unwrap();
        assert!(s.allow_http_loopback);
        let s = settings(&[
            ("GRAPH_URL", "http://127.0.0.1:5000"),
            ("AZURE_AUTHORITY_HOST", "http://login.example"),
        ])
        .unwrap();
        assert!(!s.allow_http_loopback);
        assert!(s.jobs_client(secret_conn()).is_err());
    }

    #[test]
    fn missing_credentials_are_named() {
        let s = settings(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_SECRET", " ")]).unwrap();
        let err = s.jobs_client(secret_conn()).unwrap_err().to_string();
        assert!(
            err.starts_with("missing AZURE_CLIENT_ID, AZURE_CLIENT_SECRET:"),
            "{err}"
        );
    }
}
