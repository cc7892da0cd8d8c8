//! Both back-ends against raw loopback sockets: what they put on the wire,
//! and how they report failures.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]
#![cfg(all(feature = "reqwest", feature = "hyper"))]

use std::sync::Arc;
use std::time::Duration;

use graph_transport::{
    HttpRequest, HyperTransport, RequestSent, ReqwestTransport, Transport, TransportErrorKind,
    TransportOptions,
};
use http::{HeaderValue, Method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn backends(options: &TransportOptions) -> Vec<(&'static str, Arc<dyn Transport>)> {
    vec![
        (
            "reqwest",
            Arc::new(ReqwestTransport::with_options(options).unwrap()),
        ),
        (
            "hyper",
            Arc::new(HyperTransport::with_options(options).unwrap()),
        ),
    ]
}

/// Accepts one connection, captures the request head, answers `response`.
async fn one_shot(response: &'static str) -> (url::Url, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        sock.write_all(response.as_bytes()).await.unwrap();
        sock.shutdown().await.ok();
        String::from_utf8_lossy(&buf).into_owned()
    });
    let url = url::Url::parse(&format!("http://{addr}/v1.0/x/start")).unwrap();
    (url, handle)
}

#[tokio::test]
async fn bodiless_post_carries_content_length_zero_on_both_backends() {
    for (name, transport) in backends(&TransportOptions::default()) {
        let (url, server) =
            one_shot("HTTP/1.1 204 No Content\r\nrequest-id: abc\r\nconnection: close\r\n\r\n")
                .await;
        let mut req = HttpRequest::new(Method::POST, url);
        req.headers
            .insert("content-length", HeaderValue::from_static("0"));
        let resp = transport.send(&req).await.unwrap();
        assert_eq!(resp.status, 204, "{name}");
        assert_eq!(resp.request_id(), Some("abc"), "{name}");
        let head = server.await.unwrap().to_ascii_lowercase();
        assert!(
            head.starts_with("post /v1.0/x/start http/1.1\r\n"),
            "{name}: {head}"
        );
        assert!(head.contains("\r\ncontent-length: 0\r\n"), "{name}: {head}");
        assert!(!head.contains("transfer-encoding"), "{name}: {head}");
    }
}

#[tokio::test]
async fn refused_connection_is_a_connect_error_not_sent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/v1.0/x")).unwrap();
    for (name, transport) in backends(&TransportOptions::default()) {
        let err = transport
            .send(&HttpRequest::new(Method::POST, url.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{name}: {err}");
        assert_eq!(err.request_sent(), RequestSent::No, "{name}");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_and_the_request_may_have_been_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and hold connections without ever answering.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let options = TransportOptions::default().timeout(Some(Duration::from_millis(200)));
    let url = url::Url::parse(&format!("http://{addr}/v1.0/x/start")).unwrap();
    for (name, transport) in backends(&options) {
        let err = transport
            .send(&HttpRequest::new(Method::POST, url.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout, "{name}: {err}");
        assert_eq!(err.request_sent(), RequestSent::Maybe, "{name}");
    }
    holder.abort();
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_may_have_been_sent() {
    for (name, transport) in backends(&TransportOptions::default()) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut chunk = [0u8; 1024];
            let _ = sock.read(&mut chunk).await;
            drop(sock);
        });
        let url = url::Url::parse(&format!("http://{addr}/v1.0/x/start")).unwrap();
        let err = transport
            .send(&HttpRequest::new(Method::POST, url))
            .await
            .unwrap_err();
        assert_eq!(err.request_sent(), RequestSent::Maybe, "{name}: {err:?}");
        server.await.unwrap();
    }
}

#[tokio::test]
async fn a_connect_timeout_reaches_both_backends_and_nothing_was_sent() {
    // A listener that never accepts, with its queue full: further
    // connection attempts hang in the handshake until the client gives up.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(100),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let options = TransportOptions::default()
        .connect_timeout(Some(Duration::from_millis(300)))
        .timeout(Some(Duration::from_secs(30)));
    for (name, t) in backends(&options) {
        let req = HttpRequest::new(Method::GET, format!("http://{addr}/x").parse().unwrap());
        let started = std::time::Instant::now();
        let err = t.send(&req).await.unwrap_err();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "{name}: the connect timeout applied ({took:?})"
        );
        assert_eq!(err.request_sent(), RequestSent::No, "{name}: {err:?}");
        assert!(
            matches!(
                err.kind(),
                TransportErrorKind::Connect | TransportErrorKind::Timeout
            ),
            "{name}: {err:?}"
        );
    }
    drop(fillers);
}

#[tokio::test]
async fn neither_backend_follows_redirects_on_its_own() {
    // The pipeline decides what a redirect may carry; a back-end that
    // followed it silently would take the token along.
    for (name, transport) in backends(&TransportOptions::default()) {
        let (url, _server) = one_shot(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
        let resp = transport
            .send(&HttpRequest::new(Method::GET, url))
            .await
            .unwrap();
        assert_eq!(resp.status, 302, "{name}");
        assert_eq!(
            resp.header("location"),
            Some("http://127.0.0.1:9/elsewhere"),
            "{name}"
        );
    }
}
