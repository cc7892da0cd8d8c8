//! The one TLS configuration both back-ends use: rustls on the ring
//! provider, with the platform's certificate verifier.
//!
//! The provider is passed explicitly rather than installed process-wide, so
//! embedding graphsync never changes what another library's rustls uses.

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;

use crate::transport::{RequestSent, TransportError, TransportErrorKind};

/// Builds the rustls client configuration.
pub(crate) fn client_config() -> Result<rustls::ClientConfig, TransportError> {
    let setup =
        |e: rustls::Error| TransportError::new(TransportErrorKind::Setup, RequestSent::No, e);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .with_platform_verifier()
        .map_err(setup)?
        .with_no_client_auth();
    Ok(config)
}
