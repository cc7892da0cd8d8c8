//! Enumerations of the synchronization API.
//!
//! Graph serialises enum members by name. The synchronization enums are not
//! declared "evolvable" (no `unknownFutureValue`), yet the service has grown
//! members before, so every enum keeps an [`Other`](SynchronizationStatusCode::Other)
//! variant that carries an unknown name through a parse/serialise round trip
//! instead of failing the whole response.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum with known members and an `Other(String)` catch-all.
macro_rules! graph_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A member this version of graphsync does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every member this version knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The member's name as Graph writes it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Whether this is a member this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }

            fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    _ => Self::from_wire_folded(s),
                }
            }

            // Graph has changed the casing of enum members between versions
            // (see `SynchronizationMetadata`), so a case-insensitive match is
            // tried before giving up on a name.
            fn from_wire_folded(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($wire) { return $name::$variant; } )+
                $name::Other(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl crate::lenient::WireName for $name {
            fn from_wire_name(s: &str) -> Self {
                Self::from_wire(s)
            }
        }
    };
}

graph_enum! {
    /// The state of a job as a whole (`synchronizationStatusCode`).
    SynchronizationStatusCode {
        /// Never configured or run; no authorization was provided.
        NotConfigured = "NotConfigured",
        /// Configured (and maybe started) but the first run has not completed.
        NotRun = "NotRun",
        /// Running on its schedule.
        Active = "Active",
        /// Paused, usually by an administrator; state is preserved.
        Paused = "Paused",
        /// Quarantined after too many errors or a critical one (such as
        /// revoked credentials); runs are attempted less often.
        Quarantine = "Quarantine",
    }
}

graph_enum! {
    /// The state of a job's schedule (`synchronizationScheduleState`).
    SynchronizationScheduleState {
        /// Runs happen on the interval.
        Active = "Active",
        /// The schedule is off (a new job is created in this state).
        Disabled = "Disabled",
        /// The schedule is paused.
        Paused = "Paused",
    }
}

graph_enum! {
    /// Why a job was put into quarantine (`quarantineReason`).
    QuarantineReason {
        /// Too many escrowed entries on the base threshold.
        EncounteredBaseEscrowThreshold = "EncounteredBaseEscrowThreshold",
        /// Too many escrowed entries in total.
        EncounteredTotalEscrowThreshold = "EncounteredTotalEscrowThreshold",
        /// Too high a proportion of escrowed entries.
        EncounteredEscrowProportionThreshold = "EncounteredEscrowProportionThreshold",
        /// A quarantine-worthy exception, such as invalid credentials.
        EncounteredQuarantineException = "EncounteredQuarantineException",
        /// The service did not say.
        Unknown = "Unknown",
        /// Quarantined on request.
        QuarantinedOnDemand = "QuarantinedOnDemand",
        /// Accidental-deletion prevention tripped.
        TooManyDeletes = "TooManyDeletes",
        /// Inbound ingestion was interrupted.
        IngestionInterrupted = "IngestionInterrupted",
    }
}

graph_enum! {
    /// The result of one run (`synchronizationTaskExecutionResult`).
    SynchronizationTaskExecutionResult {
        /// The run succeeded.
        Succeeded = "Succeeded",
        /// The run failed.
        Failed = "Failed",
        /// The run finished with errors on some entries.
        EntryLevelErrors = "EntryLevelErrors",
    }
}

graph_enum! {
    /// What happens to an object that fails processing (`synchronizationDisposition`).
    SynchronizationDisposition {
        /// Processed normally.
        Normal = "Normal",
        /// Discarded.
        Discard = "Discard",
        /// Kept as an escrow and retried.
        Escrow = "Escrow",
    }
}

graph_enum! {
    /// The name of a connection secret (`synchronizationSecret`).
    SynchronizationSecret {
        /// No secret.
        None = "None",
        /// A user name.
        UserName = "UserName",
        /// A password.
        Password = "Password",
        /// A bearer token issued by the target application.
        SecretToken = "SecretToken",
        /// An application key.
        AppKey = "AppKey",
        /// The tenant URL or SCIM endpoint of the target.
        BaseAddress = "BaseAddress",
        /// A client identifier.
        ClientIdentifier = "ClientIdentifier",
        /// A client secret.
        ClientSecret = "ClientSecret",
        /// The single sign-on type.
        SingleSignOnType = "SingleSignOnType",
        /// Whether the target is a sandbox.
        Sandbox = "Sandbox",
        /// A URL.
        Url = "Url",
        /// A domain.
        Domain = "Domain",
        /// An OAuth 1 consumer key.
        ConsumerKey = "ConsumerKey",
        /// An OAuth 1 consumer secret.
        ConsumerSecret = "ConsumerSecret",
        /// An OAuth 1 token key.
        TokenKey = "TokenKey",
        /// A token expiration.
        TokenExpiration = "TokenExpiration",
        /// An OAuth 2 access token.
        Oauth2AccessToken = "Oauth2AccessToken",
        /// When the OAuth 2 access token was created.
        Oauth2AccessTokenCreationTime = "Oauth2AccessTokenCreationTime",
        /// An OAuth 2 refresh token.
        Oauth2RefreshToken = "Oauth2RefreshToken",
        /// Whether all users and groups are in scope rather than assigned ones.
        SyncAll = "SyncAll",
        /// An instance name.
        InstanceName = "InstanceName",
        /// An OAuth 2 client id.
        Oauth2ClientId = "Oauth2ClientId",
        /// An OAuth 2 client secret.
        Oauth2ClientSecret = "Oauth2ClientSecret",
        /// A company id.
        CompanyId = "CompanyId",
        /// Whether to update the key on soft delete.
        UpdateKeyOnSoftDelete = "UpdateKeyOnSoftDelete",
        /// The synchronization schedule.
        SynchronizationSchedule = "SynchronizationSchedule",
        /// The system of record.
        SystemOfRecord = "SystemOfRecord",
        /// A sandbox name.
        SandboxName = "SandboxName",
        /// Whether to enforce the domain.
        EnforceDomain = "EnforceDomain",
        /// Quarantine notification settings (a JSON document as a string).
        SyncNotificationSettings = "SyncNotificationSettings",
        /// Whether to skip deletions of objects that go out of scope.
        SkipOutOfScopeDeletions = "SkipOutOfScopeDeletions",
        /// An OAuth 2 authorization code.
        Oauth2AuthorizationCode = "Oauth2AuthorizationCode",
        /// An OAuth 2 redirect URI.
        Oauth2RedirectUri = "Oauth2RedirectUri",
        /// The application template identifier.
        ApplicationTemplateIdentifier = "ApplicationTemplateIdentifier",
        /// An OAuth 2 token exchange URI.
        Oauth2TokenExchangeUri = "Oauth2TokenExchangeUri",
        /// An OAuth 2 authorization URI.
        Oauth2AuthorizationUri = "Oauth2AuthorizationUri",
        /// The authentication type.
        AuthenticationType = "AuthenticationType",
        /// A server.
        Server = "Server",
        /// Whether to perform inbound entitlement grants.
        PerformInboundEntitlementGrants = "PerformInboundEntitlementGrants",
        /// Whether hard deletes are enabled.
        HardDeletesEnabled = "HardDeletesEnabled",
        /// The sync agent compatibility key.
        SyncAgentCompatibilityKey = "SyncAgentCompatibilityKey",
        /// The sync agent's AD container.
        SyncAgentADContainer = "SyncAgentADContainer",
        /// Whether to validate the domain.
        ValidateDomain = "ValidateDomain",
        /// Test references.
        TestReferences = "TestReferences",
        /// A connection string.
        ConnectionString = "ConnectionString",
    }
}

graph_enum! {
    /// The key of a template metadata entry (`synchronizationMetadata`).
    ///
    /// The beta endpoint writes most members in camelCase
    /// (`galleryApplicationIdentifier`); both casings parse to the same member.
    /// Serialisation uses the v1.0 (PascalCase) names.
    SynchronizationMetadata {
        /// The gallery application identifier.
        GalleryApplicationIdentifier = "GalleryApplicationIdentifier",
        /// The gallery application key.
        GalleryApplicationKey = "GalleryApplicationKey",
        /// Whether OAuth is enabled.
        IsOAuthEnabled = "IsOAuthEnabled",
        /// Whether a synchronization agent assignment is required.
        IsSynchronizationAgentAssignmentRequired = "IsSynchronizationAgentAssignmentRequired",
        /// Whether a synchronization agent is required.
        IsSynchronizationAgentRequired = "IsSynchronizationAgentRequired",
        /// Whether synchronization is in preview.
        IsSynchronizationInPreview = "IsSynchronizationInPreview",
        /// OAuth settings.
        OAuthSettings = "OAuthSettings",
        /// The "learn more" link.
        SynchronizationLearnMoreIbizaFwLink = "SynchronizationLearnMoreIbizaFwLink",
        /// Configuration fields.
        ConfigurationFields = "ConfigurationFields",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_members_round_trip() {
        for code in SynchronizationStatusCode::KNOWN {
            let json = serde_json::to_string(code).unwrap();
            let back: SynchronizationStatusCode = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, code);
        }
        assert_eq!(
            serde_json::to_string(&QuarantineReason::TooManyDeletes).unwrap(),
            "\"TooManyDeletes\""
        );
    }

    #[test]
    fn unknown_member_is_kept_verbatim() {
        let v: SynchronizationStatusCode = serde_json::from_str("\"Hibernating\"").unwrap();
        assert_eq!(v, SynchronizationStatusCode::Other("Hibernating".into()));
        assert!(!v.is_known());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"Hibernating\"");
    }

    #[test]
    fn beta_camel_case_metadata_parses_to_the_same_member() {
        let v: SynchronizationMetadata =
            serde_json::from_str("\"galleryApplicationIdentifier\"").unwrap();
        assert_eq!(v, SynchronizationMetadata::GalleryApplicationIdentifier);
        let v: SynchronizationMetadata = serde_json::from_str("\"oAuthSettings\"").unwrap();
        assert_eq!(v, SynchronizationMetadata::OAuthSettings);
    }
}
