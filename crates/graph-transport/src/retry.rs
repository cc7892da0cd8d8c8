//! When to try a request again, and how long to wait first.
//!
//! The rules, in the order they are applied to each failed try:
//!
//! - 429, 503: the service did not act; retry, waiting at least what
//!   `Retry-After` says (it is a floor under the backoff, never a ceiling);
//! - 504: the gateway gave up, the service may have acted; retry only an
//!   idempotent operation (or one the caller opted in for), otherwise report
//!   the outcome as ambiguous;
//! - no connection (refused, DNS): nothing was sent; retry;
//! - a timeout or a reset after the request went out: retry an idempotent
//!   operation; otherwise ambiguous;
//! - anything else (400, 403, 404, …): not retried.
//!
//! Waits are exponential with full jitter, capped per wait and for the whole
//! call, and a client-wide [budget](RetryBudget) keeps a storm of failures
//! from multiplying the load on a struggling service.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How a [`GraphClient`](crate::GraphClient) retries.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryOptions {
    /// Retries after the first try (so at most `max_retries + 1` tries).
    /// Default 3.
    pub max_retries: u32,
    /// The backoff before the first retry, doubled for each one after.
    /// Default 1 s.
    pub initial_backoff: Duration,
    /// The longest single wait. A `Retry-After` longer than this ends the
    /// call with the throttled error instead of waiting. Default 60 s.
    pub max_backoff: Duration,
    /// The longest a whole call may spend, waits included; a retry whose
    /// wait would pass it is not made. Default 180 s.
    pub max_elapsed: Duration,
    /// Retry non-idempotent operations (start, restart…) after an ambiguous
    /// failure (a timeout, a reset, a 504) too. Off by default: the request
    /// may have been applied, and the service warns against repeated starts.
    pub retry_ambiguous: bool,
    /// How many retries the client may make in a burst across all its
    /// calls; each retry spends one, each first-try success earns back a
    /// tenth. Default 100. Zero turns retries off.
    pub budget: u32,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(180),
            retry_ambiguous: false,
            budget: 100,
        }
    }
}

impl RetryOptions {
    /// No retries at all.
    pub fn none() -> Self {
        RetryOptions {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// At most `n` retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff (doubled after each retry).
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The longest single wait.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The longest a whole call may take.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Also retry ambiguous failures of non-idempotent operations.
    pub fn retry_ambiguous(mut self, yes: bool) -> Self {
        self.retry_ambiguous = yes;
        self
    }

    /// The client-wide retry budget.
    pub fn budget(mut self, retries: u32) -> Self {
        self.budget = retries;
        self
    }

    /// The backoff before retry number `retry` (1 for the first), with full
    /// jitter: uniform in `[0, min(max_backoff, initial * 2^(retry-1))]`.
    pub(crate) fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exp = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self
            .initial_backoff
            .checked_mul(exp)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        // `random` spread over [0, 1].
        let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(fraction)
    }
}

/// Units per retry in the budget: earning back a tenth of a retry per
/// success needs finer grain than whole retries.
const UNITS_PER_RETRY: u32 = 10;

/// A client-wide token bucket of retries.
#[derive(Debug)]
pub struct RetryBudget {
    units: AtomicU32,
    capacity: u32,
}

impl RetryBudget {
    /// A full budget of `retries`.
    pub fn new(retries: u32) -> Self {
        let capacity = retries.saturating_mul(UNITS_PER_RETRY);
        RetryBudget {
            units: AtomicU32::new(capacity),
            capacity,
        }
    }

    /// Spends one retry; `false` when the budget is empty.
    pub fn try_spend(&self) -> bool {
        self.units
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_sub(UNITS_PER_RETRY)
            })
            .is_ok()
    }

    /// Earns back a tenth of a retry (after a call that needed none).
    pub fn earn(&self) {
        // A full bucket (the common case) costs one load and no write.
        if self.units.load(Ordering::Relaxed) >= self.capacity {
            return;
        }
        let _ = self
            .units
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u < self.capacity).then(|| (u + 1).min(self.capacity))
            });
    }

    /// Whole retries left.
    pub fn remaining(&self) -> u32 {
        self.units.load(Ordering::Acquire) / UNITS_PER_RETRY
    }
}

/// A random number for jitter, from the operating system's generator (the
/// one uuid v4 draws from): only retries need it.
pub(crate) fn jitter_seed() -> u64 {
    let bits = uuid::Uuid::new_v4().as_u128();
    (bits as u64) ^ ((bits >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let o = RetryOptions::default();
        assert_eq!(o.backoff(1, 0), Duration::ZERO);
        let top = |retry| o.backoff(retry, u64::MAX);
        assert!(top(1) <= Duration::from_secs(1) && top(1) > Duration::from_millis(999));
        assert!(top(3) <= Duration::from_secs(4) && top(3) > Duration::from_millis(3999));
        assert_eq!(top(40), Duration::from_secs(60), "capped, no overflow");
        let mid = o.backoff(2, u64::MAX / 2);
        assert!(mid > Duration::from_millis(990) && mid < Duration::from_millis(1010));
    }

    #[test]
    fn the_budget_empties_and_refills_by_tenths() {
        let b = RetryBudget::new(2);
        assert!(b.try_spend() && b.try_spend());
        assert!(!b.try_spend());
        for _ in 0..9 {
            b.earn();
        }
        assert!(!b.try_spend(), "nine tenths are not a retry");
        b.earn();
        assert!(b.try_spend());
        for _ in 0..1000 {
            b.earn();
        }
        assert_eq!(b.remaining(), 2, "never above capacity");
        assert!(!RetryBudget::new(0).try_spend());
    }
}
