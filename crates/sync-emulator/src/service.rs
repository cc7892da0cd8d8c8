//! The HTTP face of the emulator: Graph routes, the token endpoint, and the
//! control API under `/_emulator/`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use graph_model::{
    ApiVersion, GraphErrorResponse, InnerError, JobOwner, NationalCloud,
    SynchronizationJobApplicationParameters, format_timestamp,
};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use crate::state::{Access, ActionRecord, State, authorized};

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
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What every answer to one request shares: its ids, and the virtual time
/// it arrived (read once, so no reply helper needs the state lock).
struct Ids {
    request_id: String,
    client_request_id: String,
    now: OffsetDateTime,
}

type Reply = Response<Full<Bytes>>;

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
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
    let is_token = control_rest.is_none() && path.ends_with("/oauth2/v2.0/token");
    let now = {
        let mut state = shared.lock();
        match (&control_rest, is_token) {
            (Some(_), _) => {}
            (None, true) => state.stats.token_requests += 1,
            (None, false) => state.stats.graph_requests += 1,
        }
        state.clock.now()
    };
    let ids = Ids {
        request_id,
        client_request_id,
        now,
    };
    let reply = if let Some(rest) = &control_rest {
        control(&shared, request, rest, &ids).await
    } else if is_token {
        token_endpoint(&shared, request, &path, &ids).await
    } else {
        graph(&shared, request, &path, &ids).await
    };
    Ok(reply)
}

// ---------------------------------------------------------------- responses

fn base_response(status: StatusCode, ids: &Ids) -> http::response::Builder {
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

fn finish(builder: http::response::Builder, body: Bytes) -> Reply {
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn json_reply<T: Serialize>(status: StatusCode, ids: &Ids, body: &T) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    finish(
        base_response(status, ids).header(CONTENT_TYPE, GRAPH_JSON),
        Bytes::from(bytes),
    )
}

fn no_content(ids: &Ids, warning: Option<&str>) -> Reply {
    let mut b = base_response(StatusCode::NO_CONTENT, ids);
    if let Some(w) = warning.and_then(|w| HeaderValue::from_str(w).ok()) {
        b = b.header(WARNING_HEADER, w);
    }
    finish(b, Bytes::new())
}

fn graph_error(status: StatusCode, code: &str, message: &str, ids: &Ids) -> Reply {
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

/// A parsed Graph path: whose job, and which action.
#[derive(Debug)]
struct Route {
    version: ApiVersion,
    owner: JobOwner,
    job_id: String,
    action: Option<&'static str>,
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// Parses `/{version}/{owner}/synchronization/jobs/{jobId}[/{action}]`.
/// Segment names match case-insensitively, as Graph's do.
fn parse_route(path: &str) -> Result<Route, String> {
    let mut segments = path.trim_start_matches('/').split('/').map(decode);
    let version = match segments.next().as_deref() {
        Some("v1.0") => ApiVersion::V1,
        Some("beta") => ApiVersion::Beta,
        other => return Err(format!("Invalid version: {}", other.unwrap_or(""))),
    };
    let not_found = |s: &str| format!("Resource not found for the segment '{s}'.");
    let first = segments.next().unwrap_or_default();
    let owner = if first.eq_ignore_ascii_case("servicePrincipals") {
        let id = segments.next().ok_or_else(|| not_found(&first))?;
        JobOwner::ServicePrincipal(id)
    } else if first.eq_ignore_ascii_case("applications") {
        let id = segments.next().ok_or_else(|| not_found(&first))?;
        JobOwner::Application(id)
    } else if let Some(app_id) = parse_app_id_key(&first) {
        JobOwner::ServicePrincipalAppId(app_id)
    } else {
        return Err(not_found(&first));
    };
    if owner.id().is_empty() {
        return Err(not_found(&first));
    }
    for expected in ["synchronization", "jobs"] {
        match segments.next() {
            Some(s) if s.eq_ignore_ascii_case(expected) => {}
            Some(s) => return Err(not_found(&s)),
            None => {
                return Err(format!(
                    "The route {path} is not supported by this emulator."
                ));
            }
        }
    }
    let job_id = segments
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("The route {path} is not supported by this emulator."))?;
    let action = match segments.next() {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("start") => Some("start"),
        Some(s) => return Err(not_found(&s)),
    };
    if let Some(extra) = segments.next() {
        return Err(not_found(&extra));
    }
    Ok(Route {
        version,
        owner,
        job_id,
        action,
    })
}

/// `servicePrincipals(appId='…')`, with `''` as an escaped quote.
fn parse_app_id_key(segment: &str) -> Option<String> {
    let open = segment.find('(')?;
    let (name, rest) = segment.split_at(open);
    if !name.eq_ignore_ascii_case("servicePrincipals") {
        return None;
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let (key, value) = inner.split_once('=')?;
    if !key.trim().eq_ignore_ascii_case("appId") {
        return None;
    }
    let literal = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    // A lone quote inside the literal is malformed.
    if literal.replace("''", "").contains('\'') {
        return None;
    }
    Some(literal.replace("''", "'"))
}

fn needs_length(request: &Request<Incoming>) -> bool {
    matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    ) && !request.headers().contains_key(CONTENT_LENGTH)
        && !request.headers().contains_key(TRANSFER_ENCODING)
}

async fn graph(shared: &Shared, request: Request<Incoming>, path: &str, ids: &Ids) -> Reply {
    // The front end answers 411 before anything else looks at the request.
    if needs_length(&request) {
        return graph_error(
            StatusCode::LENGTH_REQUIRED,
            "LengthRequired",
            "A POST request must carry a Content-Length header (use Content-Length: 0 when there is no body).",
            ids,
        );
    }
    let route = match parse_route(path) {
        Ok(r) => r,
        Err(message) => {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, ids);
        }
    };
    let allowed = if route.action.is_some() {
        Method::POST
    } else {
        Method::GET
    };
    if *request.method() != allowed {
        let mut reply = graph_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest",
            &format!(
                "The HTTP method '{}' is not allowed for this resource; use {allowed}.",
                request.method()
            ),
            ids,
        );
        reply.headers_mut().insert(
            http::header::ALLOW,
            HeaderValue::from_static(if allowed == Method::POST {
                "POST"
            } else {
                "GET"
            }),
        );
        return reply;
    }
    let bearer = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
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

    let mut state = shared.lock();
    let now = ids.now;
    state.tick();
    // Authentication.
    let token = bearer
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    if token.is_empty() {
        drop(state);
        return unauthorized(shared, "Access token is empty.", ids);
    }
    let Some(info) = state.tokens.get(token) else {
        drop(state);
        return unauthorized(
            shared,
            "Access token validation failure. Invalid audience.",
            ids,
        );
    };
    if info.expires <= now {
        drop(state);
        return unauthorized(
            shared,
            "Lifetime validation failed, the token is expired.",
            ids,
        );
    }
    let access = if route.action.is_some() {
        Access::Write
    } else {
        Access::Read
    };

    let Some(sp_index) = state.find_owner(&route.owner) else {
        drop(state);
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
        drop(state);
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            ids,
        );
    }
    let client_id = info.client_id.clone();
    let sp_id = state.service_principals[sp_index].id.clone();
    let Some(job_index) = state.service_principals[sp_index]
        .jobs
        .iter()
        .position(|j| j.job.id.eq_ignore_ascii_case(&route.job_id))
    else {
        drop(state);
        return graph_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The synchronization job '{}' was not found.", route.job_id),
            ids,
        );
    };

    match route.action {
        None => {
            let job = &state.service_principals[sp_index].jobs[job_index].job;
            let mut value = serde_json::to_value(job).unwrap_or_else(|_| json!({}));
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "@odata.context".into(),
                    json!(format!(
                        "{}/{}/$metadata#servicePrincipals('{}')/synchronization/jobs/$entity",
                        shared.base_url, route.version, sp_id
                    )),
                );
            }
            drop(state);
            json_reply(StatusCode::OK, ids, &value)
        }
        Some(action) => {
            if let Err(message) = check_start_body(route.version, &body) {
                drop(state);
                return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, ids);
            }
            let timings = state.timings.clone();
            let effect = state.service_principals[sp_index].jobs[job_index].start(now, &timings);
            let job_id = state.service_principals[sp_index].jobs[job_index]
                .job
                .id
                .clone();
            let addressed_as = match route.owner {
                JobOwner::ServicePrincipal(_) => "servicePrincipals",
                JobOwner::ServicePrincipalAppId(_) => "servicePrincipals(appId)",
                _ => "applications",
            };
            let record = state.record(ActionRecord {
                sequence: 0,
                time: format_timestamp(&now),
                action: action.to_owned(),
                api_version: route.version.to_string(),
                service_principal_id: sp_id,
                addressed_as: addressed_as.to_owned(),
                job_id,
                client_id,
                status_before: effect.before.to_string(),
                status_after: effect.after.to_string(),
                warning: effect.warning.clone(),
                request_id: ids.request_id.clone(),
                client_request_id: ids.client_request_id.clone(),
            });
            if let Some(w) = &record.warning {
                tracing::warn!(target: "sync_emulator", job = %record.job_id, "{w}");
            }
            drop(state);
            no_content(ids, effect.warning.as_deref())
        }
    }
}

/// v1.0 start takes no body; beta accepts the draft's `parameters`.
fn check_start_body(version: ApiVersion, body: &[u8]) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    let Some(map) = value.as_object() else {
        return Err("The request body must be a JSON object.".into());
    };
    for (key, v) in map {
        if version == ApiVersion::Beta && key == "parameters" {
            serde_json::from_value::<Vec<SynchronizationJobApplicationParameters>>(v.clone())
                .map_err(|e| format!("The parameter 'parameters' is not valid: {e}"))?;
        } else {
            return Err(format!(
                "The parameter '{key}' in the request payload is not a valid parameter for the operation 'start'."
            ));
        }
    }
    Ok(())
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
    match field("client_secret") {
        None => {
            drop(state);
            return entra_error(
                shared,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ids,
            );
        }
        Some(secret) if secret != client.client_secret => {
            drop(state);
            return entra_error(
                shared,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
                ids,
            );
        }
        Some(_) => {}
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
                        })
                    })
                })
                .collect();
            drop(state);
            json_reply(StatusCode::OK, ids, &json!({ "value": jobs }))
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
                "The emulator has no control endpoint '{other}'. Try health, jobs, actions, stats, clock, clock/advance."
            ),
            ids,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_for_every_owner_form() {
        let r =
            parse_route("/v1.0/servicePrincipals/sp%2F1/synchronization/jobs/j.1/start").unwrap();
        assert_eq!(r.owner, JobOwner::ServicePrincipal("sp/1".into()));
        assert_eq!(r.job_id, "j.1");
        assert_eq!(r.action, Some("start"));
        let r = parse_route("/beta/servicePrincipals(appId='o%27%27b')/synchronization/jobs/j")
            .unwrap();
        assert_eq!(r.owner, JobOwner::ServicePrincipalAppId("o'b".into()));
        assert_eq!(r.version, ApiVersion::Beta);
        assert_eq!(r.action, None);
        let r = parse_route("/v1.0/APPLICATIONS/a/Synchronization/JOBS/j/Start").unwrap();
        assert_eq!(r.owner, JobOwner::Application("a".into()));
        assert_eq!(r.action, Some("start"));
    }

    #[test]
    fn bad_routes_name_the_segment() {
        assert_eq!(
            parse_route("/v1.0/users/x").unwrap_err(),
            "Resource not found for the segment 'users'."
        );
        assert_eq!(
            parse_route("/v1.0/servicePrincipals/x/synchronization/jobs/j/stop").unwrap_err(),
            "Resource not found for the segment 'stop'."
        );
        assert!(
            parse_route("/v2.0/servicePrincipals/x")
                .unwrap_err()
                .contains("Invalid version")
        );
        assert!(
            parse_route("/v1.0/servicePrincipals(appId='a'b')/synchronization/jobs/j").is_err()
        );
        assert!(parse_route("/v1.0/servicePrincipals//synchronization/jobs/j").is_err());
    }

    #[test]
    fn start_bodies() {
        assert!(check_start_body(ApiVersion::V1, b"").is_ok());
        assert!(check_start_body(ApiVersion::V1, b"{}").is_ok());
        assert!(check_start_body(ApiVersion::V1, br#"{"parameters":[]}"#).is_err());
        assert!(
            check_start_body(
                ApiVersion::Beta,
                br#"{"parameters":[{"ruleId":"r","subjects":[]}]}"#
            )
            .is_ok()
        );
        assert!(check_start_body(ApiVersion::Beta, b"{nope").is_err());
    }
}
