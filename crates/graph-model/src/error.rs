//! The Graph error envelope: `{"error": {"code", "message", "innerError": {…}}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of a Graph error response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GraphErrorResponse {
    /// The error.
    pub error: GraphError,
}

/// A Graph error (OData JSON error format). Branch on `code`, not on
/// `message`: messages are for developers and may change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GraphError {
    /// The error code, e.g. `Authorization_RequestDenied`; may be `""`.
    #[serde(default, deserialize_with = "crate::lenient::null_default")]
    pub code: String,
    /// A developer-facing message.
    #[serde(default, deserialize_with = "crate::lenient::null_default")]
    pub message: String,
    /// The target of the error, when the service names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// More errors, when the service reports several.
    #[serde(
        default,
        deserialize_with = "crate::lenient::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub details: Vec<GraphErrorDetail>,
    /// Diagnostics: request ids, date, and possibly more specific codes.
    #[serde(default, alias = "innererror", skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<InnerError>,
}

/// One entry of [`GraphError::details`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GraphErrorDetail {
    /// The code.
    #[serde(default, deserialize_with = "crate::lenient::null_default")]
    pub code: String,
    /// The message.
    #[serde(default, deserialize_with = "crate::lenient::null_default")]
    pub message: String,
    /// The target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The `innerError` object. It may nest further, with more specific codes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InnerError {
    /// A more specific code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A more specific message (throttling responses carry one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The service's id for the request: quote it in support cases.
    #[serde(
        default,
        rename = "request-id",
        alias = "requestId",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// The id the client sent in `client-request-id`.
    #[serde(
        default,
        rename = "client-request-id",
        alias = "clientRequestId",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_request_id: Option<String>,
    /// When the error happened, as the service wrote it (usually without a
    /// zone, e.g. `2022-05-26T01:12:14`, which is UTC).
    #[serde(default, alias = "Date", skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The OData type of the inner error, when given.
    #[serde(
        default,
        rename = "@odata.type",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// A nested, more specific error.
    #[serde(
        default,
        rename = "innerError",
        alias = "innererror",
        skip_serializing_if = "Option::is_none"
    )]
    pub inner_error: Option<Box<InnerError>>,
    /// Anything else the service put here (`status` on throttling errors…).
    #[serde(flatten)]
    pub additional: BTreeMap<String, serde_json::Value>,
}

impl GraphErrorResponse {
    /// Parses an error body; `None` when it is not a Graph error envelope
    /// (an HTML page from a proxy, an empty body…).
    pub fn from_slice(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }

    /// A response with the given code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        GraphErrorResponse {
            error: GraphError {
                code: code.into(),
                message: message.into(),
                ..GraphError::default()
            },
        }
    }
}

impl GraphError {
    /// Inner errors from the outermost to the innermost.
    pub fn inner_errors(&self) -> impl Iterator<Item = &InnerError> {
        std::iter::successors(self.inner_error.as_ref(), |e| e.inner_error.as_deref())
    }

    /// The first `request-id` found in the inner errors.
    pub fn request_id(&self) -> Option<&str> {
        self.inner_errors().find_map(|e| e.request_id.as_deref())
    }

    /// The first `client-request-id` found in the inner errors.
    pub fn client_request_id(&self) -> Option<&str> {
        self.inner_errors()
            .find_map(|e| e.client_request_id.as_deref())
    }

    /// The first `date` found in the inner errors.
    pub fn date(&self) -> Option<&str> {
        self.inner_errors().find_map(|e| e.date.as_deref())
    }

    /// The most specific code: the innermost inner error's, else `code`.
    pub fn most_specific_code(&self) -> &str {
        self.inner_errors()
            .filter_map(|e| e.code.as_deref())
            .filter(|c| !c.is_empty())
            .last()
            .unwrap_or(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_403_envelope() {
        let body = br#"{ "error": { "code": "authorization_error", "message": "Failed to authorize, token doesn't have the required permissions.", "innerError": { "date": "2022-05-26T01:12:14", "request-id": "19318138-3b82-410c-acff-821f07925027", "client-request-id": "0aa65d9c-a47c-566a-40a7-0261f0f5b6c3" } } }"#;
        let e = GraphErrorResponse::from_slice(body).unwrap().error;
        assert_eq!(e.code, "authorization_error");
        assert_eq!(e.request_id(), Some("19318138-3b82-410c-acff-821f07925027"));
        assert_eq!(
            e.client_request_id(),
            Some("0aa65d9c-a47c-566a-40a7-0261f0f5b6c3")
        );
        assert_eq!(e.date(), Some("2022-05-26T01:12:14"));
        assert_eq!(e.most_specific_code(), "authorization_error");
    }

    #[test]
    fn nested_inner_errors_capitalised_date_and_extra_fields() {
        let body = br#"{"error":{"code":"TooManyRequests","message":"Too many requests","innerError":{
            "code":"429","message":"Please retry again later.","status":429,"Date":"2024-01-01T00:00:00",
            "innerError":{"code":"ApplicationThrottled","request-id":"deep-id"}}}}"#;
        let e = GraphErrorResponse::from_slice(body).unwrap().error;
        assert_eq!(e.request_id(), Some("deep-id"));
        assert_eq!(e.date(), Some("2024-01-01T00:00:00"));
        assert_eq!(e.most_specific_code(), "ApplicationThrottled");
        let inner = e.inner_error.as_ref().unwrap();
        assert_eq!(
            inner.additional.get("status"),
            Some(&serde_json::json!(429))
        );
    }

    #[test]
    fn empty_and_null_codes_and_non_envelopes() {
        let e = GraphErrorResponse::from_slice(br#"{"error":{"code":null,"message":""}}"#)
            .unwrap()
            .error;
        assert_eq!(e.code, "");
        assert_eq!(e.most_specific_code(), "");
        assert!(GraphErrorResponse::from_slice(b"<html>411 Length Required</html>").is_none());
        assert!(GraphErrorResponse::from_slice(b"").is_none());
    }
}
