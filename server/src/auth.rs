//! Signed requests (`docs/protocol.md` §8): header parsing, the named key, freshness,
//! verification, and the in-memory replay cache (`replay.rs`).
//!
//! The order is fixed: parse the headers, check the timestamp, look up the key, verify, and only
//! then remember the request ID (opening a mailbox remembers it only once the proof of work is
//! checked and the mailbox is open: `routes::mailboxes::open`). A request for something that does not exist is verified
//! against a fixed dummy key, so that it costs the same as one signed with the wrong key, and
//! both get the same `not-found` answer.

use std::collections::HashMap;
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
    let key = key.filter(|key| named.is_none_or(|named| named == *key));
    verify_under(auth, key, req, body, now, window)
}

/// As [`verify`], for a key that `Candor-Key` was already checked against, or that it named.
pub fn verify_under(
    auth: &RequestAuth,
    key: Option<SigningPublicKey>,
    req: &HttpRequest,
    body: &[u8],
    now: u64,
    window: u64,
) -> Result<SigningPublicKey, ApiError> {
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
        Ok(key)
    } else {
        Err(ApiError::NotFound)
    }
}

/// How far ahead of the relay's clock a timestamp may be. The window is for clocks that
/// differ; a request from the future is kept in the replay cache until its timestamp leaves
/// the window, so allowing the whole window ahead let one entry live twice as long.
pub const MAX_AHEAD_SECS: u64 = 10;

mod replay;

pub use replay::{PER_KEY_DEFAULT, PER_KEY_MAX, ReplayCache};

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::Signer;

    /// A request signed at `ts` by a fresh key, and that key's bytes (for `replay.rs` too).
    pub(super) fn auth_at(ts: u64) -> (RequestAuth, [u8; 32]) {
        let key = SigningSecretKey::generate(&mut rand::rng());
        let auth = RequestAuth::sign(&key, Signer::Case, "GET", "/", b"", ts, &mut rand::rng());
        (auth, key.public_key().to_bytes())
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
