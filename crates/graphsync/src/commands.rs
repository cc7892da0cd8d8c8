//! The subcommands.

use std::io::Write as _;
use std::time::Instant;

use graph_model::{JobRef, NationalCloud, SynchronizationJob};
use graph_transport::HttpRequest;
use http::header::AUTHORIZATION;
use sync_emulator::{Emulator, EmulatorOptions, Seed};
use sync_jobs::StartOptions;

use crate::config::{Conn, Settings};
use crate::report::render;
use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, EmulatorArgs};

/// The what-if text: the operation, then the request exactly as it would
/// go out, with the bearer token replaced by a placeholder.
pub(crate) fn what_if(operation: &str, target: &str, http: &HttpRequest) -> String {
    let mut out = format!(
        "What if: Performing the operation \"{operation}\" on target \"{target}\".\n{} {}\n",
        http.method, http.url
    );
    out.push_str("authorization: Bearer <redacted>\n");
    for (name, value) in &http.headers {
        if name == AUTHORIZATION {
            continue;
        }
        out.push_str(&format!(
            "{name}: {}\n",
            value.to_str().unwrap_or("<binary>")
        ));
    }
    if http.body.is_empty() {
        out.push_str("\n(no body)\n");
    } else {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&http.body));
        out.push('\n');
    }
    out.push_str("Nothing was sent.\n");
    out
}

/// `graphsync emulator`.
pub(crate) async fn emulator(args: EmulatorArgs) -> u8 {
    let seed = match &args.seed {
        None => Seed::default_seed(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Seed::from_json(&text).map_err(|e| e.to_string()))
        {
            Ok(seed) => seed,
            Err(e) => {
                eprintln!("error: seed file {}: {e}", path.display());
                return EXIT_USAGE;
            }
        },
    };
    let emu = match Emulator::start(
        EmulatorOptions::with_seed(seed)
            .port(args.port)
            .page_size(usize::from(args.page_size))
            .faults(args.faults.options()),
    )
    .await
    {
        Ok(emu) => emu,
        Err(e) => {
            eprint!("{}", render(&e, ""));
            return EXIT_FAILED;
        }
    };
    let info = emu.info();
    // The first stdout line is for scripts: one JSON object.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{}",
        serde_json::to_string(&info).unwrap_or_default()
    );
    let _ = stdout.flush();
    drop(stdout);
    eprintln!(
        "graphsync emulator listening on {url} (Ctrl-C to stop)\n\
         Point graphsync at it with:\n  \
         export GRAPH_URL={url} AZURE_AUTHORITY_HOST={url} AZURE_TENANT_ID={tenant} \\\n         \
         AZURE_CLIENT_ID={client} AZURE_CLIENT_SECRET={secret}",
        url = info.graph_url,
        tenant = info.tenant_id,
        client = info.client_id,
        secret = info.client_secret,
    );
    for job in &info.jobs {
        eprintln!(
            "  {:<14} --service-principal {} --job {}",
            job.status, job.service_principal_id, job.job_id
        );
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: could not wait for Ctrl-C: {e}");
    }
    emu.shutdown().await;
    EXIT_OK
}

/// `graphsync demo`.
pub(crate) async fn demo(conn: Conn) -> u8 {
    match demo_inner(conn).await {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprint!("{message}");
            EXIT_FAILED
        }
    }
}

fn describe(job: &SynchronizationJob) -> String {
    let code = job
        .status
        .code
        .as_ref()
        .map_or("unknown".to_owned(), ToString::to_string);
    let schedule = job
        .schedule
        .state
        .as_ref()
        .map_or("unknown".to_owned(), ToString::to_string);
    format!("status {code}, schedule {schedule}")
}

async fn demo_inner(conn: Conn) -> Result<(), String> {
    let started = Instant::now();
    println!(
        "graphsync demo: start a paused synchronization job, through every layer, against a local emulator.\n"
    );

    let emu = Emulator::start(EmulatorOptions::default())
        .await
        .map_err(|e| render(&e, ""))?;
    let info = emu.info();
    let paused = info
        .jobs
        .iter()
        .find(|j| j.status == "Paused")
        .ok_or("the default seed has no paused job")?
        .clone();
    println!(
        "1. Emulator listening at {} (tenant {}).",
        info.graph_url, info.tenant_id
    );

    let cloud =
        NationalCloud::custom(&info.graph_url, &info.authority_host).map_err(|e| render(&e, ""))?;
    let settings = Settings {
        cloud,
        allow_http_loopback: true,
        tenant_id: Some(info.tenant_id.clone()),
        client_id: Some(info.client_id.clone()),
        client_secret: Some(info.client_secret.clone()),
        env: Default::default(),
    };
    // The demo signs in with the emulator's client secret, whatever --auth says.
    let conn = Conn {
        auth: crate::config::AuthKind::Secret,
        ..conn
    };
    let jobs = settings.jobs_client(conn).map_err(|e| render(&e, ""))?;
    println!(
        "2. Client {} signs in with a client secret at {}/{}/oauth2/v2.0/token.",
        info.client_id, info.authority_host, info.tenant_id
    );

    let job = JobRef::service_principal(&paused.service_principal_id, &paused.job_id)
        .map_err(|e| format!("error: {e}\n"))?;
    let before = jobs.get(&job).await.map_err(|e| render(&e, "get"))?;
    println!(
        "3. GET {}\n   → 200 OK: {}.",
        jobs.graph()
            .prepare(&graph_model::requests::get_job(
                &job,
                graph_model::ApiVersion::V1
            ))
            .map(|r| r.url.to_string())
            .unwrap_or_default(),
        describe(&before)
    );

    let outcome = jobs.start(&job).await.map_err(|e| render(&e, "start"))?;
    let start_url = jobs
        .start_request(&job, &StartOptions::default())
        .ok()
        .and_then(|r| jobs.graph().prepare(&r).ok())
        .map(|r| r.url.to_string())
        .unwrap_or_default();
    println!(
        "4. POST {start_url}\n   → {} No Content (request-id {}).",
        outcome.status,
        outcome.request_id.as_deref().unwrap_or("none")
    );

    let after = jobs.get(&job).await.map_err(|e| render(&e, "get"))?;
    println!("5. GET the job again\n   → 200 OK: {}.", describe(&after));

    let actions = emu.actions();
    let stats = emu.stats();
    println!(
        "\nThe emulator applied {} action(s): {}; it served {} token request(s) and {} Graph request(s).",
        actions.len(),
        actions
            .iter()
            .map(|a| format!("{} {} → {}", a.action, a.status_before, a.status_after))
            .collect::<Vec<_>>()
            .join(", "),
        stats.token_requests,
        stats.graph_requests,
    );
    emu.shutdown().await;
    let ok = after.status.code == Some(graph_model::SynchronizationStatusCode::Active)
        && actions.len() == 1;
    if !ok {
        return Err(format!(
            "error: expected the job to be Active after one start, got {}\n",
            describe(&after)
        ));
    }
    println!(
        "Done in {} ms: the job was Paused and is now Active.",
        started.elapsed().as_millis()
    );
    Ok(())
}
