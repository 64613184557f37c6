//! A mailbox request's signature: the key looked up for the mailbox, the signature checked
//! under it (or under a dummy key for an unknown mailbox, so that both cost the same and answer
//! the same), and the request remembered against replays.

use actix_web::HttpRequest;
use candor_protocol::{MailboxId, Signer};

use super::store_error;
use crate::auth;
use crate::error::ApiError;
use crate::routes::Fresh;
use crate::state::AppState;
use crate::store::{Found, OfficeRecord, Remembered};

pub(in crate::routes) fn mailbox_id(raw: &str) -> Result<MailboxId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Malformed("a mailbox ID must be 22 base64url characters (16 bytes)"))
}

/// A request authenticated for a mailbox.
pub(in crate::routes) struct Authorized {
    pub(in crate::routes) signer: Signer,
    pub(in crate::routes) office: Option<OfficeRecord>,
    /// Whether the case was closed when its record was read for the key.
    pub(in crate::routes) closed: bool,
}

/// Checks a mailbox request's signature: headers, freshness, key lookup, verification, replay.
pub(in crate::routes) async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    id: MailboxId,
    body: &[u8],
) -> Result<Authorized, ApiError> {
    let (authorized, entry) = authorize_deferring(state, req, id, body).await?;
    crate::routes::remember_entry(state, entry).await?;
    Ok(authorized)
}

/// `refused`, for a request [`authorize_deferring`] accepted, once its deferred `entry` is
/// stored: a request refused after its signature was checked is still remembered, so that it
/// is refused as a replay at every instance.
pub(in crate::routes) async fn refused_remembering(
    state: &AppState,
    entry: Option<Remembered>,
    refused: ApiError,
) -> ApiError {
    if let Some(entry) = entry
        && let Err(e) = state.store.remember(entry).await
    {
        return store_error(e);
    }
    refused
}

/// As [`authorize`], but without the shared replay cache's entry: it is returned, for the
/// caller to store with its own call before it answers (a fetch stores it in the statement
/// that reads the page, `Store::page`). `None` for a store that serves one relay process.
pub(super) async fn authorize_deferring(
    state: &AppState,
    req: &HttpRequest,
    id: MailboxId,
    body: &[u8],
) -> Result<(Authorized, Option<Remembered>), ApiError> {
    let fresh = Fresh::check(state, req)?;
    let (mailbox, office) = lookup(state, id)
        .await?
        .map_or((None, None), |(m, o)| (Some(m), o));
    let key = match (&mailbox, fresh.auth.signer) {
        (Some(m), Signer::Case) => m.signing_public_key(),
        (Some(_), Signer::Office) => office.as_ref().and_then(OfficeRecord::signing_public_key),
        // A third party's keys belong to a handoff, never to a mailbox.
        (Some(_), Signer::ThirdParty) | (None, _) => None,
    };
    let (_, entry) = fresh.verify(state, key, req, body)?;
    let authorized = Authorized {
        signer: fresh.auth.signer,
        office,
        closed: mailbox.is_some_and(|m| m.closed),
    };
    Ok((authorized, entry))
}

/// A request signed by the key it named (`Candor-Key`), checked under that key before anything
/// is read; whether the key is the one registered is for the store to say, as it reads.
pub(super) struct Named {
    pub(super) signer: Signer,
    pub(super) key: [u8; 32],
    /// The shared replay cache's entry, for the store to keep once the key is found.
    pub(super) entry: Option<Remembered>,
}

/// As [`authorize_deferring`], for a request that names its key: the headers, freshness, the
/// signature under the named key, and this instance's replay cache, with no read of the
/// store. `None` for a request that names no key. A signature that does not verify is
/// `not-found`, as under a registered key.
pub(super) fn authorize_named(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Option<Named>, ApiError> {
    let auth = auth::parse(req)?;
    let Some(key) = auth::named_key(req)? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let window = state.settings.request_window_secs;
    auth::check_fresh(&auth, now, state.started, window)?;
    let key = auth::verify_under(&auth, Some(key), req, body, now, window)?.to_bytes();
    state.replay.insert(&auth, &key, now)?;
    Ok(Some(Named {
        signer: auth.signer,
        key,
        entry: crate::routes::shared_entry(state, &auth, &key),
    }))
}

/// A mailbox and its office, for a signed request's check (`Store::lookup`).
pub(in crate::routes) async fn lookup(state: &AppState, id: MailboxId) -> Result<Found, ApiError> {
    state.store.lookup(id).await.map_err(store_error)
}
