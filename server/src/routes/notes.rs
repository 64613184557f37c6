//! The ombuds' notes on a case: kept beside the case, sealed by the office to itself, never
//! among the envelopes the visitor fetches, and destroyed with the case. Both endpoints are
//! the office's alone: to the case key, as to anyone else, the mailbox answers as unknown.
//! A note neither redraws the case's expiry nor moves it in the inbox.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::Signer;
use candor_protocol::api::notes::{NOTE_VERSION, NotePage, NoteStored, PutNote, StoredNote};

use super::mailboxes::{authorize, mailbox_id};
use super::{
    Page, blocking, durable, json, other_version, parse_json, parse_query, quotas, read, read_body,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Only the office key: a case key, registered for the mailbox, is answered as a key that is
/// not, so that the visitor's side cannot even learn that notes exist.
fn office_only(signer: Signer) -> Result<(), ApiError> {
    match signer {
        Signer::Office => Ok(()),
        _ => Err(ApiError::NotFound),
    }
}

/// `POST /v1/mailboxes/{mailbox}/notes`: stores a note of the case.
#[utoipa::path(
    post,
    path = "/v1/mailboxes/{mailbox}/notes",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::PutNote, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored, on disk. The case keeps its place in the inbox and its expiry.", body = crate::schema::NoteStored),
        (status = 400, description = "Malformed body or path, an unsupported version, or an empty note.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by any key but its office's (the case key too).", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large: a note is at most the relay's envelope size.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The case holds as many notes as the relay allows.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    let max = state.settings.max_envelope_bytes;
    // The sealed bytes travel as base64url inside the JSON.
    let body = read_body(&req, payload, max.div_ceil(3) * 4 + 64).await?;
    let authorized = authorize(&state, &req, id, &body).await?;
    office_only(authorized.signer)?;
    if other_version(&body, NOTE_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let note: PutNote = parse_json(&body)?;
    if note.sealed.is_empty() {
        return Err(ApiError::Malformed(
            "a note is sealed by the office, not empty",
        ));
    }
    if note.sealed.len() > max {
        return Err(ApiError::TooLarge);
    }
    let quotas = quotas(&state);
    let number = blocking(&state, move |s| s.put_note(&id, &note.sealed, &quotas)).await?;
    durable(&state).await?;
    tracing::debug!(mailbox = %id, note = number, "note stored");
    Ok(json(StatusCode::CREATED, &NoteStored { note: number }))
}

/// `GET /v1/mailboxes/{mailbox}/notes?after=&limit=`: the case's notes after a cursor.
#[utoipa::path(
    get,
    path = "/v1/mailboxes/{mailbox}/notes",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::PageQuery, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "The notes numbered after the cursor, in order, at most `limit`; continue with `next`.", body = crate::schema::NotePage),
        (status = 400, description = "Malformed path or query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by any key but its office's (the case key too).", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    let (after, limit) = parse_query::<Page>(&req)?.bounds()?;
    office_only(authorize(&state, &req, id, b"").await?.signer)?;
    let notes = read(&state, move |s| s.notes(&id, after, limit)).await?;
    let next = notes.last().map_or(after, |(n, _)| *n);
    let notes = notes
        .into_iter()
        .map(|(note, sealed)| StoredNote { note, sealed })
        .collect();
    Ok(json(StatusCode::OK, &NotePage { notes, next }))
}
