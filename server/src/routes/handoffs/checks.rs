//! What every handoff request shares: its ID, the day, the body limit, the check of its
//! signature against the key allowed for it (an unknown handoff and a key not registered for it
//! answer alike), and the expiries a consent draws and a state change keeps.

use actix_web::HttpRequest;
use candor_protocol::{Day, HandoffId, Signer};

use super::Record;
use crate::auth;
use crate::error::ApiError;
use crate::routes::{Fresh, expiry, read};
use crate::state::AppState;
use crate::store::{Expiry, OfficeRecord, PackageRecord};

pub(super) fn handoff_id(raw: &str) -> Result<HandoffId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Malformed("a handoff ID must be 22 base64url characters (16 bytes)"))
}

pub(super) fn today(state: &AppState) -> Day {
    Day::from_unix(state.clock.now())
}

/// The largest body a handoff request may have: a package discloses several messages.
pub(super) fn body_limit(state: &AppState) -> usize {
    state.settings.max_envelope_bytes.saturating_mul(4) + 4096
}

/// A stored handoff with what its requests are checked against.
pub(super) struct Found {
    pub(super) package: PackageRecord,
    pub(super) record: Record,
    pub(super) office: Option<OfficeRecord>,
}

/// Checks a request on an existing handoff: headers, freshness, the key of the signer (the
/// case's, the office's or the third party's fetch key, if `allowed`), replay. Anything else
/// is `not-found`, verified against the dummy key like an unknown handoff.
pub(super) async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    id: &HandoffId,
    body: &[u8],
    allowed: &[Signer],
) -> Result<(Signer, Found), ApiError> {
    let fresh = Fresh::check(state, req)?;
    let signer = fresh.auth.signer;
    let id = *id;
    let found = read(state, move |s| {
        let Some(package) = s.package(&id)? else {
            return Ok(None);
        };
        let Some(mailbox) = s.mailbox(&package.mailbox)? else {
            return Ok(None);
        };
        let office = s.office(&mailbox.office)?;
        let record = Record::decode(&package.body)?;
        Ok(Some((
            Found {
                package,
                record,
                office,
            },
            mailbox,
        )))
    })
    .await?;
    let key = found.as_ref().and_then(|(f, mailbox)| {
        if !allowed.contains(&signer) {
            return None;
        }
        match signer {
            Signer::Case => mailbox.signing_public_key(),
            Signer::Office => f.office.as_ref().and_then(OfficeRecord::signing_public_key),
            Signer::ThirdParty => f.record.fetch_key().and_then(auth::signing_key),
        }
    });
    fresh.accept(state, key, req, body).await?;
    let (found, _) = found.ok_or(ApiError::NotFound)?;
    Ok((signer, found))
}

/// The expiry of a handoff written now: as a mailbox's, capped by the end of the proposal's
/// last day.
pub(in crate::routes) fn handoff_expiry(
    state: &AppState,
    office: Option<&OfficeRecord>,
    expires: Day,
) -> Expiry {
    let retention = office.map_or(0, |o| o.retention_days);
    let drawn = expiry(state, retention);
    let cap = (u64::from(expires.0) + 1) * 86_400;
    Expiry {
        drawn: drawn.drawn.min(cap),
        earliest: drawn.earliest.min(cap),
        latest: drawn.latest.min(cap),
    }
}

/// An expiry that keeps the current one: a state change never extends a handoff's life.
pub(super) const KEEP: Expiry = Expiry {
    drawn: 0,
    earliest: 0,
    latest: u64::MAX,
};
