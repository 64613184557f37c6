//! The office's batches, signed by the office key: `POST /v1/offices/{office}/envelopes`, the
//! envelopes of up to 100 of its cases after a cursor each, in one page bounded like any
//! other (`crate::fetch`); and `PUT /v1/offices/{office}/markers`, up to 100 cases' sealed
//! read markers in one durable write. A case that is not the office's (unknown, deleted, or
//! another office's) is left out of the answer exactly as a deleted one, so a batch tells the
//! office nothing about other offices' cases.

use std::collections::HashSet;
use std::io::Write as _;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::MAX_MARKER_BYTES;
use candor_protocol::api::batch::{
    BATCH_VERSION, BatchFetch, BatchMarkers, MAX_BATCH_CASES, MarkersSet,
};
use candor_protocol::{MailboxId, OfficeId};
use sha2::{Digest as _, Sha256};

use super::mailboxes::page_fields;
use super::offices::{authorize, office_id};
use super::{blocking, durable, json, other_version, parse_json, read, read_body};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::RawEnvelope;

/// The largest batch body: 100 cases of a 256-byte marker each, with room for the JSON.
const MAX_BATCH_BODY: usize = 64 * 1024;
/// Envelopes per case in one batch page, as in one case's own page.
const PER_CASE: usize = 500;

/// Refuses a batch of another version, of no case or more than [`MAX_BATCH_CASES`], or
/// naming a case twice.
fn check_cases<'a>(
    body: &[u8],
    cases: impl ExactSizeIterator<Item = &'a MailboxId>,
) -> Result<(), ApiError> {
    if other_version(body, BATCH_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    if cases.len() == 0 || cases.len() > MAX_BATCH_CASES {
        return Err(ApiError::Malformed("a batch names 1 to 100 cases"));
    }
    let mut seen = HashSet::new();
    for id in cases {
        if !seen.insert(*id) {
            return Err(ApiError::Malformed("a batch names each case once"));
        }
    }
    Ok(())
}

/// The slot of the fetch bounds that an office's batches share (`crate::fetch` counts pages
/// in flight by mailbox): a hash of the office ID, which no case's ID is.
fn office_slot(office: &OfficeId) -> MailboxId {
    let hash = Sha256::digest(
        [
            b"candor/v1/batch-slot".as_slice(),
            office.as_str().as_bytes(),
        ]
        .concat(),
    );
    let mut id = [0u8; 16];
    id.copy_from_slice(&hash[..16]);
    MailboxId::from_bytes(id)
}

/// One case's page, as the relay read it.
struct Read {
    mailbox: MailboxId,
    envelopes: Vec<RawEnvelope>,
    after: u64,
    closed: bool,
}

/// `POST /v1/offices/{office}/envelopes`: the envelopes of several of the office's cases.
#[utoipa::path(
    post,
    path = "/v1/offices/{office}/envelopes",
    tag = "offices",
    params(crate::schema::OfficePath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::BatchFetch, content_type = "application/json"),
    responses(
        (status = 200, description = "The cases reached, in the order asked, each with its envelopes after its cursor; the page is bounded by bytes, and `done` says how many cases it reached.", body = crate::schema::BatchPage),
        (status = 400, description = "Malformed body or path, no case or more than 100, a case named twice, a cursor above 2^63 - 1, or an unsupported version.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by another key.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many of the office's pages in flight.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn envelopes(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let office = office_id(&path)?;
    let body = read_body(&req, payload, MAX_BATCH_BODY).await?;
    authorize(&state, &req, office.clone(), &body).await?;
    let batch: BatchFetch = parse_json(&body)?;
    check_cases(&body, batch.cases.iter().map(|c| &c.mailbox))?;
    // The schema's integers are 64-bit signed, as JSON Schema's `int64` says.
    if batch.cases.iter().any(|c| i64::try_from(c.after).is_err()) {
        return Err(ApiError::Malformed("a cursor is at most 2^63 - 1"));
    }
    let slot = state.fetches.begin(office_slot(&office))?;
    let budget = state.settings.fetch_page_bytes;
    let cases = batch.cases;
    let (pages, done) = read(&state, move |s| {
        let mut pages = Vec::new();
        let mut left = budget;
        let mut done = 0;
        for case in &cases {
            if left == 0 {
                break;
            }
            done += 1;
            let Some(rec) = s.mailbox(&case.mailbox)? else {
                continue;
            };
            if rec.office != office {
                continue;
            }
            let envelopes = s.envelopes_within(&case.mailbox, case.after, PER_CASE, left)?;
            let used: usize = envelopes.iter().map(|e| e.json.len()).sum();
            left = left.saturating_sub(used);
            pages.push(Read {
                mailbox: case.mailbox,
                envelopes,
                after: case.after,
                closed: rec.closed,
            });
        }
        Ok((pages, done))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(slot.body(batch_page(&pages, done))?))
}

/// The JSON of a [`candor_protocol::api::batch::BatchPage`], with each envelope's stored JSON
/// as it is (as a case's own page is built).
fn batch_page(pages: &[Read], done: usize) -> Vec<u8> {
    let len: usize = pages
        .iter()
        .flat_map(|p| &p.envelopes)
        .map(|e| e.json.len() + 40)
        .sum();
    let mut out = Vec::with_capacity(len + pages.len() * 96 + 32);
    out.extend_from_slice(b"{\"cases\":[");
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{{\"mailbox\":\"{}\",", page.mailbox);
        page_fields(&mut out, &page.envelopes, page.after, page.closed);
        out.push(b'}');
    }
    let _ = write!(out, "],\"done\":{done}}}");
    out
}

/// `PUT /v1/offices/{office}/markers`: sets the sealed read markers of several of the office's
/// cases, in one durable write.
#[utoipa::path(
    put,
    path = "/v1/offices/{office}/markers",
    tag = "offices",
    params(crate::schema::OfficePath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::BatchMarkers, content_type = "application/json"),
    responses(
        (status = 200, description = "The cases whose marker was set, on disk; a case asked for and not listed is not the office's. No case moves in the inbox or redraws its expiry.", body = crate::schema::MarkersSet),
        (status = 400, description = "Malformed body or path, no case or more than 100, a case named twice, a marker of 0 or more than 256 bytes, or an unsupported version.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by another key.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn markers(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let office = office_id(&path)?;
    let body = read_body(&req, payload, MAX_BATCH_BODY).await?;
    authorize(&state, &req, office.clone(), &body).await?;
    let batch: BatchMarkers = parse_json(&body)?;
    check_cases(&body, batch.markers.iter().map(|m| &m.mailbox))?;
    if batch
        .markers
        .iter()
        .any(|m| m.sealed.is_empty() || m.sealed.len() > MAX_MARKER_BYTES)
    {
        return Err(ApiError::Malformed(
            "a read marker is 1 to 256 bytes, sealed by the office",
        ));
    }
    let set = blocking(&state, move |s| {
        let mut set = Vec::new();
        for m in &batch.markers {
            if s.mailbox(&m.mailbox)?
                .is_none_or(|rec| rec.office != office)
            {
                continue;
            }
            match s.set_marker(&m.mailbox, &m.sealed) {
                Ok(()) => set.push(m.mailbox),
                // Deleted since it was looked up: as if it never was.
                Err(crate::store::StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(set)
    })
    .await?;
    durable(&state).await?;
    Ok(json(StatusCode::OK, &MarkersSet { set }))
}
