//! What the office does to a case besides replying: close it (with an optional last message
//! and the case's sealed tally, stored in the same write) and keep its read marker. Both are signed by the office key; to anyone else a mailbox
//! answers as if it did not exist.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::{CLOSE_VERSION, CloseMailbox, Closed, MAX_MARKER_BYTES, Marker};
use candor_protocol::tally::SEALED_TALLY_LEN;
use candor_protocol::{Day, Direction, Quarter, Signer, TallyId};

use super::mailboxes::{authorize, mailbox_id};
use super::{blocking, durable, expiry, json, other_version, parse_json, quotas, read_body};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewTally, OfficeRecord};

/// How long a closed case stays readable when the stored card cannot be read (a card of the
/// first format, kept from before the upgrade).
pub const DEFAULT_CLOSE_GRACE_DAYS: u32 = 14;

/// The card's grace period for closed cases.
fn close_grace_days(office: Option<&OfficeRecord>) -> u32 {
    office
        // A stored card keeps its grace period even if a field rule was tightened since.
        .and_then(|o| o.card.verify_office_signature().ok())
        .map_or(DEFAULT_CLOSE_GRACE_DAYS, |card| card.close_grace_days)
}

fn office_only(signer: Signer) -> Result<(), ApiError> {
    match signer {
        Signer::Office => Ok(()),
        // The case key is registered for the mailbox, so saying so leaks nothing.
        _ => Err(ApiError::SignatureRequired(
            "only the office closes a case or sets its read marker; a visitor deletes theirs",
        )),
    }
}

/// `POST /v1/mailboxes/{mailbox}/close`: closes the case, with an optional last message.
#[utoipa::path(
    post,
    path = "/v1/mailboxes/{mailbox}/close",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::CloseMailbox, content_type = "application/json"),
    responses(
        (status = 200, description = "Closed, and the tally stored, on disk. The visitor can read the case for the card's grace period; then it is swept. The tally stays.", body = crate::schema::Closed),
        (status = 400, description = "Malformed body or path, unsupported version (version 1 is refused), a last message that is not a to-visitor envelope of this mailbox, or a sealed tally that is not 232 bytes.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale, replayed, or not the office's.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The mailbox is full: close it without a last message.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    let limit = state.settings.max_envelope_bytes + 64;
    let body = read_body(&req, payload, limit).await?;
    let authorized = authorize(&state, &req, id, &body).await?;
    office_only(authorized.signer)?;
    if other_version(&body, CLOSE_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let close: CloseMailbox = parse_json(&body)?;
    if let Some(last) = &close.envelope {
        if last.mailbox != id || last.direction != Direction::ToVisitor {
            return Err(ApiError::Malformed(
                "a last message is the office's to-visitor envelope of this mailbox",
            ));
        }
        if last.to_json().len() > state.settings.max_envelope_bytes {
            return Err(ApiError::TooLarge);
        }
    }
    // Coarse and jittered like every other expiry, from now: the grace period, but never
    // longer than the card's retention, which is what the office promised visitors.
    let office = authorized.office.as_ref();
    let retention = office.map_or(state.settings.retention_default_days, |o| o.retention_days);
    let days = close_grace_days(office).min(retention.max(1));
    let grace = expiry(&state, days).drawn;
    let quotas = quotas(&state);
    let tally = close
        .tally
        .map(|sealed| new_tally(&state, sealed))
        .transpose()?;
    let today = candor_protocol::Day::from_unix(state.clock.now());
    let seq = blocking(&state, move |s| {
        let seq =
            s.close_recording(&id, close.envelope.as_ref(), tally.as_ref(), grace, &quotas)?;
        // Closing a case revokes its handoffs that were not fetched (issue 16).
        super::handoffs::revoke_unfetched(s, &id, today)?;
        Ok(seq)
    })
    .await?;
    durable(&state).await?;
    tracing::debug!(mailbox = %id, "case closed");
    Ok(json(StatusCode::OK, &Closed { seq }))
}

/// A sealed tally to store with a closing: exactly [`SEALED_TALLY_LEN`] bytes (the relay
/// cannot open it), a random ID, and the statistics retention's keep-until year.
fn new_tally(state: &AppState, sealed: Vec<u8>) -> Result<NewTally, ApiError> {
    if sealed.len() != SEALED_TALLY_LEN {
        return Err(ApiError::Malformed(
            "a sealed tally is exactly 232 bytes (docs/protocol.md, tallies)",
        ));
    }
    let year = Quarter::of_day(Day::from_unix(state.clock.now())).year();
    Ok(NewTally {
        id: TallyId::random(&mut rand::rng()),
        keep_until: year.saturating_add(state.settings.statistics_retention_years),
        sealed,
    })
}

/// `PUT /v1/mailboxes/{mailbox}/marker`: sets the office's sealed read marker of the case.
#[utoipa::path(
    put,
    path = "/v1/mailboxes/{mailbox}/marker",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Marker, content_type = "application/json"),
    responses(
        (status = 204, description = "Set, on disk. The case keeps its place in the inbox and its expiry."),
        (status = 400, description = "Malformed body or path, or a marker larger than 256 bytes.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale, replayed, or not the office's.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn marker(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    let body = read_body(&req, payload, 1024).await?;
    let authorized = authorize(&state, &req, id, &body).await?;
    office_only(authorized.signer)?;
    let marker: Marker = parse_json(&body)?;
    if marker.sealed.is_empty() || marker.sealed.len() > MAX_MARKER_BYTES {
        return Err(ApiError::Malformed(
            "a read marker is 1 to 256 bytes, sealed by the office",
        ));
    }
    blocking(&state, move |s| s.set_marker(&id, &marker.sealed)).await?;
    durable(&state).await?;
    Ok(HttpResponse::NoContent().finish())
}
