//! Each credential kind against the emulator over loopback HTTP, and a job
//! call made with the token it got.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use graph_auth::{
    ClientCertificateCredential, ClientSecretCredential, CredentialOptions, DefaultCredential,
    ManagedIdentityCredential, ManagedIdentityId, ManagedIdentitySource,
    WorkloadIdentityCredential,
};
use graph_model::{JobRef, NationalCloud};
use graph_transport::{
    ClientOptions, CredentialError, GraphClient, HyperTransport, Secret, TokenCredential,
    Transport, TransportOptions,
};
use sync_emulator::default_ids::{self, PAUSED};
use sync_emulator::{Emulator, EmulatorOptions, RunningEmulator};
use sync_jobs::SyncJobsClient;

fn transport() -> Arc<dyn Transport> {
    Arc::new(HyperTransport::with_options(&TransportOptions::default()).unwrap())
}

fn jobs_with(emu: &RunningEmulator, credential: Arc<dyn TokenCredential>) -> SyncJobsClient {
    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap();
    SyncJobsClient::new(
        GraphClient::new(
            transport(),
            credential,
            ClientOptions::new(cloud).allow_http_loopback(true),
        )
        .unwrap(),
    )
}

fn imds(emu: &RunningEmulator) -> ManagedIdentitySource {
    ManagedIdentitySource::Imds {
        endpoint: emu.imds_endpoint().parse().unwrap(),
    }
}

fn app_service(emu: &RunningEmulator, header: &str) -> ManagedIdentitySource {
    ManagedIdentitySource::AppService {
        endpoint: emu.identity_endpoint().parse().unwrap(),
        header: Secret::new(header),
    }
}

fn paused() -> JobRef {
    JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap()
}

fn status(e: &sync_jobs::Error) -> Option<u16> {
    e.service_error().map(|s| s.status.as_u16())
}

#[tokio::test]
async fn managed_identity_from_imds_system_and_user_assigned() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    // System-assigned: Synchronization.ReadWrite.All, so it may start.
    let system =
        ManagedIdentityCredential::new(ManagedIdentityId::SystemAssigned, imds(&emu), transport())
            .unwrap();
    let jobs = jobs_with(&emu, Arc::new(system));
    jobs.start(&paused()).await.unwrap();
    assert_eq!(
        emu.actions()[0].client_id,
        default_ids::SYSTEM_IDENTITY_CLIENT_ID
    );

    // The user-assigned reader, named each way: it may read, not write.
    for id in [
        ManagedIdentityId::ClientId(default_ids::USER_IDENTITY_CLIENT_ID.into()),
        ManagedIdentityId::ObjectId(default_ids::USER_IDENTITY_OBJECT_ID.into()),
        ManagedIdentityId::ResourceId(default_ids::USER_IDENTITY_RESOURCE_ID.into()),
    ] {
        let reader = ManagedIdentityCredential::new(id.clone(), imds(&emu), transport()).unwrap();
        let jobs = jobs_with(&emu, Arc::new(reader));
        jobs.get(&paused()).await.unwrap();
        let e = jobs.pause(&paused()).await.unwrap_err();
        assert_eq!(status(&e), Some(403), "{id:?}");
    }

    // An identity the resource does not have is Entra-style refused.
    let nobody = ManagedIdentityCredential::new(
        ManagedIdentityId::ClientId("00000000-0000-0000-0000-00000000dead".into()),
        imds(&emu),
        transport(),
    )
    .unwrap();
    let e = nobody
        .get_token(&["https://graph.microsoft.com/.default"])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CredentialError::Authentication { status: 400, description, .. } if description.contains("Identity not found")),
        "{e:?}"
    );
}

#[tokio::test]
async fn managed_identity_from_app_service_checks_its_header() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let header = emu.identity_header().to_owned();
    let credential = ManagedIdentityCredential::new(
        ManagedIdentityId::SystemAssigned,
        app_service(&emu, &header),
        transport(),
    )
    .unwrap();
    // App Service answers with expires_on (Unix seconds) only.
    let token = credential
        .get_token(&["https://graph.microsoft.com/.default"])
        .await
        .unwrap();
    let left = token
        .expires_on
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(left.as_secs() > 3000, "{left:?}");
    jobs_with(&emu, Arc::new(credential))
        .get(&paused())
        .await
        .unwrap();

    let wrong = ManagedIdentityCredential::new(
        ManagedIdentityId::SystemAssigned,
        app_service(&emu, "not-the-header"),
        transport(),
    )
    .unwrap();
    let e = wrong
        .get_token(&["https://graph.microsoft.com/.default"])
        .await
        .unwrap_err();
    assert!(
        matches!(e, CredentialError::Authentication { status: 401, .. }),
        "{e:?}"
    );
}

/// A service account token as a cluster would project it (unsigned: the
/// emulator cannot know the cluster's keys and checks the claims).
fn projected_token(sub: &str, exp_in: i64) -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256", "kid": "k1"})),
        b64(serde_json::json!({
            "iss": "https://oidc.example/cluster",
            "sub": sub,
            "aud": ["api://AzureADTokenExchange"],
            "iat": now, "nbf": now - 5, "exp": now + exp_in,
        }))
    )
}

#[tokio::test]
async fn workload_identity_reads_the_projected_token_on_each_refresh() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("graphsync-wi-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, projected_token(default_ids::WORKLOAD_SUBJECT, 3600)).unwrap();

    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap();
    let env = |k: &str| match k {
        "AZURE_TENANT_ID" => Some(emu.tenant_id()),
        "AZURE_CLIENT_ID" => Some(default_ids::OPERATOR_CLIENT_ID.to_owned()),
        "AZURE_FEDERATED_TOKEN_FILE" => Some(file.to_string_lossy().into_owned()),
        _ => None,
    };
    let credential = Arc::new(
        WorkloadIdentityCredential::from_env(
            env,
            transport(),
            CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
        )
        .unwrap(),
    );
    let jobs = jobs_with(&emu, credential.clone());
    jobs.pause(&paused()).await.unwrap();
    assert_eq!(emu.actions()[0].client_id, default_ids::OPERATOR_CLIENT_ID);

    // The cluster rotates the file; a refresh reads the new one, which here
    // names a service account the app does not trust.
    std::fs::write(
        &file,
        projected_token("system:serviceaccount:other:sa", 3600),
    )
    .unwrap();
    let scope = cloud.default_scope();
    let current = credential.get_token(&[&scope]).await.unwrap();
    credential.invalidate(&[&scope], &current.token);
    let e = credential.get_token(&[&scope]).await.unwrap_err();
    assert!(
        matches!(&e, CredentialError::Authentication { description, .. } if description.contains("AADSTS70021")),
        "{e:?}"
    );
    // An expired projected token is refused as such.
    std::fs::write(&file, projected_token(default_ids::WORKLOAD_SUBJECT, -60)).unwrap();
    let e = credential.get_token(&[&scope]).await.unwrap_err();
    assert!(format!("{e:?}").contains("AADSTS700024"), "{e:?}");
    // No file: unavailable, so a chain would move on.
    std::fs::remove_dir_all(&dir).unwrap();
    let e = credential.get_token(&[&scope]).await.unwrap_err();
    assert!(matches!(e, CredentialError::Unavailable(_)), "{e:?}");
    let missing =
        WorkloadIdentityCredential::from_env(|_| None, transport(), CredentialOptions::default());
    assert!(matches!(missing, Err(CredentialError::Unavailable(_))));
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn options(emu: &RunningEmulator) -> CredentialOptions {
    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap();
    CredentialOptions::new(cloud).allow_http_loopback(true)
}

/// An environment of `pairs` with a PATH where no `az` lives.
fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let mut map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    map.insert("PATH".into(), "/nonexistent-graphsync-path".into());
    move |k| map.get(k).cloned()
}

#[tokio::test]
async fn the_default_chain_takes_the_first_link_that_signs_in() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let scope = "https://graph.microsoft.com/.default";

    // Environment variables first.
    let chain = DefaultCredential::from_env(
        env(&[
            ("AZURE_TENANT_ID", emu.tenant_id()),
            ("AZURE_CLIENT_ID", default_ids::OPERATOR_CLIENT_ID.into()),
            (
                "AZURE_CLIENT_SECRET",
                default_ids::OPERATOR_CLIENT_SECRET.into(),
            ),
            ("IDENTITY_ENDPOINT", emu.identity_endpoint()),
            ("IDENTITY_HEADER", emu.identity_header().into()),
        ]),
        transport(),
        options(&emu),
    );
    chain.get_token(&[scope]).await.unwrap();
    assert_eq!(chain.chosen(), Some("environment"));

    // No secret, no federated token: the managed identity.
    let chain = Arc::new(DefaultCredential::from_env(
        env(&[
            ("IDENTITY_ENDPOINT", emu.identity_endpoint()),
            ("IDENTITY_HEADER", emu.identity_header().into()),
        ]),
        transport(),
        options(&emu),
    ));
    jobs_with(&emu, chain.clone()).get(&paused()).await.unwrap();
    assert_eq!(chain.chosen(), Some("managed identity"));

    // A configured secret that is wrong stops the chain with its own error,
    // rather than signing in as the managed identity.
    let chain = DefaultCredential::from_env(
        env(&[
            ("AZURE_TENANT_ID", emu.tenant_id()),
            ("AZURE_CLIENT_ID", default_ids::OPERATOR_CLIENT_ID.into()),
            ("AZURE_CLIENT_SECRET", "wrong".into()),
            ("IDENTITY_ENDPOINT", emu.identity_endpoint()),
            ("IDENTITY_HEADER", emu.identity_header().into()),
        ]),
        transport(),
        options(&emu),
    );
    let e = chain.get_token(&[scope]).await.unwrap_err();
    assert!(format!("{e:?}").contains("AADSTS7000215"), "{e:?}");
    assert_eq!(chain.chosen(), None);
}

#[tokio::test]
async fn when_nothing_signs_in_the_error_says_why_for_each_link() {
    // A managed identity endpoint that refuses connections, no az on PATH.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let chain = DefaultCredential::from_env(
        env(&[
            (
                "IDENTITY_ENDPOINT",
                format!("http://127.0.0.1:{port}/msi/token"),
            ),
            ("IDENTITY_HEADER", "h".into()),
        ]),
        transport(),
        CredentialOptions::default(),
    );
    let e = chain
        .get_token(&["https://graph.microsoft.com/.default"])
        .await
        .unwrap_err();
    let text = e.to_string();
    for link in [
        "environment:",
        "workload identity:",
        "managed identity:",
        "Azure CLI:",
    ] {
        assert!(text.contains(link), "{link} missing from: {text}");
    }
    assert!(text.contains("AZURE_CLIENT_SECRET"), "{text}");
    assert!(text.contains("not installed"), "{text}");
}

#[tokio::test]
async fn a_certificate_signs_the_client_assertion_the_emulator_verifies() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let credential = ClientCertificateCredential::from_pem(
        emu.tenant_id(),
        default_ids::CERTIFICATE_CLIENT_ID,
        default_ids::CERTIFICATE_CLIENT_PEM.as_bytes(),
        transport(),
        options(&emu),
    )
    .unwrap();
    assert_eq!(credential.thumbprint().len(), 43, "base64url of a SHA-256");
    assert!(!format!("{credential:?}").contains("PRIVATE"));
    let jobs = jobs_with(&emu, Arc::new(credential));
    jobs.start(&paused()).await.unwrap();
    assert_eq!(
        emu.actions()[0].client_id,
        default_ids::CERTIFICATE_CLIENT_ID
    );

    // The same key for a client that has not registered the certificate.
    let stranger = ClientCertificateCredential::from_pem(
        emu.tenant_id(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::CERTIFICATE_CLIENT_PEM.as_bytes(),
        transport(),
        options(&emu),
    )
    .unwrap();
    let e = stranger
        .get_token(&["https://graph.microsoft.com/.default"])
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("AADSTS700027"), "{e:?}");

    // A client without a secret does not accept an empty one.
    let empty = ClientSecretCredential::new(
        emu.tenant_id(),
        default_ids::CERTIFICATE_CLIENT_ID,
        " ",
        transport(),
        options(&emu),
    )
    .unwrap();
    assert!(
        empty
            .get_token(&["https://graph.microsoft.com/.default"])
            .await
            .is_err()
    );

    // PEM without a key, or without a certificate, is a configuration error.
    let cert_only = default_ids::CERTIFICATE_CLIENT_PEM
        .split("-----BEGIN PRIVATE KEY-----")
        .next()
        .unwrap();
    for pem in [cert_only, "not a pem"] {
        let e = ClientCertificateCredential::from_pem(
            emu.tenant_id(),
            default_ids::CERTIFICATE_CLIENT_ID,
            pem.as_bytes(),
            transport(),
            options(&emu),
        )
        .unwrap_err();
        assert!(matches!(e, CredentialError::Configuration(_)), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_calls_on_a_cold_cache_make_one_token_request() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let credential = Arc::new(
        ClientSecretCredential::new(
            emu.tenant_id(),
            default_ids::OPERATOR_CLIENT_ID,
            default_ids::OPERATOR_CLIENT_SECRET,
            transport(),
            options(&emu),
        )
        .unwrap(),
    );
    let scope = "https://graph.microsoft.com/.default";
    let calls = (0..10_000).map(|_| {
        let c = credential.clone();
        tokio::spawn(async move {
            c.get_token(&[scope])
                .await
                .map(|t| t.token.expose().to_owned())
        })
    });
    let tokens: Vec<String> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(tokens.len(), 10_000);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "everyone got the same token"
    );
    assert_eq!(emu.stats().token_requests, 1);
}

/// Runs the Azure SDK's commands with `PATH` set to one directory, so a
/// fake `az` answers without touching the process's environment.
#[cfg(unix)]
#[derive(Debug)]
struct PathExecutor(std::path::PathBuf);

#[cfg(unix)]
#[async_trait::async_trait]
impl azure_identity::Executor for PathExecutor {
    async fn run(
        &self,
        program: &std::ffi::OsStr,
        args: &[&std::ffi::OsStr],
    ) -> std::io::Result<std::process::Output> {
        tokio::process::Command::new(program)
            .args(args)
            .env("PATH", &self.0)
            .output()
            .await
    }
}

#[cfg(unix)]
#[tokio::test]
async fn an_azure_identity_credential_signs_graphsync_in() {
    use std::os::unix::fs::PermissionsExt;

    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let scope = format!("{}/.default", emu.graph_url().trim_end_matches('/'));
    // A token the emulator issued, handed out by a fake `az` the way the
    // real one hands out the signed-in account's.
    let issued = ClientSecretCredential::new(
        emu.tenant_id(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
        transport(),
        options(&emu),
    )
    .unwrap()
    .get_token(&[&scope])
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("graphsync-azid-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let az = dir.join("az");
    let expires = issued
        .expires_on
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" > '{args}'\nprintf '%s' '{{\"accessToken\":\"{token}\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":{expires},\"tokenType\":\"Bearer\"}}'\n",
            args = dir.join("args").display(),
            token = issued.token.expose(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();

    let azure =
        azure_identity::AzureCliCredential::new(Some(azure_identity::AzureCliCredentialOptions {
            executor: Some(Arc::new(PathExecutor(dir.clone()))),
            ..Default::default()
        }))
        .unwrap();
    let ours = Arc::new(graph_auth::AzureIdentityCredential::new(azure));
    let outcome = jobs_with(&emu, ours.clone())
        .start(&paused())
        .await
        .unwrap();
    assert_eq!(outcome.status, 204);
    // The Azure SDK asked az for exactly our cloud's scope.
    let args = std::fs::read_to_string(dir.join("args")).unwrap();
    assert!(args.contains(&format!("--scope {scope}")), "{args}");
    // The expiry came through, so the token is cached rather than fetched
    // on every call.
    std::fs::remove_file(&az).unwrap();
    jobs_with(&emu, ours).get(&paused()).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_pkcs12_archive_signs_in_like_its_pem() {
    // The emulator's certificate client, exported by OpenSSL 3 with its
    // default (PBES2, AES-256-CBC) and with `-legacy` (3DES key, RC2
    // certificates), as older Windows and Key Vault exports are.
    let dir = std::env::temp_dir().join(format!("graphsync-pfx-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("client-aes.pfx"),
        default_ids::CERTIFICATE_CLIENT_PFX,
    )
    .unwrap();
    std::fs::write(
        dir.join("client-3des.pfx"),
        default_ids::CERTIFICATE_CLIENT_LEGACY_PFX,
    )
    .unwrap();
    let pem = ClientCertificateCredential::from_pem(
        "t",
        default_ids::CERTIFICATE_CLIENT_ID,
        default_ids::CERTIFICATE_CLIENT_PEM.as_bytes(),
        transport(),
        CredentialOptions::new(NationalCloud::Global),
    )
    .unwrap();
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let password = Secret::new(default_ids::CERTIFICATE_CLIENT_PFX_PASSWORD);
    for file in ["client-aes.pfx", "client-3des.pfx"] {
        let credential = ClientCertificateCredential::from_file(
            emu.tenant_id(),
            default_ids::CERTIFICATE_CLIENT_ID,
            dir.join(file),
            Some(&password),
            transport(),
            options(&emu),
        )
        .unwrap();
        assert_eq!(credential.thumbprint(), pem.thumbprint(), "{file}");
        jobs_with(&emu, Arc::new(credential))
            .get(&paused())
            .await
            .unwrap();

        // A wrong password is a configuration error, not a panic or a
        // garbage key.
        let e = ClientCertificateCredential::from_file(
            emu.tenant_id(),
            default_ids::CERTIFICATE_CLIENT_ID,
            dir.join(file),
            Some(&Secret::new("wrong")),
            transport(),
            options(&emu),
        )
        .unwrap_err();
        assert!(
            matches!(&e, CredentialError::Configuration(m) if m.contains("PKCS#12")),
            "{e:?}"
        );
    }
    // Truncated or random bytes that start like DER are refused the same way.
    let bytes = default_ids::CERTIFICATE_CLIENT_PFX;
    for broken in [&bytes[..100], &[0x30, 0x82, 0xff, 0xff, 0, 1][..]] {
        let e = ClientCertificateCredential::from_pkcs12(
            "t",
            "c",
            broken,
            &password,
            transport(),
            CredentialOptions::new(NationalCloud::Global),
        )
        .unwrap_err();
        assert!(matches!(e, CredentialError::Configuration(_)), "{e:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_pkcs12_archives_are_errors_never_panics() {
    // Flip one byte at a time at 400 positions spread across the archive;
    // every result must be Ok or a typed error. Each try derives keys
    // (about 2 ms in a debug build), so the sample keeps this under a second.
    let original = default_ids::CERTIFICATE_CLIENT_LEGACY_PFX;
    let password = Secret::new(default_ids::CERTIFICATE_CLIENT_PFX_PASSWORD);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut opened = 0;
    let transport = transport();
    let step = original.len().div_ceil(400);
    for i in (0..original.len()).step_by(step) {
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut damaged = original.to_vec();
            damaged[i] ^= (state as u8) | 1;
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ClientCertificateCredential::from_pkcs12(
                    "t",
                    "c",
                    &damaged,
                    &password,
                    transport.clone(),
                    CredentialOptions::new(NationalCloud::Global),
                )
                .is_ok()
            }));
            match result {
                Ok(true) => opened += 1,
                Ok(false) => {}
                Err(_) => panic!("from_pkcs12 panicked on a byte flip at {i}"),
            }
        }
    }
    println!("{opened} damaged archives still opened");
}
