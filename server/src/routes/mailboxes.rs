//! Mailboxes: open (with a proof of work), append, list and delete. Everything but opening is
//! signed by the case key or the office key, and an unknown mailbox answers exactly like a
//! signature by a key not registered for it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::{Appended, MailboxOpened, OPEN_MAILBOX_VERSION, OpenMailbox};
use candor_protocol::{Direction, Envelope, MailboxId, Signer, SigningPublicKey};

use super::{
    Page, blocking, durable, expiry, json, other_version, parse_json, parse_query, quotas, read,
    read_body, storage_room, store_error,
};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewMailbox, RawEnvelope, TokenKind, UsedToken};

mod authorize;
mod named;

pub(super) use authorize::{Authorized, authorize, lookup, mailbox_id};
use authorize::{authorize_deferring, authorize_named, refused_remembering};

/// `POST /v1/mailboxes`: opens a mailbox, signed by the case key being registered.
#[utoipa::path(
    post,
    path = "/v1/mailboxes",
    tag = "mailboxes",
    params(crate::schema::SignatureHeaders),
    request_body(content = crate::schema::OpenMailbox, content_type = "application/json"),
    responses(
        (status = 201, description = "The mailbox is open and on disk.", body = crate::schema::MailboxOpened),
        (status = 400, description = "Malformed body, unsupported version, a mailbox ID that is not the hash of the case keys, or a first envelope that is not the case's to-office one.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale, replayed, or not by the key being registered.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Proof of work missing, invalid or already used.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The mailbox already exists.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or first envelope too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The office has too many open mailboxes.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 507, description = "The relay's storage is at its operator's cap.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // The body carries the first envelope, so it may be as large as one, plus the fields.
    let limit = state.settings.max_envelope_bytes + OPEN_FIELDS_BYTES;
    let body = read_body(&req, payload, limit).await?;
    let auth = auth::parse(&req)?;
    let now = state.clock.now();
    let window = state.settings.request_window_secs;
    auth::check_fresh(&auth, now, state.started, window)?;
    if other_version(&body, OPEN_MAILBOX_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let open: OpenMailbox = parse_json(&body).map_err(|e| {
        let has_pow = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
            .map(|m| m.get("pow").is_some_and(|p| !p.is_null()));
        match has_pow {
            Ok(false) => ApiError::PowInvalid(
                "a proof of work is required: fetch GET /v1/pow, solve it for this mailbox and send it as `pow`",
            ),
            _ => e,
        }
    })?;
    if auth.signer != Signer::Case {
        return Err(ApiError::SignatureRequired(
            "a mailbox is opened with a signature by the case key being registered",
        ));
    }
    if !open.mailbox.certifies(&open.signing_key, &open.kem_key) {
        return Err(ApiError::Malformed(
            "the mailbox ID is not the hash of the case keys (docs/protocol.md, mailbox IDs)",
        ));
    }
    check_first(&state, &open)?;
    let key = SigningPublicKey::from_bytes(&open.signing_key)?;
    let named = auth::named_key(&req)?;
    auth.verify(
        &key,
        req.method().as_str(),
        auth::signed_path(&req),
        &body,
        now,
        window,
    )
    .ok()
    .filter(|()| named.is_none_or(|named| named == key))
    .ok_or(ApiError::SignatureRequired(
        "the signature does not verify under the signing key being registered, or Candor-Key names another key",
    ))?;
    // The proof of work first: an open that has not paid for itself leaves nothing behind, not
    // even a replay-cache entry (issue 20, finding 3).
    open.pow.verify(
        &state.pow_key,
        open.mailbox.as_bytes(),
        now,
        state.settings.pow_difficulty,
    )?;

    let office_id = open.office.clone();
    let office = read(&state, move |s| s.office(&office_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let new = NewMailbox {
        id: open.mailbox,
        office: open.office.clone(),
        signing_key: open.signing_key,
        kem_key: open.kem_key,
        expiry: expiry(&state, office.retention_days).drawn,
        first: open.envelope,
    };
    let used = UsedToken {
        kind: TokenKind::Pow,
        random: open.pow.challenge.random,
        expires: open.pow.challenge.expires,
    };
    let quotas = quotas(&state);
    // A mailbox's records (its keys, counters and index entries) take about half a kilobyte;
    // one is opened only while an envelope would still fit.
    let envelope = state.settings.max_envelope_bytes as u64;
    storage_room(&state, 512, envelope)?;
    blocking(&state, move |s| s.open_mailbox(&new, &used, &quotas)).await?;
    durable(&state).await?;
    // Remembered only once the mailbox is open: every open spends a fresh proof of work, so
    // this costs the sender one per entry. Before it, a replay of this request was refused by
    // the store (the proof of work is single-use, the mailbox exists); after it, as a replay.
    // A full cache changes nothing for an open already on disk.
    let _ = state.replay.insert(&auth, &open.signing_key, now);
    tracing::debug!(mailbox = %open.mailbox, "mailbox opened");
    Ok(json(
        StatusCode::CREATED,
        &MailboxOpened {
            mailbox: open.mailbox,
        },
    ))
}

/// Bytes an open request may carry beside its envelope: the office ID, two keys, the
/// mailbox ID and the proof of work, as JSON, with room to spare.
const OPEN_FIELDS_BYTES: usize = 2048;

/// The first envelope must be the case's own, to the office, and no larger than any other.
fn check_first(state: &AppState, open: &OpenMailbox) -> Result<(), ApiError> {
    if open.envelope.mailbox != open.mailbox {
        return Err(ApiError::Malformed(
            "the first envelope's mailbox is not the one being opened",
        ));
    }
    if open.envelope.direction != Direction::ToOffice {
        return Err(ApiError::Malformed(
            "a case's first envelope is the visitor's, to the office",
        ));
    }
    if open.envelope.to_json().len() > state.settings.max_envelope_bytes {
        return Err(ApiError::TooLarge);
    }
    Ok(())
}

/// `POST /v1/mailboxes/{mailbox}/envelopes`: appends an envelope.
#[utoipa::path(
    post,
    path = "/v1/mailboxes/{mailbox}/envelopes",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Envelope, content_type = "application/json"),
    responses(
        (status = 201, description = "Appended and on disk.", body = crate::schema::Appended),
        (status = 400, description = "Malformed envelope or path, unsupported version, another mailbox's envelope, or a direction this signer may not write.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Envelope too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The office has closed the case.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The mailbox is full.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 507, description = "The relay's storage is at its operator's cap.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn append(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    let body = read_body(&req, payload, state.settings.max_envelope_bytes).await?;
    // A store that several instances share remembers the request with the append
    // (`Store::append_later`), once the envelope has been checked; a request refused before
    // then is still remembered, so that it is refused as a replay at every instance.
    let (authorized, entry) = authorize_deferring(&state, &req, id, &body).await?;
    let envelope = match check_append(&state, &authorized, id, &body) {
        Ok(envelope) => envelope,
        Err(refused) => return Err(refused_remembering(&state, entry, refused).await),
    };
    let retention = authorized.office.as_ref().map_or(0, |o| o.retention_days);
    let expiry = expiry(&state, retention);
    let quotas = quotas(&state);
    let seq = state
        .store
        .append_later(entry, id, envelope, expiry, quotas)
        .await
        .map_err(store_error)?;
    durable(&state).await?;
    tracing::debug!(mailbox = %id, seq, "envelope appended");
    Ok(json(StatusCode::CREATED, &Appended { seq }))
}

/// The envelope of an authorized append, if it may be appended: its own mailbox's, in a
/// direction its signer may write, and with room for it below the relay's storage cap.
fn check_append(
    state: &AppState,
    authorized: &Authorized,
    id: MailboxId,
    body: &[u8],
) -> Result<Envelope, ApiError> {
    let envelope = Envelope::from_json(body)?;
    if envelope.mailbox != id {
        return Err(ApiError::Malformed(
            "the envelope's mailbox is not the one in the path",
        ));
    }
    match (authorized.signer, envelope.direction) {
        (Signer::Case, Direction::ToOffice) | (Signer::Office, Direction::ToVisitor) => {}
        _ => {
            return Err(ApiError::Malformed(
                "the case key may append only to-office envelopes and the office key only to-visitor ones",
            ));
        }
    }
    storage_room(state, body.len() as u64, body.len() as u64)?;
    Ok(envelope)
}

/// `GET /v1/mailboxes/{mailbox}/envelopes?after=&limit=`: lists envelopes after a cursor, at
/// most `limit` and at most `fetch_page_bytes` of them (always at least one).
#[utoipa::path(
    get,
    path = "/v1/mailboxes/{mailbox}/envelopes",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::PageQuery, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "Envelopes after the cursor, in order: at most `limit`, and at most about 1 MiB of them (always at least one); continue with `next`.", body = crate::schema::EnvelopePage),
        (status = 400, description = "Malformed path or query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "This mailbox has as many fetches in flight as the relay allows, or this key as many signed requests.", body = crate::schema::Problem, content_type = "application/problem+json"),
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
    // Closed comes from the record `authorize` read for the key, before the envelopes:
    // closing stores the last message and the flag at once, so a page that says closed holds
    // the last message. The page is bounded before it is read: its mailbox's slot, its bytes,
    // the relay's budget and its send deadline (`crate::fetch`).
    // A store that several instances share remembers the request in the statement that reads
    // the page (`Store::page`): `None` is a replay.
    if let Some(named) = authorize_named(&state, &req, b"")? {
        return named::list(&state, named, id, after, limit).await;
    }
    let (authorized, entry) = authorize_deferring(&state, &req, id, b"").await?;
    let slot = match state.fetches.begin(id) {
        Ok(slot) => slot,
        Err(refused) => return Err(refused_remembering(&state, entry, refused).await),
    };
    let max_bytes = state.settings.fetch_page_bytes;
    let envelopes = state
        .store
        .page(entry, id, after, limit, max_bytes)
        .await
        .map_err(store_error)?
        .ok_or(ApiError::ReplayedRequest)?;
    let closed = authorized.closed;
    let body = slot.body(envelope_page(&envelopes, after, closed))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// The JSON of an [`EnvelopePage`](candor_protocol::api::EnvelopePage), built from the stored
/// envelope JSON as it is: the store keeps each envelope in its canonical form
/// (`Envelope::to_json`, checked by `candor-server check`), so the bytes are those `serde_json`
/// would write for the parsed page, without parsing and re-encoding every envelope.
fn envelope_page(envelopes: &[RawEnvelope], after: u64, closed: bool) -> Vec<u8> {
    let len: usize = envelopes.iter().map(|e| e.json.len() + 40).sum();
    let mut out = Vec::with_capacity(len + 48);
    out.push(b'{');
    page_fields(&mut out, envelopes, after, closed);
    out.push(b'}');
    out
}

/// The fields of a page of one case's envelopes, `"envelopes":[…],"next":N,"closed":B`, with
/// each envelope's stored JSON as it is: for [`envelope_page`] and the office's batch page.
pub(super) fn page_fields(out: &mut Vec<u8>, envelopes: &[RawEnvelope], after: u64, closed: bool) {
    use std::io::Write as _;
    let next = envelopes.last().map_or(after, |e| e.seq);
    out.extend_from_slice(b"\"envelopes\":[");
    for (i, e) in envelopes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{{\"seq\":{},\"envelope\":", e.seq);
        out.extend_from_slice(&e.json);
        out.push(b'}');
    }
    let _ = write!(out, "],\"next\":{next},\"closed\":{closed}");
}

/// `DELETE /v1/mailboxes/{mailbox}`: deletes the case at once, from every tree.
#[utoipa::path(
    delete,
    path = "/v1/mailboxes/{mailbox}",
    tag = "mailboxes",
    params(crate::schema::MailboxPath, crate::schema::SignatureHeaders),
    responses(
        (status = 204, description = "Deleted, on disk."),
        (status = 400, description = "Malformed path.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = mailbox_id(&path)?;
    authorize(&state, &req, id, b"").await?;
    let existed = blocking(&state, move |s| s.delete_mailbox(&id)).await?;
    if !existed {
        // Deleted concurrently by the other party or the sweeper: the same answer as unknown.
        return Err(ApiError::NotFound);
    }
    durable(&state).await?;
    tracing::debug!(mailbox = %id, "mailbox deleted");
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use candor_protocol::api::{EnvelopePage, StoredEnvelope};
    use candor_protocol::{Day, Message};

    use super::*;

    #[test]
    fn a_spliced_page_is_byte_identical_to_the_serialized_one() {
        let rng = &mut rand::rng();
        let keys = candor_protocol::Codename::generate(rng)
            .derive(&candor_protocol::Identity::generate(rng).fingerprint());
        let office = candor_protocol::Identity::generate(rng);
        let mut stored = Vec::new();
        let mut raw = Vec::new();
        for seq in [3, 4, 9] {
            let envelope = Message::text("hello", Day::from_unix(0))
                .seal(
                    &candor_protocol::seal::Sealer::visitor(&keys, office.kem().public_key(), true),
                    rng,
                )
                .unwrap();
            raw.push(RawEnvelope {
                seq,
                json: envelope.to_json(),
            });
            stored.push(StoredEnvelope { seq, envelope });
        }
        for (n, after, closed) in [(0, 7, false), (1, 2, true), (3, 2, false)] {
            let page = EnvelopePage {
                envelopes: stored[..n].to_vec(),
                next: stored[..n].last().map_or(after, |e| e.seq),
                closed,
            };
            assert_eq!(
                envelope_page(&raw[..n], after, closed),
                serde_json::to_vec(&page).unwrap()
            );
        }
    }
}
