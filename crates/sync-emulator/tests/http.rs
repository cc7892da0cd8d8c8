//! The emulator over real HTTP on loopback, spoken to with a raw socket so
//! every byte of the exchange is under the test's control.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use graph_model::{SynchronizationJob, SynchronizationStatusCode};
use serde_json::Value;
use sync_emulator::default_ids::{ACTIVE, NOT_CONFIGURED, PAUSED, QUARANTINED};
use sync_emulator::{Emulator, EmulatorOptions, RunningEmulator, WARNING_HEADER, default_ids};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PAUSED_SP: &str = PAUSED.service_principal_id;
const PAUSED_APP_ID: &str = PAUSED.app_id;
const PAUSED_APP: &str = PAUSED.application_id;
const PAUSED_JOB: &str = PAUSED.job_id;
const QUARANTINED_SP: &str = QUARANTINED.service_principal_id;
const QUARANTINED_JOB: &str = QUARANTINED.job_id;
const ACTIVE_SP: &str = ACTIVE.service_principal_id;
const ACTIVE_JOB: &str = ACTIVE.job_id;
const NEW_SP: &str = NOT_CONFIGURED.service_principal_id;
const NEW_JOB: &str = NOT_CONFIGURED.job_id;

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Sends `head` (request line and headers, without the final blank line)
/// and `body` on a fresh connection and reads the whole answer.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut bytes = format!("{head}\r\nhost: {addr}\r\nconnection: close\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: out[split + 4..].to_vec(),
    }
}

async fn token_for(emu: &RunningEmulator, client_id: &str, secret: &str) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope={}%2F.default",
        emu.graph_url().replace(':', "%3A").replace('/', "%2F")
    );
    let a = raw(
        emu.addr(),
        &format!(
            "POST /{}/oauth2/v2.0/token HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}",
            emu.tenant_id(),
            form.len()
        ),
        form.as_bytes(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    a.json()["access_token"].as_str().unwrap().to_owned()
}

async fn operator(emu: &RunningEmulator) -> String {
    token_for(
        emu,
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
    )
    .await
}

async fn start(emu: &RunningEmulator, token: &str, path: &str) -> Answer {
    raw(
        emu.addr(),
        &format!("POST {path} HTTP/1.1\r\nauthorization: Bearer {token}\r\ncontent-length: 0\r\nclient-request-id: my-id"),
        b"",
    )
    .await
}

async fn get(emu: &RunningEmulator, token: &str, path: &str) -> Answer {
    raw(
        emu.addr(),
        &format!("GET {path} HTTP/1.1\r\nauthorization: Bearer {token}"),
        b"",
    )
    .await
}

fn job_path(version: &str, sp: &str, job: &str) -> String {
    format!("/{version}/servicePrincipals/{sp}/synchronization/jobs/{job}")
}

async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorOptions::default()).await.unwrap()
}

#[tokio::test]
async fn token_endpoint_issues_tokens_and_refuses_like_entra() {
    let emu = emulator().await;
    assert!(!operator(&emu).await.is_empty());

    let tenant = emu.tenant_id();
    let scope = "https%3A%2F%2Fgraph.microsoft.com%2F.default";
    let cases = [
        (
            tenant.clone(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret=wrong&scope={scope}",
                default_ids::OPERATOR_CLIENT_ID
            ),
            401,
            "invalid_client",
            "AADSTS7000215",
        ),
        (
            "not-the-tenant".into(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret=x&scope={scope}",
                default_ids::OPERATOR_CLIENT_ID
            ),
            400,
            "invalid_request",
            "AADSTS90002",
        ),
        (
            tenant.clone(),
            "grant_type=client_credentials&client_id=nobody&client_secret=x&scope=".to_owned()
                + scope,
            400,
            "unauthorized_client",
            "AADSTS700016",
        ),
        (
            tenant.clone(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret=x&scope=User.Read",
                default_ids::OPERATOR_CLIENT_ID
            ),
            400,
            "invalid_scope",
            "AADSTS1002012",
        ),
        (
            tenant.clone(),
            format!(
                "grant_type=password&client_id={}&client_secret=x&scope={scope}",
                default_ids::OPERATOR_CLIENT_ID
            ),
            400,
            "unsupported_grant_type",
            "AADSTS70003",
        ),
        (
            tenant.clone(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret=x",
                default_ids::OPERATOR_CLIENT_ID
            ),
            400,
            "invalid_request",
            "AADSTS900144",
        ),
    ];
    for (tenant, form, status, error, aadsts) in cases {
        let a = raw(
            emu.addr(),
            &format!(
                "POST /{tenant}/oauth2/v2.0/token HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}",
                form.len()
            ),
            form.as_bytes(),
        )
        .await;
        let body = a.json();
        assert_eq!(a.status, status, "{form}: {body}");
        assert_eq!(body["error"], error, "{form}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(aadsts),
            "{body}"
        );
        assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
    }
}

#[tokio::test]
async fn unauthenticated_calls_get_401_with_the_graph_envelope_and_ids() {
    let emu = emulator().await;
    let path = job_path("v1.0", PAUSED_SP, PAUSED_JOB);
    for auth in [
        "",
        "\r\nauthorization: Bearer not-a-token",
        "\r\nauthorization: Basic abc",
    ] {
        let a = raw(
            emu.addr(),
            &format!("GET {path} HTTP/1.1\r\nclient-request-id: c-1{auth}"),
            b"",
        )
        .await;
        assert_eq!(a.status, 401);
        let body = a.json();
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
        let request_id = a.header("request-id").unwrap();
        assert_eq!(body["error"]["innerError"]["request-id"], request_id);
        assert_eq!(a.header("client-request-id"), Some("c-1"));
        assert_eq!(body["error"]["innerError"]["client-request-id"], "c-1");
        let date = body["error"]["innerError"]["date"].as_str().unwrap();
        assert_eq!(date.len(), 19, "{date}");
        assert!(a.header("www-authenticate").unwrap().starts_with("Bearer "));
    }
    assert!(emu.actions().is_empty());
}

#[tokio::test]
async fn post_without_content_length_is_411() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let path = format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB));
    let a = raw(
        emu.addr(),
        &format!("POST {path} HTTP/1.1\r\nauthorization: Bearer {token}"),
        b"",
    )
    .await;
    assert_eq!(a.status, 411);
    assert_eq!(a.json()["error"]["code"], "LengthRequired");
    assert!(a.header("request-id").is_some());
    assert!(emu.actions().is_empty(), "nothing may be applied");
    assert_eq!(
        emu.job(PAUSED_SP, PAUSED_JOB).unwrap().status.code,
        Some(SynchronizationStatusCode::Paused)
    );
}

#[tokio::test]
async fn start_resumes_a_paused_job_through_every_owner_form_and_version() {
    let paths = [
        format!("/v1.0/servicePrincipals/{PAUSED_SP}/synchronization/jobs/{PAUSED_JOB}/start"),
        format!(
            "/beta/servicePrincipals(appId='{PAUSED_APP_ID}')/synchronization/jobs/{PAUSED_JOB}/start"
        ),
        format!("/v1.0/applications/{PAUSED_APP}/synchronization/jobs/{PAUSED_JOB}/start"),
    ];
    for (i, path) in paths.iter().enumerate() {
        let emu = emulator().await;
        let token = operator(&emu).await;
        let a = start(&emu, &token, path).await;
        assert_eq!(
            a.status,
            204,
            "{path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert!(a.body.is_empty());
        assert_eq!(a.header("client-request-id"), Some("my-id"));
        assert_eq!(a.header(WARNING_HEADER), None);
        let job = emu.job(PAUSED_SP, PAUSED_JOB).unwrap();
        assert_eq!(job.status.code, Some(SynchronizationStatusCode::Active));
        let actions = emu.actions();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].status_before, "Paused");
        assert_eq!(actions[0].status_after, "Active");
        assert_eq!(
            actions[0].addressed_as,
            [
                "servicePrincipals",
                "servicePrincipals(appId)",
                "applications"
            ][i]
        );
        assert_eq!(actions[0].request_id, a.header("request-id").unwrap());
    }
}

#[tokio::test]
async fn start_lifts_a_quarantine() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let before = emu.job(QUARANTINED_SP, QUARANTINED_JOB).unwrap();
    assert!(before.status.quarantine.is_some());
    let a = start(
        &emu,
        &token,
        &format!(
            "{}/start",
            job_path("v1.0", QUARANTINED_SP, QUARANTINED_JOB)
        ),
    )
    .await;
    assert_eq!(a.status, 204);
    let after = emu.job(QUARANTINED_SP, QUARANTINED_JOB).unwrap();
    assert_eq!(after.status.code, Some(SynchronizationStatusCode::Active));
    assert!(after.status.quarantine.is_none());
}

#[tokio::test]
async fn start_on_an_active_job_is_accepted_counted_and_flagged() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let path = format!("{}/start", job_path("v1.0", ACTIVE_SP, ACTIVE_JOB));
    let before = emu.job(ACTIVE_SP, ACTIVE_JOB).unwrap();
    for _ in 0..3 {
        let a = start(&emu, &token, &path).await;
        assert_eq!(a.status, 204);
        assert!(
            a.header(WARNING_HEADER)
                .unwrap()
                .contains("already running")
        );
    }
    assert_eq!(emu.job(ACTIVE_SP, ACTIVE_JOB).unwrap(), before);
    let actions = emu.actions();
    assert_eq!(actions.len(), 3);
    assert!(actions.iter().all(|a| a.warning.is_some()));
    assert_eq!(
        actions.iter().map(|a| a.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[tokio::test]
async fn a_new_job_goes_not_configured_to_not_run_to_active_on_the_virtual_clock() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let path = job_path("v1.0", NEW_SP, NEW_JOB);
    let job: SynchronizationJob =
        serde_json::from_slice(&get(&emu, &token, &path).await.body).unwrap();
    assert_eq!(
        job.status.code,
        Some(SynchronizationStatusCode::NotConfigured)
    );
    assert_eq!(
        job.schedule.interval.unwrap().as_str(),
        "P10675199DT2H48M5.4775807S"
    );
    assert_eq!(
        start(&emu, &token, &format!("{path}/start")).await.status,
        204
    );
    let job: SynchronizationJob =
        serde_json::from_slice(&get(&emu, &token, &path).await.body).unwrap();
    assert_eq!(job.status.code, Some(SynchronizationStatusCode::NotRun));

    let advanced = raw(
        emu.addr(),
        "POST /_emulator/clock/advance HTTP/1.1\r\ncontent-length: 15",
        b"{\"seconds\": 61}",
    )
    .await;
    assert_eq!(advanced.status, 200);
    let job: SynchronizationJob =
        serde_json::from_slice(&get(&emu, &token, &path).await.body).unwrap();
    assert_eq!(job.status.code, Some(SynchronizationStatusCode::Active));
    assert!(job.status.last_execution.is_some());
    assert!(job.status.steady_state_reached().is_some());
}

#[tokio::test]
async fn get_returns_the_job_as_graph_writes_it() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let a = get(&emu, &token, &job_path("beta", PAUSED_SP, PAUSED_JOB)).await;
    assert_eq!(a.status, 200);
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );
    let body = a.json();
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#servicePrincipals('{PAUSED_SP}')/synchronization/jobs/$entity",
            emu.graph_url()
        )
    );
    assert_eq!(body["id"], PAUSED_JOB);
    assert_eq!(body["templateId"], "scim");
    assert_eq!(body["schedule"]["state"], "Paused");
    assert_eq!(body["schedule"]["interval"], "PT40M");
    assert_eq!(body["status"]["code"], "Paused");
    assert_eq!(body["status"]["quarantine"], Value::Null);
    assert!(body["status"]["lastExecution"]["countImported"].is_i64());
    assert!(body["synchronizationJobSettings"].is_array());
}

#[tokio::test]
async fn unknown_objects_are_404_and_unknown_segments_400() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let a = start(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, "nope.1")),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["code"], "ResourceNotFound");
    let a = get(
        &emu,
        &token,
        &job_path("v1.0", "00000000-0000-0000-0000-000000000000", PAUSED_JOB),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["code"], "Request_ResourceNotFound");
    let a = start(
        &emu,
        &token,
        &format!("{}/stop", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["error"]["message"],
        "Resource not found for the segment 'stop'."
    );
    let a = get(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 405);
    assert_eq!(a.header("allow"), Some("POST"));
    assert!(emu.actions().is_empty());
}

#[tokio::test]
async fn permissions_follow_the_roles_in_the_token() {
    let emu = emulator().await;
    let reader = token_for(
        &emu,
        default_ids::READER_CLIENT_ID,
        default_ids::READER_CLIENT_SECRET,
    )
    .await;
    let owner = token_for(
        &emu,
        default_ids::OWNER_CLIENT_ID,
        default_ids::OWNER_CLIENT_SECRET,
    )
    .await;

    assert_eq!(
        get(&emu, &reader, &job_path("v1.0", PAUSED_SP, PAUSED_JOB))
            .await
            .status,
        200
    );
    let a = start(
        &emu,
        &reader,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["error"]["code"], "Authorization_RequestDenied");

    // Application.ReadWrite.OwnedBy: only the application it owns.
    let a = start(
        &emu,
        &owner,
        &format!(
            "{}/start",
            job_path("v1.0", QUARANTINED_SP, QUARANTINED_JOB)
        ),
    )
    .await;
    assert_eq!(a.status, 403);
    let a = start(
        &emu,
        &owner,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 204);
    let actions = emu.actions();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].client_id, default_ids::OWNER_CLIENT_ID);
}

#[tokio::test]
async fn tokens_expire_on_the_virtual_clock() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let path = job_path("v1.0", PAUSED_SP, PAUSED_JOB);
    assert_eq!(get(&emu, &token, &path).await.status, 200);
    emu.advance_clock(Duration::from_secs(3600)).unwrap();
    let a = get(&emu, &token, &path).await;
    assert_eq!(a.status, 401);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn start_bodies_v1_refuses_parameters_beta_accepts_the_draft() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let body =
        br#"{"parameters":[{"ruleId":"r","subjects":[{"objectId":"u","objectTypeName":"User"}]}]}"#;
    for (version, expected) in [("v1.0", 400), ("beta", 204)] {
        let path = format!("{}/start", job_path(version, PAUSED_SP, PAUSED_JOB));
        let a = raw(
            emu.addr(),
            &format!(
                "POST {path} HTTP/1.1\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}",
                body.len()
            ),
            body,
        )
        .await;
        assert_eq!(
            a.status,
            expected,
            "{version}: {}",
            String::from_utf8_lossy(&a.body)
        );
    }
    assert_eq!(emu.actions().len(), 1);
}

#[tokio::test]
async fn control_api_lists_jobs_and_actions() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    start(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    let health = raw(emu.addr(), "GET /_emulator/health HTTP/1.1", b"").await;
    assert_eq!(health.json()["status"], "ok");
    let actions = raw(emu.addr(), "GET /_emulator/actions HTTP/1.1", b"")
        .await
        .json();
    assert_eq!(actions["value"].as_array().unwrap().len(), 1);
    assert_eq!(actions["value"][0]["action"], "start");
    let jobs = raw(emu.addr(), "GET /_emulator/jobs HTTP/1.1", b"")
        .await
        .json();
    assert_eq!(jobs["value"].as_array().unwrap().len(), 4);
    let bad = raw(
        emu.addr(),
        "POST /_emulator/clock/advance HTTP/1.1\r\ncontent-length: 2",
        b"{}",
    )
    .await;
    assert_eq!(bad.status, 400);

    // Far past the end of time: refused, and the emulator keeps working.
    let huge = br#"{"seconds": 1e18}"#;
    let bad = raw(
        emu.addr(),
        &format!(
            "POST /_emulator/clock/advance HTTP/1.1\r\ncontent-length: {}",
            huge.len()
        ),
        huge,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100 years")
    );
    assert!(emu.advance_clock(Duration::MAX).is_err());
    let clock = raw(emu.addr(), "GET /_emulator/clock HTTP/1.1", b"").await;
    assert_eq!(clock.status, 200);
    let job = get(&emu, &token, &job_path("v1.0", PAUSED_SP, PAUSED_JOB)).await;
    assert_eq!(job.status, 200);
}

#[tokio::test]
async fn seeds_are_validated() {
    let mut seed = sync_emulator::Seed::default_seed();
    let dup = seed.service_principals[0].clone();
    seed.service_principals.push(dup);
    assert!(
        Emulator::start(EmulatorOptions::with_seed(seed))
            .await
            .is_err()
    );
    assert!(sync_emulator::Seed::from_json("{\"tenant_id\": \"t\", \"surprise\": 1}").is_err());
    let mut options = EmulatorOptions::default();
    options.first_cycle = Duration::MAX;
    assert!(matches!(
        Emulator::start(options).await,
        Err(sync_emulator::EmulatorError::InvalidOptions(_))
    ));
    let round_trip = serde_json::to_string(&sync_emulator::Seed::default_seed()).unwrap();
    assert_eq!(
        sync_emulator::Seed::from_json(&round_trip).unwrap(),
        sync_emulator::Seed::default_seed()
    );
}

/// Everything that comes back on a fresh connection, however it ends.
async fn raw_bytes(addr: SocketAddr, head: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    out
}

#[tokio::test]
async fn each_fault_strikes_before_or_after_the_action_as_documented() {
    use sync_emulator::FaultOptions;
    let emu = emulator().await;
    let token = operator(&emu).await;
    let start_head = |job: &str| {
        format!(
            "POST {}/start HTTP/1.1\r\nauthorization: Bearer {token}\r\ncontent-length: 0",
            job_path("v1.0", PAUSED_SP, job)
        )
    };
    let set = |f: FaultOptions| emu.set_faults(f).unwrap();
    let applied = || emu.actions().len();

    set(FaultOptions::none().throttle(1.0).retry_after_secs(0.25));
    let a = start(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("0.250"));
    assert_eq!(a.json()["error"]["code"], "TooManyRequests");
    assert_eq!(
        a.header("x-ms-throttle-information"),
        Some("ResourceUnitLimitExceeded")
    );
    assert_eq!(applied(), 0, "a 429 applies nothing");

    set(FaultOptions::none().unavailable(1.0));
    let a = start(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!((a.status, a.header("retry-after")), (503, Some("1")));
    assert_eq!(applied(), 0);

    set(FaultOptions::none().drop_before(1.0));
    assert!(
        raw_bytes(emu.addr(), &start_head(PAUSED_JOB))
            .await
            .is_empty()
    );
    assert_eq!(applied(), 0, "dropped before: not applied");

    set(FaultOptions::none().gateway_timeout(1.0));
    let a = start(
        &emu,
        &token,
        &format!("{}/start", job_path("v1.0", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    assert_eq!(a.status, 504);
    assert_eq!(applied(), 1, "a 504 comes after the action was applied");

    set(FaultOptions::none().drop_after(1.0));
    assert!(
        raw_bytes(emu.addr(), &start_head(PAUSED_JOB))
            .await
            .is_empty()
    );
    assert_eq!(
        applied(),
        2,
        "dropped after: applied (a warned start on a running job)"
    );

    set(FaultOptions::none().malformed(1.0));
    let a = get(&emu, &token, &job_path("v1.0", PAUSED_SP, PAUSED_JOB)).await;
    assert_eq!(a.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&a.body).is_err(),
        "the body is cut short"
    );

    set(FaultOptions::none().truncated(1.0));
    let out = raw_bytes(
        emu.addr(),
        &format!(
            "GET {} HTTP/1.1\r\nauthorization: Bearer {token}",
            job_path("v1.0", PAUSED_SP, PAUSED_JOB)
        ),
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    let split = text.find("\r\n\r\n").unwrap();
    let promised: usize = text[..split]
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    assert!(
        out.len() - (split + 4) < promised,
        "fewer bytes than promised"
    );

    // No faults: all is well again, and the stats counted what was injected.
    set(FaultOptions::none());
    assert_eq!(
        get(&emu, &token, &job_path("v1.0", PAUSED_SP, PAUSED_JOB))
            .await
            .status,
        200
    );
    assert_eq!(emu.stats().faults_injected, 7);
}

#[tokio::test]
async fn faults_are_set_through_the_control_api_and_checked() {
    let emu = emulator().await;
    let body = br#"{"seed":42,"throttle":0.1,"gateway_timeout":0.1,"retry_after_secs":0.5}"#;
    let a = raw(
        emu.addr(),
        &format!(
            "POST /_emulator/faults HTTP/1.1\r\ncontent-length: {}",
            body.len()
        ),
        body,
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let a = raw(emu.addr(), "GET /_emulator/faults HTTP/1.1", b"").await;
    assert_eq!(a.json()["seed"], 42);
    assert_eq!(a.json()["throttle"], 0.1);
    let bad = br#"{"throttle":0.9,"unavailable":0.9}"#;
    let a = raw(
        emu.addr(),
        &format!(
            "POST /_emulator/faults HTTP/1.1\r\ncontent-length: {}",
            bad.len()
        ),
        bad,
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 1")
    );
}

async fn batch(emu: &RunningEmulator, token: &str, body: &str) -> Answer {
    raw(
        emu.addr(),
        &format!(
            "POST /v1.0/$batch HTTP/1.1\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}",
            body.len()
        ),
        body.as_bytes(),
    )
    .await
}

#[tokio::test]
async fn batch_answers_each_item_on_its_own_and_refuses_malformed_batches() {
    let emu = emulator().await;
    let token = operator(&emu).await;
    let start = |id: &str, sp: &str, job: &str| {
        format!(
            r#"{{"id":"{id}","method":"POST","url":"/servicePrincipals/{sp}/synchronization/jobs/{job}/start"}}"#
        )
    };
    // A start, a read, a 404, and a read that depends on the start.
    let body = format!(
        r#"{{"requests":[{},{{"id":"2","method":"GET","url":"servicePrincipals/{PAUSED_SP}/synchronization/jobs/{PAUSED_JOB}","dependsOn":["1"]}},{}]}}"#,
        start("1", PAUSED_SP, PAUSED_JOB),
        start("3", PAUSED_SP, "scim.missing"),
    );
    let a = batch(&emu, &token, &body).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let answers: HashMap<String, Value> = a.json()["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert_eq!(answers["1"]["status"], 204);
    assert!(answers["1"]["headers"]["request-id"].is_string());
    assert_eq!(answers["2"]["status"], 200);
    assert_eq!(answers["2"]["body"]["status"]["code"], "Active");
    assert_eq!(answers["3"]["status"], 404);
    assert_eq!(answers["3"]["body"]["error"]["code"], "ResourceNotFound");
    let stats = emu.stats();
    assert_eq!((stats.batch_requests, stats.batched_items), (1, 3));

    // A failed dependency: 424 for the dependant, nothing applied for it.
    let body = format!(
        r#"{{"requests":[{},{{"id":"b","method":"POST","url":"/servicePrincipals/{PAUSED_SP}/synchronization/jobs/{PAUSED_JOB}/pause","dependsOn":["a"]}}]}}"#,
        start("a", PAUSED_SP, "scim.missing")
    );
    let a = batch(&emu, &token, &body).await;
    let r = a.json()["responses"].as_array().unwrap().clone();
    assert_eq!(r[1]["status"], 424);
    assert_eq!(
        emu.actions().iter().filter(|x| x.action == "pause").count(),
        0
    );

    // Item-level refusals: an absolute URL, a bad method, a body without
    // its Content-Type.
    let body = format!(
        r#"{{"requests":[{{"id":"x","method":"GET","url":"https://evil.example/v1.0/x"}},{{"id":"y","method":"GE T","url":"/x"}},{{"id":"z","method":"POST","url":"/servicePrincipals/{PAUSED_SP}/synchronization/jobs/{PAUSED_JOB}/restart","body":{{"criteria":{{}}}}}}]}}"#
    );
    let a = batch(&emu, &token, &body).await;
    let r = a.json()["responses"].as_array().unwrap().clone();
    assert!(r.iter().all(|x| x["status"] == 400), "{r:?}");

    // Whole-batch refusals, each a 400 with the Graph envelope.
    let twenty_one = format!(
        r#"{{"requests":[{}]}}"#,
        (0..21)
            .map(|i| format!(r#"{{"id":"{i}","method":"GET","url":"/x"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    for bad in [
        "not json",
        r#"{"requests":{}}"#,
        r#"{"requests":[]}"#,
        twenty_one.as_str(),
        r#"{"requests":[{"id":"A","method":"GET","url":"/x"},{"id":"a","method":"GET","url":"/x"}]}"#,
        r#"{"requests":[{"id":"1","method":"GET","url":"/x","dependsOn":["9"]}]}"#,
    ] {
        let a = batch(&emu, &token, bad).await;
        assert_eq!(a.status, 400, "{bad}");
        assert_eq!(a.json()["error"]["code"], "BadRequest", "{bad}");
    }
    // No token, no batch.
    let a = batch(
        &emu,
        "",
        &format!(r#"{{"requests":[{}]}}"#, start("1", PAUSED_SP, PAUSED_JOB)),
    )
    .await;
    let r = a.json()["responses"].as_array().unwrap().clone();
    assert_eq!(r[0]["status"], 401);
}
