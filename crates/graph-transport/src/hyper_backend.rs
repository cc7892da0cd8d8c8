//! The hyper back-end.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::options::TransportOptions;
use crate::transport::{
    HttpRequest, HttpResponse, RequestSent, Transport, TransportError, TransportErrorKind,
};

/// A [`Transport`] over hyper-util's pooled client (HTTP/1.1, rustls on ring).
#[derive(Clone, Debug)]
pub struct HyperTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Option<Duration>,
}

impl HyperTransport {
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
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(options.connect_timeout);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(crate::tls::client_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .build(connector);
        Ok(HyperTransport {
            client,
            timeout: options.timeout,
        })
    }

    async fn send_inner(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let uri: http::Uri = request.url.as_str().parse().map_err(|e| {
            TransportError::new(TransportErrorKind::InvalidRequest, RequestSent::No, e)
        })?;
        let mut outgoing = http::Request::new(Full::new(request.body.clone()));
        *outgoing.method_mut() = request.method.clone();
        *outgoing.uri_mut() = uri;
        *outgoing.headers_mut() = request.headers.clone();
        let response = self.client.request(outgoing).await.map_err(|e| {
            let (kind, sent) = if e.is_connect() {
                (TransportErrorKind::Connect, RequestSent::No)
            } else {
                (TransportErrorKind::Io, RequestSent::Maybe)
            };
            TransportError::new(kind, sent, e)
        })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Io, RequestSent::Maybe, e))?
            .to_bytes();
        Ok(HttpResponse::new(parts.status, parts.headers, body))
    }
}

#[async_trait]
impl Transport for HyperTransport {
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        match self.timeout {
            None => self.send_inner(request).await,
            Some(limit) => tokio::time::timeout(limit, self.send_inner(request))
                .await
                .map_err(|_| {
                    TransportError::bare(TransportErrorKind::Timeout, RequestSent::Maybe)
                })?,
        }
    }
}
