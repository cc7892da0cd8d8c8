//! Credentials chosen from the environment: [`EnvironmentCredential`] and
//! the chain [`DefaultCredential`] (environment → workload identity →
//! managed identity → Azure CLI).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use graph_transport::{AccessToken, CredentialError, Secret, TokenCredential, Transport};

use crate::azure_cli::AzureCliCredential;
use crate::client_certificate::ClientCertificateCredential;
use crate::client_secret::{ClientSecretCredential, CredentialOptions};
use crate::managed_identity::{
    ManagedIdentityCredential, ManagedIdentityId, ManagedIdentitySource,
};
use crate::workload_identity::WorkloadIdentityCredential;

/// A client secret or certificate credential configured by
/// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` or
/// `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file, or PKCS#12 with feature
/// `pkcs12` and `AZURE_CLIENT_CERTIFICATE_PASSWORD`), as the Azure SDKs read
/// them.
#[derive(Debug)]
pub struct EnvironmentCredential {
    inner: Arc<dyn TokenCredential>,
}

impl EnvironmentCredential {
    /// Reads the variables through `var` (pass `|k| std::env::var(k).ok()`).
    ///
    /// # Errors
    /// [`CredentialError::Unavailable`] naming the variables that are
    /// missing; [`CredentialError::Configuration`] when they are invalid.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        let secret = get("AZURE_CLIENT_SECRET");
        let certificate = get("AZURE_CLIENT_CERTIFICATE_PATH");
        let (Some(tenant), Some(client)) = (get("AZURE_TENANT_ID"), get("AZURE_CLIENT_ID")) else {
            let mut missing: Vec<&str> = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"]
                .into_iter()
                .filter(|n| get(n).is_none())
                .collect();
            if secret.is_none() && certificate.is_none() {
                missing.push("AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)");
            }
            return Err(CredentialError::Unavailable(format!(
                "{} not set",
                missing.join(", ")
            )));
        };
        let inner: Arc<dyn TokenCredential> = if let Some(secret) = secret {
            Arc::new(ClientSecretCredential::new(
                tenant, client, secret, transport, options,
            )?)
        } else if let Some(path) = certificate {
            let password = get("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(Secret::new);
            Arc::new(ClientCertificateCredential::from_file(
                tenant,
                client,
                path,
                password.as_ref(),
                transport,
                options,
            )?)
        } else {
            return Err(CredentialError::Unavailable(
                "AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) not set".into(),
            ));
        };
        Ok(EnvironmentCredential { inner })
    }
}

#[async_trait]
impl TokenCredential for EnvironmentCredential {
    async fn get_token<'a>(&self, scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError> {
        self.inner.get_token(scopes).await
    }

    fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &Secret) {
        self.inner.invalidate(scopes, token);
    }

    fn authority_host(&self) -> Option<&str> {
        self.inner.authority_host()
    }
}

/// How long the chain waits for a managed identity endpoint before it
/// decides there is none (off Azure, IMDS does not answer at all).
pub const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(3);

/// One link of the chain: its name, and the credential or why there is none.
type Link = (
    &'static str,
    Result<Arc<dyn TokenCredential>, CredentialError>,
);

fn arc<C: TokenCredential + 'static>(
    c: Result<C, CredentialError>,
) -> Result<Arc<dyn TokenCredential>, CredentialError> {
    c.map(|c| Arc::new(c) as Arc<dyn TokenCredential>)
}

/// Tries, in order, the environment's client secret, workload identity,
/// managed identity and the Azure CLI, and keeps the first that gives a
/// token. A link that is not available (not configured, not installed, no
/// endpoint) passes to the next; one that is configured but refused stops
/// the chain with its error, rather than signing in as someone else.
pub struct DefaultCredential {
    links: Vec<Link>,
    chosen: OnceLock<usize>,
    authority: String,
}

impl fmt::Debug for DefaultCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.links.iter().map(|(n, _)| *n).collect();
        f.debug_struct("DefaultCredential")
            .field("links", &names)
            .field("chosen", &self.chosen.get().map(|i| names[*i]))
            .finish()
    }
}

impl DefaultCredential {
    /// The chain configured from the process environment.
    pub fn new(transport: Arc<dyn Transport>, options: CredentialOptions) -> Self {
        Self::from_env(|k| std::env::var(k).ok(), transport, options)
    }

    /// The chain configured through `var`.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Self {
        let managed = ManagedIdentitySource::from_env(&var).and_then(|source| {
            let id = var("AZURE_CLIENT_ID").filter(|v| !v.is_empty()).map_or(
                ManagedIdentityId::SystemAssigned,
                ManagedIdentityId::ClientId,
            );
            ManagedIdentityCredential::new(id, source, transport.clone())
        });
        let authority = options.cloud.authority_host().to_owned();
        let mut cli = AzureCliCredential::new();
        if let Some(path) = var("PATH") {
            cli = cli.with_search_path(path);
        }
        if let Some(tenant) = var("AZURE_TENANT_ID").filter(|v| !v.is_empty()) {
            cli = cli.with_tenant(tenant);
        }
        let links: Vec<Link> = vec![
            (
                "environment",
                arc(EnvironmentCredential::from_env(
                    &var,
                    transport.clone(),
                    options.clone(),
                )),
            ),
            (
                "workload identity",
                arc(WorkloadIdentityCredential::from_env(
                    &var,
                    transport.clone(),
                    options,
                )),
            ),
            ("managed identity", arc(managed)),
            ("Azure CLI", Ok(Arc::new(cli) as Arc<dyn TokenCredential>)),
        ];
        DefaultCredential {
            links,
            chosen: OnceLock::new(),
            authority,
        }
    }

    /// The link that gave the first token, once one has.
    pub fn chosen(&self) -> Option<&'static str> {
        self.chosen.get().map(|i| self.links[*i].0)
    }
}

/// A link's failure in a few words (without the "not available" prefix
/// every link would repeat).
fn reason(e: &CredentialError) -> String {
    match e {
        CredentialError::Unavailable(m) => m.clone(),
        CredentialError::Transport(t) => format!("could not reach its endpoint ({t})"),
        other => other.to_string(),
    }
}

/// Whether a failure means "not here, try the next", rather than "this is
/// the configured way to sign in and it was refused".
fn passes_on(e: &CredentialError) -> bool {
    matches!(
        e,
        CredentialError::Unavailable(_) | CredentialError::Transport(_)
    )
}

#[async_trait]
impl TokenCredential for DefaultCredential {
    async fn get_token<'a>(&self, scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError> {
        if let Some(i) = self.chosen.get()
            && let (_, Ok(c)) = &self.links[*i]
        {
            return c.get_token(scopes).await;
        }
        let mut reasons = Vec::new();
        for (i, (name, link)) in self.links.iter().enumerate() {
            let credential = match link {
                Ok(c) => c,
                Err(e) => {
                    reasons.push(format!("{name}: {}", reason(e)));
                    continue;
                }
            };
            let attempt = if *name == "managed identity" {
                match tokio::time::timeout(MANAGED_IDENTITY_PROBE, credential.get_token(scopes))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(CredentialError::Unavailable(format!(
                        "no managed identity endpoint answered within {} s",
                        MANAGED_IDENTITY_PROBE.as_secs()
                    ))),
                }
            } else {
                credential.get_token(scopes).await
            };
            match attempt {
                Ok(token) => {
                    let _ = self.chosen.set(i);
                    tracing::debug!(target: "graphsync::auth", credential = name, "signed in");
                    return Ok(token);
                }
                Err(e) if passes_on(&e) => reasons.push(format!("{name}: {}", reason(&e))),
                Err(e) => return Err(e),
            }
        }
        Err(CredentialError::Unavailable(format!(
            "no credential in the chain could sign in ({})",
            reasons.join("; ")
        )))
    }

    fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &Secret) {
        if let Some(i) = self.chosen.get()
            && let (_, Ok(c)) = &self.links[*i]
        {
            c.invalidate(scopes, token);
        }
    }

    /// The cloud the chain was configured for, whichever link signs in: a
    /// chain for one cloud is not given to a client of another.
    fn authority_host(&self) -> Option<&str> {
        Some(&self.authority)
    }
}
