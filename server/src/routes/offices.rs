//! Offices: register a card with an invite, fetch it, update it (signed by the office key) and
//! read the office's inbox (signed by the office key).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::{InboxPage, OfficeSaved, RegisterOffice};
use candor_protocol::{OfficeId, SignedCard, Signer};

use super::{Fresh, Page, blocking, durable, json, parse_json, parse_query, read, read_body};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{OfficeRecord, TokenKind, UsedToken};

pub(super) fn office_id(raw: &str) -> Result<OfficeId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::Malformed("an office ID must be 3 to 32 characters of a-z, 0-9 and '-'")
    })
}

/// Checks an office request's signature: headers, freshness, key lookup, verification, replay.
/// Only the office key can sign; an unknown office answers like a wrong key.
pub(super) async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    id: OfficeId,
    body: &[u8],
) -> Result<OfficeRecord, ApiError> {
    let fresh = Fresh::check(state, req)?;
    let office = read(state, move |s| s.office(&id)).await?;
    let key = match fresh.auth.signer {
        Signer::Office => office.as_ref().and_then(OfficeRecord::signing_public_key),
        Signer::Case | Signer::ThirdParty => None,
    };
    // No key without an office: an unknown office is `not-found` from the verification.
    fresh.accept(state, key, req, body).await?;
    office.ok_or(ApiError::NotFound)
}

/// `POST /v1/offices`: registers an office card with a one-time invite.
#[utoipa::path(
    post,
    path = "/v1/offices",
    tag = "offices",
    request_body(content = crate::schema::RegisterOffice, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered and on disk.", body = crate::schema::OfficeSaved),
        (status = 400, description = "Malformed body or card, bad card signature, or unsupported card version.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The invite is invalid, expired or already used.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The office ID is taken.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let register: RegisterOffice = parse_json(&body)?;
    let invite = state
        .invite_key
        .verify(&register.invite, state.clock.now())?;
    let card = register.card.verify_office()?;
    let record = OfficeRecord::from_verified(register.card, &card);
    let used = UsedToken {
        kind: TokenKind::Invite,
        random: invite.random,
        expires: invite.expires,
    };
    blocking(&state, move |s| s.register_office(&record, &used)).await?;
    durable(&state).await?;
    tracing::info!("office registered");
    Ok(json(StatusCode::CREATED, &OfficeSaved { office: card.id }))
}

/// `GET /v1/offices/{office}`: the office's signed card.
#[utoipa::path(
    get,
    path = "/v1/offices/{office}",
    tag = "offices",
    params(crate::schema::OfficePath),
    responses(
        (status = 200, description = "The signed card.", body = crate::schema::SignedCard),
        (status = 400, description = "Malformed office ID.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn fetch(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = office_id(&path)?;
    let office = read(&state, move |s| s.office(&id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &office.card))
}

/// `PUT /v1/offices/{office}`: replaces the card, signed by the current card's key.
#[utoipa::path(
    put,
    path = "/v1/offices/{office}",
    tag = "offices",
    params(crate::schema::OfficePath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::SignedCard, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated and on disk.", body = crate::schema::OfficeSaved),
        (status = 400, description = "Malformed body or card, another office ID or signing key, or unsupported card version.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by another key.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The serial did not increase.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = office_id(&path)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let current = authorize(&state, &req, id.clone(), &body).await?;
    let signed: SignedCard = parse_json(&body)?;
    let card = signed.verify_office()?;
    if card.id != id {
        return Err(ApiError::Malformed(
            "the card's office ID is not the one in the path",
        ));
    }
    if card.signing_key != current.signing_key {
        return Err(ApiError::Malformed(
            "the card's signing key cannot change: it is the office's identity",
        ));
    }
    if card.serial <= current.serial {
        return Err(ApiError::Conflict(
            "the card's serial must be larger than the stored card's",
        ));
    }
    let record = OfficeRecord::from_verified(signed, &card);
    blocking(&state, move |s| s.update_office(&record)).await?;
    durable(&state).await?;
    Ok(json(StatusCode::OK, &OfficeSaved { office: card.id }))
}

/// `GET /v1/offices/{office}/inbox?after=&limit=`: mailboxes with activity after the cursor.
#[utoipa::path(
    get,
    path = "/v1/offices/{office}/inbox",
    tag = "offices",
    params(crate::schema::OfficePath, crate::schema::PageQuery, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "Mailboxes with activity after the cursor, oldest activity first.", body = crate::schema::InboxPage),
        (status = 400, description = "Malformed path or query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by another key.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn inbox(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = office_id(&path)?;
    let (after, limit) = parse_query::<Page>(&req)?.bounds()?;
    authorize(&state, &req, id.clone(), b"").await?;
    let mailboxes = blocking(&state, move |s| s.inbox(&id, after, limit)).await?;
    let next = mailboxes.last().map_or(after, |m| m.activity);
    Ok(json(StatusCode::OK, &InboxPage { mailboxes, next }))
}
