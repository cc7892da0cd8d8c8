//! The config file: `~/.config/graphsync/config.toml` (or
//! `$XDG_CONFIG_HOME/graphsync/config.toml`, or `--config FILE` /
//! `GRAPHSYNC_CONFIG`). Flags win over the environment, which wins over the
//! file.
//!
//! ```toml
//! cloud = "usgov"
//! tenant_id = "contoso.onmicrosoft.com"
//! client_id = "5d1f0c2e-…"
//! auth = "certificate"
//! client_certificate_path = "/etc/graphsync/client.pem"
//!
//! [defaults]
//! output = "json"
//! concurrency = 32
//! ```
//!
//! Secrets do not belong in it: a `client_secret` key is refused.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::actions::Output;
use crate::config::{AuthKind, Backend};

/// What the file may hold.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// `GRAPH_CLOUD`.
    cloud: Option<String>,
    /// `AZURE_TENANT_ID`.
    tenant_id: Option<String>,
    /// `AZURE_CLIENT_ID`.
    client_id: Option<String>,
    /// `GRAPH_URL`.
    graph_url: Option<String>,
    /// `AZURE_AUTHORITY_HOST`.
    authority_host: Option<String>,
    /// `AZURE_CLIENT_CERTIFICATE_PATH`.
    client_certificate_path: Option<String>,
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    federated_token_file: Option<String>,
    /// `--auth`.
    pub(crate) auth: Option<AuthKind>,
    /// `--transport`.
    pub(crate) transport: Option<Backend>,
    /// Refused with a clear message rather than as an unknown key.
    client_secret: Option<toml::Value>,
    /// Defaults of command flags.
    #[serde(default)]
    pub(crate) defaults: Defaults,
}

/// Defaults of flags that many commands share.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defaults {
    /// `--output` when not given.
    pub(crate) output: Option<Output>,
    /// `--concurrency` when not given.
    pub(crate) concurrency: Option<usize>,
}

/// Why the config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl FileConfig {
    /// The file `explicit` names, or the default one if it exists.
    ///
    /// `var` reads the environment (`XDG_CONFIG_HOME`, `HOME`).
    pub(crate) fn load(
        explicit: Option<&Path>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, FileError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path(&var) {
                Some(p) => (p, false),
                None => return Ok(FileConfig::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileConfig::default());
            }
            Err(source) => {
                return Err(FileError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Self::parse(&text).map_err(|message| FileError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Reads the file's text.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let config: FileConfig = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if config.client_secret.is_some() {
            return Err(
                "client_secret does not belong in a file: set AZURE_CLIENT_SECRET, or sign in with a certificate, a managed identity or the Azure CLI".into(),
            );
        }
        if config.defaults.concurrency == Some(0) {
            return Err("defaults.concurrency must be at least 1".into());
        }
        Ok(config)
    }

    /// The value the file gives for environment variable `name`.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        match name {
            "GRAPH_CLOUD" => self.cloud.clone(),
            "AZURE_TENANT_ID" => self.tenant_id.clone(),
            "AZURE_CLIENT_ID" => self.client_id.clone(),
            "GRAPH_URL" => self.graph_url.clone(),
            "AZURE_AUTHORITY_HOST" => self.authority_host.clone(),
            "AZURE_CLIENT_CERTIFICATE_PATH" => self.client_certificate_path.clone(),
            "AZURE_FEDERATED_TOKEN_FILE" => self.federated_token_file.clone(),
            _ => None,
        }
    }
}

static LOADED: std::sync::OnceLock<FileConfig> = std::sync::OnceLock::new();

/// Keeps the file `main` loaded for the commands to read.
pub(crate) fn set_loaded(config: FileConfig) {
    let _ = LOADED.set(config);
}

/// The file `main` loaded (empty when there is none).
pub(crate) fn loaded() -> &'static FileConfig {
    LOADED.get_or_init(FileConfig::default)
}

fn default_path(var: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = var("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            var("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("graphsync").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_the_environment_names() {
        let c = FileConfig::parse(
            "cloud = \"usgov\"\ntenant_id = \"t\"\nauth = \"certificate\"\n[defaults]\noutput = \"ndjson\"\nconcurrency = 4\n",
        )
        .unwrap_or_default();
        assert_eq!(c.var("GRAPH_CLOUD").as_deref(), Some("usgov"));
        assert_eq!(c.var("AZURE_TENANT_ID").as_deref(), Some("t"));
        assert_eq!(c.var("AZURE_CLIENT_SECRET"), None);
        assert_eq!(c.auth, Some(AuthKind::Certificate));
        assert_eq!(c.defaults.output, Some(Output::Ndjson));
        assert_eq!(c.defaults.concurrency, Some(4));
    }

    #[test]
    fn secrets_typos_and_bad_values_are_refused_by_name() {
        let e = FileConfig::parse("client_secret = \"x\"")
            .err()
            .unwrap_or_default();
        assert!(e.contains("AZURE_CLIENT_SECRET"), "{e}");
        let e = FileConfig::parse("clud = \"usgov\"")
            .err()
            .unwrap_or_default();
        assert!(e.contains("clud"), "{e}");
        let e = FileConfig::parse("auth = \"password\"")
            .err()
            .unwrap_or_default();
        assert!(e.contains("password"), "{e}");
    }

    #[test]
    fn the_default_file_is_optional_an_explicit_one_is_not() {
        let none = |_: &str| None;
        assert!(FileConfig::load(None, none).is_ok());
        let home = |k: &str| (k == "HOME").then(|| "/nonexistent-graphsync-home".to_owned());
        assert!(FileConfig::load(None, home).is_ok());
        let missing = Path::new("/nonexistent-graphsync.toml");
        assert!(matches!(
            FileConfig::load(Some(missing), none),
            Err(FileError::Read { .. })
        ));
    }
}
