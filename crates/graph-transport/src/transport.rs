//! The pluggable transport: send one HTTP request, get one response.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

/// An HTTP request ready to go on the wire: absolute URL, all headers, body.
///
/// `Debug` shows the body's length, not its bytes: a token request's body
/// holds a client secret.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// Every header to send. Secrets in here are marked sensitive, so the
    /// `Debug` of a [`http::HeaderValue`] does not show them.
    pub headers: HeaderMap,
    /// The body; empty when there is none.
    pub body: Bytes,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: Url) -> Self {
        HttpRequest {
            method,
            url,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

/// An HTTP response with its body read to the end.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A response.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        HttpResponse {
            status,
            headers,
            body,
        }
    }

    /// A header's value, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The service's `request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.header("request-id")
    }
}

/// Sends HTTP requests. The reqwest and hyper back-ends implement it; so can
/// you, to add a proxy header, record traffic, or wrap another transport.
///
/// An implementation sends exactly one request per call: no retries, no
/// redirects, no authentication. The pipeline in [`GraphClient`](crate::GraphClient)
/// does those, so they behave the same whatever the transport.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response.
    ///
    /// # Errors
    /// A [`TransportError`] that says whether the request may have reached
    /// the server.
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Whether a failed request may have reached the server.
///
/// This decides what a retry may do: a request that was never sent can
/// always be sent again; one that may have been sent could already have
/// been applied (a second `start` of a job that is now running is what the
/// service warns against).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestSent {
    /// The request did not leave the client (the connection was refused,
    /// DNS failed, the request was invalid).
    No,
    /// The request may have been sent, in part or in whole.
    Maybe,
}

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// A timeout expired.
    Timeout,
    /// The connection failed while sending or receiving.
    Io,
    /// The request could not be built (for example an unsupported URL).
    InvalidRequest,
    /// The transport could not be set up.
    Setup,
}

/// A request that did not produce a response.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    sent: RequestSent,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A new error.
    pub fn new(
        kind: TransportErrorKind,
        sent: RequestSent,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            sent,
            source: Some(source.into()),
        }
    }

    /// A new error without an underlying cause.
    pub fn bare(kind: TransportErrorKind, sent: RequestSent) -> Self {
        TransportError {
            kind,
            sent,
            source: None,
        }
    }

    /// What kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request may have reached the server.
    pub fn request_sent(&self) -> RequestSent {
        self.sent
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "the connection failed",
            TransportErrorKind::InvalidRequest => "the request could not be built",
            TransportErrorKind::Setup => "the HTTP client could not be set up",
        };
        let sent = match self.sent {
            RequestSent::No => "the request was not sent",
            RequestSent::Maybe => "the request may have been sent",
        };
        write!(f, "{what} ({sent})")
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
