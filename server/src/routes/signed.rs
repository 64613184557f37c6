//! The checks every signed route makes, in the order it makes them: the headers parse and the
//! timestamp is inside the window before the store is read ([`Fresh::check`]); then the
//! signature verifies under the key registered for the signer, or under the dummy key when
//! there is none, so that an unknown record and a wrong key answer alike; then the request ID
//! goes into this instance's replay cache and, for a store several instances share, into the
//! store's ([`Fresh::accept`]).

use actix_web::HttpRequest;
use candor_protocol::{RequestAuth, SigningPublicKey};

use super::calls::{remember_entry, shared_entry};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Remembered;

/// A signed request whose headers parse and whose timestamp is inside the window.
pub struct Fresh {
    /// The request's signature headers.
    pub auth: RequestAuth,
    now: u64,
    window: u64,
}

impl Fresh {
    /// Parses the signature headers and checks the timestamp against the window and the
    /// relay's start.
    pub fn check(state: &AppState, req: &HttpRequest) -> Result<Self, ApiError> {
        let auth = auth::parse(req)?;
        let now = state.clock.now();
        let window = state.settings.request_window_secs;
        auth::check_fresh(&auth, now, state.started, window)?;
        Ok(Self { auth, now, window })
    }

    /// Verifies the signature under `key`, the key registered for the signer (`None`: there is
    /// none, and the answer is `not-found` after a verification under the dummy key), and takes
    /// the request ID into this instance's replay cache. Returns the key and the entry a shared
    /// replay cache is still to keep ([`super::calls::remember_entry`]).
    pub fn verify(
        &self,
        state: &AppState,
        key: Option<SigningPublicKey>,
        req: &HttpRequest,
        body: &[u8],
    ) -> Result<(SigningPublicKey, Option<Remembered>), ApiError> {
        let key = auth::verify(&self.auth, key, req, body, self.now, self.window)?;
        state.replay.insert(&self.auth, &key.to_bytes(), self.now)?;
        Ok((key, shared_entry(state, &self.auth, &key.to_bytes())))
    }

    /// As [`Fresh::verify`], and the shared replay cache keeps its entry now: a request
    /// replayed to another instance is refused there.
    pub async fn accept(
        &self,
        state: &AppState,
        key: Option<SigningPublicKey>,
        req: &HttpRequest,
        body: &[u8],
    ) -> Result<SigningPublicKey, ApiError> {
        let (key, entry) = self.verify(state, key, req, body)?;
        remember_entry(state, entry).await?;
        Ok(key)
    }
}
