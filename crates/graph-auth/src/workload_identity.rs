//! Tokens for a Kubernetes workload: the service account token the cluster
//! projects into a file is the client assertion of a federated credential.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use graph_transport::{AccessToken, CredentialError, Secret, Transport};

use crate::cache::TokenCache;
use crate::client_secret::{CredentialOptions, TokenEndpoint};

/// Exchanges the projected service account token in
/// `AZURE_FEDERATED_TOKEN_FILE` for an Entra token. The file is read again
/// on every refresh, because the cluster rotates it.
pub struct WorkloadIdentityCredential {
    endpoint: TokenEndpoint,
    token_file: PathBuf,
    cache: TokenCache,
}

impl fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadIdentityCredential")
            .field("endpoint", &self.endpoint)
            .field("token_file", &self.token_file)
            .finish_non_exhaustive()
    }
}

impl WorkloadIdentityCredential {
    /// A credential for app `client_id` in `tenant_id`, whose federated
    /// credential trusts the token in `token_file`.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] for an invalid tenant, an empty
    /// client id or file name, or a token endpoint a secret may not go to.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let token_file = token_file.into();
        if token_file.as_os_str().is_empty() {
            return Err(CredentialError::Configuration(
                "workload identity needs a token file".into(),
            ));
        }
        Ok(WorkloadIdentityCredential {
            endpoint: TokenEndpoint::new(tenant_id.into(), client_id.into(), transport, &options)?,
            token_file,
            cache: TokenCache::new(),
        })
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE` (as the workload identity webhook sets
    /// them).
    ///
    /// # Errors
    /// [`CredentialError::Unavailable`] when a variable is missing; as
    /// [`new`](Self::new) otherwise.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let get = |name: &str| {
            var(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| CredentialError::Unavailable(format!("{name} is not set")))
        };
        Self::new(
            get("AZURE_TENANT_ID")?,
            get("AZURE_CLIENT_ID")?,
            get("AZURE_FEDERATED_TOKEN_FILE")?,
            transport,
            options,
        )
    }

    /// Replaces the token cache (to inject a clock in tests).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let assertion = tokio::fs::read_to_string(&self.token_file)
            .await
            .map_err(|e| {
                CredentialError::Unavailable(format!(
                    "cannot read the federated token file {}: {e}",
                    self.token_file.display()
                ))
            })?;
        let assertion = Secret::new(assertion.trim());
        if assertion.is_empty() {
            return Err(CredentialError::Unavailable(format!(
                "the federated token file {} is empty",
                self.token_file.display()
            )));
        }
        self.endpoint
            .request_with_assertion(&assertion, scopes, self.cache.now())
            .await
    }
}

crate::cache::cached_credential!(WorkloadIdentityCredential, endpoint);
