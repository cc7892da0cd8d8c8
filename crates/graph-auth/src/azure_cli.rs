//! Tokens from the Azure CLI's signed-in account: what a person at a desk
//! already has after `az login`.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use graph_transport::{AccessToken, CredentialError, Secret};
use serde::Deserialize;

use crate::cache::TokenCache;

/// How long `az` may take before the credential gives up. Default 30 s: the
/// CLI can be slow to start, but never that slow.
pub const AZURE_CLI_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `az account get-access-token --resource <graph root> -o json` and
/// caches the token it prints.
pub struct AzureCliCredential {
    program: PathBuf,
    path: Option<OsString>,
    tenant_id: Option<String>,
    timeout: Duration,
    cache: TokenCache,
}

impl fmt::Debug for AzureCliCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureCliCredential")
            .field("program", &self.program)
            .field("tenant_id", &self.tenant_id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for AzureCliCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl AzureCliCredential {
    /// The `az` found on `PATH`, for the account's default tenant.
    pub fn new() -> Self {
        AzureCliCredential {
            program: PathBuf::from(if cfg!(windows) { "az.cmd" } else { "az" }),
            path: None,
            tenant_id: None,
            timeout: AZURE_CLI_TIMEOUT,
            cache: TokenCache::new(),
        }
    }

    /// Runs this program instead of `az`.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Looks `az` up on this `PATH` instead of the process's.
    pub fn with_search_path(mut self, path: impl Into<OsString>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Asks for a token of `tenant_id` (`--tenant`).
    pub fn with_tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Gives up on `az` after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the token cache (to inject a clock in tests).
    pub fn with_cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let [scope] = scopes else {
            return Err(CredentialError::Configuration(
                "the Azure CLI gives a token for exactly one resource".into(),
            ));
        };
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        // Arguments go to the program as such, never through a shell.
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args([
                "account",
                "get-access-token",
                "--resource",
                resource,
                "-o",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(tenant) = &self.tenant_id {
            command.args(["--tenant", tenant]);
        }
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        let child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CredentialError::Unavailable(format!(
                    "the Azure CLI ({}) is not installed or not on PATH",
                    self.program.display()
                ))
            } else {
                CredentialError::Unavailable(format!("could not run the Azure CLI: {e}"))
            }
        })?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| {
                CredentialError::Unavailable(format!(
                    "the Azure CLI did not answer within {} s",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|e| CredentialError::Unavailable(format!("the Azure CLI failed: {e}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            return Err(if stderr.contains("az login") {
                CredentialError::Unavailable(format!(
                    "the Azure CLI is not signed in; run `az login` ({first})"
                ))
            } else {
                CredentialError::Unavailable(format!(
                    "the Azure CLI failed ({}): {first}",
                    output.status
                ))
            });
        }
        parse_cli_token(&output.stdout)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: String,
    /// Unix seconds, in CLI 2.54 and later.
    #[serde(default, rename = "expires_on")]
    expires_on_unix: Option<serde_json::Value>,
    /// Local time, `2026-11-23 12:34:56.000000`, in older CLIs.
    #[serde(default)]
    expires_on: Option<String>,
}

/// Reads what `az account get-access-token -o json` prints. Never echoes
/// the output: it holds the token.
fn parse_cli_token(stdout: &[u8]) -> Result<AccessToken, CredentialError> {
    let token: CliToken = serde_json::from_slice(stdout).map_err(|e| {
        CredentialError::InvalidResponse(format!("the Azure CLI printed no token: {e}"))
    })?;
    if token.access_token.is_empty() {
        return Err(CredentialError::InvalidResponse(
            "the Azure CLI printed an empty token".into(),
        ));
    }
    let unix = match &token.expires_on_unix {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let expires_on = match (unix, &token.expires_on) {
        (Some(secs), _) => SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)),
        // The old local-time form has no zone; reading it as UTC could be
        // hours off, so the token is treated as good for a few minutes and
        // fetched again after that.
        (None, Some(_)) => SystemTime::now().checked_add(Duration::from_secs(5 * 60 + 60)),
        (None, None) => None,
    }
    .ok_or_else(|| CredentialError::InvalidResponse("the Azure CLI token has no expiry".into()))?;
    Ok(AccessToken::new(
        Secret::new(token.access_token),
        expires_on,
    ))
}

crate::cache::cached_credential!(AzureCliCredential);

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use graph_transport::TokenCredential;
    use std::os::unix::fs::PermissionsExt;

    /// A fake `az` in a fresh directory: `script` is its shell body.
    fn fake_az(script: &str) -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("az");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    mod tempdir {
        pub(super) struct Dir(pub(super) std::path::PathBuf);
        impl Dir {
            pub(super) fn new() -> Self {
                let p = std::env::temp_dir()
                    .join(format!("graphsync-az-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const SCOPE: &[&str] = &["https://graph.microsoft.us/.default"];

    #[tokio::test]
    async fn a_fake_az_on_path_gives_a_token_for_the_cloud_resource() {
        let dir = fake_az(
            r#"case "$*" in
  *"--resource https://graph.microsoft.us "*) ;;
  *) echo "wrong arguments: $*" >&2; exit 3;;
esac
echo '{"accessToken":"cli-token-1","expiresOn":"2030-01-01 00:00:00.000000","expires_on":1893456000,"tokenType":"Bearer"}'"#,
        );
        let cred = AzureCliCredential::new().with_search_path(dir.0.as_os_str());
        let token = cred.get_token(SCOPE).await.unwrap();
        assert_eq!(token.token.expose(), "cli-token-1");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000)
        );
        // Cached: a second call does not run az again.
        std::fs::remove_file(dir.0.join("az")).unwrap();
        cred.get_token(SCOPE).await.unwrap();
    }

    #[tokio::test]
    async fn missing_az_not_signed_in_and_a_hang_are_clear_errors() {
        let empty = tempdir::Dir::new();
        let e = AzureCliCredential::new()
            .with_search_path(empty.0.as_os_str())
            .get_token(SCOPE)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not installed"), "{e}");

        let dir = fake_az("echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1");
        let e = AzureCliCredential::new()
            .with_search_path(dir.0.as_os_str())
            .get_token(SCOPE)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, CredentialError::Unavailable(m) if m.contains("run `az login`")),
            "{e}"
        );

        let dir = fake_az("while :; do :; done");
        let e = AzureCliCredential::new()
            .with_search_path(dir.0.as_os_str())
            .with_timeout(Duration::from_millis(200))
            .get_token(SCOPE)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("did not answer"), "{e}");
    }

    #[tokio::test]
    async fn garbage_output_is_an_error_that_does_not_echo_it() {
        let dir = fake_az("echo 'accessToken: secret-looking-thing'");
        let e = AzureCliCredential::new()
            .with_search_path(dir.0.as_os_str())
            .get_token(SCOPE)
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("secret-looking-thing"), "{e}");
    }
}
