//! Signed requests (`docs/protocol.md` §8): header parsing, freshness, verification and the
//! in-memory replay cache.
//!
//! The order is fixed: parse the headers, check the timestamp, look up the key, verify, and only
//! then remember the request ID (opening a mailbox remembers it only once the proof of work is
//! checked and the mailbox is open: `routes::mailboxes::open`). A request for something that does not exist is verified
//! against a fixed dummy key, so that it costs the same as one signed with the wrong key, and
//! both get the same `not-found` answer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{LazyLock, Mutex, PoisonError};

use actix_web::HttpRequest;
use candor_protocol::request::KEY_HEADER;
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

/// The key a request names in `Candor-Key` (`docs/protocol.md` §8), parsed and checked as an
/// Ed25519 key; `None` if it names none.
pub fn named_key(req: &HttpRequest) -> Result<Option<SigningPublicKey>, ApiError> {
    let Some(value) = req.headers().get(KEY_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| RequestAuth::parse_key_header(v).ok())
        .and_then(|bytes| signing_key(&bytes))
        .map(Some)
        .ok_or(ApiError::SignatureRequired(
            "the Candor-Key header must be the signing key's 32 bytes in base64url (43 characters), a valid Ed25519 key; send the key that signs, or leave the header out",
        ))
}

/// Refuses a timestamp outside the window, more than [`MAX_AHEAD_SECS`] ahead, or from before
/// the relay started (so a restart does not reopen the window for replays).
pub fn check_fresh(
    auth: &RequestAuth,
    now: u64,
    started: u64,
    window: u64,
) -> Result<(), ApiError> {
    if !auth.is_fresh(now, window)
        || auth.timestamp < started
        || auth.timestamp > now.saturating_add(MAX_AHEAD_SECS)
    {
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

/// Verifies the signature under `key`, or under the dummy key when there is none, and returns
/// the key that signed. Any failure is `not-found`, as is a request that names a key
/// (`Candor-Key`) other than `key`.
pub fn verify(
    auth: &RequestAuth,
    key: Option<SigningPublicKey>,
    req: &HttpRequest,
    body: &[u8],
    now: u64,
    window: u64,
) -> Result<SigningPublicKey, ApiError> {
    let named = named_key(req)?;
    let found = key.is_some() && named.is_none_or(|named| Some(named) == key);
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
        Ok(key)
    } else {
        Err(ApiError::NotFound)
    }
}

/// How far ahead of the relay's clock a timestamp may be. The window is for clocks that
/// differ; a request from the future is kept in the replay cache until its timestamp leaves
/// the window, so allowing the whole window ahead let one entry live twice as long.
pub const MAX_AHEAD_SECS: u64 = 10;

/// Accepted signed requests one key may have in the replay cache's current period (one
/// window long). About 80 a second over the default 120 s, far above what a client sends
/// (the office's inbox walk included), far below what would fill the cache.
pub const PER_KEY_DEFAULT: u32 = 10_000;

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
    use candor_protocol::Signer;

    /// A request signed at `ts` by a fresh key, and that key's bytes.
    fn auth_at(ts: u64) -> (RequestAuth, [u8; 32]) {
        let key = SigningSecretKey::generate(&mut rand::rng());
        let auth = RequestAuth::sign(&key, Signer::Case, "GET", "/", b"", ts, &mut rand::rng());
        (auth, key.public_key().to_bytes())
    }

    /// As [`auth_at`], with a request ID whose last byte is the attacker's choice.
    fn aimed_at(ts: u64, byte: u8) -> (RequestAuth, [u8; 32]) {
        let (mut auth, key) = auth_at(ts);
        let mut id = *auth.request_id.as_bytes();
        id[15] = byte;
        auth.request_id = candor_protocol::RequestId::from_bytes(id);
        (auth, key)
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

    /// Issue 20, finding 3: a request dated in the future stayed in the cache until its
    /// timestamp left the window: up to twice the window.
    #[test]
    fn issue_20_timestamps_more_than_a_few_seconds_ahead_are_stale() {
        let (soon, _) = auth_at(1000 + MAX_AHEAD_SECS);
        let (later, _) = auth_at(1000 + MAX_AHEAD_SECS + 1);
        assert!(check_fresh(&soon, 1000, 900, 120).is_ok());
        assert_eq!(
            check_fresh(&later, 1000, 900, 120),
            Err(ApiError::StaleRequest)
        );
    }

    #[test]
    fn timestamps_before_start_are_stale() {
        let (a, _) = auth_at(999);
        assert_eq!(
            check_fresh(&a, 1000, 1000, 120),
            Err(ApiError::StaleRequest)
        );
        assert!(check_fresh(&a, 1000, 990, 120).is_ok());
    }
}
