//! A token you already have.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use graph_transport::{AccessToken, CredentialError, Secret, TokenCredential};

/// A fixed bearer token, e.g. from `az account get-access-token`.
///
/// It is returned for any scopes; Graph checks it. Once `expires_on` has
/// passed, [`get_token`](TokenCredential::get_token) fails instead of sending
/// a token the service will refuse.
#[derive(Clone, Debug)]
pub struct StaticToken {
    token: AccessToken,
}

impl StaticToken {
    /// A token with no known expiry (treated as valid for a year).
    pub fn new(token: impl Into<Secret>) -> Self {
        Self::expiring(token, SystemTime::now() + Duration::from_secs(365 * 86_400))
    }

    /// A token that expires at `expires_on`.
    pub fn expiring(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        StaticToken {
            token: AccessToken::new(token, expires_on),
        }
    }
}

#[async_trait]
impl TokenCredential for StaticToken {
    async fn get_token<'a>(&self, _scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError> {
        if self.token.token.is_empty() {
            return Err(CredentialError::Configuration(
                "the static token is empty".into(),
            ));
        }
        if self.token.expires_on <= SystemTime::now() {
            return Err(CredentialError::Configuration(
                "the static token has expired".into(),
            ));
        }
        Ok(self.token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_token_until_it_expires() {
        let t = StaticToken::new("abc");
        assert_eq!(t.get_token(&["x"]).await.unwrap().token.expose(), "abc");
        assert!(!format!("{t:?}").contains("abc"));
        let old = StaticToken::expiring("abc", SystemTime::now() - Duration::from_secs(1));
        assert!(old.get_token(&["x"]).await.is_err());
        assert!(StaticToken::new("").get_token(&["x"]).await.is_err());
    }
}
