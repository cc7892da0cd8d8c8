//! The CLI's safe start, bulk commands, confirmation, waiting, config file
//! and completions, against a `graphsync emulator` process.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;

use common::{EmulatorProcess, code, stderr_has, text};
use serde_json::Value;
use sync_emulator::{JobSeed, Seed};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "graphsync-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An emulator seeded with `n` extra paused jobs on the first service
/// principal; returns it and a CSV of those jobs.
fn emulator_with_jobs(
    n: usize,
    dir: &std::path::Path,
    extra: &[&str],
) -> (EmulatorProcess, PathBuf) {
    let mut seed = Seed::default_seed();
    let sp = &mut seed.service_principals[0];
    let mut csv = String::from("servicePrincipalId,jobId\n");
    for i in 0..n {
        let id = format!("scim.{i:032x}");
        sp.jobs.push(JobSeed::new(
            id.clone(),
            graph_model::SynchronizationStatusCode::Paused,
        ));
        csv.push_str(&format!("{},{id}\n", sp.id));
    }
    let seed_file = dir.join("seed.json");
    std::fs::write(&seed_file, serde_json::to_string(&seed).unwrap()).unwrap();
    let targets = dir.join("jobs.csv");
    std::fs::write(&targets, csv).unwrap();
    let mut args = vec!["--seed", seed_file.to_str().unwrap()];
    args.extend_from_slice(extra);
    (EmulatorProcess::start_with(&args), targets)
}

fn starts(emu: &EmulatorProcess) -> usize {
    emu.actions()
        .iter()
        .filter(|a| a["action"] == "start")
        .count()
}

#[test]
fn start_leaves_an_active_job_alone_unless_forced() {
    let emu = EmulatorProcess::start();
    let active = emu.job("Active");
    let sp = active["service_principal_id"].as_str().unwrap();
    let job = active["job_id"].as_str().unwrap();

    let out = emu.graphsync(&["start", "--sp", sp, "--job", job]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    stderr_has(&out, "skipped: already active");
    assert_eq!(starts(&emu), 0, "the emulator counted no start");

    // JSON says the same for scripts.
    let out = emu.graphsync(&["start", "--sp", sp, "--job", job, "-o", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"], "skipped: already active");
    assert_eq!(starts(&emu), 0);

    let out = emu.graphsync(&["start", "--sp", sp, "--job", job, "--force"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(starts(&emu), 1);
}

#[test]
fn a_graph_url_names_the_job_and_its_version() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let url = format!(
        "{}/beta/servicePrincipals/{}/synchronization/jobs/{}",
        emu.s("graph_url"),
        paused["service_principal_id"].as_str().unwrap(),
        paused["job_id"].as_str().unwrap()
    );
    let out = emu.graphsync(&["start", "--job", &url, "--pass-thru"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "true\n");
    let actions = emu.actions();
    assert_eq!(actions[0]["api_version"], "beta");

    // Another cloud's URL is refused before anything is sent.
    let other = url.replace(&emu.s("graph_url"), "https://graph.microsoft.us");
    let out = emu.graphsync(&["pause", "--job", &other]);
    assert_eq!(code(&out), 2);
    stderr_has(&out, "graph.microsoft.us");
}

#[test]
fn confirm_without_a_terminal_refuses_unless_yes() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let sp = paused["service_principal_id"].as_str().unwrap();
    let job = paused["job_id"].as_str().unwrap();
    let out = emu
        .command()
        .args(["start", "--sp", sp, "--job", job, "--confirm"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    stderr_has(&out, "--yes");
    assert!(emu.actions().is_empty(), "nothing was sent");

    let out = emu.graphsync(&["start", "--sp", sp, "--job", job, "--confirm", "--yes"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(starts(&emu), 1);

    // The other write commands ask too.
    let out = emu
        .command()
        .args(["delete", "--sp", sp, "--job", job, "--confirm"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let out = emu.graphsync(&["get", "--sp", sp, "--job", job]);
    assert_eq!(code(&out), 0, "the job was not deleted");
}

#[test]
fn bulk_start_of_500_jobs_from_a_file_batches_and_summarises() {
    let dir = temp_dir("bulk500");
    let (emu, targets) = emulator_with_jobs(500, &dir, &[]);
    let t = targets.to_str().unwrap();

    // What-if: every request, nothing sent.
    let out = emu.graphsync(&["start", "--from", t, "--force", "--what-if"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("500 jobs, sent in 25 JSON batch request(s)"));
    assert_eq!(emu.stats()["graph_requests"], 0);

    // Forced (no reads): 25 HTTP requests for 500 starts.
    let out = emu.graphsync(&["start", "--from", t, "--force", "-o", "ndjson"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 500);
    assert!(lines.iter().all(|l| l["result"] == "succeeded"));
    let stats = emu.stats();
    println!("forced bulk start of 500: {stats}");
    assert_eq!(stats["graph_requests"], 25);
    assert_eq!(stats["batch_requests"], 25);
    assert!(
        text(&out.stderr).contains("500 jobs: 500 succeeded, 0 skipped, 0 failed, 0 ambiguous")
    );

    // Again, safely: every job is running now, so nothing is started.
    let out = emu.graphsync(&["start", "--from", t, "-o", "json"]);
    assert_eq!(code(&out), 0);
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        all.iter()
            .all(|i| i["result"] == "skipped" && i["reason"] == "already active")
    );
    assert_eq!(starts(&emu), 500, "no second start of any job");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bulk_start_under_injected_429s_starts_each_job_once() {
    let dir = temp_dir("bulk429");
    let (emu, targets) = emulator_with_jobs(
        500,
        &dir,
        &[
            "--fault-seed",
            "11",
            "--fault-throttle",
            "0.1",
            "--fault-retry-after",
            "0.05",
        ],
    );
    let out = emu.graphsync(&["start", "--from", targets.to_str().unwrap(), "-o", "table"]);
    let stats = emu.stats();
    println!(
        "safe bulk start of 500 with 10% 429s: {stats}\n{}",
        text(&out.stderr)
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(stats["faults_injected"].as_u64().unwrap() > 0);
    // 500 reads and 500 starts fill 50 batches; throttled items are sent
    // again packed into full batches, so batches stay within a few of
    // items / 20. Whole batches throttled are retried by the pipeline.
    let items = stats["batched_items"].as_u64().unwrap();
    let batches = stats["batch_requests"].as_u64().unwrap();
    assert!(batches <= items.div_ceil(20) + 3, "{stats}");
    let summary = text(&out.stdout);
    assert_eq!(
        summary.lines().filter(|l| l.contains("succeeded")).count(),
        500
    );
    let mut per_job: HashMap<String, usize> = HashMap::new();
    for a in emu.actions().iter().filter(|a| a["action"] == "start") {
        *per_job
            .entry(a["job_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_job.len(), 500);
    assert!(per_job.values().all(|n| *n == 1), "nothing doubled");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exit_codes_for_partial_failure_and_ambiguous_outcomes() {
    let dir = temp_dir("exit");
    let (emu, targets) = emulator_with_jobs(5, &dir, &[]);
    // A job that does not exist among real ones: 3, and the summary says why.
    let mut csv = std::fs::read_to_string(&targets).unwrap();
    let sp = emu.job("Paused")["service_principal_id"]
        .as_str()
        .unwrap()
        .to_owned();
    csv.push_str(&format!("{sp},scim.missing\n"));
    let with_missing = dir.join("with-missing.csv");
    std::fs::write(&with_missing, csv).unwrap();
    let out = emu.graphsync(&[
        "pause",
        "--from",
        with_missing.to_str().unwrap(),
        "-o",
        "table",
    ]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("failed") && table.contains("404"), "{table}");

    // Every answer lost after the action was applied: restart cannot be
    // settled by a read, so the outcome is unknown: 4.
    let lossy = EmulatorProcess::start_with(&["--fault-gateway-timeout", "1"]);
    let p = lossy.job("Paused");
    let q = lossy.job("Quarantine");
    let out = lossy.graphsync(&[
        "restart",
        "--job",
        &format!(
            "{}/v1.0/servicePrincipals/{}/synchronization/jobs/{}",
            lossy.s("graph_url"),
            p["service_principal_id"].as_str().unwrap(),
            p["job_id"].as_str().unwrap()
        ),
        "--job",
        &format!(
            "{}/v1.0/servicePrincipals/{}/synchronization/jobs/{}",
            lossy.s("graph_url"),
            q["service_principal_id"].as_str().unwrap(),
            q["job_id"].as_str().unwrap()
        ),
    ]);
    assert_eq!(code(&out), 4, "{}", text(&out.stderr));
    stderr_has(&out, "ambiguous");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn all_jobs_of_an_owner_filtered_by_template() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let sp = paused["service_principal_id"].as_str().unwrap();
    let template = paused["job_id"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let out = emu.graphsync(&[
        "pause",
        "--sp",
        sp,
        "--all",
        "--template",
        &template,
        "-o",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|i| i["jobId"].as_str().unwrap().starts_with(&template))
    );
    let out = emu.graphsync(&["pause", "--sp", sp, "--all", "--template", "nosuchtemplate"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stderr).contains("no jobs matched"));
}

#[test]
fn wait_follows_the_job_and_fails_on_quarantine() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let out = emu.graphsync(&[
        "start",
        "--sp",
        paused["service_principal_id"].as_str().unwrap(),
        "--job",
        paused["job_id"].as_str().unwrap(),
        "--wait",
        "--interval",
        "0.1",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    stderr_has(&out, "reached Active");

    // A quarantined job restarted without lifting the quarantine stays in
    // it: --wait says so and exits 1.
    let q = emu.job("Quarantine");
    let out = emu.graphsync(&[
        "restart",
        "--sp",
        q["service_principal_id"].as_str().unwrap(),
        "--job",
        q["job_id"].as_str().unwrap(),
        "--scope",
        "Watermark",
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "5",
    ]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    stderr_has(&out, "quarantine");
}

#[test]
fn the_config_file_supplies_what_flags_and_environment_do_not() {
    let emu = EmulatorProcess::start();
    let dir = temp_dir("config");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "graph_url = \"{}\"\nauthority_host = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nauth = \"secret\"\n[defaults]\noutput = \"json\"\n",
            emu.s("graph_url"),
            emu.s("authority_host"),
            emu.s("tenant_id"),
            emu.s("client_id")
        ),
    )
    .unwrap();
    let paused = emu.job("Paused");
    let run = |extra_env: &[(&str, &str)], args: &[&str]| {
        let mut c = std::process::Command::new(common::BIN);
        c.env_clear()
            .env("AZURE_CLIENT_SECRET", emu.s("client_secret"))
            .env("GRAPHSYNC_CONFIG", &config);
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    let sp = paused["service_principal_id"].as_str().unwrap();
    let job = paused["job_id"].as_str().unwrap();
    // Only the secret comes from the environment; the output default is JSON.
    let out = run(&[], &["get", "--sp", sp, "--job", job]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"]["code"], "Paused");
    // The environment wins over the file: a wrong tenant fails.
    let out = run(
        &[("AZURE_TENANT_ID", "contoso.onmicrosoft.com")],
        &["get", "--sp", sp, "--job", job],
    );
    assert_ne!(code(&out), 0);
    // A flag wins over both.
    let out = run(&[], &["get", "--sp", sp, "--job", job, "-o", "table"]);
    assert!(text(&out.stdout).contains("FIELD"), "{}", text(&out.stdout));
    // A secret in the file is refused, by name.
    std::fs::write(&config, "client_secret = \"x\"\n").unwrap();
    let out = run(&[], &["get", "--sp", sp, "--job", job]);
    assert_eq!(code(&out), 2);
    stderr_has(&out, "client_secret");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_for_each_shell_and_exit_codes_in_help() {
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(common::BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0);
        let script = text(&out.stdout);
        assert!(
            script.contains("graphsync") && script.contains("start"),
            "{shell}"
        );
    }
    let out = std::process::Command::new(common::BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for line in [
        "3  a bulk command failed for some jobs",
        "4  the outcome is unknown",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn bulk_from_stdin() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let q = emu.job("Quarantine");
    let list = format!(
        "{} {}\n{} {}\n",
        paused["service_principal_id"].as_str().unwrap(),
        paused["job_id"].as_str().unwrap(),
        q["service_principal_id"].as_str().unwrap(),
        q["job_id"].as_str().unwrap()
    );
    let mut child = emu
        .command()
        .args(["start", "--from", "-", "-o", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 2);
    assert_eq!(starts(&emu), 2);
}

/// On a terminal (a pty, through Python's `pty`), `--wait` draws a live
/// progress line: a spinner, the state, the progress units, redrawn in
/// place; piped, it prints plain lines (the tests above).
#[cfg(unix)]
#[test]
fn wait_shows_live_progress_on_a_terminal() {
    let python = ["python3", "python"].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok()
    });
    let Some(python) = python else {
        panic!("python3 is needed for the terminal test (it drives a pty)");
    };
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pty_run.py");
    let running = std::process::Command::new(python)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm-256color")
        .env("GRAPH_URL", emu.s("graph_url"))
        .env("AZURE_AUTHORITY_HOST", emu.s("authority_host"))
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env("AZURE_CLIENT_ID", emu.s("client_id"))
        .env("AZURE_CLIENT_SECRET", emu.s("client_secret"))
        .args([
            script,
            common::BIN,
            "start",
            "--sp",
            paused["service_principal_id"].as_str().unwrap(),
            "--job",
            paused["job_id"].as_str().unwrap(),
            "--wait",
            "--until",
            "steady",
            "--interval",
            "0.2",
            "--timeout",
            "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it draw a few frames on the running job, then let the virtual
    // clock run through the cycle so it reaches steady state.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    emu.control("POST", "clock/advance", r#"{"seconds":1800}"#);
    let out = running.wait_with_output().unwrap();
    let screen = text(&out.stdout);
    println!("{screen:?}");
    assert_eq!(code(&out), 0, "{screen}\n{}", text(&out.stderr));
    assert!(
        screen.contains("Active · 0/1 Users"),
        "the live line shows state and units: {screen:?}"
    );
    assert!(
        screen.contains('\r') || screen.contains("\u{1b}["),
        "redrawn in place: {screen:?}"
    );
    assert!(screen.contains("reached Steady"), "{screen:?}");
}

/// `get` colours the state on a terminal only, and never with NO_COLOR.
#[cfg(unix)]
#[test]
fn get_colours_the_state_on_a_terminal_unless_no_color() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pty_run.py");
    let run = |no_color: bool| {
        let mut c = std::process::Command::new("python3");
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GRAPH_URL", emu.s("graph_url"))
            .env("AZURE_AUTHORITY_HOST", emu.s("authority_host"))
            .env("AZURE_TENANT_ID", emu.s("tenant_id"))
            .env("AZURE_CLIENT_ID", emu.s("client_id"))
            .env("AZURE_CLIENT_SECRET", emu.s("client_secret"));
        if no_color {
            c.env("NO_COLOR", "1");
        }
        let out = c
            .args([
                script,
                common::BIN,
                "get",
                "--sp",
                paused["service_principal_id"].as_str().unwrap(),
                "--job",
                paused["job_id"].as_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let coloured = run(false);
    assert!(
        coloured.contains("\u{1b}[33mPaused\u{1b}[0m"),
        "{coloured:?}"
    );
    assert!(coloured.contains("steady state"), "{coloured:?}");
    let plain = run(true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("Paused"));
}

#[test]
fn watch_follows_many_jobs_until_they_are_active() {
    let dir = temp_dir("watch");
    let (emu, targets) = emulator_with_jobs(3, &dir, &[]);
    let t = targets.to_str().unwrap();
    // Paused, so --until active is not reached: it stops at --count.
    let out = emu.graphsync(&[
        "watch",
        "--from",
        t,
        "--interval",
        "0.1",
        "--count",
        "2",
        "-o",
        "ndjson",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one line per job, and none for an unchanged state"
    );
    assert!(lines.iter().all(|l| l["state"] == "Paused"));

    let out = emu.graphsync(&["start", "--from", t]);
    assert_eq!(code(&out), 0);
    let out = emu.graphsync(&[
        "watch",
        "--from",
        t,
        "--interval",
        "0.1",
        "--until",
        "active",
        "--timeout",
        "10",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout)
            .lines()
            .filter(|l| l.contains("Active"))
            .count(),
        3
    );

    // A state that never comes: --timeout ends it with 1.
    let out = emu.graphsync(&[
        "watch",
        "--from",
        t,
        "--interval",
        "0.1",
        "--until",
        "paused",
        "--timeout",
        "0.5",
    ]);
    assert_eq!(code(&out), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
