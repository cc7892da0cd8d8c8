//! Settings shared by the back-ends.

use std::time::Duration;

/// Connection settings of a back-end.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportOptions {
    /// How long to wait for a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Option<Duration>,
    /// How long one try may take, from sending to the end of the body.
    /// Default 100 s, as the Azure SDKs use.
    pub timeout: Option<Duration>,
    /// How long an idle pooled connection is kept. Default 90 s.
    pub pool_idle_timeout: Option<Duration>,
    /// How many idle connections per host are kept. Default 64.
    pub pool_max_idle_per_host: usize,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(100)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: 64,
        }
    }
}

impl TransportOptions {
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the per-try timeout.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}
