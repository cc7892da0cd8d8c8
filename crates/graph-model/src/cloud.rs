//! National clouds and API versions.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use url::Url;

/// A Microsoft Graph deployment: its Graph root, its Entra authority host,
/// and so the `.default` scope a token for it must carry.
///
/// Tokens are not interchangeable between clouds, and an app must be
/// registered in the cloud it calls.
///
/// ```
/// use graph_model::NationalCloud;
/// let cloud: NationalCloud = "usgov".parse()?;
/// assert_eq!(cloud.graph_root(), "https://graph.microsoft.us");
/// assert_eq!(cloud.authority_host(), "https://login.microsoftonline.us");
/// assert_eq!(cloud.default_scope(), "https://graph.microsoft.us/.default");
/// # Ok::<(), graph_model::CloudError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NationalCloud {
    /// The worldwide service (also used by GCC moderate).
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGovL4,
    /// US Government L5 (DoD).
    UsGovL5Dod,
    /// China, operated by 21Vianet.
    China,
    /// Any other deployment, such as a local emulator.
    Custom(CustomCloud),
}

/// The endpoints of a deployment that is not one of the built-in clouds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomCloud {
    graph: String,
    authority: String,
}

/// Why a cloud name or endpoint was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The name is not one of the known clouds.
    #[error(
        "unknown cloud {0:?}; expected one of: global, usgov (L4/GCC High), usgov-dod (L5), china"
    )]
    UnknownName(String),
    /// The endpoint is not an absolute http(s) URL without query or credentials.
    #[error("invalid {which} endpoint {url:?}: {reason}")]
    InvalidEndpoint {
        /// `graph` or `authority`.
        which: &'static str,
        /// The endpoint as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl NationalCloud {
    /// A deployment with its own Graph root and authority host, e.g. an
    /// emulator at `http://127.0.0.1:8080`.
    ///
    /// # Errors
    /// When either endpoint is not an absolute `http` or `https` URL with a
    /// host, or carries a query, fragment or credentials.
    pub fn custom(graph: &str, authority: &str) -> Result<Self, CloudError> {
        Ok(NationalCloud::Custom(CustomCloud {
            graph: validate_root("graph", graph)?,
            authority: validate_root("authority", authority)?,
        }))
    }

    /// The Graph root, without a trailing slash.
    pub fn graph_root(&self) -> &str {
        match self {
            NationalCloud::Global => "https://graph.microsoft.com",
            NationalCloud::UsGovL4 => "https://graph.microsoft.us",
            NationalCloud::UsGovL5Dod => "https://dod-graph.microsoft.us",
            NationalCloud::China => "https://microsoftgraph.chinacloudapi.cn",
            NationalCloud::Custom(c) => &c.graph,
        }
    }

    /// The Entra authority host, without a trailing slash.
    pub fn authority_host(&self) -> &str {
        match self {
            NationalCloud::Global => "https://login.microsoftonline.com",
            NationalCloud::UsGovL4 | NationalCloud::UsGovL5Dod => {
                "https://login.microsoftonline.us"
            }
            NationalCloud::China => "https://login.chinacloudapi.cn",
            NationalCloud::Custom(c) => &c.authority,
        }
    }

    /// The scope an app-only token for this cloud's Graph must ask for:
    /// `<graph root>/.default`.
    pub fn default_scope(&self) -> Cow<'static, str> {
        match self {
            NationalCloud::Global => Cow::Borrowed("https://graph.microsoft.com/.default"),
            NationalCloud::UsGovL4 => Cow::Borrowed("https://graph.microsoft.us/.default"),
            NationalCloud::UsGovL5Dod => Cow::Borrowed("https://dod-graph.microsoft.us/.default"),
            NationalCloud::China => {
                Cow::Borrowed("https://microsoftgraph.chinacloudapi.cn/.default")
            }
            NationalCloud::Custom(c) => Cow::Owned(format!("{}/.default", c.graph)),
        }
    }

    /// The short name used by `GRAPH_CLOUD` and the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            NationalCloud::Global => "global",
            NationalCloud::UsGovL4 => "usgov",
            NationalCloud::UsGovL5Dod => "usgov-dod",
            NationalCloud::China => "china",
            NationalCloud::Custom(_) => "custom",
        }
    }

    /// The same cloud with another authority host (what `AZURE_AUTHORITY_HOST` does).
    ///
    /// # Errors
    /// When the host is not a valid endpoint (see [`NationalCloud::custom`]).
    pub fn with_authority_host(&self, authority: &str) -> Result<Self, CloudError> {
        let graph = self.graph_root().to_owned();
        Ok(NationalCloud::Custom(CustomCloud {
            graph,
            authority: validate_root("authority", authority)?,
        }))
    }

    /// The same authority with another Graph root (what `GRAPH_URL` does).
    ///
    /// # Errors
    /// When the root is not a valid endpoint (see [`NationalCloud::custom`]).
    pub fn with_graph_root(&self, graph: &str) -> Result<Self, CloudError> {
        let authority = self.authority_host().to_owned();
        Ok(NationalCloud::Custom(CustomCloud {
            graph: validate_root("graph", graph)?,
            authority,
        }))
    }
}

fn validate_root(which: &'static str, text: &str) -> Result<String, CloudError> {
    let bad = |reason: &str| CloudError::InvalidEndpoint {
        which,
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("there is no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment does not belong in a root"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

impl FromStr for NationalCloud {
    type Err = CloudError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match name.as_str() {
            "global" | "public" | "worldwide" | "azurecloud" | "azure-public" => {
                Ok(NationalCloud::Global)
            }
            "usgov"
            | "usgov-l4"
            | "usgovl4"
            | "gcchigh"
            | "gcc-high"
            | "azureusgovernment"
            | "azure-us-government" => Ok(NationalCloud::UsGovL4),
            "usgov-dod" | "usgov-l5" | "usgovl5" | "dod" | "usgovl5dod" => {
                Ok(NationalCloud::UsGovL5Dod)
            }
            "china" | "21vianet" | "azurechinacloud" | "azure-china" => Ok(NationalCloud::China),
            _ => Err(CloudError::UnknownName(s.to_owned())),
        }
    }
}

impl fmt::Display for NationalCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NationalCloud::Custom(c) => write!(f, "custom ({})", c.graph),
            other => f.write_str(other.name()),
        }
    }
}

/// The Graph API version a request targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// The stable API, `/v1.0`.
    #[default]
    V1,
    /// The preview API, `/beta`.
    Beta,
}

impl ApiVersion {
    /// The path segment: `v1.0` or `beta`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown API version name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown Graph API version {0:?}; expected v1.0 or beta")]
pub struct UnknownApiVersion(pub String);

impl FromStr for ApiVersion {
    type Err = UnknownApiVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1.0" | "v1" | "1.0" => Ok(ApiVersion::V1),
            "beta" => Ok(ApiVersion::Beta),
            _ => Err(UnknownApiVersion(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_clouds_pair_root_authority_and_scope() {
        let table = [
            (
                NationalCloud::Global,
                "https://graph.microsoft.com",
                "https://login.microsoftonline.com",
            ),
            (
                NationalCloud::UsGovL4,
                "https://graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            (
                NationalCloud::UsGovL5Dod,
                "https://dod-graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            (
                NationalCloud::China,
                "https://microsoftgraph.chinacloudapi.cn",
                "https://login.chinacloudapi.cn",
            ),
        ];
        for (cloud, graph, authority) in table {
            assert_eq!(cloud.graph_root(), graph);
            assert_eq!(cloud.authority_host(), authority);
            assert_eq!(cloud.default_scope(), format!("{graph}/.default"));
            assert_eq!(cloud.name().parse::<NationalCloud>().unwrap(), cloud);
        }
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(
            "GCC_High".parse::<NationalCloud>().unwrap(),
            NationalCloud::UsGovL4
        );
        assert_eq!(
            "dod".parse::<NationalCloud>().unwrap(),
            NationalCloud::UsGovL5Dod
        );
        assert_eq!(
            "21Vianet".parse::<NationalCloud>().unwrap(),
            NationalCloud::China
        );
        assert!(matches!(
            "mars".parse::<NationalCloud>(),
            Err(CloudError::UnknownName(_))
        ));
    }

    #[test]
    fn custom_endpoints_are_validated_and_normalised() {
        let c = NationalCloud::custom("http://127.0.0.1:8080/", "http://127.0.0.1:8080").unwrap();
        assert_eq!(c.graph_root(), "http://127.0.0.1:8080");
        assert_eq!(c.default_scope(), "http://127.0.0.1:8080/.default");
        for bad in [
            "ftp://x",
            "graph.microsoft.com",
            "https://u:p@x",
            "https://x/?a=b",
            "",
        ] {
            assert!(
                NationalCloud::custom(bad, "https://login").is_err(),
                "{bad}"
            );
        }
        let usgov_emulated = NationalCloud::UsGovL4
            .with_authority_host("http://127.0.0.1:9")
            .unwrap();
        assert_eq!(usgov_emulated.graph_root(), "https://graph.microsoft.us");
        assert_eq!(usgov_emulated.authority_host(), "http://127.0.0.1:9");
    }

    #[test]
    fn versions() {
        assert_eq!(ApiVersion::V1.as_str(), "v1.0");
        assert_eq!("BETA".parse::<ApiVersion>().unwrap(), ApiVersion::Beta);
        assert!("v2".parse::<ApiVersion>().is_err());
    }
}
