//! The `graphsync` binary against a running `graphsync emulator` process.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;

use serde_json::Value;

mod common;

use common::{BIN, EmulatorProcess, stderr_has, text};

#[test]
fn emulator_prints_connection_details_and_the_seeded_jobs() {
    let emu = EmulatorProcess::start();
    assert!(emu.s("graph_url").starts_with("http://127.0.0.1:"));
    assert_eq!(emu.s("graph_url"), emu.s("authority_host"));
    let statuses: Vec<&str> = emu.info["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    for status in ["Paused", "Quarantine", "Active", "NotConfigured"] {
        assert!(statuses.contains(&status), "{statuses:?}");
    }
    for job in emu.info["jobs"].as_array().unwrap() {
        for key in [
            "service_principal_id",
            "application_id",
            "app_id",
            "job_id",
            "status",
        ] {
            assert!(job[key].is_string(), "{key} in {job}");
        }
    }
}

#[test]
fn start_then_get_shows_the_job_active() {
    let emu = EmulatorProcess::start();
    let job = emu.job("Paused");
    let sp = job["service_principal_id"].as_str().unwrap();
    let id = job["job_id"].as_str().unwrap();

    let out = emu.graphsync(&["start", "--service-principal", sp, "--job", id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "",
        "start prints nothing on stdout without --pass-thru"
    );
    stderr_has(&out, "204 No Content");

    let out = emu.graphsync(&["get", "--service-principal", sp, "--job", id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["id"], id);
    assert_eq!(got["status"]["code"], "Active");
    assert_eq!(emu.actions().len(), 1);
}

#[test]
fn pass_thru_prints_true_for_each_owner_form_and_version() {
    let emu = EmulatorProcess::start();
    let job = emu.job("Quarantine");
    let id = job["job_id"].as_str().unwrap();
    let forms: [[&str; 2]; 3] = [
        [
            "--service-principal",
            job["service_principal_id"].as_str().unwrap(),
        ],
        ["--application", job["application_id"].as_str().unwrap()],
        ["--app-id", job["app_id"].as_str().unwrap()],
    ];
    for (i, form) in forms.iter().enumerate() {
        let mut args = vec!["start", form[0], form[1], "--job", id, "--pass-thru"];
        if i == 1 {
            args.push("--beta");
        }
        // The first start made the job Active: the others must insist.
        if i > 0 {
            args.push("--force");
        }
        let out = emu.graphsync(&args);
        assert!(out.status.success(), "{form:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "true\n");
    }
    let actions = emu.actions();
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0]["status_before"], "Quarantine");
    assert_eq!(actions[1]["api_version"], "beta");
    assert_eq!(actions[2]["addressed_as"], "servicePrincipals(appId)");
}

#[test]
fn what_if_prints_the_request_and_sends_nothing() {
    let emu = EmulatorProcess::start();
    let job = emu.job("Paused");
    let sp = job["service_principal_id"].as_str().unwrap();
    let id = job["job_id"].as_str().unwrap();
    let out = emu.graphsync(&[
        "start",
        "--service-principal",
        sp,
        "--job",
        id,
        "--what-if",
        "--client-request-id",
        "fixed-id",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let expected_url = format!(
        "POST {}/v1.0/servicePrincipals/{sp}/synchronization/jobs/{id}/start\n",
        emu.s("graph_url")
    );
    assert!(
        printed.starts_with("What if: Performing the operation \"Start\""),
        "{printed}"
    );
    assert!(printed.contains(&expected_url), "{printed}");
    assert!(
        printed.contains("authorization: Bearer <redacted>\n"),
        "{printed}"
    );
    assert!(
        printed.contains("client-request-id: fixed-id\n"),
        "{printed}"
    );
    assert!(printed.contains("content-length: 0\n"), "{printed}");
    assert!(printed.contains("Nothing was sent."), "{printed}");
    assert!(!printed.contains(&emu.s("client_secret")));
    assert!(emu.actions().is_empty(), "what-if must not start anything");

    // And without any credentials at all.
    let out = Command::new(BIN)
        .args([
            "start",
            "--app-id",
            "x",
            "--job",
            "y",
            "--what-if",
            "--beta",
        ])
        .env_clear()
        .env("GRAPH_CLOUD", "usgov")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(
        "POST https://graph.microsoft.us/beta/servicePrincipals(appId='x')/synchronization/jobs/y/start"
    ));
}

#[test]
fn failures_print_code_ids_and_exit_non_zero() {
    let emu = EmulatorProcess::start();
    let job = emu.job("Paused");
    let sp = job["service_principal_id"].as_str().unwrap();
    let out = emu.graphsync(&["start", "--service-principal", sp, "--job", "scim.nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: Graph answered 404 Not Found: ResourceNotFound"),
        "{err}"
    );
    assert!(err.contains("(request-id "), "{err}");
    assert!(err.contains("client-request-id: "), "{err}");

    // Missing credentials: a usage error that names what is missing.
    let out = Command::new(BIN)
        .args([
            "get",
            "--auth",
            "secret",
            "--service-principal",
            sp,
            "--job",
            "x",
        ])
        .env_clear()
        .env("GRAPH_URL", emu.s("graph_url"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"));

    // A wrong secret: the Entra error, never the secret.
    let out = Command::new(BIN)
        .args(["start", "--service-principal", sp, "--job", "x"])
        .env_clear()
        .env("GRAPH_URL", emu.s("graph_url"))
        .env("AZURE_AUTHORITY_HOST", emu.s("authority_host"))
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env("AZURE_CLIENT_ID", emu.s("client_id"))
        .env("AZURE_CLIENT_SECRET", "wrong-secret-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("invalid_client") && err.contains("AADSTS7000215"),
        "{err}"
    );
    assert!(!err.contains("wrong-secret-value"), "{err}");

    // Two owners at once, or none: clap's usage error.
    let out = Command::new(BIN)
        .args([
            "start",
            "--service-principal",
            "a",
            "--application",
            "b",
            "--job",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(emu.actions().is_empty());
}

#[test]
fn both_backends_work_from_the_cli() {
    let emu = EmulatorProcess::start();
    let job = emu.job("Active");
    let sp = job["service_principal_id"].as_str().unwrap();
    let id = job["job_id"].as_str().unwrap();
    for backend in ["reqwest", "hyper"] {
        let out = emu.graphsync(&["--transport", backend, "get", "--sp", sp, "--job", id]);
        assert!(out.status.success(), "{backend}: {}", text(&out.stderr));
    }
}

#[test]
fn demo_walks_through_and_exits_zero() {
    let out = Command::new(BIN).arg("demo").env_clear().output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("status Paused"), "{printed}");
    assert!(printed.contains("204 No Content"), "{printed}");
    assert!(printed.contains("status Active"), "{printed}");
    assert!(printed.contains("start Paused → Active"), "{printed}");
}
