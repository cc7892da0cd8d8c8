//! The measurements: rounds of requests at a fixed concurrency, the raw
//! hyper baseline interleaved with graphsync's pipeline, CPU time from the
//! kernel's per-thread accounting, and the one-off figures (single-flight
//! token, batching, bulk memory, cold start).

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use graph_auth::{ClientSecretCredential, CredentialOptions};
use graph_model::{JobRef, NationalCloud};
use graph_transport::{
    ClientOptions, GraphClient, HyperTransport, ReqwestTransport, TokenCredential, Transport,
    TransportOptions,
};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use sync_jobs::{BulkAction, BulkOptions, BulkResult, SyncJobsClient};

const SP: &str = "a1b2c3d4-0000-4000-8000-000000000001";
const TENANT: &str = "72f9a1c4-7e3b-4c2d-9a51-0e6d4b8f2a10";

/// CPU time this process has used, in nanoseconds: the sum over its
/// threads of the kernel's on-CPU time (`/proc/self/task/*/schedstat`),
/// which unlike `getrusage`'s tick-sampled figures is exact. Falls back to
/// `/proc/self/stat`'s ticks.
fn cpu_ns() -> u64 {
    let mut total = 0u64;
    let mut any = false;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(t.path().join("schedstat"))
                && let Some(ns) = text
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
            {
                total += ns;
                any = true;
            }
        }
    }
    if any {
        return total;
    }
    // utime and stime, fields 14 and 15, in ticks of (usually) 10 ms.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?) * 10_000_000)
        })
        .unwrap_or(0)
}

/// Peak resident memory of this process, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The responder child process, stopped when dropped.
struct Responder {
    child: Child,
    port: u16,
}

impl Responder {
    fn start() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("responder")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the responder: {e}"))?;
        let stdout = child.stdout.take().ok_or("no responder stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let port = line
            .trim()
            .parse()
            .map_err(|_| format!("responder said {line:?}"))?;
        Ok(Responder { child, port })
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The responder's request counts.
async fn counts(
    raw: &Client<HttpConnector, Full<Bytes>>,
    base: &str,
    reset: bool,
) -> serde_json::Value {
    let (method, path) = if reset {
        ("POST", "/_reset")
    } else {
        ("GET", "/_counts")
    };
    let req = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .body(Full::new(Bytes::new()));
    let Ok(req) = req else { return json!({}) };
    match raw.request(req).await {
        Ok(resp) => {
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            serde_json::from_slice(&body).unwrap_or(json!({}))
        }
        Err(_) => json!({}),
    }
}

fn jobs_client(base: &str, transport: Arc<dyn Transport>) -> Result<SyncJobsClient, String> {
    let cloud = NationalCloud::custom(base, base).map_err(|e| e.to_string())?;
    let credential = ClientSecretCredential::new(
        TENANT,
        "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c01",
        "bench-secret",
        transport.clone(),
        CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
    )
    .map_err(|e| e.to_string())?;
    let graph = GraphClient::new(
        transport,
        Arc::new(credential),
        ClientOptions::new(cloud).allow_http_loopback(true),
    )
    .map_err(|e| e.to_string())?;
    Ok(SyncJobsClient::new(graph))
}

/// One round: `n` calls of `op(i)` at concurrency `c`; the elapsed time
/// and each call's latency in microseconds. A failed call fails the round.
async fn round<F, Fut>(n: usize, c: usize, op: &F) -> Result<(Duration, Vec<u32>), String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    let workers = (0..c).map(|w| async move {
        let mut lat = Vec::with_capacity(n / c + 1);
        let mut i = w;
        while i < n {
            let t = Instant::now();
            op(i).await?;
            lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
            i += c;
        }
        Ok::<_, String>(lat)
    });
    let results = futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let mut all = Vec::with_capacity(n);
    for r in results {
        all.extend(r?);
    }
    Ok((elapsed, all))
}

#[derive(Default)]
struct Tally {
    rps: Vec<f64>,
    lat: Vec<u32>,
    cpu_ns: u64,
    calls: u64,
}

impl Tally {
    fn add(&mut self, elapsed: Duration, lat: Vec<u32>, cpu: u64) {
        self.rps.push(lat.len() as f64 / elapsed.as_secs_f64());
        self.calls += lat.len() as u64;
        self.lat.extend(lat);
        self.cpu_ns += cpu;
    }

    fn median_rps(&self) -> f64 {
        median(&self.rps)
    }

    fn cpu_us_per_req(&self) -> f64 {
        self.cpu_ns as f64 / 1000.0 / self.calls.max(1) as f64
    }

    fn percentile(&mut self, p: f64) -> u32 {
        self.lat.sort_unstable();
        let i = ((self.lat.len() as f64 - 1.0) * p).round() as usize;
        self.lat.get(i).copied().unwrap_or(0)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

async fn measured<F, Fut>(tally: &mut Tally, n: usize, c: usize, op: &F) -> Result<(), String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let cpu = cpu_ns();
    let (elapsed, lat) = round(n, c, op).await?;
    tally.add(elapsed, lat, cpu_ns().saturating_sub(cpu));
    Ok(())
}

struct Plan {
    rounds: usize,
    n1: usize,
    n32: usize,
    bulk_jobs: usize,
}

/// `graphsync-bench run`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wants = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let graphsync = args
        .iter()
        .position(|a| a == "--graphsync")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let plan = if quick {
        Plan {
            rounds: 1,
            n1: 200,
            n32: 1000,
            bulk_jobs: 2000,
        }
    } else {
        Plan {
            rounds: 7,
            n1: 3000,
            n32: 20_000,
            bulk_jobs: 100_000,
        }
    };
    let responder = Responder::start()?;
    let base = responder.base();
    // The client side runs on one thread, as the responder does: on two
    // cores, each gets one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        if wants("pipeline") {
            pipeline_benches(&base, &plan).await?;
        }
        if wants("token") {
            token_single_flight(&base).await?;
        }
        if wants("batch") {
            batch(&base, if quick { 200 } else { 1000 }).await?;
        }
        Ok::<_, String>(())
    })?;
    if wants("bulk_rss") {
        bulk_rss(responder.port, plan.bulk_jobs)?;
    }
    if let Some(path) = graphsync.filter(|_| wants("cold_start")) {
        cold_start(&path, if quick { 5 } else { 30 })?;
    }
    Ok(())
}

async fn pipeline_benches(base: &str, plan: &Plan) -> Result<(), String> {
    let raw: Client<HttpConnector, Full<Bytes>> = {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new()).build(connector)
    };
    let options = TransportOptions::default();
    let hyper_t: Arc<dyn Transport> =
        Arc::new(HyperTransport::with_options(&options).map_err(|e| e.to_string())?);
    let reqwest_t: Arc<dyn Transport> =
        Arc::new(ReqwestTransport::with_options(&options).map_err(|e| e.to_string())?);
    let candidates = [
        ("hyper", jobs_client(base, hyper_t)?),
        ("reqwest", jobs_client(base, reqwest_t)?),
    ];
    let token = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJyb2xlcyI6W119.";

    for bench in ["start", "get"] {
        for c in [1usize, 32] {
            let n = if c == 1 { plan.n1 } else { plan.n32 };
            // Requests name distinct jobs, as a fan-out over many jobs does,
            // and are built before the clock starts: that is the caller's work.
            let jobs: Vec<JobRef> = (0..n)
                .map(|i| JobRef::service_principal(SP, format!("scim.{i:032x}")))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            let uris: Vec<http::Uri> = jobs
                .iter()
                .map(|j| {
                    let suffix = if bench == "start" { "/start" } else { "" };
                    format!("{base}/v1.0{}{suffix}", j.path()).parse::<http::Uri>()
                })
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            let baseline_op = |i: usize| {
                let raw = &raw;
                let uri = uris[i].clone();
                async move {
                    let method = if bench == "start" {
                        http::Method::POST
                    } else {
                        http::Method::GET
                    };
                    let req = http::Request::builder()
                        .method(method)
                        .uri(uri)
                        .header(http::header::AUTHORIZATION, token)
                        .body(Full::new(Bytes::new()))
                        .map_err(|e| e.to_string())?;
                    let resp = raw.request(req).await.map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let _ = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| e.to_string())?;
                    if status.is_success() {
                        Ok(())
                    } else {
                        Err(format!("baseline got {status}"))
                    }
                }
            };
            // Warm up: connections, the token, the allocator.
            let warm = n.min(500);
            round(warm, c, &baseline_op).await?;
            let mut baseline = Tally::default();
            let mut tallies: Vec<Tally> = candidates.iter().map(|_| Tally::default()).collect();
            for (_, client) in &candidates {
                let client = client.with_start_guard(Duration::ZERO);
                let op = |i: usize| candidate_op(&client, bench, &jobs[i]);
                round(warm, c, &op).await?;
            }
            for _ in 0..plan.rounds {
                measured(&mut baseline, n, c, &baseline_op).await?;
                for (k, (_, client)) in candidates.iter().enumerate() {
                    // A fresh start guard each round: the same job ids come
                    // again, and the default guard is what users run with.
                    let client = client.with_start_guard(sync_jobs::DEFAULT_START_GUARD);
                    let op = |i: usize| candidate_op(&client, bench, &jobs[i]);
                    measured(&mut tallies[k], n, c, &op).await?;
                }
            }
            let b_rps = baseline.median_rps();
            let b_cpu = baseline.cpu_us_per_req();
            for (k, (name, _)) in candidates.iter().enumerate() {
                let t = &mut tallies[k];
                let rps = t.median_rps();
                let cpu = t.cpu_us_per_req();
                println!(
                    "{}",
                    json!({
                        "bench": bench,
                        "backend": name,
                        "concurrency": c,
                        "requests_per_round": n,
                        "rounds": plan.rounds,
                        "rps": rps.round(),
                        "p50_us": t.percentile(0.5),
                        "p99_us": t.percentile(0.99),
                        "cpu_us_per_req": round2(cpu),
                        "baseline_rps": b_rps.round(),
                        "baseline_p50_us": baseline.percentile(0.5),
                        "baseline_cpu_us_per_req": round2(b_cpu),
                        "ratio": round2(rps / b_rps),
                        "cpu_ratio": round2(cpu / b_cpu),
                    })
                );
            }
        }
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn candidate_op(client: &SyncJobsClient, bench: &str, job: &JobRef) -> Result<(), String> {
    if bench == "start" {
        client
            .start(job)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        client.get(job).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

async fn token_single_flight(base: &str) -> Result<(), String> {
    let raw: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    counts(&raw, base, true).await;
    let transport: Arc<dyn Transport> = Arc::new(
        HyperTransport::with_options(&TransportOptions::default()).map_err(|e| e.to_string())?,
    );
    let cloud = NationalCloud::custom(base, base).map_err(|e| e.to_string())?;
    let credential = ClientSecretCredential::new(
        TENANT,
        "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c01",
        "bench-secret",
        transport,
        CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
    )
    .map_err(|e| e.to_string())?;
    let scope = cloud.default_scope();
    let scopes: [&str; 1] = [&scope];
    let calls = 10_000;
    let started = Instant::now();
    let results =
        futures_util::future::join_all((0..calls).map(|_| credential.get_token(&scopes))).await;
    let elapsed = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let c = counts(&raw, base, false).await;
    println!(
        "{}",
        json!({
            "bench": "token_single_flight",
            "calls": calls,
            "succeeded": ok,
            "token_requests": c["token"],
            "elapsed_ms": round2(elapsed.as_secs_f64() * 1000.0),
        })
    );
    Ok(())
}

async fn batch(base: &str, jobs: usize) -> Result<(), String> {
    let raw: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let transport: Arc<dyn Transport> = Arc::new(
        HyperTransport::with_options(&TransportOptions::default()).map_err(|e| e.to_string())?,
    );
    let client = jobs_client(base, transport)?;
    let targets = |prefix: &str| -> Result<Vec<JobRef>, String> {
        (0..jobs)
            .map(|i| {
                JobRef::service_principal(SP, format!("{prefix}.{i:032x}"))
                    .map_err(|e| e.to_string())
            })
            .collect()
    };
    let run = |batched: bool, list: Vec<JobRef>| {
        let client = &client;
        async move {
            let started = Instant::now();
            let mut ok = 0usize;
            let mut stream = std::pin::pin!(client.bulk(
                BulkAction::Start { force: true },
                list,
                BulkOptions::default().batch(batched),
            ));
            while let Some(item) = stream.next().await {
                if matches!(item.result, BulkResult::Succeeded { .. }) {
                    ok += 1;
                }
            }
            (started.elapsed(), ok)
        }
    };
    // Warm the connection pool and the token.
    run(true, targets("warm")?).await;
    counts(&raw, base, true).await;
    let (batched, ok_b) = run(true, targets("batched")?).await;
    let requests = counts(&raw, base, false).await["graph"].clone();
    counts(&raw, base, true).await;
    let (single, ok_s) = run(false, targets("single")?).await;
    let single_requests = counts(&raw, base, false).await["graph"].clone();
    println!(
        "{}",
        json!({
            "bench": "batch",
            "jobs": jobs,
            "succeeded": ok_b.min(ok_s),
            "http_requests": requests,
            "single_http_requests": single_requests,
            "batched_ms": round2(batched.as_secs_f64() * 1000.0),
            "single_ms": round2(single.as_secs_f64() * 1000.0),
            "speedup_vs_single": round2(single.as_secs_f64() / batched.as_secs_f64()),
        })
    );
    Ok(())
}

/// Runs the bulk in a fresh process, so its peak memory is its own.
fn bulk_rss(port: u16, jobs: usize) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args([
            "bulk-rss",
            "--port",
            &port.to_string(),
            "--jobs",
            &jobs.to_string(),
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "bulk-rss failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

/// `graphsync-bench bulk-rss --port P --jobs N`.
pub(crate) fn bulk_rss_child(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or(format!("{flag} N is needed"))
    };
    let port = value("--port")?;
    let jobs = value("--jobs")?;
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let before = peak_rss_mib();
    let (ok, elapsed) = runtime.block_on(async {
        let transport: Arc<dyn Transport> = Arc::new(
            HyperTransport::with_options(&TransportOptions::default())
                .map_err(|e| e.to_string())?,
        );
        let client = jobs_client(&base, transport)?;
        // Jobs are made as the bulk asks for them, as a reader of a file
        // would: the input is never held whole.
        let input =
            (0..jobs).filter_map(|i| JobRef::service_principal(SP, format!("rss.{i:032x}")).ok());
        let started = Instant::now();
        let mut ok = 0usize;
        let mut stream = std::pin::pin!(client.bulk(
            BulkAction::Start { force: true },
            input,
            BulkOptions::default()
        ));
        while let Some(item) = stream.next().await {
            if matches!(item.result, BulkResult::Succeeded { .. }) {
                ok += 1;
            }
        }
        Ok::<_, String>((ok, started.elapsed()))
    })?;
    println!(
        "{}",
        json!({
            "bench": "bulk_rss",
            "jobs": jobs,
            "succeeded": ok,
            "peak_rss_mib": round2(peak_rss_mib()),
            "rss_before_mib": round2(before),
            "elapsed_s": round2(elapsed.as_secs_f64()),
        })
    );
    Ok(())
}

/// `graphsync --version`, run `runs` times: the median wall time.
fn cold_start(path: &str, runs: usize) -> Result<(), String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new(path)
            .arg("--version")
            .output()
            .map_err(|e| format!("{path}: {e}"))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if !out.status.success() {
            return Err(format!("{path} --version failed"));
        }
    }
    // The same measure of a process that does nothing, for scale.
    let mut floor = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let _ = Command::new("true").output();
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "{}",
        json!({
            "bench": "cold_start",
            "command": "graphsync --version",
            "runs": runs,
            "median_ms": round2(median(&times)),
            "baseline_true_median_ms": round2(median(&floor)),
        })
    );
    Ok(())
}
