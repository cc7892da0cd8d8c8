//! Every job subcommand of the `graphsync` binary against a running
//! `graphsync emulator` process over loopback HTTP.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;

use serde_json::Value;

mod common;

use common::{BIN, EmulatorProcess, code, stderr_has, text};

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn create_list_across_pages_get_delete() {
    let emu = EmulatorProcess::start_with(&["--page-size", "2"]);
    let paused = emu.job("Paused");
    let sp = paused["service_principal_id"].as_str().unwrap();

    let mut created = Vec::new();
    for _ in 0..3 {
        let job = json(&emu.graphsync(&["create", "--sp", sp, "--template", "scim", "-o", "json"]));
        assert_eq!(job["status"]["code"], "NotConfigured");
        assert_eq!(job["schedule"]["state"], "Disabled");
        created.push(job["id"].as_str().unwrap().to_owned());
    }
    // Four jobs, two per page: the CLI follows the next link.
    let list = json(&emu.graphsync(&["list", "--sp", sp, "-o", "json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    for id in &created {
        assert!(ids.contains(&id.as_str()));
    }
    let table = emu.graphsync(&["list", "--sp", sp, "-o", "table"]);
    let table = text(&table.stdout);
    assert!(table.starts_with("JOB"), "{table}");
    assert_eq!(table.lines().count(), 5, "{table}");

    let summary = emu.graphsync(&["get", "--sp", sp, "--job", &created[0], "-o", "table"]);
    let summary = text(&summary.stdout);
    assert!(summary.contains("NotConfigured"), "{summary}");
    assert!(
        summary.contains("last run") && summary.contains("never"),
        "{summary}"
    );

    let deleted = emu.graphsync(&["delete", "--sp", sp, "--job", &created[0], "--pass-thru"]);
    assert_eq!(text(&deleted.stdout), "true\n", "{}", text(&deleted.stderr));
    let gone = emu.graphsync(&["get", "--sp", sp, "--job", &created[0]]);
    assert_eq!(code(&gone), 1);
    stderr_has(&gone, "ResourceNotFound");
}

#[test]
fn pause_then_restart_with_a_scope_and_what_if_sends_nothing() {
    let emu = EmulatorProcess::start();
    let active = emu.job("Active");
    let sp = active["service_principal_id"].as_str().unwrap();
    let job = active["job_id"].as_str().unwrap();

    let out = emu.graphsync(&["pause", "--sp", sp, "--job", job, "-o", "json"]);
    let outcome = json(&out);
    assert_eq!(outcome["status"], 204);
    assert_eq!(outcome["operation"], "pause");
    let got = json(&emu.graphsync(&["get", "--sp", sp, "--job", job, "-o", "json"]));
    assert_eq!(got["status"]["code"], "Paused");

    let before = emu.actions().len();
    let what_if = emu.graphsync(&[
        "restart",
        "--sp",
        sp,
        "--job",
        job,
        "--scope",
        "Watermark, Escrows",
        "--scope",
        "QuarantineState",
        "--what-if",
    ]);
    assert_eq!(code(&what_if), 0, "{}", text(&what_if.stderr));
    let shown = text(&what_if.stdout);
    assert!(shown.contains("/restart"), "{shown}");
    assert!(
        shown.contains(r#"{"criteria":{"resetScope":"Escrows, Watermark, QuarantineState"}}"#),
        "{shown}"
    );
    assert!(shown.contains("Bearer <redacted>"));
    assert_eq!(emu.actions().len(), before, "what-if sent nothing");

    let out = emu.graphsync(&[
        "restart",
        "--sp",
        sp,
        "--job",
        job,
        "--scope",
        "Watermark,Escrows,QuarantineState",
        "--pass-thru",
    ]);
    assert_eq!(text(&out.stdout), "true\n", "{}", text(&out.stderr));
    let last = emu.actions().pop().unwrap();
    assert_eq!(last["action"], "restart");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .starts_with("resetScope Escrows, Watermark, QuarantineState"),
        "{last}"
    );
    let got = json(&emu.graphsync(&["get", "--sp", sp, "--job", job, "-o", "json"]));
    assert_eq!(
        got["status"]["code"], "NotRun",
        "watermark cleared: a full cycle runs"
    );

    let bad = emu.graphsync(&["restart", "--sp", sp, "--job", job, "--scope", "Everything"]);
    assert_eq!(code(&bad), 2);
    stderr_has(&bad, "unknown flag");
}

#[test]
fn schema_provision_secrets_validate_and_templates() {
    let emu = EmulatorProcess::start();
    let nc = emu.job("NotConfigured");
    let sp = nc["service_principal_id"].as_str().unwrap();
    let job = nc["job_id"].as_str().unwrap();

    let schema = json(&emu.graphsync(&["schema", "--sp", sp, "--job", job, "-o", "json"]));
    let rule = schema["synchronizationRules"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        schema["directories"].is_array(),
        "unknown parts are printed too"
    );

    // Round trip the schema through a file.
    let dir = std::env::temp_dir().join(format!("graphsync-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("schema.json");
    std::fs::write(&file, serde_json::to_vec(&schema).unwrap()).unwrap();
    let out = emu.graphsync(&[
        "schema",
        "--sp",
        sp,
        "--job",
        job,
        "--replace",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    let out = emu.graphsync(&[
        "provision",
        "--sp",
        sp,
        "--job",
        job,
        "--rule",
        &rule,
        "--subject",
        "52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76",
        "-o",
        "table",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("result: Success"), "{shown}");
    assert!(shown.contains("EntryExportAdd"), "{shown}");
    let out = emu.graphsync(&[
        "provision",
        "--sp",
        sp,
        "--job",
        job,
        "--rule",
        &rule,
        "--subject",
        "g-1:Group",
        "-o",
        "json",
    ]);
    assert_eq!(json(&out)["outcome"]["result"], "Success");

    let saved = emu.graphsync(&["validate-credentials", "--sp", sp, "--job", job, "--saved"]);
    assert_eq!(code(&saved), 1, "no secrets saved yet");
    assert!(text(&saved.stderr).contains("CredentialValidationFailed"));
    let out = emu.graphsync(&[
        "secrets",
        "--sp",
        sp,
        "--set",
        "BaseAddress=https://scim.example.com",
        "--set",
        "SecretToken=hunter2",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("hunter2"));
    let what_if = emu.graphsync(&[
        "secrets",
        "--sp",
        sp,
        "--set",
        "SecretToken=hunter2",
        "--what-if",
    ]);
    assert!(
        !text(&what_if.stdout).contains("hunter2"),
        "{}",
        text(&what_if.stdout)
    );
    let saved = emu.graphsync(&[
        "validate-credentials",
        "--sp",
        sp,
        "--job",
        job,
        "--saved",
        "--pass-thru",
    ]);
    assert_eq!(text(&saved.stdout), "true\n", "{}", text(&saved.stderr));
    let collection = emu.graphsync(&[
        "validate-credentials",
        "--sp",
        sp,
        "--template",
        "SfSandboxOutDelta",
        "--credential",
        "BaseAddress=https://scim.example.com",
        "--credential",
        "SecretToken=t",
    ]);
    assert_eq!(code(&collection), 0, "{}", text(&collection.stderr));
    let token = emu.graphsync(&[
        "acquire-access-token",
        "--sp",
        sp,
        "--credential",
        "BaseAddress=https://scim.example.com",
        "--credential",
        "SecretToken=t",
        "--pass-thru",
    ]);
    assert_eq!(text(&token.stdout), "true\n", "{}", text(&token.stderr));
    let bad_key = emu.graphsync(&["secrets", "--sp", sp, "--set", "Nonsense=1"]);
    assert_eq!(code(&bad_key), 2);

    let ping = emu.graphsync(&["ping", "--sp", sp]);
    assert!(
        text(&ping.stdout).contains("reachable"),
        "{}",
        text(&ping.stderr)
    );
    let templates = json(&emu.graphsync(&["templates", "--sp", sp, "-o", "json"]));
    assert_eq!(templates[0]["id"], "SfSandboxOutDelta");
    let beta = json(&emu.graphsync(&[
        "templates",
        "--sp",
        sp,
        "--template",
        "SfSandboxOutDelta",
        "--beta",
        "-o",
        "json",
    ]));
    assert_eq!(beta["metadata"][0]["key"], "GalleryApplicationIdentifier");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_subcommand_documents_itself_with_an_example() {
    for sub in [
        "start",
        "pause",
        "restart",
        "provision",
        "validate-credentials",
        "get",
        "list",
        "create",
        "delete",
        "schema",
        "secrets",
        "templates",
    ] {
        let out = Command::new(BIN).args([sub, "--help"]).output().unwrap();
        let help = text(&out.stdout);
        assert!(out.status.success(), "{sub}");
        assert!(
            help.contains("Example"),
            "{sub} --help has no example:\n{help}"
        );
        assert!(
            help.contains("--output") || help.contains("--pass-thru") || sub == "schema",
            "{sub}"
        );
    }
}

#[test]
fn each_auth_kind_signs_in_against_the_emulator() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let sp = paused["service_principal_id"].as_str().unwrap();
    let job = paused["job_id"].as_str().unwrap();
    let base = |auth: &str| {
        let mut c = Command::new(BIN);
        c.args([
            "get", "--auth", auth, "--sp", sp, "--job", job, "-o", "json",
        ])
        .env_clear()
        .env("GRAPH_URL", emu.s("graph_url"))
        .env("AZURE_AUTHORITY_HOST", emu.s("authority_host"));
        c
    };
    // Managed identity through the App Service endpoint.
    let out = base("managed-identity")
        .env("IDENTITY_ENDPOINT", emu.s("identity_endpoint"))
        .env("IDENTITY_HEADER", emu.s("identity_header"))
        .output()
        .unwrap();
    assert_eq!(json(&out)["status"]["code"], "Paused");
    // The same by default (no secret in the environment).
    let out = base("auto")
        .env("IDENTITY_ENDPOINT", emu.s("identity_endpoint"))
        .env("IDENTITY_HEADER", emu.s("identity_header"))
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(json(&out)["status"]["code"], "Paused");
    // Secret explicitly.
    let out = base("secret")
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env("AZURE_CLIENT_ID", emu.s("client_id"))
        .env("AZURE_CLIENT_SECRET", emu.s("client_secret"))
        .output()
        .unwrap();
    assert_eq!(json(&out)["status"]["code"], "Paused");
    // A certificate (the emulator's public test client).
    let dir = std::env::temp_dir().join(format!("graphsync-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("client.pem");
    std::fs::write(&pem, sync_emulator::default_ids::CERTIFICATE_CLIENT_PEM).unwrap();
    let out = base("certificate")
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env(
            "AZURE_CLIENT_ID",
            sync_emulator::default_ids::CERTIFICATE_CLIENT_ID,
        )
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pem)
        .output()
        .unwrap();
    assert_eq!(json(&out)["status"]["code"], "Paused");
    // The same certificate as PKCS#12, through `--auth env` (no secret set,
    // so the environment's certificate is used).
    let pfx = dir.join("client.pfx");
    std::fs::write(&pfx, sync_emulator::default_ids::CERTIFICATE_CLIENT_PFX).unwrap();
    let out = base("env")
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env(
            "AZURE_CLIENT_ID",
            sync_emulator::default_ids::CERTIFICATE_CLIENT_ID,
        )
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &pfx)
        .env(
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            sync_emulator::default_ids::CERTIFICATE_CLIENT_PFX_PASSWORD,
        )
        .output()
        .unwrap();
    assert_eq!(
        json(&out)["status"]["code"],
        "Paused",
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    // whoami shows the identity from the token's claims, never the token.
    let out = emu.graphsync(&["whoami", "-o", "json"]);
    let me = json(&out);
    assert_eq!(me["client_id"], emu.s("client_id"));
    assert_eq!(me["tenant_id"], emu.s("tenant_id"));
    assert_eq!(me["roles"][0], "Synchronization.ReadWrite.All");
    assert!(!text(&out.stdout).contains("eyJ"), "no token printed");
    // Workload identity without its variables: a clear error.
    let out = base("workload-identity").output().unwrap();
    assert_eq!(code(&out), 2);
    stderr_has(&out, "AZURE_TENANT_ID is not set");
}

#[test]
fn a_403_names_the_permission_the_action_needs() {
    let emu = EmulatorProcess::start();
    let paused = emu.job("Paused");
    let sp = paused["service_principal_id"].as_str().unwrap();
    let job = paused["job_id"].as_str().unwrap();
    let reader = &emu.info["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["roles"][0] == "Synchronization.Read.All")
        .unwrap()
        .clone();
    let out = Command::new(BIN)
        .args(["pause", "--sp", sp, "--job", job])
        .env_clear()
        .env("GRAPH_URL", emu.s("graph_url"))
        .env("AZURE_AUTHORITY_HOST", emu.s("authority_host"))
        .env("AZURE_TENANT_ID", emu.s("tenant_id"))
        .env("AZURE_CLIENT_ID", reader["client_id"].as_str().unwrap())
        .env(
            "AZURE_CLIENT_SECRET",
            reader["client_secret"].as_str().unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("pause was refused for lack of permission"),
        "{err}"
    );
    assert!(
        err.contains("Application.ReadWrite.OwnedBy or Synchronization.ReadWrite.All"),
        "{err}"
    );
    assert!(err.contains("Authorization_RequestDenied"), "{err}");
    assert!(err.contains("client-request-id"), "{err}");
}
