//! Every retry scenario of the pipeline against a scripted transport mock,
//! on a paused tokio clock so waits take no real time but are measured.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use graph_model::{ApiVersion, JobRef, Request, requests};
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio::time::Instant;

use crate::credential::{AccessToken, MockTokenCredential};
use crate::transport::{MockTransport, RequestSent, TransportError, TransportErrorKind};
use crate::{ClientOptions, GraphClient, HttpRequest, HttpResponse, RetryOptions};

type Reply = Result<HttpResponse, TransportError>;

/// What the transport saw: when, and the request as sent.
#[derive(Clone)]
struct Seen {
    at: Instant,
    request: HttpRequest,
}

struct Script {
    client: GraphClient,
    seen: Arc<Mutex<Vec<Seen>>>,
    tokens: Arc<AtomicU32>,
    invalidated: Arc<Mutex<Vec<String>>>,
}

fn answer(status: u16, headers: &[(&str, &str)]) -> Reply {
    let mut h = HeaderMap::new();
    h.insert("request-id", HeaderValue::from_static("rid"));
    for (k, v) in headers {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let body = if status >= 400 {
        Bytes::from(format!(
            r#"{{"error":{{"code":"E{status}","message":"m"}}}}"#
        ))
    } else {
        Bytes::new()
    };
    Ok(HttpResponse::new(
        StatusCode::from_u16(status).unwrap(),
        h,
        body,
    ))
}

fn lost(sent: RequestSent) -> Reply {
    let kind = match sent {
        RequestSent::No => TransportErrorKind::Connect,
        _ => TransportErrorKind::Timeout,
    };
    Err(TransportError::new(kind, sent, "scripted"))
}

fn script(replies: Vec<Reply>, retry: RetryOptions) -> Script {
    let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut transport = MockTransport::new();
    let log = seen.clone();
    transport.expect_send().returning(move |req: &HttpRequest| {
        log.lock().unwrap().push(Seen {
            at: Instant::now(),
            request: req.clone(),
        });
        replies
            .lock()
            .unwrap()
            .pop_front()
            .expect("the script ran out: an unexpected try")
    });
    let tokens = Arc::new(AtomicU32::new(0));
    let invalidated = Arc::new(Mutex::new(Vec::new()));
    let mut credential = MockTokenCredential::new();
    let count = tokens.clone();
    credential.expect_get_token().returning(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken::new(
            format!("token-{n}"),
            SystemTime::now() + Duration::from_secs(3600),
        ))
    });
    let dropped = invalidated.clone();
    credential
        .expect_invalidate()
        .returning(move |_, token| dropped.lock().unwrap().push(token.expose().to_owned()));
    let client = GraphClient::new(
        Arc::new(transport),
        Arc::new(credential),
        ClientOptions::default().retry(retry),
    )
    .unwrap();
    Script {
        client,
        seen,
        tokens,
        invalidated,
    }
}

fn job() -> JobRef {
    JobRef::service_principal("sp", "scim.1").unwrap()
}

fn get() -> Request {
    requests::get_job(&job(), ApiVersion::V1)
}

fn start() -> Request {
    requests::start(&job(), ApiVersion::V1, &[]).unwrap()
}

impl Script {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The waits between consecutive tries.
    fn waits(&self) -> Vec<Duration> {
        self.seen()
            .windows(2)
            .map(|w| w[1].at.duration_since(w[0].at))
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn throttled_429_waits_retry_after_in_seconds_then_succeeds() {
    let s = script(
        vec![answer(429, &[("retry-after", "7")]), answer(200, &[])],
        RetryOptions::default(),
    );
    let r = s.client.send(&get()).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(s.seen().len(), 2);
    let wait = s.waits()[0];
    // Retry-After is a floor; the first backoff is at most 1 s.
    assert!(
        wait >= Duration::from_secs(7) && wait <= Duration::from_secs(8),
        "{wait:?}"
    );
    // The retry says which one it is; the first try does not.
    let seen = s.seen();
    assert!(seen[0].request.headers.get("retry-attempt").is_none());
    assert_eq!(seen[1].request.headers["retry-attempt"], "1");
}

#[tokio::test(start_paused = true)]
async fn fractional_and_http_date_retry_after_are_honoured() {
    let s = script(
        vec![answer(429, &[("retry-after", "2.128")]), answer(200, &[])],
        RetryOptions::default().initial_backoff(Duration::ZERO),
    );
    s.client.send(&get()).await.unwrap();
    assert_eq!(s.waits()[0], Duration::from_millis(2128));

    let in_5s = httpdate(SystemTime::now() + Duration::from_secs(5));
    let s = script(
        vec![answer(429, &[("retry-after", &in_5s)]), answer(200, &[])],
        RetryOptions::default().initial_backoff(Duration::ZERO),
    );
    s.client.send(&get()).await.unwrap();
    let wait = s.waits()[0];
    assert!(
        wait > Duration::from_secs(3) && wait <= Duration::from_secs(5),
        "{wait:?}"
    );
}

fn httpdate(t: SystemTime) -> String {
    use graph_model::time::{OffsetDateTime, format_description::well_known::Rfc2822};
    let t: OffsetDateTime = t.into();
    // RFC 2822 with GMT is the IMF-fixdate Graph sends.
    t.format(&Rfc2822).unwrap().replace("+0000", "GMT")
}

#[tokio::test(start_paused = true)]
async fn without_retry_after_the_backoff_grows_with_full_jitter() {
    let s = script(
        vec![
            answer(429, &[]),
            answer(503, &[("retry-after", "soon")]),
            answer(429, &[("retry-after", "30,120")]),
            answer(200, &[]),
        ],
        RetryOptions::default(),
    );
    s.client.send(&get()).await.unwrap();
    let waits = s.waits();
    assert!(waits[0] <= Duration::from_secs(1), "{waits:?}");
    assert!(
        waits[1] <= Duration::from_secs(2),
        "a bad header is ignored: {waits:?}"
    );
    assert!(
        waits[2] >= Duration::from_secs(30) && waits[2] <= Duration::from_secs(31),
        "the first readable value of a repeated header: {waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_then_success() {
    let s = script(
        vec![answer(503, &[]), answer(200, &[])],
        RetryOptions::default(),
    );
    assert_eq!(s.client.send(&start()).await.unwrap().status, 200);
    assert_eq!(
        s.seen().len(),
        2,
        "503 means not applied: even start is retried"
    );
}

#[tokio::test(start_paused = true)]
async fn gateway_timeout_three_times_gives_up_with_the_last_error_and_the_tries() {
    let s = script(
        vec![
            answer(504, &[]),
            answer(504, &[]),
            answer(504, &[]),
            answer(504, &[]),
        ],
        RetryOptions::default(),
    );
    let e = s.client.send(&get()).await.unwrap_err();
    assert_eq!(s.seen().len(), 4, "one try and three retries");
    let service = e.service_error().unwrap();
    assert_eq!(service.status, 504);
    assert_eq!(service.attempts, 4);
    assert_eq!(e.attempts(), 4);
    assert!(e.to_string().contains("after 4 tries"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn gateway_timeout_on_start_is_ambiguous_and_not_repeated() {
    let s = script(vec![answer(504, &[])], RetryOptions::default());
    let e = s.client.send(&start()).await.unwrap_err();
    assert!(e.is_ambiguous(), "{e:?}");
    assert!(e.request_may_have_been_sent());
    assert_eq!(e.service_error().unwrap().status, 504);
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_ends_the_call_at_once() {
    let s = script(
        vec![answer(
            429,
            &[
                ("retry-after", "3600"),
                ("x-ms-throttle-scope", "Tenant_Application/Write/app/tenant"),
                ("x-ms-throttle-information", "WriteLimitExceeded"),
            ],
        )],
        RetryOptions::default().max_backoff(Duration::from_secs(60)),
    );
    let before = Instant::now();
    let e = s.client.send(&get()).await.unwrap_err();
    assert_eq!(Instant::now(), before, "no wait");
    assert_eq!(
        e.service_error().unwrap().retry_after,
        Some(Duration::from_secs(3600)),
        "the caller learns when to come back"
    );
    let service = e.service_error().unwrap();
    assert_eq!(service.request_id.as_deref(), Some("rid"));
    assert_eq!(service.attempts, 1);
    assert!(service.throttle.contains(&(
        "x-ms-throttle-information".to_owned(),
        "WriteLimitExceeded".to_owned()
    )));
    assert_eq!(service.throttle.len(), 2);
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_whole_call_stays_within_max_elapsed() {
    let s = script(
        vec![
            answer(429, &[("retry-after", "40")]),
            answer(429, &[("retry-after", "40")]),
            answer(429, &[("retry-after", "40")]),
        ],
        RetryOptions::default().max_elapsed(Duration::from_secs(70)),
    );
    let e = s.client.send(&get()).await.unwrap_err();
    assert_eq!(
        s.seen().len(),
        2,
        "a third try would come after 80 s, past 70 s"
    );
    assert_eq!(e.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_stops_retrying_across_calls() {
    let s = script(
        vec![
            answer(503, &[]),
            answer(503, &[]),
            answer(503, &[]),
            answer(503, &[]),
        ],
        RetryOptions::default().budget(2).max_retries(5),
    );
    let e = s.client.send(&get()).await.unwrap_err();
    assert_eq!(s.seen().len(), 3, "two retries spent the budget");
    assert_eq!(e.attempts(), 3);
    // The next call gets no retry at all.
    let e = s.client.send(&get()).await.unwrap_err();
    assert_eq!(e.attempts(), 1);
    assert_eq!(s.client.retry_budget().remaining(), 0);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 411] {
        let mut replies = vec![answer(status, &[])];
        if status == 401 {
            // A 401 gets one fresh token; the second 401 is final.
            replies.push(answer(401, &[]));
        }
        let expected = replies.len();
        let s = script(replies, RetryOptions::default());
        let e = s.client.send(&get()).await.unwrap_err();
        assert_eq!(e.service_error().unwrap().status, status);
        assert_eq!(s.seen().len(), expected, "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_after_sending_start_is_ambiguous_but_get_is_retried() {
    let s = script(vec![lost(RequestSent::Maybe)], RetryOptions::default());
    let e = s.client.send(&start()).await.unwrap_err();
    assert!(e.is_ambiguous(), "{e:?}");
    assert_eq!(s.seen().len(), 1);

    let s = script(
        vec![lost(RequestSent::Maybe), answer(200, &[])],
        RetryOptions::default(),
    );
    s.client.send(&get()).await.unwrap();
    assert_eq!(s.seen().len(), 2);

    // Opting in retries start too.
    let s = script(
        vec![lost(RequestSent::Maybe), answer(204, &[])],
        RetryOptions::default().retry_ambiguous(true),
    );
    s.client.send(&start()).await.unwrap();
    assert_eq!(s.seen().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_even_for_start() {
    let s = script(
        vec![lost(RequestSent::No), answer(204, &[])],
        RetryOptions::default(),
    );
    s.client.send(&start()).await.unwrap();
    assert_eq!(
        s.seen().len(),
        2,
        "nothing was sent, so nothing can be doubled"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retried_request_is_byte_identical_and_reauthorized() {
    let criteria = requests::restart(
        &job(),
        ApiVersion::V1,
        Some(graph_model::RestartScope::FULL),
    )
    .unwrap();
    let s = script(
        vec![answer(503, &[]), answer(429, &[]), answer(204, &[])],
        RetryOptions::default(),
    );
    s.client.send(&criteria).await.unwrap();
    let seen = s.seen();
    assert_eq!(seen.len(), 3);
    for pair in seen.windows(2) {
        let (a, b) = (&pair[0].request, &pair[1].request);
        assert_eq!(a.method, b.method);
        assert_eq!(a.url, b.url);
        assert_eq!(a.body, b.body);
        for name in [
            "content-type",
            "client-request-id",
            "user-agent",
            "content-length",
        ] {
            assert_eq!(a.headers.get(name), b.headers.get(name), "{name}");
        }
    }
    assert_eq!(
        s.tokens.load(Ordering::SeqCst),
        3,
        "a token is asked for on each try"
    );
}

#[tokio::test(start_paused = true)]
async fn unauthorized_drops_the_refused_token_and_tries_once_more() {
    let s = script(
        vec![answer(401, &[]), answer(200, &[])],
        RetryOptions::default(),
    );
    s.client.send(&get()).await.unwrap();
    assert_eq!(*s.invalidated.lock().unwrap(), ["token-1"]);
    let seen = s.seen();
    assert_eq!(seen[0].request.headers["authorization"], "Bearer token-1");
    assert_eq!(seen[1].request.headers["authorization"], "Bearer token-2");
    assert_eq!(s.waits()[0], Duration::ZERO, "no backoff for a fresh token");
}

#[tokio::test]
async fn dropping_the_call_stops_its_retries() {
    let s = script(
        vec![answer(429, &[("retry-after", "30")]), answer(200, &[])],
        RetryOptions::default(),
    );
    let request = get();
    let call = s.client.send(&request);
    let outcome = tokio::time::timeout(Duration::from_millis(50), call).await;
    assert!(outcome.is_err(), "still waiting out Retry-After");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.seen().len(), 1, "the dropped call sent nothing more");
}

fn redirect(status: u16, location: &str) -> Reply {
    let mut h = HeaderMap::new();
    h.insert("location", HeaderValue::from_str(location).unwrap());
    Ok(HttpResponse::new(
        StatusCode::from_u16(status).unwrap(),
        h,
        Bytes::new(),
    ))
}

fn restart() -> Request {
    let mut r = requests::restart(&job(), ApiVersion::V1, None).unwrap();
    r.headers
        .insert("cookie", HeaderValue::from_static("session=1"));
    r.headers.insert(
        "proxy-authorization",
        HeaderValue::from_static("Basic eA=="),
    );
    r
}

#[tokio::test(start_paused = true)]
async fn a_same_origin_redirect_keeps_the_request_and_its_token() {
    let s = script(
        vec![
            redirect(307, "https://GRAPH.microsoft.com:443/v1.0/elsewhere"),
            answer(204, &[]),
        ],
        RetryOptions::default(),
    );
    s.client.send(&restart()).await.unwrap();
    let seen = s.seen();
    let next = &seen[1].request;
    assert_eq!(next.url.path(), "/v1.0/elsewhere");
    assert_eq!(next.method, http::Method::POST);
    assert_eq!(next.body, seen[0].request.body);
    assert!(
        next.headers.contains_key("authorization"),
        "same origin, host case aside"
    );
}

#[tokio::test(start_paused = true)]
async fn a_redirect_to_another_origin_sends_no_credentials() {
    for target in [
        "https://evil.example/v1.0/x",
        "https://graph.microsoft.com:8443/v1.0/x",
    ] {
        let s = script(
            vec![redirect(302, target), answer(204, &[])],
            RetryOptions::default(),
        );
        s.client.send(&restart()).await.unwrap();
        let next = &s.seen()[1].request;
        for name in ["authorization", "cookie", "proxy-authorization"] {
            assert!(!next.headers.contains_key(name), "{target}: {name} leaked");
        }
        assert_eq!(
            s.tokens.load(Ordering::SeqCst),
            1,
            "no token fetched for the other origin"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn https_to_http_is_refused_and_see_other_becomes_a_bodiless_get() {
    let s = script(
        vec![redirect(301, "http://graph.microsoft.com/v1.0/x")],
        RetryOptions::default(),
    );
    let e = s.client.send(&restart()).await.unwrap_err();
    assert!(matches!(e, crate::Error::Redirect { .. }), "{e:?}");
    assert_eq!(s.seen().len(), 1);

    let s = script(
        vec![redirect(303, "/v1.0/result"), answer(200, &[])],
        RetryOptions::default(),
    );
    s.client.send(&restart()).await.unwrap();
    let next = &s.seen()[1].request;
    assert_eq!(next.method, http::Method::GET);
    assert!(next.body.is_empty());
    assert!(!next.headers.contains_key("content-type"));
    assert_eq!(next.url.path(), "/v1.0/result");
}

#[tokio::test(start_paused = true)]
async fn at_most_five_redirects_are_followed() {
    let replies = (0..6)
        .map(|i| redirect(307, &format!("/v1.0/hop{i}")))
        .collect();
    let s = script(replies, RetryOptions::default());
    let e = s.client.send(&get()).await.unwrap_err();
    assert!(e.to_string().contains("more than 5 redirects"), "{e}");
    assert_eq!(s.seen().len(), 6);
}

#[tokio::test]
async fn a_next_link_is_followed_verbatim_but_only_on_the_graph_host() {
    let op = &graph_model::operations::LIST_JOBS;
    let s = script(vec![answer(200, &[])], RetryOptions::default());
    let link = "https://graph.microsoft.com/v1.0/servicePrincipals/sp/synchronization/jobs?$skiptoken=X%2FY";
    s.client
        .send(&Request::next_page(op, ApiVersion::V1, link))
        .await
        .unwrap();
    assert_eq!(s.seen()[0].request.url.as_str(), link, "verbatim");

    for foreign in [
        "https://evil.example/v1.0/x?$skiptoken=1",
        "http://graph.microsoft.com/v1.0/x",
        "https://graph.microsoft.com:444/v1.0/x",
        "not a url",
    ] {
        let s = script(vec![], RetryOptions::default());
        let e = s
            .client
            .send(&Request::next_page(op, ApiVersion::V1, foreign))
            .await
            .unwrap_err();
        assert!(
            matches!(e, crate::Error::InvalidUrl { .. }),
            "{foreign}: {e:?}"
        );
        assert!(
            s.seen().is_empty(),
            "{foreign}: nothing sent, no token attached"
        );
    }
}
