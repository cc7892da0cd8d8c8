//! Each credential kind against the emulator over loopback HTTP, and a job
//! call made with the token it got.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use graph_auth::{ManagedIdentityCredential, ManagedIdentityId, ManagedIdentitySource};
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
