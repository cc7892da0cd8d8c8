//! JSON batching: up to [`MAX_BATCH_REQUESTS`] requests in one
//! `POST {version root}/$batch`, each answered on its own.
//!
//! The batch answers 200 whenever it could be read, whatever its items'
//! statuses; each item carries its own status, headers and body, and a
//! throttled item carries its own `Retry-After`. Items may be answered in
//! any order: match them by [`BatchItemResponse::id`].

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::cloud::ApiVersion;
use crate::request::{Operation, Request, RequestError, Target};

/// The most requests one batch may hold (Graph answers 400 to more).
pub const MAX_BATCH_REQUESTS: usize = 20;

/// `POST {version root}/$batch`. Not idempotent: its items may not be.
pub static BATCH: Operation = Operation {
    name: "$batch",
    method: Method::POST,
    target: Target::Root,
    suffix: "/$batch",
    request_body: Some("BatchRequest"),
    response: Some("BatchResponse"),
    idempotent: false,
    success: &[200],
    beta_deprecation: None,
    only_in: None,
};

/// The body of a `$batch` request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRequest {
    /// The requests, at most [`MAX_BATCH_REQUESTS`].
    pub requests: Vec<BatchItem>,
}

/// One request inside a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchItem {
    /// Unique in the batch (compared without case).
    pub id: String,
    /// The HTTP method.
    pub method: String,
    /// The URL relative to the version root, e.g.
    /// `/servicePrincipals/{id}/synchronization/jobs/{jobId}/start`.
    pub url: String,
    /// Headers; must hold `Content-Type` when there is a body.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Ids of items that must succeed before this one runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl BatchItem {
    /// The batch item that sends `request` (a request built by
    /// [`requests`](crate::requests)) under `id`.
    ///
    /// # Errors
    /// [`RequestError::Body`] when the request has a body that is not JSON,
    /// or follows a next link (a batch item's URL must be relative).
    pub fn from_request(id: impl Into<String>, request: &Request) -> Result<Self, RequestError> {
        if request.next_link.is_some() {
            return Err(RequestError::Body(
                "a next-page link cannot be sent in a batch".into(),
            ));
        }
        let headers: BTreeMap<String, String> = request
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = if request.body.is_empty() {
            None
        } else {
            Some(
                serde_json::from_slice(&request.body)
                    .map_err(|e| RequestError::Body(format!("the body is not JSON: {e}")))?,
            )
        };
        Ok(BatchItem {
            id: id.into(),
            method: request.method().as_str().to_owned(),
            url: request.path.clone(),
            headers,
            body,
            depends_on: Vec::new(),
        })
    }
}

/// The body of a `$batch` answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// One answer per request, in any order.
    #[serde(default)]
    pub responses: Vec<BatchItemResponse>,
}

/// The answer to one item of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchItemResponse {
    /// The id of the request it answers.
    pub id: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its headers (`Retry-After` for a throttled item, `request-id`…).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Its body: JSON, or absent for 204.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl BatchResponse {
    /// An answer of `responses`.
    pub fn new(responses: Vec<BatchItemResponse>) -> Self {
        BatchResponse { responses }
    }
}

impl BatchItemResponse {
    /// An answer for item `id`.
    pub fn new(id: impl Into<String>, status: u16) -> Self {
        BatchItemResponse {
            id: id.into(),
            status,
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// The status, headers and body as one HTTP answer would carry them,
    /// so the code that reads a single answer reads this one too. Headers
    /// that are not valid HTTP are left out; a status outside 100–999
    /// becomes 502.
    pub fn to_parts(&self) -> (StatusCode, HeaderMap, Bytes) {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        let body = match &self.body {
            None | Some(serde_json::Value::Null) => Bytes::new(),
            Some(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        };
        (status, headers, body)
    }
}

/// The `$batch` request carrying `batch` on `version`.
///
/// # Errors
/// [`RequestError::Body`] when the batch holds more than
/// [`MAX_BATCH_REQUESTS`] items or none.
///
/// ```
/// use graph_model::{ApiVersion, JobRef, batch, requests};
/// let job = JobRef::service_principal("sp-1", "scim.1")?;
/// let item = batch::BatchItem::from_request("1", &requests::start(&job, ApiVersion::V1, &[])?)?;
/// assert_eq!(item.url, "/servicePrincipals/sp-1/synchronization/jobs/scim.1/start");
/// let req = batch::request(ApiVersion::V1, &batch::BatchRequest::new(vec![item]))?;
/// assert_eq!(req.path, "/$batch");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn request(version: ApiVersion, batch: &BatchRequest) -> Result<Request, RequestError> {
    if batch.requests.is_empty() || batch.requests.len() > MAX_BATCH_REQUESTS {
        return Err(RequestError::Body(format!(
            "a batch holds 1 to {MAX_BATCH_REQUESTS} requests, not {}",
            batch.requests.len()
        )));
    }
    Request::new(&BATCH, version, BATCH.suffix.to_owned()).with_json_body(batch)
}

impl BatchRequest {
    /// A batch of `requests`.
    pub fn new(requests: Vec<BatchItem>) -> Self {
        BatchRequest { requests }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_answer_shape_with_an_inner_429() {
        let text = r#"{"responses":[
            {"id":"2","status":429,"headers":{"Retry-After":"2.128"},"body":{"error":{"code":"TooManyRequests","message":"slow down"}}},
            {"id":"1","status":204,"body":null}
        ]}"#;
        let answer: BatchResponse = serde_json::from_str(text).expect("parse");
        let (status, headers, body) = answer.responses[0].to_parts();
        assert_eq!(status, 429);
        assert_eq!(headers["retry-after"], "2.128");
        assert!(body.starts_with(b"{\"error\""));
        let (status, _, body) = answer.responses[1].to_parts();
        assert_eq!(status, 204);
        assert!(body.is_empty());
    }

    #[test]
    fn odd_statuses_and_headers_do_not_panic() {
        let mut item = BatchItemResponse::new("x", 42);
        item.headers.insert("bad header".into(), "v".into());
        item.headers.insert("ok".into(), "line\nbreak".into());
        let (status, headers, _) = item.to_parts();
        assert_eq!(status, 502);
        assert!(headers.is_empty());
    }

    #[test]
    fn batch_size_is_bounded() {
        assert!(request(ApiVersion::V1, &BatchRequest::default()).is_err());
        let item = BatchItem {
            id: "1".into(),
            method: "GET".into(),
            url: "/x".into(),
            headers: BTreeMap::new(),
            body: None,
            depends_on: Vec::new(),
        };
        let full = BatchRequest::new(vec![item; MAX_BATCH_REQUESTS + 1]);
        assert!(request(ApiVersion::V1, &full).is_err());
    }
}
