//! The loopback responder the benchmark measures against: a fixed answer per
//! route, as cheap as a server can be, on one thread of its own process so
//! the client's CPU can be told apart from the server's.
//!
//! - `POST …/token`: a token (counted);
//! - `POST …/start`: 204;
//! - `GET …/jobs/{id}`: a realistic job of about 1.5 KB;
//! - `POST /v1.0/$batch`: 204 for every item;
//! - `GET /_counts`: the requests seen, by kind; `POST /_reset` zeroes them.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// A job as Graph returns it, about 1.5 KB.
pub(crate) const JOB_JSON: &str = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('a1b2c3d4-0000-4000-8000-000000000001')/synchronization/jobs/$entity","id":"scim.e4bbf44533ea4eabb17027f3a92e92aa","templateId":"scim","schedule":{"expiration":null,"interval":"PT40M","state":"Active"},"status":{"code":"Active","countSuccessiveCompleteFailures":0,"escrowsPruned":false,"lastSuccessfulExecutionWithExports":{"activityIdentifier":"7b1c5b2e-0000-4000-8000-000000000001","countEntitled":25,"countEntitledForProvisioning":25,"countEscrowed":0,"countEscrowedRaw":0,"countExported":25,"countExports":25,"countImported":25,"countImportedDeltas":0,"countImportedReferenceDeltas":0,"error":null,"state":"Succeeded","timeBegan":"2026-11-20T08:00:00.0000000Z","timeEnded":"2026-11-20T08:01:12.0000000Z"},"lastExecution":{"activityIdentifier":"7b1c5b2e-0000-4000-8000-000000000002","countEntitled":25,"countEntitledForProvisioning":25,"countEscrowed":0,"countEscrowedRaw":0,"countExported":0,"countExports":0,"countImported":2,"countImportedDeltas":2,"countImportedReferenceDeltas":0,"error":null,"state":"Succeeded","timeBegan":"2026-11-20T08:40:00.0000000Z","timeEnded":"2026-11-20T08:40:09.0000000Z"},"lastSuccessfulExecution":null,"progress":[],"quarantine":null,"steadyStateFirstAchievedTime":"2026-11-19T10:00:00.0000000Z","steadyStateLastAchievedTime":"2026-11-20T08:40:09.0000000Z","synchronizedEntryCountByType":[{"key":"User to User","value":25},{"key":"Group to Group","value":3}],"troubleshootingUrl":""},"synchronizationJobSettings":[{"name":"SyncAll","value":"false"},{"name":"QuarantineTooManyDeletesThreshold","value":"500"}]}"#;

const TOKEN_JSON: &str = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwOi8vMTI3LjAuMC4xIiwicm9sZXMiOlsiU3luY2hyb25pemF0aW9uLlJlYWRXcml0ZS5BbGwiXX0."}"#;

static TOKENS: AtomicU64 = AtomicU64::new(0);
static GRAPH: AtomicU64 = AtomicU64::new(0);
static BATCHES: AtomicU64 = AtomicU64::new(0);

fn reply(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        "request-id",
        http::HeaderValue::from_static("5e1d1d0e-0000-4000-8000-000000000001"),
    );
    if let Some(ct) = content_type {
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(ct),
        );
    }
    r
}

async fn serve(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = Some("application/json");
    Ok(match (method, path.as_str()) {
        (Method::POST, p) if p.ends_with("/oauth2/v2.0/token") => {
            TOKENS.fetch_add(1, Ordering::Relaxed);
            reply(
                StatusCode::OK,
                json,
                Bytes::from_static(TOKEN_JSON.as_bytes()),
            )
        }
        (Method::POST, p) if p.ends_with("/start") => {
            GRAPH.fetch_add(1, Ordering::Relaxed);
            reply(StatusCode::NO_CONTENT, None, Bytes::new())
        }
        (Method::GET, p) if p.contains("/synchronization/jobs/") => {
            GRAPH.fetch_add(1, Ordering::Relaxed);
            reply(
                StatusCode::OK,
                json,
                Bytes::from_static(JOB_JSON.as_bytes()),
            )
        }
        (Method::POST, p) if p.ends_with("/$batch") => {
            GRAPH.fetch_add(1, Ordering::Relaxed);
            BATCHES.fetch_add(1, Ordering::Relaxed);
            let ids: Vec<String> = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("requests").and_then(|r| r.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect();
            let responses: Vec<serde_json::Value> = ids
                .iter()
                .map(|id| serde_json::json!({"id": id, "status": 204, "headers": {}}))
                .collect();
            let text = serde_json::json!({ "responses": responses }).to_string();
            reply(StatusCode::OK, json, Bytes::from(text))
        }
        (Method::GET, "/_counts") => {
            let text = serde_json::json!({
                "token": TOKENS.load(Ordering::Relaxed),
                "graph": GRAPH.load(Ordering::Relaxed),
                "batch": BATCHES.load(Ordering::Relaxed),
            })
            .to_string();
            reply(StatusCode::OK, json, Bytes::from(text))
        }
        (Method::POST, "/_reset") => {
            TOKENS.store(0, Ordering::Relaxed);
            GRAPH.store(0, Ordering::Relaxed);
            BATCHES.store(0, Ordering::Relaxed);
            reply(StatusCode::NO_CONTENT, None, Bytes::new())
        }
        _ => reply(StatusCode::NOT_FOUND, None, Bytes::new()),
    })
}

/// Serves on 127.0.0.1 (a free port, printed on stdout as the first line)
/// until stdin closes, on the current thread only.
pub(crate) fn run() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?.port());
        // The parent closes our stdin to stop us.
        let stop = tokio::spawn(async {
            let mut buf = [0u8; 1];
            let mut stdin = tokio::io::stdin();
            let _ = tokio::io::AsyncReadExt::read(&mut stdin, &mut buf).await;
        });
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service_fn(serve))
                        .await;
                });
            }
        };
        tokio::select! {
            _ = stop => {}
            _ = accept => {}
        }
        Ok(())
    })
}
