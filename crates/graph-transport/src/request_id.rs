//! Fresh `client-request-id` values, cheaply.
//!
//! A client-request-id must be unique, not secret: it lets a support case
//! find one request in the service's logs. So instead of asking the kernel
//! for 16 random bytes per request (what `Uuid::new_v4` does), ids are a
//! per-process random seed mixed with a counter through SplitMix64, shaped
//! as version-4 UUIDs.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderValue;

static SEED: OnceLock<(u64, u64)> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The next id as a UUID.
pub(crate) fn next_uuid() -> uuid::Uuid {
    let (a, b) = *SEED.get_or_init(|| {
        let r = uuid::Uuid::new_v4().as_u128();
        ((r >> 64) as u64, r as u64)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hi = splitmix64(a ^ n);
    let lo = splitmix64(b.wrapping_add(n.rotate_left(32)));
    uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
        .into_uuid()
}

/// The next id as a header value.
pub(crate) fn fresh() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = next_uuid().hyphenated().encode_lower(&mut buf);
    // Hex digits and hyphens are always a valid header value.
    HeaderValue::from_str(text)
        .unwrap_or_else(|_| HeaderValue::from_static("00000000-0000-4000-8000-000000000000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_and_do_not_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = next_uuid();
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id));
        }
        assert_eq!(fresh().len(), 36);
    }
}
