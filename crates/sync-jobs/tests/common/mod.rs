//! A jobs client signed in to an emulator, for the integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use graph_auth::{ClientSecretCredential, CredentialOptions};
use graph_model::NationalCloud;
use graph_transport::{ClientOptions, GraphClient, RetryOptions, Transport};
use sync_emulator::{RunningEmulator, default_ids};
use sync_jobs::SyncJobsClient;

/// A client of `emu` signed in as `client_id` over `transport`.
pub(crate) fn client(
    emu: &RunningEmulator,
    transport: Arc<dyn Transport>,
    client_id: &str,
    secret: &str,
) -> SyncJobsClient {
    client_with(emu, transport, client_id, secret, RetryOptions::default())
}

/// The same, retrying as `retry` says.
pub(crate) fn client_with(
    emu: &RunningEmulator,
    transport: Arc<dyn Transport>,
    client_id: &str,
    secret: &str,
    retry: RetryOptions,
) -> SyncJobsClient {
    let cloud = NationalCloud::custom(emu.graph_url(), emu.authority_host()).unwrap();
    let credential = ClientSecretCredential::new(
        emu.tenant_id(),
        client_id,
        secret,
        transport.clone(),
        CredentialOptions::new(cloud.clone()).allow_http_loopback(true),
    )
    .unwrap();
    let graph = GraphClient::new(
        transport,
        Arc::new(credential),
        ClientOptions::new(cloud)
            .allow_http_loopback(true)
            .retry(retry),
    )
    .unwrap();
    SyncJobsClient::new(graph)
}

/// The default seed's client with `Synchronization.ReadWrite.All`.
pub(crate) fn operator(emu: &RunningEmulator, transport: Arc<dyn Transport>) -> SyncJobsClient {
    client(
        emu,
        transport,
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
    )
}
