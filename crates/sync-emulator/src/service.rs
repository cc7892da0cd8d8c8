//! The HTTP face of the emulator: Graph routes, the token endpoint, and the
//! control API under `/_emulator/`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use graph_model::{GraphErrorResponse, InnerError, NationalCloud, format_timestamp};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use crate::fault::{Fault, FaultOptions};
use crate::route::decode;
use crate::state::{Access, State, authorized};
use crate::{api, batch, route};

/// Bodies larger than this are refused with 413.
const MAX_BODY: usize = 1 << 20;

/// Graph's content type for JSON answers.
const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Graph's diagnostic header, with this emulator as the "data center".
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"Local Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"sync-emulator"}}"#;

/// The header on an accepted call the service warns against.
pub const WARNING_HEADER: &str = "x-emulator-warning";

/// Date format of `innerError.date`: no zone, as Graph writes it.
const INNER_DATE: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
/// Timestamp format of Entra error bodies.
const ENTRA_TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) base_url: String,
    /// The `X-IDENTITY-HEADER` value App Service's endpoint expects.
    pub(crate) identity_header: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What every answer to one request shares: its ids, and the virtual time
/// it arrived (read once, so no reply helper needs the state lock).
pub(crate) struct Ids {
    pub(crate) request_id: String,
    pub(crate) client_request_id: String,
    pub(crate) now: OffsetDateTime,
}

pub(crate) type Reply = Response<ReplyBody>;

/// The body of every emulator answer: bytes in memory, which a fault can
/// cut off after promising more.
#[derive(Debug, Default)]
pub(crate) struct ReplyBody {
    data: Option<Bytes>,
    /// Set when the body promises this many bytes and then fails.
    promised: Option<u64>,
    /// The pause before failing, so what was sent is flushed first.
    stall: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl ReplyBody {
    pub(crate) fn new(data: Bytes) -> Self {
        ReplyBody {
            data: (!data.is_empty()).then_some(data),
            promised: None,
            stall: None,
        }
    }

    fn bytes(&self) -> Bytes {
        self.data.clone().unwrap_or_default()
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl hyper::body::Body for ReplyBody {
    type Data = Bytes;
    type Error = DroppedConnection;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, DroppedConnection>>> {
        use std::future::Future as _;
        use std::task::Poll;
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(hyper::body::Frame::data(data))));
        }
        if self.promised.is_none() {
            return Poll::Ready(None);
        }
        // Let what was sent reach the client, then break off: the rest of
        // what was promised never comes.
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
        if stall.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.promised = None;
        Poll::Ready(Some(Err(DroppedConnection)))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.promised.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        let len = self
            .promised
            .unwrap_or_else(|| self.data.as_ref().map_or(0, |d| d.len() as u64));
        hyper::body::SizeHint::with_exact(len)
    }
}

/// A connection the emulator drops on purpose (a fault).
#[derive(Debug)]
pub(crate) struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Reply, DroppedConnection> {
    let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    let path = request.uri().path().to_owned();
    let control_rest = path.strip_prefix("/_emulator/").map(str::to_owned);
    let managed_identity = match path.as_str() {
        IMDS_PATH => Some(MiKind::Imds),
        APP_SERVICE_PATH => Some(MiKind::AppService),
        _ => None,
    };
    let is_token = control_rest.is_none()
        && (path.ends_with("/oauth2/v2.0/token") || managed_identity.is_some());
    let (now, fault, retry_after, latency) = {
        let mut state = shared.lock();
        let mut fault = Fault::None;
        match (&control_rest, is_token) {
            (Some(_), _) => {}
            (None, true) => state.stats.token_requests += 1,
            (None, false) => {
                state.stats.graph_requests += 1;
                fault = state.faults.draw(state.stats.graph_requests);
            }
        }
        let graph_faults = control_rest.is_none() && !is_token;
        (
            state.clock.now(),
            fault,
            state.faults.retry_after_header(),
            if graph_faults {
                state.faults.latency()
            } else {
                Duration::ZERO
            },
        )
    };
    let ids = Ids {
        request_id,
        client_request_id,
        now,
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if fault.before() {
        shared.lock().stats.faults_injected += 1;
        return before_fault(fault, &retry_after, &ids);
    }
    let reply = if let Some(rest) = &control_rest {
        control(&shared, request, rest, &ids).await
    } else if let Some(kind) = managed_identity {
        managed_identity_endpoint(&shared, &request, kind, &ids)
    } else if is_token {
        token_endpoint(&shared, request, &path, &ids).await
    } else {
        graph(&shared, request, &path, &ids).await
    };
    if fault == Fault::None {
        return Ok(reply);
    }
    shared.lock().stats.faults_injected += 1;
    after_fault(fault, reply, &ids)
}

/// A fault that strikes before the request is served: nothing is applied.
fn before_fault(fault: Fault, retry_after: &str, ids: &Ids) -> Result<Reply, DroppedConnection> {
    let (status, code, message) = match fault {
        Fault::Throttle => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests (injected by the emulator).",
        ),
        Fault::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is unavailable (injected by the emulator).",
        ),
        _ => return Err(DroppedConnection),
    };
    let mut reply = graph_error(status, code, message, ids);
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        reply.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    if fault == Fault::Throttle {
        // As identity-and-access throttling answers say why.
        reply.headers_mut().insert(
            "x-ms-throttle-information",
            HeaderValue::from_static("ResourceUnitLimitExceeded"),
        );
        reply.headers_mut().insert(
            "x-ms-throttle-limit-percentage",
            HeaderValue::from_static("1.2"),
        );
    }
    Ok(reply)
}

/// A fault that strikes after the request was served (and its action
/// applied and recorded): the client does not learn the outcome.
fn after_fault(fault: Fault, reply: Reply, ids: &Ids) -> Result<Reply, DroppedConnection> {
    match fault {
        Fault::GatewayTimeout => Ok(graph_error(
            StatusCode::GATEWAY_TIMEOUT,
            "GatewayTimeout",
            "The gateway timed out (injected by the emulator, after the request was applied).",
            ids,
        )),
        Fault::DropAfter => Err(DroppedConnection),
        Fault::Malformed => {
            let (parts, body) = reply.into_parts();
            let full = body.bytes();
            if !parts.status.is_success() || full.is_empty() {
                return Ok(Response::from_parts(parts, body));
            }
            // Cut the JSON in half: valid UTF-8, invalid JSON.
            let text = String::from_utf8_lossy(&full[..full.len() / 2]).into_owned();
            Ok(Response::from_parts(
                parts,
                ReplyBody::new(Bytes::from(text)),
            ))
        }
        _ => {
            // Truncated: promise more than is sent; the connection then ends.
            let (mut parts, body) = reply.into_parts();
            if parts.status == StatusCode::NO_CONTENT {
                parts.status = StatusCode::OK;
            }
            let data = body.bytes();
            let promised = data.len() as u64 + 64;
            Ok(Response::from_parts(
                parts,
                ReplyBody {
                    data: Some(data),
                    promised: Some(promised),
                    stall: None,
                },
            ))
        }
    }
}

// ---------------------------------------------------------------- responses

pub(crate) fn base_response(status: StatusCode, ids: &Ids) -> http::response::Builder {
    let mut b = Response::builder().status(status);
    for (name, value) in [
        ("request-id", ids.request_id.as_str()),
        ("client-request-id", ids.client_request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            b = b.header(name, v);
        }
    }
    b.header("x-ms-ags-diagnostic", AGS_DIAGNOSTIC)
}

pub(crate) fn finish(builder: http::response::Builder, body: Bytes) -> Reply {
    builder.body(ReplyBody::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(ReplyBody::default());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

pub(crate) fn json_reply<T: Serialize>(status: StatusCode, ids: &Ids, body: &T) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    finish(
        base_response(status, ids).header(CONTENT_TYPE, GRAPH_JSON),
        Bytes::from(bytes),
    )
}

pub(crate) fn no_content(ids: &Ids, warning: Option<&str>) -> Reply {
    let mut b = base_response(StatusCode::NO_CONTENT, ids);
    if let Some(w) = warning.and_then(|w| HeaderValue::from_str(w).ok()) {
        b = b.header(WARNING_HEADER, w);
    }
    finish(b, Bytes::new())
}

pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str, ids: &Ids) -> Reply {
    let mut inner = InnerError::default();
    inner.date = ids.now.format(INNER_DATE).ok();
    inner.request_id = Some(ids.request_id.clone());
    inner.client_request_id = Some(ids.client_request_id.clone());
    let mut envelope = GraphErrorResponse::new(code, message);
    envelope.error.inner_error = Some(inner);
    json_reply(status, ids, &envelope)
}

fn unauthorized(shared: &Shared, message: &str, ids: &Ids) -> Reply {
    let mut reply = graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
        ids,
    );
    let authority = format!("{}/common/oauth2/authorize", shared.base_url);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "Bearer realm=\"\", authorization_uri=\"{authority}\", client_id=\"00000003-0000-0000-c000-000000000000\""
    )) {
        reply
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, v);
    }
    reply
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, ()> {
    match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(()),
    }
}

// ---------------------------------------------------------------- graph

fn needs_length(request: &Request<Incoming>) -> bool {
    matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    ) && !request.headers().contains_key(CONTENT_LENGTH)
        && !request.headers().contains_key(TRANSFER_ENCODING)
}

async fn graph(shared: &Shared, request: Request<Incoming>, path: &str, ids: &Ids) -> Reply {
    let query = request.uri().query().unwrap_or("").to_owned();
    let query = query.as_str();
    // The front end answers 411 before anything else looks at the request.
    if needs_length(&request) {
        return graph_error(
            StatusCode::LENGTH_REQUIRED,
            "LengthRequired",
            "A POST request must carry a Content-Length header (use Content-Length: 0 when there is no body).",
            ids,
        );
    }
    let method = request.method().clone();
    let bearer = header_text(&request, http::header::AUTHORIZATION.as_str());
    let content_type = header_text(&request, CONTENT_TYPE.as_str());
    let body = match read_body(request).await {
        Ok(b) => b,
        Err(()) => {
            return graph_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "The request body is too large.",
                ids,
            );
        }
    };
    if let Some(version) = batch::batch_version(path) {
        return batch::serve_batch(shared, &method, version, &bearer, &body, ids);
    }
    let mut state = shared.lock();
    serve(
        shared,
        &mut state,
        &Inbound {
            method: &method,
            path,
            query,
            bearer: &bearer,
            content_type: &content_type,
            body: &body,
        },
        ids,
    )
}

fn header_text(request: &Request<Incoming>, name: &str) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("")
        .to_owned()
}

/// One Graph request, read off the wire or out of a batch.
pub(crate) struct Inbound<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) bearer: &'a str,
    pub(crate) content_type: &'a str,
    pub(crate) body: &'a Bytes,
}

/// Serves one Graph request under the state lock: routing, authentication,
/// permissions, the action.
pub(crate) fn serve(shared: &Shared, state: &mut State, inbound: &Inbound<'_>, ids: &Ids) -> Reply {
    let Inbound {
        method,
        path,
        query,
        bearer,
        content_type,
        body,
    } = *inbound;
    let route = match route::parse(path) {
        Ok(r) => r,
        Err(message) => {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, ids);
        }
    };
    let operation = match route.operation(method) {
        Ok(op) => op,
        Err(allowed) => {
            let mut reply = graph_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BadRequest",
                &format!(
                    "The HTTP method '{}' is not allowed for this resource; use {allowed}.",
                    method
                ),
                ids,
            );
            if let Ok(v) = HeaderValue::from_str(&allowed) {
                reply.headers_mut().insert(http::header::ALLOW, v);
            }
            return reply;
        }
    };
    let now = ids.now;
    state.tick();
    // Authentication.
    let token = bearer
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    if token.is_empty() {
        return unauthorized(shared, "Access token is empty.", ids);
    }
    let Some(info) = state.tokens.get(token) else {
        return unauthorized(
            shared,
            "Access token validation failure. Invalid audience.",
            ids,
        );
    };
    if info.expires <= now {
        return unauthorized(
            shared,
            "Lifetime validation failed, the token is expired.",
            ids,
        );
    }
    let access = if operation.method == Method::GET {
        Access::Read
    } else {
        Access::Write
    };

    let Some(sp_index) = state.find_owner(&route.owner) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{}' does not exist or one of its queried reference-property objects are not present.",
                route.owner.id()
            ),
            ids,
        );
    };
    if !authorized(
        info,
        access,
        &state.service_principals[sp_index].application_id,
    ) {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            ids,
        );
    }
    let client_id = info.client_id.clone();
    let call = api::Call {
        ids,
        base_url: &shared.base_url,
        route: &route,
        operation,
        client_id,
        sp_index,
        query,
        content_type,
        body,
    };
    let (reply, warning) = api::dispatch(state, &call);
    if let Some(w) = warning {
        tracing::warn!(target: "sync_emulator", path, "{w}");
    }
    reply
}

// ---------------------------------------------------------------- token endpoint

fn entra_error(
    shared: &Shared,
    status: StatusCode,
    error: &str,
    code: u32,
    text: &str,
    ids: &Ids,
) -> Reply {
    let timestamp = ids.now.format(ENTRA_TIMESTAMP).unwrap_or_default();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {text} Trace ID: {} Correlation ID: {} Timestamp: {timestamp}",
            ids.request_id, ids.client_request_id
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": ids.request_id,
        "correlation_id": ids.client_request_id,
        "error_uri": format!("{}/error?code={code}", shared.base_url),
    });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    finish(
        Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header("x-ms-request-id", ids.request_id.as_str()),
        Bytes::from(bytes),
    )
}

/// The Graph roots a client-credentials scope may name: the emulator's own,
/// and those of the national clouds (so code written for a cloud works
/// against the emulator unchanged).
fn scope_resource_ok(shared: &Shared, resource: &str) -> bool {
    let resource = resource.trim_end_matches('/');
    // Graph's own app id is also a valid resource name.
    const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
    resource.eq_ignore_ascii_case(&shared.base_url)
        || resource.eq_ignore_ascii_case(GRAPH_APP_ID)
        || [
            NationalCloud::Global,
            NationalCloud::UsGovL4,
            NationalCloud::UsGovL5Dod,
            NationalCloud::China,
        ]
        .iter()
        .any(|c| resource.eq_ignore_ascii_case(c.graph_root()))
}

async fn token_endpoint(
    shared: &Shared,
    request: Request<Incoming>,
    path: &str,
    ids: &Ids,
) -> Reply {
    let tenant = decode(
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default(),
    );
    if *request.method() != Method::POST {
        return entra_error(
            shared,
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
            ids,
        );
    }
    let form_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let Ok(body) = read_body(request).await else {
        return entra_error(
            shared,
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            90014,
            "The request body is too large.",
            ids,
        );
    };
    if !form_type {
        return entra_error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
            ids,
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let tenant_ok = shared.lock().tenant_id.eq_ignore_ascii_case(&tenant);
    if !tenant_ok {
        return entra_error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
            ids,
        );
    }
    for required in ["grant_type", "client_id", "scope"] {
        if field(required).is_none() {
            return entra_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{required}'."),
                ids,
            );
        }
    }
    let grant = field("grant_type").unwrap_or_default();
    if grant != "client_credentials" {
        return entra_error(
            shared,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{grant}'; this emulator supports client_credentials."
            ),
            ids,
        );
    }
    let client_id = field("client_id").unwrap_or_default();
    let scope = field("scope").unwrap_or_default();
    let resource = match scope.strip_suffix("/.default") {
        Some(r) if !scope.contains(' ') => r,
        _ => {
            return entra_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
                ids,
            );
        }
    };
    if !scope_resource_ok(shared, resource) {
        return entra_error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}."
            ),
            ids,
        );
    }
    let mut state = shared.lock();
    let Some(client) = state.client(client_id).cloned() else {
        drop(state);
        return entra_error(
            shared,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
            ids,
        );
    };
    let assertion = field("client_assertion");
    let assertion_type = field("client_assertion_type");
    let refusal = match (field("client_secret"), assertion) {
        // A client registered without a secret accepts none, not an empty one.
        (Some(secret), _) if client.client_secret.is_empty() || secret != client.client_secret => Some((
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )),
        (Some(_), _) => None,
        (None, Some(jwt)) => {
            if assertion_type != Some(JWT_BEARER) {
                Some((
                    700026,
                    format!("client_assertion_type must be {JWT_BEARER}."),
                ))
            } else {
                let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base_url);
                check_assertion(jwt, &client, &token_url, ids.now).err()
            }
        }
        (None, None) => Some((
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        )),
    };
    if let Some((code, text)) = refusal {
        drop(state);
        return entra_error(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            &text,
            ids,
        );
    }
    let (token, lifetime) = state.issue_token(&client);
    drop(state);
    let secs = lifetime.as_secs();
    let body = json!({
        "token_type": "Bearer",
        "expires_in": secs,
        "ext_expires_in": secs,
        "access_token": token,
    });
    finish(
        Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header("x-ms-request-id", ids.request_id.as_str())
            .header(http::header::CACHE_CONTROL, "no-store, no-cache"),
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    )
}

/// The client assertion type of a JWT.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The audience of tokens exchanged for Entra tokens (workload identity).
const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Checks a client assertion: one that names a certificate thumbprint
/// (`x5t#S256`) must be signed by a certificate registered for the client
/// and carry `aud` = the token endpoint, `iss` = `sub` = the client id;
/// any other is a federated (workload identity) assertion, whose `sub` must
/// be a federated subject of the client and `aud` the token-exchange
/// audience. The issuer of a federated assertion keeps its signing keys
/// outside the emulator (a Kubernetes cluster), so only its claims are
/// checked. Both must be within their time range.
fn check_assertion(
    jwt: &str,
    client: &crate::seed::ClientSeed,
    token_url: &str,
    now: OffsetDateTime,
) -> Result<(), (u32, String)> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let malformed = || (50027, "The client assertion is not a valid JWT.".to_owned());
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(malformed());
    };
    let decode = |part: &str| -> Result<serde_json::Value, (u32, String)> {
        b64.decode(part.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(malformed)
    };
    let header = decode(header)?;
    let claims = decode(payload)?;
    let nbf_skew = match header["x5t#S256"].as_str() {
        Some(thumbprint) => {
            let message = format!("{}.{}", parts[0], parts[1]);
            check_certificate_signature(&header, thumbprint, &message, signature, client)?;
            if claims["aud"].as_str() != Some(token_url) {
                return Err((
                    700212,
                    format!(
                        "The client assertion audience must be the token endpoint {token_url}."
                    ),
                ));
            }
            if claims["iss"].as_str() != Some(client.client_id.as_str())
                || claims["sub"].as_str() != Some(client.client_id.as_str())
            {
                return Err((
                    700023,
                    "The client assertion's iss and sub must be the client id.".to_owned(),
                ));
            }
            // A signing client's clock may run a little ahead.
            300
        }
        None => {
            let audience_ok = match &claims["aud"] {
                serde_json::Value::String(a) => a == TOKEN_EXCHANGE_AUDIENCE,
                serde_json::Value::Array(list) => list.iter().any(|a| a == TOKEN_EXCHANGE_AUDIENCE),
                _ => false,
            };
            let subject = claims["sub"].as_str().unwrap_or("");
            if !audience_ok || !client.federated_subjects.iter().any(|s| s == subject) {
                return Err((
                    70021,
                    format!(
                        "No matching federated identity record found for presented assertion subject '{subject}'."
                    ),
                ));
            }
            0
        }
    };
    let now = now.unix_timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(i64::MIN);
    if now >= exp || now + nbf_skew < nbf {
        return Err((
            700024,
            "Client assertion is not within its valid time range.".to_owned(),
        ));
    }
    Ok(())
}

/// Checks an RS256 signature over `message` with the registered
/// certificate whose SHA-256 thumbprint is `thumbprint`.
fn check_certificate_signature(
    header: &serde_json::Value,
    thumbprint: &str,
    message: &str,
    signature: &str,
    client: &crate::seed::ClientSeed,
) -> Result<(), (u32, String)> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let refused = |text: String| (700027, text);
    if header["alg"] != "RS256" {
        return Err(refused(
            "The client assertion must be signed with RS256.".to_owned(),
        ));
    }
    let signature = b64
        .decode(signature)
        .map_err(|_| refused("The client assertion's signature is not base64url.".to_owned()))?;
    let registered = client.certificates.iter().find_map(|pem| {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
        let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
        (b64.encode(digest.as_ref()) == thumbprint).then_some(der)
    });
    let Some(der) = registered else {
        return Err(refused(format!(
            "Client assertion failed signature validation: the certificate with thumbprint '{thumbprint}' is not registered for this application."
        )));
    };
    webpki::EndEntityCert::try_from(&der)
        .ok()
        .and_then(|cert| {
            cert.verify_signature(
                webpki::ring::RSA_PKCS1_2048_8192_SHA256,
                message.as_bytes(),
                &signature,
            )
            .ok()
        })
        .ok_or_else(|| refused("Client assertion failed signature validation.".to_owned()))
}

// ---------------------------------------------------------------- managed identity

/// Where the emulator serves IMDS's token endpoint.
pub(crate) const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// Where the emulator serves App Service's identity endpoint.
pub(crate) const APP_SERVICE_PATH: &str = "/msi/token";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MiKind {
    Imds,
    AppService,
}

/// The answer shape both managed identity endpoints use for errors.
fn mi_error(status: StatusCode, error: &str, description: &str, ids: &Ids) -> Reply {
    let body = json!({ "error": error, "error_description": description });
    finish(
        base_response(status, ids).header(CONTENT_TYPE, "application/json; charset=utf-8"),
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    )
}

/// IMDS (`GET /metadata/identity/oauth2/token`, header `Metadata: true`) and
/// App Service (`GET /msi/token`, header `X-IDENTITY-HEADER`): a token for
/// the identity the query names, or the system-assigned one.
fn managed_identity_endpoint(
    shared: &Shared,
    request: &Request<Incoming>,
    kind: MiKind,
    ids: &Ids,
) -> Reply {
    if request.method() != Method::GET {
        return mi_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Use GET.",
            ids,
        );
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    match kind {
        MiKind::Imds if !header("metadata").eq_ignore_ascii_case("true") => {
            return mi_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Required metadata header not specified",
                ids,
            );
        }
        MiKind::AppService if header("x-identity-header") != shared.identity_header => {
            return mi_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "The X-IDENTITY-HEADER is missing or wrong.",
                ids,
            );
        }
        _ => {}
    }
    let query: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let expected_version = match kind {
        MiKind::Imds => "2018-02-01",
        MiKind::AppService => "2019-08-01",
    };
    if param("api-version") != Some(expected_version) {
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("api-version {expected_version} is required."),
            ids,
        );
    }
    let Some(resource) = param("resource").filter(|r| scope_resource_ok(shared, r)) else {
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            "The resource is missing or is not a Microsoft Graph root.",
            ids,
        );
    };
    let (by_object, by_resource) = match kind {
        MiKind::Imds => ("object_id", "msi_res_id"),
        MiKind::AppService => ("principal_id", "mi_res_id"),
    };
    let mut state = shared.lock();
    let found = state.managed_identities.iter().find(|m| {
        match (param("client_id"), param(by_object), param(by_resource)) {
            (Some(id), _, _) => m.client_id.eq_ignore_ascii_case(id),
            (_, Some(id), _) => m.object_id.eq_ignore_ascii_case(id),
            (_, _, Some(id)) => m
                .resource_id
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(id)),
            _ => m.system_assigned,
        }
    });
    let Some(identity) = found.cloned() else {
        drop(state);
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
            ids,
        );
    };
    let client = crate::seed::ClientSeed {
        client_id: identity.client_id.clone(),
        client_secret: String::new(),
        roles: identity.roles.clone(),
        owned_applications: identity.owned_applications.clone(),
        federated_subjects: Vec::new(),
        certificates: Vec::new(),
    };
    let (token, lifetime) = state.issue_token(&client);
    drop(state);
    let expires_on = (ids.now.unix_timestamp() + lifetime.as_secs() as i64).to_string();
    let body = match kind {
        MiKind::Imds => json!({
            "access_token": token,
            "client_id": identity.client_id,
            "expires_in": lifetime.as_secs().to_string(),
            "expires_on": expires_on,
            "ext_expires_in": lifetime.as_secs().to_string(),
            "not_before": ids.now.unix_timestamp().to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
        MiKind::AppService => json!({
            "access_token": token,
            "expires_on": expires_on,
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity.client_id,
        }),
    };
    json_reply(StatusCode::OK, ids, &body)
}

// ---------------------------------------------------------------- control API

async fn control(shared: &Shared, request: Request<Incoming>, rest: &str, ids: &Ids) -> Reply {
    let method = request.method().clone();
    let body = read_body(request).await.unwrap_or_default();
    match (method, rest.trim_end_matches('/')) {
        (Method::GET, "health") => json_reply(StatusCode::OK, ids, &json!({"status": "ok"})),
        (Method::GET, "stats") => {
            let stats = shared.lock().stats;
            json_reply(StatusCode::OK, ids, &stats)
        }
        (Method::GET, "actions") => {
            let actions = shared.lock().actions.clone();
            json_reply(StatusCode::OK, ids, &json!({ "value": actions }))
        }
        (Method::GET, "jobs") => {
            let mut state = shared.lock();
            state.tick();
            let jobs: Vec<_> = state
                .service_principals
                .iter()
                .flat_map(|sp| {
                    sp.jobs.iter().map(move |j| {
                        json!({
                            "service_principal_id": sp.id,
                            "application_id": sp.application_id,
                            "app_id": sp.app_id,
                            "display_name": sp.display_name,
                            "job": j.job,
                            "internals": j.internals(),
                        })
                    })
                })
                .collect();
            drop(state);
            json_reply(StatusCode::OK, ids, &json!({ "value": jobs }))
        }
        (Method::GET, "faults") => {
            let faults = shared.lock().faults.clone();
            json_reply(StatusCode::OK, ids, &faults)
        }
        (Method::POST | Method::PUT, "faults") => {
            let faults = match serde_json::from_slice::<FaultOptions>(&body) {
                Ok(f) => f,
                Err(e) => {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        &format!("Send the fault options as JSON: {e}"),
                        ids,
                    );
                }
            };
            if let Err(e) = faults.validate() {
                return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string(), ids);
            }
            shared.lock().faults = faults.clone();
            json_reply(StatusCode::OK, ids, &faults)
        }
        (Method::GET, "clock") => {
            let now = shared.lock().clock.now();
            json_reply(
                StatusCode::OK,
                ids,
                &json!({ "now": format_timestamp(&now) }),
            )
        }
        (Method::POST, "clock/advance") => {
            let seconds = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("seconds").and_then(serde_json::Value::as_f64))
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            let Some(by) = seconds else {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Send {\"seconds\": N} with N >= 0.",
                    ids,
                );
            };
            let mut state = shared.lock();
            if let Err(e) = state.clock.advance(by) {
                drop(state);
                return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string(), ids);
            }
            state.tick();
            let now = state.clock.now();
            drop(state);
            json_reply(
                StatusCode::OK,
                ids,
                &json!({ "now": format_timestamp(&now) }),
            )
        }
        (_, other) => graph_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "The emulator has no control endpoint '{other}'. Try health, jobs, actions, stats, faults, clock, clock/advance."
            ),
            ids,
        ),
    }
}
