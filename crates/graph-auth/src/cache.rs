//! A per-credential token cache keyed by scopes.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use graph_transport::{AccessToken, CredentialError, Secret};

/// How long before expiry a token is refreshed, at most.
pub const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// Where the cache reads the time; injectable so tests need not sleep.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Caches one token per set of scopes.
///
/// - A token is refreshed [`REFRESH_AHEAD`] before it expires (or halfway
///   through its life, if that is shorter, so a short-lived token is not
///   fetched on every call).
/// - Per set of scopes, one refresh is in flight at a time; concurrent
///   callers wait for it and share its result.
/// - When a refresh fails while the cached token is still valid, the cached
///   token is served and the failure is logged; the next call tries again.
/// - The fast path (a fresh token) takes a read lock and clones an `Arc`.
pub struct TokenCache {
    /// A credential serves one or two scope sets: a short list compared
    /// byte for byte beats hashing the scope on every call.
    slots: Mutex<Vec<(String, Arc<Slot>)>>,
    clock: Clock,
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<Cached>>,
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    refresh_at: SystemTime,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("TokenCache")
            .field("scope_sets", &slots.len())
            .finish()
    }
}

impl TokenCache {
    /// An empty cache on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemTime::now))
    }

    /// An empty cache on the given clock.
    pub fn with_clock(clock: Clock) -> Self {
        TokenCache {
            slots: Mutex::new(Vec::new()),
            clock,
        }
    }

    /// The current time by this cache's clock.
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    fn slot(&self, scopes: &[&str]) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        // The common case, one scope already cached, needs no allocation.
        if let [one] = scopes
            && let Some((_, slot)) = slots.iter().find(|(k, _)| k == one)
        {
            return slot.clone();
        }
        let k = key(scopes);
        if let Some((_, slot)) = slots.iter().find(|(have, _)| *have == k) {
            return slot.clone();
        }
        let slot = Arc::new(Slot::default());
        slots.push((k, slot.clone()));
        slot
    }

    /// A fresh token for `scopes`: the cached one, or one from `fetch`.
    ///
    /// # Errors
    /// `fetch`'s error, when there is no valid cached token to fall back on.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        scopes: &[&str],
        fetch: F,
    ) -> Result<AccessToken, CredentialError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, CredentialError>>,
    {
        let slot = self.slot(scopes);
        if let Some(token) = fresh(&slot, self.now()) {
            return Ok(token);
        }
        let _turn = slot.refreshing.lock().await;
        // Someone else may have refreshed while this caller waited.
        let now = self.now();
        if let Some(token) = fresh(&slot, now) {
            return Ok(token);
        }
        match fetch().await {
            Ok(token) => {
                let refresh_at = refresh_at(&token, now);
                *slot.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            Err(error) => {
                let current = slot
                    .current
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                match current {
                    Some(cached) if cached.token.expires_on > now => {
                        tracing::warn!(
                            target: "graphsync::auth",
                            error = %error,
                            "token refresh failed; using the cached token until it expires"
                        );
                        Ok(cached.token)
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// Drops the token cached for `scopes` (after the service refused it).
    pub fn evict(&self, scopes: &[&str]) {
        let slot = self.slot(scopes);
        *slot.current.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Drops the token cached for `scopes` if it is `token`: a token fetched
    /// since the refused one was handed out is kept.
    pub fn evict_token(&self, scopes: &[&str], token: &Secret) {
        let slot = self.slot(scopes);
        let mut current = slot.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|c| c.token.token == *token) {
            *current = None;
        }
    }

    /// Drops every cached token.
    pub fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn key(scopes: &[&str]) -> String {
    let mut sorted: Vec<&str> = scopes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(" ")
}

fn fresh(slot: &Slot, now: SystemTime) -> Option<AccessToken> {
    let current = slot.current.read().unwrap_or_else(PoisonError::into_inner);
    match &*current {
        Some(c) if now < c.refresh_at => Some(c.token.clone()),
        _ => None,
    }
}

fn refresh_at(token: &AccessToken, now: SystemTime) -> SystemTime {
    let lifetime = token
        .expires_on
        .duration_since(now)
        .unwrap_or(Duration::ZERO);
    let ahead = REFRESH_AHEAD.min(lifetime / 2);
    token.expires_on.checked_sub(ahead).unwrap_or(now)
}

/// Implements `TokenCredential` for a credential that keeps its tokens in
/// `self.cache` and gets new ones with `self.fetch(scopes)`: what every
/// credential that calls an endpoint does.
macro_rules! cached_credential {
    // A credential with a `TokenEndpoint` field named `endpoint`: bound to
    // its cloud's authority.
    ($ty:ty, endpoint) => {
        $crate::cache::cached_credential!($ty, |this: &$ty| Some(this.endpoint.authority_host()));
    };
    ($ty:ty) => {
        $crate::cache::cached_credential!($ty, |_: &$ty| None);
    };
    ($ty:ty, $authority:expr) => {
        #[async_trait::async_trait]
        impl graph_transport::TokenCredential for $ty {
            async fn get_token<'a>(
                &self,
                scopes: &'a [&'a str],
            ) -> Result<graph_transport::AccessToken, graph_transport::CredentialError> {
                if scopes.is_empty() {
                    return Err(graph_transport::CredentialError::Configuration(
                        "no scope was requested".into(),
                    ));
                }
                self.cache.get_or_fetch(scopes, || self.fetch(scopes)).await
            }

            fn invalidate<'a>(&self, scopes: &'a [&'a str], token: &graph_transport::Secret) {
                self.cache.evict_token(scopes, token);
            }

            fn authority_host(&self) -> Option<&str> {
                let authority: fn(&$ty) -> Option<&str> = $authority;
                authority(self)
            }
        }
    };
}

pub(crate) use cached_credential;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// A clock that tests move by hand.
    fn manual_clock() -> (Clock, Arc<AtomicU64>) {
        let offset = Arc::new(AtomicU64::new(0));
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let o = offset.clone();
        (
            Arc::new(move || base + Duration::from_secs(o.load(Ordering::SeqCst))),
            offset,
        )
    }

    fn token(name: &str, now: SystemTime, lifetime_secs: u64) -> AccessToken {
        AccessToken::new(name, now + Duration::from_secs(lifetime_secs))
    }

    #[tokio::test]
    async fn serves_cached_token_until_five_minutes_before_expiry() {
        let (clock, offset) = manual_clock();
        let cache = TokenCache::with_clock(clock);
        let fetches = AtomicUsize::new(0);
        let get = || async {
            let now = cache.now();
            cache
                .get_or_fetch(&["s"], || async {
                    let n = fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(token(&format!("t{n}"), now, 3600))
                })
                .await
                .unwrap()
        };
        assert_eq!(get().await.token.expose(), "t0");
        offset.store(3600 - 301, Ordering::SeqCst);
        assert_eq!(get().await.token.expose(), "t0");
        offset.store(3600 - 299, Ordering::SeqCst);
        assert_eq!(get().await.token.expose(), "t1");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn short_lived_tokens_are_refreshed_at_half_life_not_every_call() {
        let (clock, offset) = manual_clock();
        let cache = TokenCache::with_clock(clock);
        let fetches = AtomicUsize::new(0);
        for step in [0, 10, 20, 29] {
            offset.store(step, Ordering::SeqCst);
            let now = cache.now();
            cache
                .get_or_fetch(&["s"], || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(token("t", now, 60))
                })
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_fetch_for_many_concurrent_callers() {
        let cache = Arc::new(TokenCache::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..500 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(&["b", "a"], || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(token("t", SystemTime::now(), 3600))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().token.expose(), "t");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failed_refresh_keeps_serving_a_still_valid_token() {
        let (clock, offset) = manual_clock();
        let cache = TokenCache::with_clock(clock);
        let now = cache.now();
        cache
            .get_or_fetch(&["s"], || async { Ok(token("old", now, 3600)) })
            .await
            .unwrap();
        offset.store(3600 - 60, Ordering::SeqCst);
        let t = cache
            .get_or_fetch(&["s"], || async {
                Err(CredentialError::Configuration("endpoint down".into()))
            })
            .await
            .unwrap();
        assert_eq!(t.token.expose(), "old");
        offset.store(3601, Ordering::SeqCst);
        let err = cache
            .get_or_fetch(&["s"], || async {
                Err(CredentialError::Configuration("endpoint down".into()))
            })
            .await;
        assert!(err.is_err());
    }

    #[tokio::test]
    async fn scopes_are_keyed_as_a_set_and_evict_forgets() {
        let cache = TokenCache::new();
        let fetches = AtomicUsize::new(0);
        for scopes in [&["a", "b"][..], &["b", "a"], &["a", "b", "a"]] {
            cache
                .get_or_fetch(scopes, || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(token("t", SystemTime::now(), 3600))
                })
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        cache.evict(&["b", "a"]);
        cache
            .get_or_fetch(&["a", "b"], || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(token("t", SystemTime::now(), 3600))
            })
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
