//! Calling the store from a handler: inline or on the blocking pool as the store requires,
//! the replay entry a store shared by several instances keeps, the mapping of store errors to
//! answers, and the wait for a write to be on disk before it is acknowledged.

use actix_web::web;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Store, StoreError};

/// Runs a store read, inline where the store allows it (`inline`). sled's reads are served
/// from its cache or the OS page cache and take no lock that a writer holds for long, so a
/// thread hop would cost more than it saves.
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    inline(state, f).await
}

/// Runs `f` on this thread, or, for a store that must not run on a runtime's thread
/// (`Store::runs_inline`), on the blocking pool while this worker serves other requests.
///
/// Waiting on this thread instead (as an earlier version did, on a thread spawned per call)
/// held an HTTP worker, one per core, for the whole round trip to the database: on
/// PostgreSQL at most as many requests as cores were then in flight, whatever the pool's size
/// (`docs/benchmarks.md`).
async fn inline<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    if state.store.runs_inline() {
        return f(state.store.as_ref()).map_err(store_error);
    }
    blocking(state, f).await
}

/// Remembers an accepted signed request in the store, for a store several relay instances
/// share (`Store::remember_request`), after the in-memory cache took it: a request replayed to
/// another instance is then refused there too.
pub async fn remember_shared(
    state: &AppState,
    auth: &candor_protocol::request::RequestAuth,
    key: &[u8; 32],
) -> Result<(), ApiError> {
    remember_entry(state, shared_entry(state, auth, key)).await
}

/// Stores `entry` ([`shared_entry`]), if there is one: `replayed-request` if some instance
/// already had.
pub async fn remember_entry(
    state: &AppState,
    entry: Option<crate::store::Remembered>,
) -> Result<(), ApiError> {
    let Some(entry) = entry else {
        return Ok(());
    };
    if state.store.remember(entry).await.map_err(store_error)? {
        Ok(())
    } else {
        Err(ApiError::ReplayedRequest)
    }
}

/// What [`remember_shared`] stores for a request: a digest of the signing key, the request ID
/// and the timestamp (no mailbox ID, no key), kept until the window after the timestamp,
/// rounded up to the minute (no exact time). `None` for a store that serves one relay process:
/// its in-memory cache is the whole relay's.
pub fn shared_entry(
    state: &AppState,
    auth: &candor_protocol::request::RequestAuth,
    key: &[u8; 32],
) -> Option<crate::store::Remembered> {
    use sha2::{Digest, Sha256};
    if state.store.runs_inline() {
        return None;
    }
    let mut hash = Sha256::new();
    hash.update(REPLAY_ID_LABEL);
    hash.update(key);
    hash.update(auth.request_id.as_bytes());
    hash.update(auth.timestamp.to_be_bytes());
    let expires = auth
        .timestamp
        .saturating_add(state.settings.request_window_secs)
        .div_ceil(60)
        .saturating_mul(60);
    Some(crate::store::Remembered {
        id: hash.finalize().into(),
        expires,
    })
}

/// The label of the digest a shared replay cache keeps (`remember_shared`).
const REPLAY_ID_LABEL: &[u8] = b"candor/v1/replay-id";

/// Runs a store write on a blocking thread: a transaction may wait for an office's lock or
/// for sled to write out a full log buffer, and must not stall the HTTP worker meanwhile.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = state.store.clone();
    web::block(move || f(store.as_ref()))
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(store_error)
}

/// Maps a store error to the API's.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound,
        StoreError::Conflict(d) => ApiError::Conflict(d),
        StoreError::Closed => {
            ApiError::Conflict("the office has closed this case: nothing more can be sent in it")
        }
        StoreError::InviteUsed => ApiError::InviteUsed,
        StoreError::PowUsed => ApiError::PowUsed,
        StoreError::Quota(d) => ApiError::QuotaExceeded(d),
        StoreError::Replayed => ApiError::ReplayedRequest,
        e @ (StoreError::Corrupt(_) | StoreError::Damaged { .. } | StoreError::Backend(_)) => {
            tracing::error!(error = %e, "the store failed");
            ApiError::Unavailable
        }
    }
}

/// Waits until the write just committed is on disk.
///
/// A store whose writes are durable when they return (PostgreSQL) skips the flusher, which
/// would only have called its empty flush, after waiting `commit_delay_us` under load.
pub async fn durable(state: &AppState) -> Result<(), ApiError> {
    if state.store.durable_on_return() {
        return Ok(());
    }
    state.durability.wait().await.map_err(|e| {
        tracing::error!(error = %e, "a write could not be made durable");
        ApiError::Unavailable
    })
}
