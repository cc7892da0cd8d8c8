//! The Graph error envelope, and a whole error answer with headers.
#![no_main]

use graph_model::GraphErrorResponse;
use graph_transport::{GraphServiceError, HttpResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = GraphErrorResponse::from_slice(data);
    let split = data.len() / 2;
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(&data[..split]) {
        headers.insert(http::header::RETRY_AFTER, v.clone());
        headers.insert("request-id", v);
    }
    let response = HttpResponse::new(
        http::StatusCode::TOO_MANY_REQUESTS,
        headers,
        data[split..].to_vec().into(),
    );
    let _ = GraphServiceError::from_response(&response, None).to_string();
});
