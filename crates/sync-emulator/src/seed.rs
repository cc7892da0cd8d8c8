//! What the emulator starts with: a tenant, its app registrations (clients
//! that can get tokens), and service principals with their jobs.

use graph_model::{QuarantineReason, SynchronizationStatusCode};
use serde::{Deserialize, Serialize};

/// Application permissions (app roles) the emulator understands.
pub mod roles {
    /// Read all synchronization jobs and templates.
    pub const SYNC_READ_ALL: &str = "Synchronization.Read.All";
    /// Read and change all synchronization jobs.
    pub const SYNC_READ_WRITE_ALL: &str = "Synchronization.ReadWrite.All";
    /// Read and change the applications the caller owns (and their jobs).
    pub const APP_READ_WRITE_OWNED_BY: &str = "Application.ReadWrite.OwnedBy";
}

/// The whole initial state. Serialises to and from JSON, so a seed can live
/// in a file (`graphsync emulator --seed seed.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Seed {
    /// The tenant id (a GUID).
    pub tenant_id: String,
    /// App registrations that can get tokens.
    #[serde(default)]
    pub clients: Vec<ClientSeed>,
    /// Service principals and their jobs.
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipalSeed>,
    /// Managed identities the emulator's IMDS and App Service endpoints
    /// issue tokens for.
    #[serde(default)]
    pub managed_identities: Vec<ManagedIdentitySeed>,
}

/// A managed identity: system-assigned (at most one) or user-assigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ManagedIdentitySeed {
    /// Whether this is the resource's system-assigned identity (asked for
    /// without an id).
    #[serde(default)]
    pub system_assigned: bool,
    /// Its client id.
    pub client_id: String,
    /// Its object (principal) id.
    pub object_id: String,
    /// Its Azure resource id (user-assigned identities).
    #[serde(default)]
    pub resource_id: Option<String>,
    /// The application permissions granted to it.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Object ids of the applications it owns.
    #[serde(default)]
    pub owned_applications: Vec<String>,
}

impl ManagedIdentitySeed {
    /// An identity with `client_id` and `object_id`, granted `roles`;
    /// system-assigned when `system_assigned`.
    pub fn new(
        client_id: impl Into<String>,
        object_id: impl Into<String>,
        system_assigned: bool,
        roles: Vec<String>,
    ) -> Self {
        ManagedIdentitySeed {
            system_assigned,
            client_id: client_id.into(),
            object_id: object_id.into(),
            resource_id: None,
            roles,
            owned_applications: Vec::new(),
        }
    }
}

/// An app registration that can sign in with a client secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientSeed {
    /// The client (application) id.
    pub client_id: String,
    /// Its client secret. The default seed's secrets are well known, as
    /// Azurite's account key is: the emulator only listens on loopback.
    pub client_secret: String,
    /// The application permissions granted to it.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Object ids of the applications it owns (what
    /// `Application.ReadWrite.OwnedBy` lets it manage).
    #[serde(default)]
    pub owned_applications: Vec<String>,
    /// Subjects of federated credentials (workload identity): a client
    /// assertion whose `sub` is one of these, for the audience
    /// `api://AzureADTokenExchange`, signs in as this client.
    #[serde(default)]
    pub federated_subjects: Vec<String>,
    /// Certificates (PEM) whose keys may sign this client's assertions.
    #[serde(default)]
    pub certificates: Vec<String>,
}

impl ClientSeed {
    /// A client that signs in with `client_secret`, granted `roles`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        roles: Vec<String>,
    ) -> Self {
        ClientSeed {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            roles,
            owned_applications: Vec::new(),
            federated_subjects: Vec::new(),
            certificates: Vec::new(),
        }
    }
}

/// A service principal (enterprise application) with provisioning jobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServicePrincipalSeed {
    /// The service principal's object id.
    pub id: String,
    /// The application's appId (client id).
    pub app_id: String,
    /// The application's object id.
    pub application_id: String,
    /// A display name, for people.
    #[serde(default)]
    pub display_name: String,
    /// Its jobs.
    #[serde(default)]
    pub jobs: Vec<JobSeed>,
    /// Template ids jobs can be created from; by default, those of its jobs.
    #[serde(default)]
    pub templates: Vec<String>,
}

impl ServicePrincipalSeed {
    /// A service principal without jobs: its object id, its application's
    /// appId and its application's object id.
    pub fn new(
        id: impl Into<String>,
        app_id: impl Into<String>,
        application_id: impl Into<String>,
    ) -> Self {
        ServicePrincipalSeed {
            id: id.into(),
            app_id: app_id.into(),
            application_id: application_id.into(),
            display_name: String::new(),
            jobs: Vec::new(),
            templates: Vec::new(),
        }
    }

    /// The template ids: explicit, or those of the seeded jobs, in order.
    pub fn template_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.templates.clone();
        for job in &self.jobs {
            let t = job.template_id();
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(t)) {
                ids.push(t.to_owned());
            }
        }
        ids
    }
}

/// A job and the state it starts in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JobSeed {
    /// The job id, `{templateId}.{32 hex}`.
    pub id: String,
    /// The template id; defaults to the part of the id before the first dot.
    #[serde(default)]
    pub template_id: Option<String>,
    /// The state: NotConfigured, NotRun, Active, Paused or Quarantine.
    pub status: SynchronizationStatusCode,
    /// For a quarantined job, why (default `EncounteredQuarantineException`).
    #[serde(default)]
    pub quarantine_reason: Option<QuarantineReason>,
    /// For a quarantined job, the error code that caused it.
    #[serde(default)]
    pub quarantine_error_code: Option<String>,
    /// How many objects are in the job's scope (default 25): what a full
    /// cycle imports and exports.
    #[serde(default)]
    pub objects: Option<i64>,
    /// Objects held as escrows (failed, retried each cycle).
    #[serde(default)]
    pub escrows: i64,
    /// Deletions held back by accidental-deletion prevention.
    #[serde(default)]
    pub held_deletions: i64,
}

impl JobSeed {
    /// A job in `status`.
    pub fn new(id: impl Into<String>, status: SynchronizationStatusCode) -> Self {
        JobSeed {
            id: id.into(),
            template_id: None,
            status,
            quarantine_reason: None,
            quarantine_error_code: None,
            objects: None,
            escrows: 0,
            held_deletions: 0,
        }
    }

    /// The template id, explicit or derived from the job id.
    pub fn template_id(&self) -> &str {
        self.template_id
            .as_deref()
            .unwrap_or_else(|| self.id.split('.').next().unwrap_or(&self.id))
    }
}

/// Ids of the default seed, so tests and docs can name them.
pub mod default_ids {
    /// The tenant.
    pub const TENANT_ID: &str = "72f9a1c4-7e3b-4c2d-9a51-0e6d4b8f2a10";
    /// A client with `Synchronization.ReadWrite.All`.
    pub const OPERATOR_CLIENT_ID: &str = "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c01";
    /// Its secret.
    pub const OPERATOR_CLIENT_SECRET: &str = "graphsync-emulator-operator-secret";
    /// A client with `Synchronization.Read.All` only.
    pub const READER_CLIENT_ID: &str = "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c02";
    /// Its secret.
    pub const READER_CLIENT_SECRET: &str = "graphsync-emulator-reader-secret";
    /// A client with `Application.ReadWrite.OwnedBy` that owns the paused
    /// job's application only.
    pub const OWNER_CLIENT_ID: &str = "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c03";
    /// Its secret.
    pub const OWNER_CLIENT_SECRET: &str = "graphsync-emulator-owner-secret";
    /// A client that signs in with a certificate
    /// (`Synchronization.ReadWrite.All`); it has no secret.
    pub const CERTIFICATE_CLIENT_ID: &str = "5d1f0c2e-8b47-4f6a-9c3d-2e7a1b0f9c04";
    /// Its certificate and RSA private key, as PEM. Public on purpose, like
    /// the secrets above: it is registered with the emulator only.
    pub const CERTIFICATE_CLIENT_PEM: &str = include_str!("../certs/client.pem");
    /// The same certificate and key as PKCS#12 (OpenSSL 3's default
    /// PBES2/AES-256-CBC), opened with [`CERTIFICATE_CLIENT_PFX_PASSWORD`].
    pub const CERTIFICATE_CLIENT_PFX: &[u8] = include_bytes!("../certs/client.pfx");
    /// The same as legacy PKCS#12 (3DES key, RC2 certificate), as older
    /// Windows exports are.
    pub const CERTIFICATE_CLIENT_LEGACY_PFX: &[u8] = include_bytes!("../certs/client-legacy.pfx");
    /// The password of both PKCS#12 files.
    pub const CERTIFICATE_CLIENT_PFX_PASSWORD: &str = "graphsync";
    /// The Kubernetes service account the operator client trusts as a
    /// federated credential (workload identity).
    pub const WORKLOAD_SUBJECT: &str = "system:serviceaccount:graphsync:operator";
    /// The system-assigned managed identity (`Synchronization.ReadWrite.All`).
    pub const SYSTEM_IDENTITY_CLIENT_ID: &str = "6e2a1d3f-9c58-4a7b-8d4e-3f8b2c1a0d01";
    /// A user-assigned managed identity (`Synchronization.Read.All`), by client id.
    pub const USER_IDENTITY_CLIENT_ID: &str = "6e2a1d3f-9c58-4a7b-8d4e-3f8b2c1a0d02";
    /// The same identity's object id.
    pub const USER_IDENTITY_OBJECT_ID: &str = "7f3b2e4a-0d69-4b8c-9e5f-4a9c3d2b1e02";
    /// The same identity's resource id.
    pub const USER_IDENTITY_RESOURCE_ID: &str = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/graphsync/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader";

    /// The ids of one seeded job and its owner.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SeededJob {
        /// The service principal's object id.
        pub service_principal_id: &'static str,
        /// The application's appId.
        pub app_id: &'static str,
        /// The application's object id.
        pub application_id: &'static str,
        /// The job id.
        pub job_id: &'static str,
    }

    /// The job that starts Paused (template `scim`).
    pub const PAUSED: SeededJob = SeededJob {
        service_principal_id: "a1b2c3d4-0000-4000-8000-000000000001",
        app_id: "b2c3d4e5-0000-4000-8000-000000000001",
        application_id: "c3d4e5f6-0000-4000-8000-000000000001",
        job_id: "scim.e4bbf44533ea4eabb17027f3a92e92aa",
    };
    /// The job that starts in Quarantine (template `Slack`).
    pub const QUARANTINED: SeededJob = SeededJob {
        service_principal_id: "a1b2c3d4-0000-4000-8000-000000000002",
        app_id: "b2c3d4e5-0000-4000-8000-000000000002",
        application_id: "c3d4e5f6-0000-4000-8000-000000000002",
        job_id: "Slack.0ab4c7e81f0d4a3c9e2b5d6f7a8b9c0d",
    };
    /// The job that starts Active (template `BoxOutDelta`).
    pub const ACTIVE: SeededJob = SeededJob {
        service_principal_id: "a1b2c3d4-0000-4000-8000-000000000003",
        app_id: "b2c3d4e5-0000-4000-8000-000000000003",
        application_id: "c3d4e5f6-0000-4000-8000-000000000003",
        job_id: "BoxOutDelta.4c1d9e7b2a3f4e5d8c6b7a9f0e1d2c3b",
    };
    /// The job that starts NotConfigured (template `SfSandboxOutDelta`).
    pub const NOT_CONFIGURED: SeededJob = SeededJob {
        service_principal_id: "a1b2c3d4-0000-4000-8000-000000000004",
        app_id: "b2c3d4e5-0000-4000-8000-000000000004",
        application_id: "c3d4e5f6-0000-4000-8000-000000000004",
        job_id: "SfSandboxOutDelta.9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    };
}

impl Seed {
    /// A seed with no clients and no service principals.
    pub fn empty(tenant_id: impl Into<String>) -> Self {
        Seed {
            tenant_id: tenant_id.into(),
            clients: Vec::new(),
            service_principals: Vec::new(),
            managed_identities: Vec::new(),
        }
    }

    /// The default seed: one tenant, three clients (read-write, read-only,
    /// owner-scoped) and four service principals with one job each, in the
    /// states Paused, Quarantine, Active and NotConfigured.
    pub fn default_seed() -> Self {
        use SynchronizationStatusCode::*;
        use default_ids::*;
        let sp = |ids: SeededJob, name: &str, job: JobSeed| ServicePrincipalSeed {
            id: ids.service_principal_id.into(),
            app_id: ids.app_id.into(),
            application_id: ids.application_id.into(),
            display_name: name.to_owned(),
            jobs: vec![job],
            templates: Vec::new(),
        };
        let quarantined = JobSeed {
            quarantine_reason: Some(QuarantineReason::EncounteredQuarantineException),
            quarantine_error_code: Some("SlackInvalidCredentials".into()),
            escrows: 3,
            ..JobSeed::new(QUARANTINED.job_id, Quarantine)
        };
        let client = |id: &str, secret: &str, role: &str, owns: &[&str]| ClientSeed {
            client_id: id.into(),
            client_secret: secret.into(),
            roles: vec![role.into()],
            owned_applications: owns.iter().map(|a| (*a).to_owned()).collect(),
            federated_subjects: Vec::new(),
            certificates: Vec::new(),
        };
        Seed {
            tenant_id: TENANT_ID.into(),
            clients: vec![
                ClientSeed {
                    federated_subjects: vec![WORKLOAD_SUBJECT.into()],
                    ..client(
                        OPERATOR_CLIENT_ID,
                        OPERATOR_CLIENT_SECRET,
                        roles::SYNC_READ_WRITE_ALL,
                        &[],
                    )
                },
                client(
                    READER_CLIENT_ID,
                    READER_CLIENT_SECRET,
                    roles::SYNC_READ_ALL,
                    &[],
                ),
                client(
                    OWNER_CLIENT_ID,
                    OWNER_CLIENT_SECRET,
                    roles::APP_READ_WRITE_OWNED_BY,
                    &[PAUSED.application_id],
                ),
                ClientSeed {
                    certificates: vec![certificate_only(CERTIFICATE_CLIENT_PEM)],
                    ..client(CERTIFICATE_CLIENT_ID, "", roles::SYNC_READ_WRITE_ALL, &[])
                },
            ],
            service_principals: vec![
                sp(
                    PAUSED,
                    "Contoso SCIM app",
                    JobSeed::new(PAUSED.job_id, Paused),
                ),
                sp(QUARANTINED, "Slack", quarantined),
                sp(ACTIVE, "Box", JobSeed::new(ACTIVE.job_id, Active)),
                sp(
                    NOT_CONFIGURED,
                    "Salesforce Sandbox",
                    JobSeed::new(NOT_CONFIGURED.job_id, NotConfigured),
                ),
            ],
            managed_identities: vec![
                ManagedIdentitySeed {
                    system_assigned: true,
                    client_id: SYSTEM_IDENTITY_CLIENT_ID.into(),
                    object_id: "7f3b2e4a-0d69-4b8c-9e5f-4a9c3d2b1e01".into(),
                    resource_id: None,
                    roles: vec![roles::SYNC_READ_WRITE_ALL.into()],
                    owned_applications: Vec::new(),
                },
                ManagedIdentitySeed {
                    system_assigned: false,
                    client_id: USER_IDENTITY_CLIENT_ID.into(),
                    object_id: USER_IDENTITY_OBJECT_ID.into(),
                    resource_id: Some(USER_IDENTITY_RESOURCE_ID.into()),
                    roles: vec![roles::SYNC_READ_ALL.into()],
                    owned_applications: Vec::new(),
                },
            ],
        }
    }
}

/// The `CERTIFICATE` block of a PEM text: what the emulator registers
/// (never the key).
fn certificate_only(pem: &str) -> String {
    let start = pem.find("-----BEGIN CERTIFICATE-----").unwrap_or(0);
    let end = pem
        .find("-----END CERTIFICATE-----")
        .map_or(pem.len(), |i| i + "-----END CERTIFICATE-----".len());
    format!("{}\n", &pem[start..end])
}

/// Why a seed was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The seed file is not valid JSON of the seed's shape.
    #[error("the seed is not valid: {0}")]
    Invalid(String),
    /// Two objects share an id.
    #[error("duplicate {what} {id:?} in the seed")]
    Duplicate {
        /// What kind of object.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// An id is empty.
    #[error("an empty {0} in the seed")]
    Empty(&'static str),
}

impl Seed {
    /// Parses a seed from JSON.
    ///
    /// # Errors
    /// [`SeedError::Invalid`] with the line and column of the problem.
    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let seed: Seed =
            serde_json::from_str(text).map_err(|e| SeedError::Invalid(e.to_string()))?;
        seed.validate()?;
        Ok(seed)
    }

    /// Checks ids are present and unique.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), SeedError> {
        use std::collections::HashSet;
        if self.tenant_id.trim().is_empty() {
            return Err(SeedError::Empty("tenant id"));
        }
        let mut clients = HashSet::new();
        for c in &self.clients {
            if c.client_id.trim().is_empty() {
                return Err(SeedError::Empty("client id"));
            }
            if !clients.insert(c.client_id.to_ascii_lowercase()) {
                return Err(SeedError::Duplicate {
                    what: "client id",
                    id: c.client_id.clone(),
                });
            }
        }
        let mut ids = HashSet::new();
        for sp in &self.service_principals {
            for (what, id) in [
                ("service principal id", &sp.id),
                ("appId", &sp.app_id),
                ("application id", &sp.application_id),
            ] {
                if id.trim().is_empty() {
                    return Err(SeedError::Empty(what));
                }
                if !ids.insert(id.to_ascii_lowercase()) {
                    return Err(SeedError::Duplicate {
                        what,
                        id: id.clone(),
                    });
                }
            }
            let mut jobs = HashSet::new();
            for job in &sp.jobs {
                if job.id.trim().is_empty() {
                    return Err(SeedError::Empty("job id"));
                }
                if !jobs.insert(job.id.to_ascii_lowercase()) {
                    return Err(SeedError::Duplicate {
                        what: "job id",
                        id: job.id.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Default for Seed {
    fn default() -> Self {
        Seed::default_seed()
    }
}
