//! Signed requests (`docs/protocol.md` §8): header parsing, freshness, verification and the
//! in-memory replay cache.
//!
//! The order is fixed: parse the headers, check the timestamp, look up the key, verify, and only
//! then remember the request ID. A request for something that does not exist is verified
//! against a fixed dummy key, so that it costs the same as one signed with the wrong key, and
//! both get the same `not-found` answer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{LazyLock, Mutex, PoisonError};

use actix_web::HttpRequest;
use candor_protocol::{RequestAuth, SigningPublicKey, SigningSecretKey};

use crate::error::ApiError;

/// Verified against when the addressed mailbox or office does not exist. Its seed is public;
/// a valid signature under it changes nothing, since the answer is `not-found` either way.
static DUMMY_KEY: LazyLock<SigningPublicKey> =
    LazyLock::new(|| SigningSecretKey::from_seed(&[0x5a; 32]).public_key());

const SHARDS: usize = 16;

/// Decompressed signing keys per cache shard; a full shard is emptied.
const KEYS_PER_SHARD: usize = 1024;

type KeyShard = HashMap<[u8; 32], SigningPublicKey>;

/// Signing keys by their bytes, decompressed and checked. Parsing a key (point decompression
/// and the small-order check) costs about a quarter of an Ed25519 verification, and every
/// signed request needs its key. Entries are addressed by the key bytes themselves, so the
/// cache holds nothing a request could not compute, and is bounded.
static KEYS: LazyLock<Vec<Mutex<KeyShard>>> =
    LazyLock::new(|| (0..SHARDS).map(|_| Mutex::default()).collect());

/// A stored signing key, parsed (`SigningPublicKey::from_bytes`), through the cache. `None`
/// for bytes that are not a valid key.
pub fn signing_key(bytes: &[u8; 32]) -> Option<SigningPublicKey> {
    let shard = &KEYS[usize::from(bytes[0]) % SHARDS];
    // The map only caches pure results; a panic cannot leave it inconsistent.
    if let Some(key) = shard
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(bytes)
    {
        return Some(*key);
    }
    let key = SigningPublicKey::from_bytes(bytes).ok()?;
    let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
    if shard.len() >= KEYS_PER_SHARD {
        shard.clear();
    }
    shard.insert(*bytes, key);
    Some(key)
}

/// Parses the four signature headers.
pub fn parse(req: &HttpRequest) -> Result<RequestAuth, ApiError> {
    RequestAuth::from_headers(|name| req.headers().get(name).and_then(|v| v.to_str().ok()))
        .map_err(|_| {
            ApiError::SignatureRequired(
                "this request must be signed: the Candor-Signer, Candor-Timestamp, Candor-Request-Id and Candor-Signature headers are missing or malformed",
            )
        })
}

/// Refuses a timestamp outside the window, or from before the relay started (so a restart
/// does not reopen the window for replays).
pub fn check_fresh(
    auth: &RequestAuth,
    now: u64,
    started: u64,
    window: u64,
) -> Result<(), ApiError> {
    if !auth.is_fresh(now, window) || auth.timestamp < started {
        return Err(ApiError::StaleRequest);
    }
    Ok(())
}

/// The path as signed: the request target as sent, query included.
pub fn signed_path(req: &HttpRequest) -> &str {
    req.uri()
        .path_and_query()
        .map_or_else(|| req.path(), |pq| pq.as_str())
}

/// Verifies the signature under `key`, or under the dummy key when there is none. Any failure
/// is `not-found`.
pub fn verify(
    auth: &RequestAuth,
    key: Option<SigningPublicKey>,
    req: &HttpRequest,
    body: &[u8],
    now: u64,
    window: u64,
) -> Result<(), ApiError> {
    let found = key.is_some();
    let key = key.unwrap_or(*DUMMY_KEY);
    let ok = auth
        .verify(
            &key,
            req.method().as_str(),
            signed_path(req),
            body,
            now,
            window,
        )
        .is_ok();
    if ok && found {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// One shard of the replay cache: the IDs accepted, in one set per (client) timestamp. A
/// replay repeats the timestamp, which the signature covers, so only that second's set is
/// looked in, and pruning drops whole seconds. An ID is kept as its first 8 bytes: a slot and a
/// control byte in the set, which is 44–88% full, so 10–20 bytes each (from the layout, not
/// measured). One set of IDs plus a list per second took about 30, and a map and an ordered set
/// of full `(timestamp, ID)` pairs about 70 (`docs/benchmarks.md`, "Relay at scale"). A fresh
/// random ID matches one of the prefixes kept in its shard for its second with probability at
/// most about 2^-46; that request is refused as a replay and the client retries with a new ID.
#[derive(Default)]
struct Shard {
    by_second: BTreeMap<u64, HashSet<u64>>,
    /// IDs kept, in all seconds.
    len: usize,
}

/// Request IDs accepted within the window. Entries older than the window are pruned (such
/// requests are refused as stale anyway); the cache is bounded, and when full of fresh entries
/// it refuses new requests rather than forget.
pub struct ReplayCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    window: u64,
}

impl ReplayCache {
    /// A cache for `window` seconds holding at most about `capacity` IDs.
    pub fn new(window: u64, capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            window,
        }
    }

    /// Remembers an accepted request; refuses one seen before.
    pub fn insert(&self, auth: &RequestAuth, now: u64) -> Result<(), ApiError> {
        let bytes = auth.request_id.as_bytes();
        let shard = &self.shards[usize::from(bytes[15]) % SHARDS];
        let id = u64::from_le_bytes([
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        ]);
        // The shard is two collections updated together under the lock; a panic cannot happen
        // between the two updates.
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
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
        shard
            .by_second
            .entry(auth.timestamp)
            .or_default()
            .insert(id);
        shard.len += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::Signer;

    fn auth_at(ts: u64) -> RequestAuth {
        let key = SigningSecretKey::generate(&mut rand::rng());
        RequestAuth::sign(&key, Signer::Case, "GET", "/", b"", ts, &mut rand::rng())
    }

    #[test]
    fn cached_keys_are_the_parsed_keys() {
        let key = SigningSecretKey::generate(&mut rand::rng()).public_key();
        let bytes = key.to_bytes();
        assert!(signing_key(&bytes) == Some(key));
        assert!(signing_key(&bytes) == Some(key));
        let mut bad = [0u8; 32];
        bad[0] = 1; // the identity point: small order, refused
        assert!(signing_key(&bad).is_none());
        assert!(SigningPublicKey::from_bytes(&bad).is_err());
    }

    #[test]
    fn second_use_is_a_replay() {
        let cache = ReplayCache::new(120, 100);
        let a = auth_at(1000);
        assert!(cache.insert(&a, 1000).is_ok());
        assert_eq!(cache.insert(&a, 1001), Err(ApiError::ReplayedRequest));
    }

    #[test]
    fn old_entries_are_pruned_and_the_cache_is_bounded() {
        let cache = ReplayCache::new(10, 64);
        // Fill shards until one refuses.
        let mut refused = false;
        for _ in 0..1000 {
            if cache.insert(&auth_at(1000), 1000) == Err(ApiError::Unavailable) {
                refused = true;
                break;
            }
        }
        assert!(refused);
        // Past the window everything old is pruned, so new requests are accepted again.
        for _ in 0..3 {
            assert!(cache.insert(&auth_at(1100), 1100).is_ok());
        }
    }

    #[test]
    fn timestamps_before_start_are_stale() {
        let a = auth_at(999);
        assert_eq!(
            check_fresh(&a, 1000, 1000, 120),
            Err(ApiError::StaleRequest)
        );
        assert!(check_fresh(&a, 1000, 990, 120).is_ok());
    }
}
