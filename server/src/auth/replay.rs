//! The in-memory replay cache of request IDs (`docs/protocol.md` §8): bounded, sharded by a
//! keyed hash, pruned by the second, and with a share per signing key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

use candor_protocol::RequestAuth;

use super::SHARDS;
use crate::error::ApiError;

/// The default of the `signed_requests_per_key` setting: accepted signed requests one key may
/// have in the replay cache's current period (one window long). About 80 a second over the
/// default 120 s, far above what a client sends (the office's inbox walk included), far below
/// what would fill the cache.
pub const PER_KEY_DEFAULT: u32 = 10_000;

/// The most `signed_requests_per_key` may be: two and a half keys' shares would fill the
/// cache (`REPLAY_CAPACITY` in `startup.rs`).
pub const PER_KEY_MAX: u32 = 1_000_000;

/// One shard of the replay cache: the IDs accepted, in one set per (client) timestamp. A
/// replay repeats the timestamp, which the signature covers, so only that second's set is
/// looked in, and pruning drops whole seconds. An ID is kept as a keyed 64-bit hash of the
/// signing key and the request ID: a slot and a control byte in the set, which is 44–88% full,
/// so 10–20 bytes each (from the layout, not measured). One set of IDs plus a list per second
/// took about 30, and a map and an ordered set of full `(timestamp, ID)` pairs about 70
/// (`docs/benchmarks.md`, "Relay at scale"). A fresh random ID matches one of the hashes kept
/// in its shard for its second with probability at most about 2^-46; that request is refused
/// as a replay and the client retries with a new ID.
#[derive(Default)]
struct Shard {
    by_second: BTreeMap<u64, HashSet<u64>>,
    /// IDs kept, in all seconds.
    len: usize,
}

/// What one key has had accepted in its current period.
#[derive(Clone, Copy)]
struct KeyUse {
    /// When the period began (the relay's clock).
    since: u64,
    /// Requests accepted since.
    accepted: u32,
}

type UseShard = HashMap<[u8; 32], KeyUse>;

/// Request IDs accepted within the window. Entries older than the window are pruned (such
/// requests are refused as stale anyway); the cache is bounded, and when full of fresh entries
/// it refuses new requests rather than forget.
///
/// The shard is chosen by a hash keyed with a random key drawn when the relay starts, so that a
/// client cannot aim its requests at one shard; and each key may have only so many requests
/// accepted per window, so that one key cannot fill the cache for everyone.
pub struct ReplayCache {
    shards: Vec<Mutex<Shard>>,
    uses: Vec<Mutex<UseShard>>,
    hasher: RandomState,
    per_shard: usize,
    per_key: u32,
    window: u64,
}

impl ReplayCache {
    /// A cache for `window` seconds holding at most about `capacity` IDs, and at most
    /// `per_key` accepted requests per key per window.
    pub fn new(window: u64, capacity: usize, per_key: u32) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            uses: (0..SHARDS).map(|_| Mutex::default()).collect(),
            // SipHash under keys drawn from the OS for this process.
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            per_key: per_key.max(1),
            window,
        }
    }

    /// Remembers a request accepted under `key`; refuses one seen before, one from a key that
    /// has had its share of this window, and any when the cache is full.
    pub fn insert(&self, auth: &RequestAuth, key: &[u8; 32], now: u64) -> Result<(), ApiError> {
        let id = self.hasher.hash_one((key, auth.request_id.as_bytes()));
        // The shard is two collections updated together under the lock; a panic cannot happen
        // between the two updates.
        let mut shard = self.shards[shard_of(id)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let horizon = now.saturating_sub(self.window);
        while let Some(entry) = shard.by_second.first_entry() {
            if *entry.key() >= horizon {
                break;
            }
            shard.len -= entry.remove().len();
        }
        if shard
            .by_second
            .get(&auth.timestamp)
            .is_some_and(|ids| ids.contains(&id))
        {
            return Err(ApiError::ReplayedRequest);
        }
        if shard.len >= self.per_shard {
            tracing::warn!("the replay cache is full; refusing signed requests until it drains");
            return Err(ApiError::Unavailable);
        }
        self.count_use(key, now)?;
        shard
            .by_second
            .entry(auth.timestamp)
            .or_default()
            .insert(id);
        shard.len += 1;
        Ok(())
    }

    /// Counts one accepted request against `key`'s share of the current period.
    fn count_use(&self, key: &[u8; 32], now: u64) -> Result<(), ApiError> {
        let mut uses = self.uses[shard_of(self.hasher.hash_one(key))]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let window = self.window;
        let current = |u: &KeyUse| now < u.since.saturating_add(window);
        if uses.len() >= self.per_shard {
            // Keys whose period is over count as fresh anyway: forget them.
            uses.retain(|_, u| current(u));
            if uses.len() >= self.per_shard {
                tracing::warn!(
                    "the replay cache is full; refusing signed requests until it drains"
                );
                return Err(ApiError::Unavailable);
            }
        }
        let entry = uses.entry(*key).or_insert(KeyUse {
            since: now,
            accepted: 0,
        });
        if !current(entry) {
            *entry = KeyUse {
                since: now,
                accepted: 0,
            };
        }
        if entry.accepted >= self.per_key {
            return Err(ApiError::QuotaExceeded(
                "this key has sent as many signed requests as the relay accepts in its window; wait, then sign again",
            ));
        }
        entry.accepted += 1;
        Ok(())
    }

    /// IDs held, in all shards.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len)
            .sum()
    }

    /// Whether no ID is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn shard_of(hash: u64) -> usize {
    // The top bits, which the set inside a shard does not favour.
    (hash >> 60) as usize % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::auth_at;
    use candor_protocol::{Signer, SigningSecretKey};

    /// As [`auth_at`], with a request ID whose last byte is the attacker's choice.
    fn aimed_at(ts: u64, byte: u8) -> (RequestAuth, [u8; 32]) {
        let (mut auth, key) = auth_at(ts);
        let mut id = *auth.request_id.as_bytes();
        id[15] = byte;
        auth.request_id = candor_protocol::RequestId::from_bytes(id);
        (auth, key)
    }

    #[test]
    fn second_use_is_a_replay() {
        let cache = ReplayCache::new(120, 100, PER_KEY_DEFAULT);
        let (a, key) = auth_at(1000);
        assert!(cache.insert(&a, &key, 1000).is_ok());
        assert_eq!(cache.insert(&a, &key, 1001), Err(ApiError::ReplayedRequest));
    }

    #[test]
    fn old_entries_are_pruned_and_the_cache_is_bounded() {
        let cache = ReplayCache::new(10, 64, PER_KEY_DEFAULT);
        // Fill shards until one refuses.
        let mut refused = false;
        for _ in 0..1000 {
            let (a, key) = auth_at(1000);
            if cache.insert(&a, &key, 1000) == Err(ApiError::Unavailable) {
                refused = true;
                break;
            }
        }
        assert!(refused);
        // Past the window everything old is pruned, so new requests are accepted again.
        for _ in 0..3 {
            let (a, key) = auth_at(1100);
            assert!(cache.insert(&a, &key, 1100).is_ok());
        }
    }

    /// Issue 20, finding 3: the shard was `request_id[15] % 16`, so requests that all chose the
    /// same last byte filled one shard, and genuine requests landing there got 503.
    #[test]
    fn issue_20_a_client_cannot_aim_its_requests_at_one_shard() {
        // Arrange: 64 IDs per shard; the attacker sends one shard's worth, all aimed at shard 0.
        let cache = ReplayCache::new(120, 16 * 64, PER_KEY_DEFAULT);
        for _ in 0..64 {
            let (a, key) = aimed_at(1000, 0);
            assert!(cache.insert(&a, &key, 1000).is_ok());
        }

        // Act: genuine requests whose IDs happen to end the same way.
        let genuine: Vec<_> = (0..32)
            .map(|_| {
                let (a, key) = aimed_at(1000, 16);
                cache.insert(&a, &key, 1000)
            })
            .collect();

        // Assert
        assert!(genuine.iter().all(Result::is_ok), "{genuine:?}");
    }

    /// Issue 20, finding 3: one key may not hold more than its share of the cache.
    #[test]
    fn issue_20_one_key_cannot_fill_the_cache_for_everyone() {
        // Arrange
        let cache = ReplayCache::new(120, 16 * 1024, 100);
        let key = SigningSecretKey::generate(&mut rand::rng());
        let sign =
            |ts| RequestAuth::sign(&key, Signer::Case, "GET", "/", b"", ts, &mut rand::rng());
        let bytes = key.public_key().to_bytes();

        // Act: the key sends far more than its share; then someone else sends one.
        let results: Vec<_> = (0..1000)
            .map(|_| cache.insert(&sign(1000), &bytes, 1000))
            .collect();
        let (other, other_key) = auth_at(1000);

        // Assert
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 100);
        assert!(matches!(results[100], Err(ApiError::QuotaExceeded(_))));
        assert_eq!(cache.len(), 100);
        assert!(cache.insert(&other, &other_key, 1000).is_ok());
        // The key's next period starts once its window is over.
        assert!(cache.insert(&sign(1121), &bytes, 1121).is_ok());
    }
}
