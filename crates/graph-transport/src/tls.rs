//! The one TLS configuration both back-ends use: rustls on the ring
//! provider, with the platform's certificate verifier.
//!
//! The provider is passed explicitly rather than installed process-wide, so
//! embedding graphsync never changes what another library's rustls uses.

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;

use crate::transport::{RequestSent, TransportError, TransportErrorKind};

/// Builds the rustls client configuration.
///
/// A machine without any CA certificates (a minimal container) still gets a
/// transport: plain http to a loopback emulator works, and https fails at
/// the handshake as an unknown issuer, after a warning that says why.
pub(crate) fn client_config() -> Result<rustls::ClientConfig, TransportError> {
    let setup =
        |e: rustls::Error| TransportError::new(TransportErrorKind::Setup, RequestSent::No, e);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?;
    match builder.clone().with_platform_verifier() {
        Ok(b) => Ok(b.with_no_client_auth()),
        Err(e) => {
            tracing::warn!(
                target: "graphsync::tls",
                error = %e,
                "no usable CA certificates on this system; https requests will fail (install the system's CA certificate bundle)"
            );
            Ok(builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth())
        }
    }
}
