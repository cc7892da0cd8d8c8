//! An internal HTTP service that exposes "start this job" to other teams'
//! tools, so they need no Graph permission of their own.
//!
//! - One `SyncJobsClient` is shared by every request (it is cheap to clone:
//!   one connection pool, one token cache).
//! - `POST /jobs/{servicePrincipalId}/{jobId}/start` answers JSON:
//!   `{"result":"started"}`, `{"result":"skipped: already active"}`, or an
//!   error with the Graph request-id to quote.
//! - Ctrl-C (or the shutdown signal a test sends) stops accepting, lets the
//!   requests in flight finish, and exits.
//!
//! ```sh
//! cargo run -p graphsync-examples --example embedded_service   # then:
//! curl -X POST http://127.0.0.1:8080/jobs/<sp>/<job>/start
//! ```

// Items are `pub` so the tests can call them; an example has no API.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::missing_errors_doc
)]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use graph_model::{JobRef, NationalCloud};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sync_jobs::{SafeStart, SyncJobsClient};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[path = "start_job.rs"]
#[allow(dead_code)]
mod start_job;

fn json(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// Answers one request with the shared client.
pub async fn handle(jobs: SyncJobsClient, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
    let (Method::POST, ["jobs", sp, job, "start"]) = (request.method().clone(), path.as_slice())
    else {
        return json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "POST /jobs/{sp}/{job}/start"}),
        );
    };
    let job = match JobRef::service_principal(*sp, *job) {
        Ok(j) => j,
        Err(e) => {
            return json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": e.to_string()}),
            );
        }
    };
    match jobs.start_if_needed(&job, false).await {
        Ok(SafeStart::Started { outcome, .. }) => json(
            StatusCode::OK,
            serde_json::json!({"result": "started", "requestId": outcome.request_id}),
        ),
        Ok(other) => json(
            StatusCode::OK,
            serde_json::json!({"result": other.summary()}),
        ),
        Err(e) => {
            // The caller's mistake (404, 403) or Graph's trouble (502).
            let status = match e.service_error().map(|s| s.status.as_u16()) {
                Some(403) => StatusCode::FORBIDDEN,
                Some(404) => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_GATEWAY,
            };
            json(
                status,
                serde_json::json!({"error": e.to_string(), "requestId": e.request_id()}),
            )
        }
    }
}

/// Serves on `listener` until `shutdown` turns true, then waits for the
/// connections in flight.
pub async fn serve(
    listener: TcpListener,
    jobs: SyncJobsClient,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                let jobs = jobs.clone();
                let mut stop = shutdown.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let jobs = jobs.clone();
                        async move { Ok::<_, Infallible>(handle(jobs, req).await) }
                    });
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    let mut conn = std::pin::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            // Finish the request in flight, then close.
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cloud: NationalCloud = match std::env::var("GRAPH_CLOUD") {
        Ok(name) => name.parse()?,
        Err(_) => NationalCloud::Global,
    };
    let jobs = start_job::client(cloud, |k| std::env::var(k).ok())?;
    let addr: SocketAddr = "127.0.0.1:8080".parse()?;
    let listener = TcpListener::bind(addr).await?;
    eprintln!("listening on http://{addr}; Ctrl-C stops");
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    serve(listener, jobs, shutdown).await?;
    Ok(())
}
