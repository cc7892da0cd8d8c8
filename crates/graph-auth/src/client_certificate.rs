//! App-only tokens with a certificate: the client proves itself with a JWT
//! signed by the certificate's private key (RFC 7523 client assertion).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use graph_transport::{AccessToken, CredentialError, Secret, Transport};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::cache::TokenCache;
use crate::client_secret::{CredentialOptions, TokenEndpoint};

/// How long a client assertion is valid: long enough for one token request.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// Gets app-only tokens by signing a client assertion with a certificate's
/// RSA key (RS256, with the certificate's SHA-256 thumbprint as `x5t#S256`).
pub struct ClientCertificateCredential {
    endpoint: TokenEndpoint,
    key: Arc<RsaKeyPair>,
    thumbprint: String,
    cache: TokenCache,
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("endpoint", &self.endpoint)
            .field("x5t#S256", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl ClientCertificateCredential {
    /// A credential from PEM text holding the certificate and its RSA
    /// private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), as
    /// `AZURE_CLIENT_CERTIFICATE_PATH` points to.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when the PEM has no certificate,
    /// no key, a key that is not RSA, or the ids are invalid.
    pub fn from_pem(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        pem: &[u8],
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let bad =
            |what: &str| CredentialError::Configuration(format!("the certificate PEM {what}"));
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| bad("holds no certificate"))?
            .map_err(|e| bad(&format!("has an unreadable certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| bad(&format!("holds no readable private key: {e}")))?;
        Self::from_der(tenant_id, client_id, &cert, &key, transport, options).map_err(|e| match e {
            CredentialError::Configuration(m) => {
                CredentialError::Configuration(format!("the certificate PEM {m}"))
            }
            other => other,
        })
    }

    /// A credential from a certificate and its RSA private key, both DER.
    fn from_der(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        cert: &CertificateDer<'_>,
        key: &PrivateKeyDer<'_>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let key = match key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(CredentialError::Configuration(
                    "holds a key that is not RSA (Entra certificates are RSA)".into(),
                ));
            }
        }
        .map_err(|e| CredentialError::Configuration(format!("holds a key ring rejects: {e}")))?;
        let thumbprint = b64(ring::digest::digest(&ring::digest::SHA256, cert.as_ref()).as_ref());
        let endpoint = TokenEndpoint::new(tenant_id.into(), client_id.into(), transport, &options)?;
        Ok(ClientCertificateCredential {
            endpoint,
            key: Arc::new(key),
            thumbprint,
            cache: TokenCache::new(),
        })
    }

    /// A credential from a PKCS#12 archive (`.pfx`/`.p12`, as the portal,
    /// Key Vault and Windows export), holding the certificate and its RSA
    /// key; `password` decrypts it (`""` for none). Needs feature `pkcs12`.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when the archive cannot be
    /// decrypted with `password`, holds no key with a certificate, or the
    /// key is not RSA.
    #[cfg(feature = "pkcs12")]
    pub fn from_pkcs12(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        der: &[u8],
        password: &Secret,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let bad = |what: String| {
            CredentialError::Configuration(format!("the PKCS#12 certificate {what}"))
        };
        // The archive's own error says which step failed (MAC, decryption,
        // structure); it never holds key material.
        let store = p12_keystore::KeyStore::from_pkcs12(der, password.expose())
            .map_err(|e| bad(format!("cannot be opened (wrong password?): {e}")))?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| bad("holds no private key".into()))?;
        // The chain starts with the key's own certificate.
        let cert = chain
            .chain()
            .first()
            .ok_or_else(|| bad("holds a key without its certificate".into()))?;
        let cert = CertificateDer::from(cert.as_der());
        let key = PrivateKeyDer::Pkcs8(chain.key().into());
        Self::from_der(tenant_id, client_id, &cert, &key, transport, options).map_err(|e| match e {
            CredentialError::Configuration(m) => bad(m),
            other => other,
        })
    }

    /// A credential from a PEM file.
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when the file cannot be read, and
    /// as [`from_pem`](Self::from_pem).
    pub fn from_pem_file(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        path: impl AsRef<std::path::Path>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            CredentialError::Configuration(format!("cannot read {}: {e}", path.display()))
        })?;
        Self::from_pem(tenant_id, client_id, &pem, transport, options)
    }

    /// A credential from a certificate file in either format the Azure
    /// SDKs accept for `AZURE_CLIENT_CERTIFICATE_PATH`: PEM (certificate and
    /// key), or PKCS#12 opened with `password` (with feature `pkcs12`).
    ///
    /// # Errors
    /// [`CredentialError::Configuration`] when the file cannot be read, is
    /// PKCS#12 without the `pkcs12` feature (the message says how to convert
    /// it to PEM), and as [`from_pem`](Self::from_pem).
    pub fn from_file(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        path: impl AsRef<std::path::Path>,
        password: Option<&Secret>,
        transport: Arc<dyn Transport>,
        options: CredentialOptions,
    ) -> Result<Self, CredentialError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            CredentialError::Configuration(format!("cannot read {}: {e}", path.display()))
        })?;
        // PEM is text with armour; PKCS#12 is a DER SEQUENCE.
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") || bytes.first() != Some(&0x30) {
            return Self::from_pem(tenant_id, client_id, &bytes, transport, options);
        }
        #[cfg(feature = "pkcs12")]
        {
            let none = Secret::new("");
            Self::from_pkcs12(
                tenant_id,
                client_id,
                &bytes,
                password.unwrap_or(&none),
                transport,
                options,
            )
        }
        #[cfg(not(feature = "pkcs12"))]
        {
            let _ = (tenant_id, client_id, password, transport, options);
            Err(CredentialError::Configuration(format!(
                "{} is PKCS#12, which this build reads only with feature `pkcs12`; \
                 convert it with `openssl pkcs12 -in {0} -nodes -out cert.pem`",
                path.display()
            )))
        }
    }

    /// The certificate's SHA-256 thumbprint, base64url (`x5t#S256`).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Replaces the token cache (to inject a clock in tests).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    /// A signed client assertion for the token endpoint, valid from `now`.
    fn assertion(&self, now: SystemTime) -> Result<Secret, CredentialError> {
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| CredentialError::Configuration("the clock is before 1970".into()))?
            .as_secs();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint});
        let claims = serde_json::json!({
            "aud": self.endpoint.url().as_str(),
            "iss": self.endpoint.client_id(),
            "sub": self.endpoint.client_id(),
            "jti": uuid::Uuid::new_v4().hyphenated().to_string(),
            "nbf": secs,
            "iat": secs,
            "exp": secs + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| CredentialError::Configuration("the key could not sign".into()))?;
        Ok(Secret::new(format!("{signing_input}.{}", b64(&signature))))
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let assertion = self.assertion(SystemTime::now())?;
        self.endpoint
            .request_with_assertion(&assertion, scopes, self.cache.now())
            .await
    }
}

crate::cache::cached_credential!(ClientCertificateCredential, endpoint);
