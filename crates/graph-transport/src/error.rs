//! Errors of the transport layer.

use std::fmt;
use std::time::{Duration, SystemTime};

use graph_model::GraphError;
use graph_model::GraphErrorResponse;
use graph_model::time::{OffsetDateTime, format_description::well_known::Rfc2822};
use http::{HeaderMap, StatusCode};

use crate::credential::CredentialError;
use crate::transport::{HttpResponse, RequestSent, TransportError};

/// How much of a body that is not a Graph error envelope to keep.
const BODY_EXCERPT: usize = 512;

/// An error answer from Graph: its status, the envelope's code and message,
/// and the ids to quote in a support case.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GraphServiceError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `error.code` (empty when the body was not a Graph error).
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// The service's `request-id` (from the header, else the envelope).
    pub request_id: Option<String>,
    /// The `client-request-id` the client sent and the service echoed.
    pub client_request_id: Option<String>,
    /// When the service says the error happened.
    pub date: Option<String>,
    /// How long the service asked to wait before trying again.
    pub retry_after: Option<Duration>,
    /// The whole parsed envelope, when there was one.
    pub error: Option<GraphError>,
    /// The start of the body, when it was not a Graph error envelope.
    pub body_excerpt: Option<String>,
    /// The throttling headers the service sent (`x-ms-throttle-scope`,
    /// `x-ms-throttle-information`, `x-ms-throttle-limit-percentage`,
    /// `x-ms-resource-unit`), by name.
    pub throttle: Vec<(String, String)>,
    /// How many tries the call made before giving up with this answer.
    pub attempts: u32,
}

impl GraphServiceError {
    /// Reads an error response. `client_request_id` is the id that was sent,
    /// used when the service did not echo it.
    pub fn from_response(response: &HttpResponse, client_request_id: Option<&str>) -> Self {
        let envelope = GraphErrorResponse::from_slice(&response.body).map(|e| e.error);
        let header = |name: &str| response.header(name).map(str::to_owned);
        let (code, message) = match &envelope {
            Some(e) => (e.code.clone(), e.message.clone()),
            None => (String::new(), String::new()),
        };
        let request_id = header("request-id").or_else(|| {
            envelope
                .as_ref()
                .and_then(|e| e.request_id())
                .map(str::to_owned)
        });
        let client_request_id = header("client-request-id")
            .or_else(|| {
                envelope
                    .as_ref()
                    .and_then(|e| e.client_request_id())
                    .map(str::to_owned)
            })
            .or_else(|| client_request_id.map(str::to_owned));
        let date = envelope
            .as_ref()
            .and_then(|e| e.date())
            .map(str::to_owned)
            .or_else(|| header("date"));
        let body_excerpt = match envelope {
            Some(_) => None,
            None if response.body.is_empty() => None,
            None => Some(excerpt(&response.body)),
        };
        let throttle = response
            .headers
            .iter()
            .filter(|(name, _)| {
                let n = name.as_str();
                n.starts_with("x-ms-throttle-") || n == "x-ms-resource-unit"
            })
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        GraphServiceError {
            status: response.status,
            code,
            message,
            request_id,
            client_request_id,
            date,
            retry_after: retry_after(&response.headers, SystemTime::now()),
            error: envelope,
            body_excerpt,
            throttle,
            attempts: 1,
        }
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

impl fmt::Display for GraphServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph answered {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, ": {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request-id {id})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} tries", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphServiceError {}

/// Reads `Retry-After`: delta-seconds (fractional ones too, as Graph sends
/// `2.128`) or an HTTP date. Unreadable values are ignored, never an error:
/// a bad hint must not fail a call. With several values, the first readable
/// one wins.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    headers
        .get_all(http::header::RETRY_AFTER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| parse_retry_after(v, now))
}

fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(d) = parse_seconds(value) {
        return Some(d);
    }
    if let Ok(date) = OffsetDateTime::parse(value, &Rfc2822) {
        let when = SystemTime::from(date);
        return Some(when.duration_since(now).unwrap_or(Duration::ZERO));
    }
    // A folded repeat such as `30,120`: use the first element.
    value
        .split(',')
        .next()
        .and_then(|v| parse_seconds(v.trim()))
}

fn parse_seconds(value: &str) -> Option<Duration> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let secs: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// Errors of [`GraphClient`](crate::GraphClient).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Graph answered with an error status.
    #[error("{0}")]
    Service(Box<GraphServiceError>),
    /// No response was received.
    #[error("{method} {path} failed")]
    Transport {
        /// The method.
        method: http::Method,
        /// The path (without query) that was being sent.
        path: String,
        /// What happened.
        #[source]
        source: TransportError,
    },
    /// No access token could be had.
    #[error("could not get an access token")]
    Credential(#[source] CredentialError),
    /// The request may or may not have been applied: it went out and then
    /// timed out, lost its connection or met a 504, and the operation is not
    /// safe to send again (start, restart…). Read the object to find out.
    #[error("{method} {path}: the outcome is unknown, the request may have been applied")]
    Ambiguous {
        /// The method.
        method: http::Method,
        /// The path.
        path: String,
        /// Tries made.
        attempts: u32,
        /// The failure of the last try.
        #[source]
        cause: Box<Error>,
    },
    /// The URL would send a token over plain http to a host that is not
    /// loopback, or to loopback without the opt-in.
    #[error(
        "refusing to send a token over plain http to {url}: only loopback hosts may use http, and only with ClientOptions::allow_http_loopback"
    )]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// A redirect was not followed.
    #[error("not following the redirect to {location:?}: {reason}")]
    Redirect {
        /// The `Location` the service sent.
        location: String,
        /// Why.
        reason: String,
    },
    /// The client options are invalid.
    #[error("invalid client options: {0}")]
    InvalidOptions(String),
    /// The URL could not be formed.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL text.
        url: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// The service's `request-id`, when the error came from a response.
    pub fn request_id(&self) -> Option<&str> {
        self.service_error().and_then(|e| e.request_id.as_deref())
    }

    /// The Graph error, when the service answered with one.
    pub fn service_error(&self) -> Option<&GraphServiceError> {
        match self {
            Error::Service(e) => Some(e),
            Error::Ambiguous { cause, .. } => cause.service_error(),
            _ => None,
        }
    }

    /// Whether the outcome is unknown (see [`Error::Ambiguous`]).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::Ambiguous { .. })
    }

    /// How many tries the call made (1 when it was not retried).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Service(e) => e.attempts,
            Error::Ambiguous { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// Whether the request may have reached the service. `false` for errors
    /// raised before sending; `true` for any answer from the service.
    pub fn request_may_have_been_sent(&self) -> bool {
        match self {
            Error::Service(_) | Error::Ambiguous { .. } => true,
            Error::Transport { source, .. } => source.request_sent() == RequestSent::Maybe,
            Error::Redirect { .. } => true,
            Error::Credential(_)
            | Error::InsecureUrl { .. }
            | Error::InvalidUrl { .. }
            | Error::InvalidOptions(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(http::header::RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            retry_after(&headers(&["10"]), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after(&headers(&["2.128"]), now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            retry_after(&headers(&["Sun, 06 Nov 1994 08:50:07 GMT"]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers(&["Sun, 06 Nov 1994 08:00:00 GMT"]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&["30,120"]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers(&["soon", "7"]), now),
            Some(Duration::from_secs(7))
        );
        for bad in ["soon", "-5", "1e400", "", "NaN", "inf"] {
            assert_eq!(retry_after(&headers(&[bad]), now), None, "{bad}");
        }
    }

    #[test]
    fn service_error_from_envelope_and_headers() {
        let mut h = HeaderMap::new();
        h.insert("request-id", HeaderValue::from_static("hdr-id"));
        h.insert("retry-after", HeaderValue::from_static("3"));
        let body = br#"{"error":{"code":"Throttled","message":"slow down","innerError":{"request-id":"body-id","date":"2024-01-01T00:00:00"}}}"#;
        let resp = HttpResponse::new(StatusCode::TOO_MANY_REQUESTS, h, Bytes::from_static(body));
        let e = GraphServiceError::from_response(&resp, Some("mine"));
        assert_eq!(e.code, "Throttled");
        assert_eq!(e.request_id.as_deref(), Some("hdr-id"));
        assert_eq!(e.client_request_id.as_deref(), Some("mine"));
        assert_eq!(e.date.as_deref(), Some("2024-01-01T00:00:00"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(
            e.to_string(),
            "Graph answered 429 Too Many Requests: Throttled: slow down (request-id hdr-id)"
        );
    }

    #[test]
    fn service_error_from_a_non_graph_body() {
        let body = "<html>".to_owned() + &"x".repeat(2000);
        let resp = HttpResponse::new(
            StatusCode::LENGTH_REQUIRED,
            HeaderMap::new(),
            Bytes::from(body),
        );
        let e = GraphServiceError::from_response(&resp, None);
        assert_eq!(e.code, "");
        assert_eq!(e.request_id, None);
        let excerpt = e.body_excerpt.clone().unwrap();
        assert!(excerpt.starts_with("<html>") && excerpt.chars().count() == BODY_EXCERPT + 1);
        assert_eq!(e.to_string(), "Graph answered 411 Length Required");
    }
}
