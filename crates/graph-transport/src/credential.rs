//! What the pipeline needs from a credential: a bearer token for some scopes.
//! The credentials themselves live in `graph-auth`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::transport::TransportError;

/// A secret string: a password, a client secret, an access token.
///
/// It has no `Display`, its `Debug` prints `Secret(****)`, and its memory is
/// zeroed when the last clone is dropped. Cloning is cheap (shared).
#[derive(Clone)]
pub struct Secret(Arc<Zeroizing<String>>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(Zeroizing::new(value.into())))
    }

    /// The secret itself. Name the call site so a reviewer sees where it goes.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `other` is this very secret (a clone of it), not merely an
    /// equal one: a constant-time way to tell that a cached token is the
    /// one seen before.
    pub fn is_same(&self, other: &Secret) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// A bearer token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// When it stops being accepted.
    pub expires_on: SystemTime,
}

impl AccessToken {
    /// A token.
    pub fn new(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        AccessToken {
            token: token.into(),
            expires_on,
        }
    }
}

/// Gets access tokens. Implemented by every credential in `graph-auth`, and
/// by anything else that can produce a bearer token.
///
/// Implementations cache: the pipeline asks for a token on every try.
#[async_trait]
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// A token valid for `scopes` (for app-only Graph access, the one scope
    /// `<graph root>/.default`).
    ///
    /// # Errors
    /// A [`CredentialError`] when no token can be had.
    async fn get_token<'a>(&self, scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError>;

    /// Forgets `token` for `scopes`, because the service refused it (401),
    /// so the next [`get_token`](Self::get_token) fetches a fresh one. Only
    /// that token is dropped: one fetched meanwhile by another caller stays.
    /// The default does nothing, for credentials that do not cache.
    fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &Secret) {
        let _ = (scopes, token);
    }

    /// The Entra authority host this credential signs in at
    /// (`https://login.microsoftonline.us`…), when it is bound to one.
    /// [`GraphClient::new`](crate::GraphClient::new) refuses a credential
    /// bound to another cloud's authority than the client's, so a token
    /// from one cloud is never sent to another cloud's Graph. `None` (the
    /// default) for credentials that get tokens for whatever scope they are
    /// asked, such as a managed identity or the Azure CLI.
    fn authority_host(&self) -> Option<&str> {
        None
    }
}

#[cfg(any(test, feature = "mock"))]
mockall::mock! {
    /// A [`TokenCredential`] driven by expectations (feature `mock`). Its
    /// [`authority_host`](TokenCredential::authority_host) is the default,
    /// `None`, so a mock fits a client of any cloud.
    pub TokenCredential {}

    #[async_trait]
    impl TokenCredential for TokenCredential {
        async fn get_token<'a>(&self, scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError>;
        fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &Secret);
    }
}

#[cfg(any(test, feature = "mock"))]
impl fmt::Debug for MockTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MockTokenCredential")
    }
}

/// Why a credential could not produce a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The token endpoint refused the request (wrong secret, unknown client,
    /// bad scope…). `error` and `description` are Entra's, e.g.
    /// `invalid_client` / `AADSTS7000215: Invalid client secret provided…`.
    #[error("the token endpoint refused the request ({status}): {error}: {description}")]
    Authentication {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code.
        error: String,
        /// The description, with the AADSTS code.
        description: String,
        /// Entra's trace id, for support cases.
        trace_id: Option<String>,
        /// Entra's correlation id, for support cases.
        correlation_id: Option<String>,
    },
    /// The token endpoint could not be reached.
    #[error("could not reach the token endpoint")]
    Transport(#[source] TransportError),
    /// The token endpoint answered with something that is not a token.
    #[error("the token endpoint sent an unreadable answer: {0}")]
    InvalidResponse(String),
    /// The credential is missing something it needs.
    #[error("the credential is not configured: {0}")]
    Configuration(String),
    /// The credential cannot work here: its tool is not installed, nobody
    /// is signed in to it, its endpoint does not exist. A chain of
    /// credentials moves on to the next.
    #[error("the credential is not available: {0}")]
    Unavailable(String),
    /// Another failure, from a credential outside graphsync.
    #[error("the credential failed")]
    Other(#[source] Box<dyn StdError + Send + Sync>),
}
