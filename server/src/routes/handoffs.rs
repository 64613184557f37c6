//! Handoffs (`docs/protocol.md` §11, "Handoffs"): the visitor's consent with the sealed package
//! and the visitor's share, the office's agreement with its share (which releases it), the third
//! party's one fetch, the state, and revocation by either side.
//!
//! Every request is signed: consent by the case key, agreement by the office key, state and
//! revocation by either, the fetch by the third party's fetch key for this handoff alone. An
//! unknown handoff, a key not registered for it, a fetch before agreement and an expired
//! handoff all get the same 404.

mod checks;
mod record;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::handoffs::{
    Agreement, Fetch, HANDOFF_API_VERSION, HandoffStatus, PutHandoff,
};
use candor_protocol::handoff::{HANDOFF_VERSION, Party, Proposal, Revocation};
use candor_protocol::{Day, HandoffId, MailboxId, Signer, SigningPublicKey};

use super::{Fresh, blocking, durable, json, other_version, parse_json, quotas, read, read_body};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{MailboxRecord, NewPackage, OfficeRecord, PackageRecord, Store, StoreError};

pub(super) use checks::handoff_expiry;
use checks::{KEEP, authorize, body_limit, handoff_id, today};
pub use record::Record;

/// The longest a consent may ask the relay to keep a package, in days.
pub const MAX_HANDOFF_DAYS: u32 = 365;

/// `PUT /v1/handoffs/{handoff}`: the visitor's consent, package and share, signed by the case key.
#[utoipa::path(
    put,
    path = "/v1/handoffs/{handoff}",
    tag = "handoffs",
    params(crate::schema::HandoffPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::PutHandoff, content_type = "application/json"),
    responses(
        (status = 201, description = "Consented, on disk.", body = crate::schema::HandoffStatus),
        (status = 400, description = "Malformed body or path, an unsupported version, a share that is not the visitor's, or an expiry in the past or more than 365 days ahead.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown mailbox, a signature by a key not registered for it, or a consent that is not the case key's.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The handoff ID is taken (a revoked handoff stays until its expiry), or the case is closed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The case holds as many handoffs as the relay allows.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&path)?;
    let body = read_body(&req, payload, body_limit(&state)).await?;
    // The body names the mailbox whose key signs, so it is read first (as opening a mailbox's).
    if other_version(&body, HANDOFF_API_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let put: PutHandoff = parse_json(&body)?;
    if put.package.v != u64::from(HANDOFF_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    if put.share.party != Party::Visitor {
        return Err(ApiError::Malformed(
            "the consent carries the visitor's share",
        ));
    }
    let day = today(&state);
    if put.expires < day || put.expires > day.plus(MAX_HANDOFF_DAYS) {
        return Err(ApiError::Malformed(
            "a handoff expires from today to 365 days ahead",
        ));
    }
    let fresh = Fresh::check(&state, &req)?;
    let mailbox_id = put.mailbox;
    let (mailbox, office) = super::mailboxes::lookup(&state, mailbox_id)
        .await?
        .map_or((None, None), |(m, o)| (Some(m), o));
    let key = match fresh.auth.signer {
        Signer::Case => mailbox.as_ref().and_then(MailboxRecord::signing_public_key),
        Signer::Office | Signer::ThirdParty => None,
    };
    let key: SigningPublicKey = fresh.accept(&state, key, &req, &body).await?;
    // A consent by any other key is answered as if the case did not exist.
    Proposal::verify_approval(&put.proposal_sha256, Party::Visitor, &key, &put.consent)
        .map_err(|_| ApiError::NotFound)?;
    if mailbox.is_some_and(|m| m.closed) {
        return Err(ApiError::Conflict(
            "the office has closed this case: nothing more can be handed on from it",
        ));
    }
    let expiry = handoff_expiry(&state, office.as_ref(), put.expires);
    let record = Record::consented(put.clone(), day);
    let status = status_of(&record);
    let package = NewPackage {
        id,
        record: PackageRecord {
            mailbox: put.mailbox,
            expiry: expiry.drawn,
            body: record.encode(),
        },
    };
    let quotas = quotas(&state);
    blocking(&state, move |s| s.put_package(&package, &quotas)).await?;
    durable(&state).await?;
    Ok(json(StatusCode::CREATED, &status))
}

/// Revokes every handoff of `mailbox` that was not fetched, each in its own atomic change:
/// closing a case does, so that nothing more is released from it.
pub fn revoke_unfetched(
    store: &dyn Store,
    mailbox: &MailboxId,
    today: Day,
) -> Result<(), StoreError> {
    for id in store.packages(mailbox)? {
        let revoked = store.update_package(&id, &KEEP, &mut |current| {
            Ok(Record::decode(&current.body)?.revoke(today)?.encode())
        });
        match revoked {
            // Fetched or already revoked, or gone meanwhile: nothing to revoke.
            Ok(_) | Err(StoreError::Conflict(_) | StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn status_of(record: &Record) -> HandoffStatus {
    HandoffStatus {
        state: record.state,
        day: record.day,
        expires: record.expires,
    }
}

/// Runs one atomic state change of a handoff and waits until it is on disk.
async fn change<T: Send + 'static>(
    state: &AppState,
    id: HandoffId,
    step: impl Fn(&Record) -> Result<(Record, T), StoreError> + Send + 'static,
) -> Result<(Record, T), ApiError> {
    let out = blocking(state, move |s| {
        let mut result = None;
        let updated = s.update_package(&id, &KEEP, &mut |current| {
            let (next, extra) = step(&Record::decode(&current.body)?)?;
            let body = next.encode();
            result = Some((next, extra));
            Ok(body)
        })?;
        drop(updated);
        result.ok_or(StoreError::NotFound)
    })
    .await?;
    durable(state).await?;
    Ok(out)
}

/// `POST /v1/handoffs/{handoff}/agreement`: the office's agreement and share, which release the
/// handoff to the third party.
#[utoipa::path(
    post,
    path = "/v1/handoffs/{handoff}/agreement",
    tag = "handoffs",
    params(crate::schema::HandoffPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Agreement, content_type = "application/json"),
    responses(
        (status = 200, description = "Agreed and released, on disk.", body = crate::schema::HandoffStatus),
        (status = 400, description = "Malformed body or path, an unsupported version, a share that is not the office's, or an agreement that does not verify.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or expired handoff, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for agreement: already agreed, fetched or revoked.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn agree(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&path)?;
    let body = read_body(&req, payload, 4096).await?;
    let (_, found) = authorize(&state, &req, &id, &body, &[Signer::Office]).await?;
    if other_version(&body, HANDOFF_API_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let a: Agreement = parse_json(&body)?;
    if a.share.party != Party::Office {
        return Err(ApiError::Malformed(
            "the agreement carries the office's share",
        ));
    }
    if auth::signing_key(&a.fetch_key).is_none() {
        return Err(ApiError::Malformed(
            "the fetch key is not an Ed25519 public key",
        ));
    }
    let office_key = found
        .office
        .as_ref()
        .and_then(OfficeRecord::signing_public_key)
        .ok_or(ApiError::NotFound)?;
    let Some(sha) = found.record.proposal_sha256() else {
        return Err(ApiError::Conflict(
            "this handoff is no longer waiting for agreement: see its state",
        ));
    };
    Proposal::verify_approval(sha, Party::Office, &office_key, &a.agreement).map_err(|_| {
        ApiError::Malformed("the agreement does not verify over the consented proposal")
    })?;
    let day = today(&state);
    let _ = found.package;
    let (next, ()) = change(&state, id, move |r| {
        Ok((r.agree(a.agreement, a.share.clone(), a.fetch_key, day)?, ()))
    })
    .await?;
    Ok(json(StatusCode::OK, &status_of(&next)))
}

/// `POST /v1/handoffs/{handoff}/fetch`: the third party's one fetch, signed by its fetch key.
#[utoipa::path(
    post,
    path = "/v1/handoffs/{handoff}/fetch",
    tag = "handoffs",
    params(crate::schema::HandoffPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Fetch, content_type = "application/json"),
    responses(
        (status = 200, description = "The package, both shares and both signatures. The relay keeps only the state from now on.", body = crate::schema::Fetched),
        (status = 400, description = "Malformed body or path, or an unsupported version.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, not agreed, fetched, revoked or expired handoff, or a signature by another key: one answer for all.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn fetch(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&path)?;
    let body = read_body(&req, payload, 256).await?;
    let (_, found) = authorize(&state, &req, &id, &body, &[Signer::ThirdParty]).await?;
    if other_version(&body, HANDOFF_API_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let _: Fetch = parse_json(&body)?;
    let (day, mailbox) = (today(&state), found.package.mailbox);
    let (_, fetched) = change(&state, id, move |r| {
        let (fetched, tomb) = r.fetch(mailbox, day)?;
        Ok((tomb, fetched))
    })
    .await?;
    Ok(json(StatusCode::OK, &fetched))
}

/// `GET /v1/handoffs/{handoff}`: the state, for the case key or the office key.
#[utoipa::path(
    get,
    path = "/v1/handoffs/{handoff}",
    tag = "handoffs",
    params(crate::schema::HandoffPath, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "The state and its coarse day.", body = crate::schema::HandoffStatus),
        (status = 400, description = "Malformed path.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or expired handoff, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&path)?;
    let (_, found) = authorize(&state, &req, &id, b"", &[Signer::Case, Signer::Office]).await?;
    Ok(json(StatusCode::OK, &status_of(&found.record)))
}

/// `POST /v1/handoffs/{handoff}/revocation`: either side revokes; the package and the shares
/// are deleted at once, the state stays until the expiry.
#[utoipa::path(
    post,
    path = "/v1/handoffs/{handoff}/revocation",
    tag = "handoffs",
    params(crate::schema::HandoffPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Revocation, content_type = "application/json"),
    responses(
        (status = 200, description = "Revoked, on disk.", body = crate::schema::HandoffStatus),
        (status = 400, description = "Malformed body or path, or a revocation of another handoff, by the other party, or that does not verify.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or expired handoff, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already fetched or revoked.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&path)?;
    let body = read_body(&req, payload, 1024).await?;
    let (signer, found) =
        authorize(&state, &req, &id, &body, &[Signer::Case, Signer::Office]).await?;
    let r: Revocation = parse_json(&body)?;
    let by = match signer {
        Signer::Case => Party::Visitor,
        _ => Party::Office,
    };
    if r.id != id || r.by != by {
        return Err(ApiError::Malformed(
            "a revocation names this handoff and the party that signs the request",
        ));
    }
    let key = match by {
        Party::Visitor => {
            let mailbox = found.package.mailbox;
            read(&state, move |s| {
                Ok(s.mailbox(&mailbox)?.and_then(|m| m.signing_public_key()))
            })
            .await?
        }
        Party::Office => found
            .office
            .as_ref()
            .and_then(OfficeRecord::signing_public_key),
    }
    .ok_or(ApiError::NotFound)?;
    r.verify(&key)
        .map_err(|_| ApiError::Malformed("the revocation does not verify"))?;
    let day = today(&state);
    let (next, ()) = change(&state, id, move |r| Ok((r.revoke(day)?, ()))).await?;
    Ok(json(StatusCode::OK, &status_of(&next)))
}
