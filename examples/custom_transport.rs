//! Plugging in your own `Transport` and `TokenCredential`.
//!
//! - `TaggingTransport` wraps any transport and adds a header to every
//!   request (here one a corporate egress proxy wants), counting what it
//!   sends; the same shape serves metrics, auditing or a test double.
//! - `BrokerCredential` gets tokens from somewhere graphsync does not know
//!   (here: a function standing in for an internal token broker) and
//!   caches nothing itself: `graph-auth`'s `TokenCache` does that.
//!
//! ```sh
//! GRAPH_TOKEN=eyJ… cargo run -p graphsync-examples --example custom_transport -- <servicePrincipalId> <jobId>
//! ```

// Items are `pub` so the tests can call them; an example has no API.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::missing_errors_doc
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use graph_auth::TokenCache;
use graph_model::{JobRef, NationalCloud};
use graph_transport::{
    AccessToken, ClientOptions, CredentialError, GraphClient, HttpRequest, HttpResponse,
    TokenCredential, Transport, TransportError, TransportOptions, default_transport,
};
use http::HeaderValue;
use sync_jobs::SyncJobsClient;

/// Adds `header: value` to every request, then sends it through `inner`.
#[derive(Debug)]
pub struct TaggingTransport {
    inner: Arc<dyn Transport>,
    header: http::HeaderName,
    value: HeaderValue,
    /// Requests sent.
    pub sent: AtomicU64,
}

impl TaggingTransport {
    /// A transport that tags what `inner` sends.
    pub fn new(inner: Arc<dyn Transport>, header: &'static str, value: &'static str) -> Self {
        TaggingTransport {
            inner,
            header: http::HeaderName::from_static(header),
            value: HeaderValue::from_static(value),
            sent: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl Transport for TaggingTransport {
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut tagged = request.clone();
        tagged
            .headers
            .insert(self.header.clone(), self.value.clone());
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.send(&tagged).await
    }
}

/// Where the broker's tokens come from: scopes in, token and lifetime out.
pub type Broker = Arc<dyn Fn(&[&str]) -> Result<(String, Duration), String> + Send + Sync>;

/// A credential whose tokens come from a broker, cached by graph-auth's
/// `TokenCache` (refreshed five minutes ahead, one fetch at a time).
pub struct BrokerCredential {
    broker: Broker,
    cache: TokenCache,
}

impl std::fmt::Debug for BrokerCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrokerCredential")
    }
}

impl BrokerCredential {
    /// A credential over `broker`.
    pub fn new(broker: Broker) -> Self {
        BrokerCredential {
            broker,
            cache: TokenCache::new(),
        }
    }
}

#[async_trait]
impl TokenCredential for BrokerCredential {
    async fn get_token<'a>(&self, scopes: &'a [&'a str]) -> Result<AccessToken, CredentialError> {
        self.cache
            .get_or_fetch(scopes, || async {
                let (token, lifetime) =
                    (self.broker)(scopes).map_err(CredentialError::Unavailable)?;
                Ok(AccessToken::new(token, SystemTime::now() + lifetime))
            })
            .await
    }

    fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &graph_transport::Secret) {
        self.cache.evict_token(scopes, token);
    }
}

/// A jobs client over the tagging transport and the broker credential.
pub fn client(
    cloud: NationalCloud,
    broker: Broker,
) -> Result<(SyncJobsClient, Arc<TaggingTransport>), Box<dyn std::error::Error>> {
    let inner = default_transport(&TransportOptions::default())?;
    let transport = Arc::new(TaggingTransport::new(
        inner,
        "x-egress-team",
        "identity-platform",
    ));
    let loopback = cloud.graph_root().starts_with("http://127.0.0.1");
    let graph = GraphClient::new(
        transport.clone(),
        Arc::new(BrokerCredential::new(broker)),
        ClientOptions::new(cloud).allow_http_loopback(loopback),
    )?;
    Ok((SyncJobsClient::new(graph), transport))
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(sp), Some(job)) = (args.next(), args.next()) else {
        return Err("usage: GRAPH_TOKEN=… custom_transport <servicePrincipalId> <jobId>".into());
    };
    // Stands in for a call to your token broker.
    let broker: Broker = Arc::new(|_scopes| {
        std::env::var("GRAPH_TOKEN")
            .map(|t| (t, Duration::from_secs(3600)))
            .map_err(|_| "GRAPH_TOKEN is not set".to_owned())
    });
    let (jobs, transport) = client(NationalCloud::Global, broker)?;
    let job = jobs.get(&JobRef::service_principal(sp, job)?).await?;
    println!(
        "{} is {:?} ({} request(s) sent)",
        job.id,
        job.status.code,
        transport.sent.load(Ordering::Relaxed)
    );
    Ok(())
}
