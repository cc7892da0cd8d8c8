//! Faults the emulator injects into Graph requests, seeded so a run can be
//! repeated: throttling, unavailability, gateway timeouts, latency, dropped
//! connections, malformed and truncated bodies.
//!
//! Each Graph request draws one number from a generator seeded with
//! [`FaultOptions::seed`] and the request's sequence number, and the rates
//! are laid end to end over `[0, 1)`: with `throttle: 0.1, unavailable: 0.1`
//! a draw below 0.1 is a 429, one in `[0.1, 0.2)` a 503, and so on. The same
//! seed and the same order of requests give the same faults.
//!
//! Some faults strike before the action is applied (429, 503, a connection
//! dropped before), some after (504, a connection dropped after, a
//! malformed or truncated body): those are the ambiguous outcomes a client
//! has to settle, and the action log shows what really happened.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Fault rates (each in `[0, 1]`, together at most 1) and their parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultOptions {
    /// The generator's seed.
    pub seed: u64,
    /// 429 Too Many Requests with `Retry-After`, before applying.
    pub throttle: f64,
    /// 503 Service Unavailable with `Retry-After`, before applying.
    pub unavailable: f64,
    /// 504 Gateway Timeout, after applying.
    pub gateway_timeout: f64,
    /// The connection closed without an answer, before applying.
    pub drop_before: f64,
    /// The connection closed without an answer, after applying.
    pub drop_after: f64,
    /// A success answer whose JSON body is cut short, after applying.
    pub malformed: f64,
    /// A success answer that promises more bytes than it sends, after
    /// applying.
    pub truncated: f64,
    /// What `Retry-After` says on 429 and 503, in seconds (fractions
    /// allowed). Default 1.
    pub retry_after_secs: Option<f64>,
    /// Latency added to every Graph answer, in milliseconds.
    pub latency_ms: u64,
}

/// One request's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Throttle,
    Unavailable,
    GatewayTimeout,
    DropBefore,
    DropAfter,
    Malformed,
    Truncated,
}

impl Fault {
    /// Whether the action is skipped.
    pub(crate) fn before(self) -> bool {
        matches!(
            self,
            Fault::Throttle | Fault::Unavailable | Fault::DropBefore
        )
    }
}

/// Options that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault options: {0}")]
pub struct FaultError(pub String);

impl FaultOptions {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// No faults yet, drawn from `seed` once rates are set.
    pub fn seeded(seed: u64) -> Self {
        FaultOptions {
            seed,
            ..Self::default()
        }
    }

    /// The rate of 429s (before applying).
    pub fn throttle(mut self, rate: f64) -> Self {
        self.throttle = rate;
        self
    }

    /// The rate of 503s (before applying).
    pub fn unavailable(mut self, rate: f64) -> Self {
        self.unavailable = rate;
        self
    }

    /// The rate of 504s (after applying).
    pub fn gateway_timeout(mut self, rate: f64) -> Self {
        self.gateway_timeout = rate;
        self
    }

    /// The rate of connections dropped before applying.
    pub fn drop_before(mut self, rate: f64) -> Self {
        self.drop_before = rate;
        self
    }

    /// The rate of connections dropped after applying.
    pub fn drop_after(mut self, rate: f64) -> Self {
        self.drop_after = rate;
        self
    }

    /// The rate of bodies cut short (after applying).
    pub fn malformed(mut self, rate: f64) -> Self {
        self.malformed = rate;
        self
    }

    /// The rate of answers that promise more bytes than they send.
    pub fn truncated(mut self, rate: f64) -> Self {
        self.truncated = rate;
        self
    }

    /// What `Retry-After` says on 429 and 503, in seconds.
    pub fn retry_after_secs(mut self, secs: f64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Latency added to every Graph answer.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }

    fn rates(&self) -> [(f64, Fault); 7] {
        [
            (self.throttle, Fault::Throttle),
            (self.unavailable, Fault::Unavailable),
            (self.gateway_timeout, Fault::GatewayTimeout),
            (self.drop_before, Fault::DropBefore),
            (self.drop_after, Fault::DropAfter),
            (self.malformed, Fault::Malformed),
            (self.truncated, Fault::Truncated),
        ]
    }

    /// Checks every rate is in `[0, 1]`, their sum at most 1, and
    /// `Retry-After` a sensible number.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), FaultError> {
        let mut total = 0.0;
        for (rate, fault) in self.rates() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultError(format!(
                    "the {fault:?} rate {rate} is not between 0 and 1"
                )));
            }
            total += rate;
        }
        if total > 1.0 + 1e-9 {
            return Err(FaultError(format!(
                "the rates add up to {total}, more than 1"
            )));
        }
        if let Some(s) = self.retry_after_secs
            && !(0.0..=86_400.0).contains(&s)
        {
            return Err(FaultError(format!(
                "retry_after_secs {s} is not between 0 and 86400"
            )));
        }
        if self.latency_ms > 60_000 {
            return Err(FaultError(format!(
                "latency_ms {} is more than a minute",
                self.latency_ms
            )));
        }
        Ok(())
    }

    /// Whether any fault can happen.
    pub fn is_active(&self) -> bool {
        self.latency_ms > 0 || self.rates().iter().any(|(r, _)| *r > 0.0)
    }

    /// The fate of request number `n`.
    pub(crate) fn draw(&self, n: u64) -> Fault {
        let x = unit(mix(self.seed, n));
        let mut edge = 0.0;
        for (rate, fault) in self.rates() {
            edge += rate;
            if x < edge {
                return fault;
            }
        }
        Fault::None
    }

    /// `Retry-After` as the header says it.
    pub(crate) fn retry_after_header(&self) -> String {
        let s = self.retry_after_secs.unwrap_or(1.0);
        if s.fract() == 0.0 {
            format!("{s:.0}")
        } else {
            format!("{s:.3}")
        }
    }

    /// The added latency.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }
}

/// splitmix64 of the seed and the request number: independent draws
/// without shared generator state, so concurrency cannot reorder them.
fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw spread over `[0, 1)`.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_follow_the_rates() {
        let f = FaultOptions {
            seed: 7,
            throttle: 0.1,
            gateway_timeout: 0.1,
            ..FaultOptions::default()
        };
        let a: Vec<_> = (0..10_000).map(|n| f.draw(n)).collect();
        let b: Vec<_> = (0..10_000).map(|n| f.draw(n)).collect();
        assert_eq!(a, b);
        let count = |fault| a.iter().filter(|x| **x == fault).count();
        assert!(
            (900..1100).contains(&count(Fault::Throttle)),
            "{}",
            count(Fault::Throttle)
        );
        assert!((900..1100).contains(&count(Fault::GatewayTimeout)));
        assert_eq!(count(Fault::DropAfter), 0);
        let other = FaultOptions {
            seed: 8,
            ..f.clone()
        };
        assert_ne!(a, (0..10_000).map(|n| other.draw(n)).collect::<Vec<_>>());
    }

    #[test]
    fn impossible_rates_are_refused() {
        let bad = FaultOptions {
            throttle: 0.7,
            unavailable: 0.6,
            ..FaultOptions::default()
        };
        assert!(bad.validate().is_err());
        let bad = FaultOptions {
            malformed: -0.1,
            ..FaultOptions::default()
        };
        assert!(bad.validate().is_err());
        let bad = FaultOptions {
            retry_after_secs: Some(f64::NAN),
            ..FaultOptions::default()
        };
        assert!(bad.validate().is_err());
        assert!(FaultOptions::none().validate().is_ok());
        assert!(!FaultOptions::none().is_active());
    }
}
