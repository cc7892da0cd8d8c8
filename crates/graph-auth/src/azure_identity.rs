//! Interoperation with the Azure SDK for Rust (feature `azure-identity`).
//!
//! Programs that already sign in with an `azure_identity` credential (any
//! type that implements `azure_core::credentials::TokenCredential`, crate
//! version 1) hand it to graphsync through [`AzureIdentityCredential`]; and
//! a graphsync credential goes the other way, into any Azure SDK client,
//! through [`AzureCoreCredential`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use azure_core::credentials as az;
use graph_transport::{AccessToken, CredentialError, Secret, TokenCredential};

use crate::cache::{TokenCache, cached_credential};

/// An Azure SDK credential (`azure_core::credentials::TokenCredential`)
/// used as a graphsync [`TokenCredential`].
///
/// Its tokens go through a [`TokenCache`] of our own, so the pipeline's hot
/// path does not call into the Azure SDK on every request. A 401 drops the
/// refused token from that cache; whether the wrapped credential then
/// fetches a new one is up to its own cache.
///
/// ```no_run
/// # #[cfg(feature = "azure-identity")] {
/// use std::sync::Arc;
/// use graph_auth::AzureIdentityCredential;
///
/// fn wrap(azure: Arc<dyn azure_core::credentials::TokenCredential>) -> AzureIdentityCredential {
///     // e.g. azure_identity::ManagedIdentityCredential::new(None)?
///     AzureIdentityCredential::new(azure)
/// }
/// # }
/// ```
pub struct AzureIdentityCredential {
    inner: Arc<dyn az::TokenCredential>,
    cache: TokenCache,
}

impl fmt::Debug for AzureIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapped credential's own Debug is the Azure SDK's, which
        // redacts its secrets.
        f.debug_struct("AzureIdentityCredential")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl AzureIdentityCredential {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn az::TokenCredential>) -> Self {
        AzureIdentityCredential {
            inner,
            cache: TokenCache::new(),
        }
    }

    /// Uses `cache` (for instance one on a test clock).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let token = self
            .inner
            .get_token(scopes, None)
            .await
            .map_err(|e| CredentialError::Other(Box::new(e)))?;
        Ok(AccessToken::new(
            Secret::new(token.token.secret()),
            system_time(token.expires_on.unix_timestamp()),
        ))
    }
}

cached_credential!(AzureIdentityCredential);

/// A Unix time in seconds as a `SystemTime`; times before 1970 (which no
/// real token has) count as already expired.
fn system_time(unix_seconds: i64) -> SystemTime {
    u64::try_from(unix_seconds)
        .ok()
        .and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A graphsync [`TokenCredential`] used as an Azure SDK credential
/// (`azure_core::credentials::TokenCredential`), so one sign-in serves both
/// graphsync and, say, a Key Vault or Storage client.
///
/// ```no_run
/// # #[cfg(feature = "azure-identity")] {
/// use std::sync::Arc;
/// use graph_auth::{AzureCoreCredential, StaticToken};
///
/// let ours = Arc::new(StaticToken::new("eyJ0eXAi…"));
/// let for_azure: Arc<dyn azure_core::credentials::TokenCredential> =
///     Arc::new(AzureCoreCredential::new(ours));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AzureCoreCredential {
    inner: Arc<dyn TokenCredential>,
}

impl AzureCoreCredential {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn TokenCredential>) -> Self {
        AzureCoreCredential { inner }
    }
}

#[async_trait]
impl az::TokenCredential for AzureCoreCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<az::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<az::AccessToken> {
        let token = self
            .inner
            .get_token(scopes)
            .await
            .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Credential, e))?;
        let seconds = token
            .expires_on
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let expires_on = azure_core::time::OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Credential, e))?;
        Ok(az::AccessToken::new(
            token.token.expose().to_owned(),
            expires_on,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticToken;
    use azure_core::credentials::TokenCredential as _;

    #[derive(Debug)]
    struct Fixed;

    #[async_trait]
    impl az::TokenCredential for Fixed {
        async fn get_token(
            &self,
            scopes: &[&str],
            _: Option<az::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<az::AccessToken> {
            if scopes != ["https://graph.microsoft.com/.default"] {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    "unexpected scope",
                ));
            }
            Ok(az::AccessToken::new(
                "from-azure",
                azure_core::time::OffsetDateTime::from_unix_timestamp(4_000_000_000)
                    .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Other, e))?,
            ))
        }
    }

    #[tokio::test]
    async fn an_azure_credential_gives_its_token_and_expiry() {
        let ours = AzureIdentityCredential::new(Arc::new(Fixed));
        let t = ours
            .get_token(&["https://graph.microsoft.com/.default"])
            .await
            .expect("token");
        assert_eq!(t.token.expose(), "from-azure");
        assert_eq!(
            t.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000)
        );
        // Its failure keeps the Azure SDK's message.
        let e = ours.get_token(&["other/.default"]).await.unwrap_err();
        assert!(matches!(e, CredentialError::Other(_)));
        assert!(
            std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("unexpected scope"))
        );
        assert!(!format!("{ours:?}").contains("from-azure"));
    }

    #[tokio::test]
    async fn ours_serves_the_azure_sdk() {
        let azure = AzureCoreCredential::new(Arc::new(StaticToken::new("ours")));
        let t = azure.get_token(&["x/.default"], None).await.expect("token");
        assert_eq!(t.token.secret(), "ours");
    }

    #[test]
    fn times_before_1970_count_as_expired() {
        assert_eq!(system_time(-5), SystemTime::UNIX_EPOCH);
        assert_eq!(
            system_time(10),
            SystemTime::UNIX_EPOCH + Duration::from_secs(10)
        );
    }
}
