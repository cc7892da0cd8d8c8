//! The reqwest back-end.

use async_trait::async_trait;

use crate::options::TransportOptions;
use crate::transport::{
    HttpRequest, HttpResponse, RequestSent, Transport, TransportError, TransportErrorKind,
};

/// A [`Transport`] over a pooled `reqwest` client (HTTP/1.1, rustls on ring).
///
/// reqwest's own redirect following is off: redirects are the pipeline's to
/// govern, so `Authorization` is never forwarded to another host by accident.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport with default options.
    ///
    /// # Errors
    /// When TLS cannot be set up (no usable certificate store).
    pub fn new() -> Result<Self, TransportError> {
        Self::with_options(&TransportOptions::default())
    }

    /// A transport with the given options.
    ///
    /// # Errors
    /// When TLS cannot be set up (no usable certificate store).
    pub fn with_options(options: &TransportOptions) -> Result<Self, TransportError> {
        let tls = crate::tls::client_config()?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .pool_idle_timeout(options.pool_idle_timeout);
        if let Some(t) = options.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        if let Some(t) = options.timeout {
            builder = builder.timeout(t);
        }
        let client = builder
            .build()
            .map_err(|e| TransportError::new(TransportErrorKind::Setup, RequestSent::No, e))?;
        Ok(ReqwestTransport { client })
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if !request.body.is_empty() {
            builder = builder.body(request.body.clone());
        }
        let response = builder.send().await.map_err(classify)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(classify)?;
        Ok(HttpResponse::new(status, headers, body))
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    // A connect error (refused, DNS, TLS handshake, connect timeout) happens
    // before any byte of the request is written.
    let (kind, sent) = if e.is_connect() {
        (TransportErrorKind::Connect, RequestSent::No)
    } else if e.is_builder() {
        (TransportErrorKind::InvalidRequest, RequestSent::No)
    } else if e.is_timeout() {
        (TransportErrorKind::Timeout, RequestSent::Maybe)
    } else {
        (TransportErrorKind::Io, RequestSent::Maybe)
    };
    TransportError::new(kind, sent, e)
}
