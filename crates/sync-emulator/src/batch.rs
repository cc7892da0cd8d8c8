//! JSON batching: `POST /{version}/$batch` with up to 20 requests, each
//! served as if it had come on its own (same routing, authentication,
//! permissions and actions), each answered with its own status, headers
//! and body. Injected throttling strikes items one by one, as Graph's does:
//! a throttled item carries its own `Retry-After` and the batch still
//! answers 200.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use graph_model::ApiVersion;
use graph_model::batch::{
    BatchItem, BatchItemResponse, BatchRequest, BatchResponse, MAX_BATCH_REQUESTS,
};
use http::{Method, StatusCode};

use crate::fault::Fault;
use crate::service::{Ids, Inbound, Reply, Shared, graph_error, json_reply, serve};

/// Keeps the draws of batch items apart from those of whole requests, so
/// the same seed gives the same faults to both, independently.
const ITEM_DRAW_SALT: u64 = 0xba7c_0000_0000_0000;

/// The version whose `$batch` `path` names, if it names one.
pub(crate) fn batch_version(path: &str) -> Option<ApiVersion> {
    let (version, rest) = path.strip_prefix('/')?.split_once('/')?;
    if rest != "$batch" && !rest.eq_ignore_ascii_case("%24batch") {
        return None;
    }
    version.parse().ok()
}

pub(crate) fn serve_batch(
    shared: &Shared,
    method: &Method,
    version: ApiVersion,
    bearer: &str,
    body: &Bytes,
    ids: &Ids,
) -> Reply {
    let bad = |message: &str| graph_error(StatusCode::BAD_REQUEST, "BadRequest", message, ids);
    if method != Method::POST {
        return graph_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest",
            &format!("The HTTP method '{method}' is not allowed for $batch; use POST."),
            ids,
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return bad(&format!("Invalid batch payload format: {e}")),
    };
    if batch.requests.is_empty() {
        return bad("The batch holds no requests.");
    }
    if batch.requests.len() > MAX_BATCH_REQUESTS {
        return bad(&format!(
            "The batch holds {} requests; the limit is {MAX_BATCH_REQUESTS}.",
            batch.requests.len()
        ));
    }
    let mut seen = HashMap::new();
    for item in &batch.requests {
        if seen.insert(item.id.to_ascii_lowercase(), ()).is_some() {
            return bad(&format!(
                "The request id '{}' appears more than once.",
                item.id
            ));
        }
    }
    for item in &batch.requests {
        if let Some(dep) = item
            .depends_on
            .iter()
            .find(|d| !seen.contains_key(&d.to_ascii_lowercase()))
        {
            return bad(&format!(
                "Request '{}' depends on an unknown request '{dep}'.",
                item.id
            ));
        }
    }

    let mut state = shared.lock();
    state.stats.batch_requests += 1;
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::with_capacity(batch.requests.len());
    for item in &batch.requests {
        state.stats.batched_items += 1;
        let n = state.stats.batched_items;
        let item_ids = Ids {
            request_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            client_request_id: header(&item.headers, "client-request-id")
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string()),
            now: ids.now,
        };
        let failed_dependency = item.depends_on.iter().any(|d| {
            statuses
                .get(&d.to_ascii_lowercase())
                .is_none_or(|s| !(200..300).contains(s))
        });
        let reply = if failed_dependency {
            graph_error(
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                "A request this one depends on failed.",
                &item_ids,
            )
        } else {
            let fault = state.faults.draw(ITEM_DRAW_SALT ^ n);
            let retry_after = state.faults.retry_after_header();
            match fault {
                Fault::Throttle | Fault::Unavailable => {
                    state.stats.faults_injected += 1;
                    let (status, code) = if fault == Fault::Throttle {
                        (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
                    };
                    let mut reply = graph_error(
                        status,
                        code,
                        "Too many requests (injected by the emulator into a batch item).",
                        &item_ids,
                    );
                    if let Ok(v) = http::HeaderValue::from_str(&retry_after) {
                        reply.headers_mut().insert(http::header::RETRY_AFTER, v);
                    }
                    reply
                }
                Fault::GatewayTimeout => {
                    // Applied, then the answer is lost: the caller cannot
                    // tell whether it happened.
                    let _ = serve_item(shared, &mut state, version, bearer, item, &item_ids);
                    state.stats.faults_injected += 1;
                    graph_error(
                        StatusCode::GATEWAY_TIMEOUT,
                        "GatewayTimeout",
                        "The gateway timed out (injected by the emulator, after the item was applied).",
                        &item_ids,
                    )
                }
                _ => serve_item(shared, &mut state, version, bearer, item, &item_ids),
            }
        };
        let answer = to_item_response(&item.id, reply);
        statuses.insert(item.id.to_ascii_lowercase(), answer.status);
        responses.push(answer);
    }
    drop(state);
    json_reply(StatusCode::OK, ids, &BatchResponse::new(responses))
}

fn header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Serves one item as the request it describes.
fn serve_item(
    shared: &Shared,
    state: &mut crate::state::State,
    version: ApiVersion,
    bearer: &str,
    item: &BatchItem,
    ids: &Ids,
) -> Reply {
    let bad = |message: &str| graph_error(StatusCode::BAD_REQUEST, "BadRequest", message, ids);
    let Ok(method) = Method::from_bytes(item.method.to_ascii_uppercase().as_bytes()) else {
        return bad(&format!("'{}' is not an HTTP method.", item.method));
    };
    let url = item.url.trim();
    if url.contains("://") {
        return bad("A batch request's url must be relative to the version root.");
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path = format!("/{version}/{}", path.trim_start_matches('/'));
    let body = match &item.body {
        None | Some(serde_json::Value::Null) => Bytes::new(),
        Some(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
    };
    let content_type = header(&item.headers, "content-type").unwrap_or("");
    if !body.is_empty() && content_type.is_empty() {
        return bad("A batch request with a body must carry a Content-Type header.");
    }
    serve(
        shared,
        state,
        &Inbound {
            method: &method,
            path: &path,
            query,
            bearer,
            content_type,
            body: &body,
        },
        ids,
    )
}

/// An item's answer as the batch carries it: headers as strings, the body
/// as JSON.
fn to_item_response(id: &str, reply: Reply) -> BatchItemResponse {
    let (parts, body) = reply.into_parts();
    let mut answer = BatchItemResponse::new(id, parts.status.as_u16());
    for (name, value) in &parts.headers {
        if name.as_str() == "x-ms-ags-diagnostic" {
            continue;
        }
        if let Ok(v) = value.to_str() {
            answer
                .headers
                .insert(name.as_str().to_owned(), v.to_owned());
        }
    }
    let bytes = body.into_bytes();
    if !bytes.is_empty() {
        answer.body = Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }));
    }
    answer
}
