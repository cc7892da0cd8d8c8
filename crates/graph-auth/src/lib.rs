//! Credentials for Microsoft Graph: they get bearer tokens for the
//! [`TokenCredential`] trait of `graph-transport`, and cache them.
//!
//! In graphsync's layers this crate sits beside the pipeline: it depends on
//! `graph-transport` (the trait, and the `Transport` its token requests go
//! through) and `graph-model` (the clouds), and `sync-jobs` users hand one
//! of its credentials to a `GraphClient`.
//!
//! Features: `pkcs12` (`ClientCertificateCredential::from_pkcs12`, and
//! `.pfx` files in `from_file`; off by default, as it brings a DER and
//! cipher stack PEM does not need) and `azure-identity` (the Azure SDK
//! adapters below; needs Rust 1.88).
//!
//! - [`StaticToken`]: a token you already have.
//! - [`ClientSecretCredential`]: app-only tokens from a client secret, from
//!   the v2 token endpoint of the cloud's authority
//!   (`https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token` for US
//!   Government…), for the scope `<graph root>/.default`.
//! - [`ClientCertificateCredential`]: app-only tokens with a certificate:
//!   an RS256 client assertion signed by its key (PEM, or PKCS#12 with
//!   feature `pkcs12`).
//! - [`ManagedIdentityCredential`]: the managed identity of the Azure
//!   resource the program runs on (IMDS, or App Service's endpoint),
//!   system- or user-assigned.
//! - [`WorkloadIdentityCredential`]: a Kubernetes workload's projected
//!   service account token, exchanged through a federated credential.
//! - [`AzureCliCredential`]: the account signed in to the Azure CLI.
//! - [`EnvironmentCredential`]: a client secret from `AZURE_*` variables.
//! - [`DefaultCredential`]: environment, then workload identity, then
//!   managed identity, then the Azure CLI; the first that signs in is kept,
//!   and a failure lists why each link failed.
//!
//! - With feature `azure-identity`: `AzureIdentityCredential` uses any
//!   credential of the Azure SDK for Rust (`azure_identity` 1.x) as ours,
//!   and `AzureCoreCredential` lends ours to Azure SDK clients.
//!
//! Every credential that calls a token endpoint sends through a
//! [`Transport`](graph_transport::Transport), the same one Graph calls use,
//! and keeps its tokens in a [`TokenCache`]: refreshed five minutes before
//! expiry, one refresh in flight at a time. Secrets and tokens are
//! [`Secret`]s: `Debug` prints `Secret(****)`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use graph_auth::{ClientSecretCredential, CredentialOptions};
//! use graph_model::NationalCloud;
//! use graph_transport::{default_transport, TokenCredential, TransportOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = NationalCloud::UsGovL4;
//! let credential = ClientSecretCredential::new(
//!     std::env::var("AZURE_TENANT_ID")?,
//!     std::env::var("AZURE_CLIENT_ID")?,
//!     std::env::var("AZURE_CLIENT_SECRET")?,
//!     default_transport(&TransportOptions::default())?,
//!     CredentialOptions::new(cloud.clone()),
//! )?;
//! let token = credential.get_token(&[&cloud.default_scope()]).await?;
//! println!("token valid until {:?}", token.expires_on);
//! # Ok(()) }
//! ```

mod azure_cli;
#[cfg(feature = "azure-identity")]
mod azure_identity;
mod cache;
mod chain;
mod client_certificate;
mod client_secret;
mod managed_identity;
mod static_token;
mod workload_identity;

pub use azure_cli::{AZURE_CLI_TIMEOUT, AzureCliCredential};
#[cfg(feature = "azure-identity")]
pub use azure_identity::{AzureCoreCredential, AzureIdentityCredential};
pub use cache::{Clock, REFRESH_AHEAD, TokenCache};
pub use chain::{DefaultCredential, EnvironmentCredential, MANAGED_IDENTITY_PROBE};
pub use client_certificate::ClientCertificateCredential;
pub use client_secret::{ClientSecretCredential, CredentialOptions};
pub use graph_transport::{AccessToken, CredentialError, Secret, TokenCredential};
pub use managed_identity::{
    APP_SERVICE_API_VERSION, IMDS_API_VERSION, IMDS_ENDPOINT, ManagedIdentityCredential,
    ManagedIdentityId, ManagedIdentitySource,
};
pub use static_token::StaticToken;
pub use workload_identity::WorkloadIdentityCredential;
