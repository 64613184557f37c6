//! A handoff's channel and the notice board (`docs/protocol.md` §11, "Channels and notices").
//!
//! The office opens one channel per agreed handoff, under an ID derived from a secret only it
//! and the third party hold, with the third party's channel key and the sealed notice. The
//! channel belongs to the office and to no case: deleting or closing the case leaves it, and
//! it lives until its own expiry. The office (`to-third-party`) and the third party
//! (`from-third-party`, signed by the channel key) append and read envelopes on it. The board
//! lists every notice, unsigned, to anyone: a notice is sealed to its third party, and the
//! relay cannot tell whose it is.
//!
//! An unknown channel and a key not registered for it get the same 404.

mod record;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::api::channels::{
    CHANNEL_API_VERSION, ChannelOpened, MAX_NOTICE_PAGE, NoticePage, OpenChannel, PostedNotice,
};
use candor_protocol::api::{Appended, StoredEnvelope};
use candor_protocol::handoff::Notice;
use candor_protocol::{Day, Direction, Envelope, MailboxId, Signer};

use super::{
    Fresh, Page, blocking, durable, json, other_version, parse_json, parse_query, quotas, read,
    read_body, storage_room,
};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{ChannelRecord, NewChannel, OfficeRecord, StoreError};

pub use record::Body;

fn channel_id(raw: &str) -> Result<MailboxId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Malformed("a channel ID must be 22 base64url characters (16 bytes)"))
}

/// Checks a signed request on an existing channel: the office's key, or the third party's
/// channel key. Anything else is `not-found`, verified against the dummy key like an unknown
/// channel.
async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    id: &MailboxId,
    body: &[u8],
) -> Result<(Signer, ChannelRecord), ApiError> {
    let fresh = Fresh::check(state, req)?;
    let signer = fresh.auth.signer;
    let id = *id;
    let found = read(state, move |s| {
        let Some(channel) = s.channel(&id)? else {
            return Ok(None);
        };
        let office = s.office(&channel.office)?;
        Ok(Some((channel, office)))
    })
    .await?;
    let key = found.as_ref().and_then(|(channel, office)| match signer {
        Signer::Office => office.as_ref().and_then(OfficeRecord::signing_public_key),
        Signer::ThirdParty => Body::decode(&channel.body)
            .ok()
            .and_then(|b| auth::signing_key(&b.third_party_key)),
        Signer::Case => None,
    });
    fresh.accept(state, key, req, body).await?;
    let (channel, _) = found.ok_or(ApiError::NotFound)?;
    Ok((signer, channel))
}

/// `PUT /v1/channels/{channel}`: the office opens a handoff's channel, with its notice.
#[utoipa::path(
    put,
    path = "/v1/channels/{channel}",
    tag = "handoffs",
    params(crate::schema::ChannelPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::OpenChannel, content_type = "application/json"),
    responses(
        (status = 201, description = "Opened, with its notice on the board, on disk.", body = crate::schema::ChannelOpened),
        (status = 400, description = "Malformed body or path, an unsupported version, a channel key that is not an Ed25519 key, or an expiry in the past or more than 365 days ahead.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The channel ID is taken.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The office holds as many channels as the relay allows.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = channel_id(&path)?;
    let body = read_body(&req, payload, 4096).await?;
    // The body names the office whose key signs, so it is read first (as a consent's).
    if other_version(&body, CHANNEL_API_VERSION) {
        return Err(ApiError::UnsupportedVersion);
    }
    let open: OpenChannel = parse_json(&body)?;
    if auth::signing_key(&open.third_party_key).is_none() {
        return Err(ApiError::Malformed(
            "the channel key is not an Ed25519 public key",
        ));
    }
    let day = Day::from_unix(state.clock.now());
    if open.expires < day || open.expires > day.plus(super::handoffs::MAX_HANDOFF_DAYS) {
        return Err(ApiError::Malformed(
            "a handoff expires from today to 365 days ahead",
        ));
    }
    let fresh = Fresh::check(&state, &req)?;
    let office_id = open.office.clone();
    let office = read(&state, move |s| s.office(&office_id)).await?;
    let key = match fresh.auth.signer {
        Signer::Office => office.as_ref().and_then(OfficeRecord::signing_public_key),
        Signer::Case | Signer::ThirdParty => None,
    };
    fresh.accept(&state, key, &req, &body).await?;
    let expiry = super::handoffs::handoff_expiry(&state, office.as_ref(), open.expires);
    let channel = NewChannel {
        id,
        office: open.office.clone(),
        expiry: expiry.drawn,
        notice: serde_json::to_vec(&open.notice).unwrap_or_default(),
        body: Body::new(open.third_party_key).encode(),
    };
    let quotas = quotas(&state);
    blocking(&state, move |s| s.open_channel(&channel, &quotas)).await?;
    durable(&state).await?;
    let expires = Day::from_unix(expiry.drawn.saturating_sub(1));
    Ok(json(StatusCode::CREATED, &ChannelOpened { expires }))
}

/// `GET /v1/notices?after=&limit=`: the notice board, oldest first, to anyone.
#[utoipa::path(
    get,
    path = "/v1/notices",
    tag = "handoffs",
    params(crate::schema::PageQuery),
    responses(
        (status = 200, description = "Notices after the cursor, in board order: at most `limit`; continue with `next`.", body = crate::schema::NoticePage),
        (status = 400, description = "Malformed query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn notices(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = parse_query::<Page>(&req)?.bounds()?;
    let limit = limit.min(MAX_NOTICE_PAGE);
    let stored = read(&state, move |s| s.notices(after, limit)).await?;
    let mut notices = Vec::with_capacity(stored.len());
    for (cursor, bytes) in stored {
        let notice: Notice = serde_json::from_slice(&bytes)
            .map_err(|_| super::store_error(StoreError::Corrupt("channel notice")))?;
        notices.push(PostedNotice { cursor, notice });
    }
    let next = notices.last().map_or(after, |n| n.cursor);
    Ok(json(StatusCode::OK, &NoticePage { notices, next }))
}

/// `POST /v1/channels/{channel}/envelopes`: one envelope, from the office or the third party.
#[utoipa::path(
    post,
    path = "/v1/channels/{channel}/envelopes",
    tag = "handoffs",
    params(crate::schema::ChannelPath, crate::schema::SignatureHeaders),
    request_body(content = crate::schema::Envelope, content_type = "application/json"),
    responses(
        (status = 201, description = "Appended, on disk.", body = crate::schema::Appended),
        (status = 400, description = "Malformed envelope, an envelope for another channel, or in a direction the signer may not write.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or expired channel, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not application/json.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The channel holds as many envelopes or bytes as the relay allows.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 507, description = "The relay's storage is at its operator's cap.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn append(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = channel_id(&path)?;
    let body = read_body(&req, payload, state.settings.max_envelope_bytes).await?;
    let (signer, _) = authorize(&state, &req, &id, &body).await?;
    let envelope = Envelope::from_json(&body)?;
    if envelope.mailbox != id {
        return Err(ApiError::Malformed(
            "the envelope's channel is not the one in the path",
        ));
    }
    match (signer, envelope.direction) {
        (Signer::Office, Direction::ToThirdParty)
        | (Signer::ThirdParty, Direction::FromThirdParty) => {}
        _ => {
            return Err(ApiError::Malformed(
                "on a channel the office key appends only to-third-party envelopes and the \
                 channel key only from-third-party ones",
            ));
        }
    }
    storage_room(&state, body.len() as u64, body.len() as u64)?;
    let limits = record::Limits {
        envelopes: state.settings.max_envelopes_per_mailbox,
        bytes: state.settings.max_bytes_per_mailbox,
    };
    let seq = blocking(&state, move |s| {
        let mut seq = 0;
        s.update_channel(&id, &mut |current| {
            let mut b = Body::decode(&current.body)?;
            seq = b.push(envelope.clone(), &limits)?;
            Ok(b.encode())
        })?;
        Ok(seq)
    })
    .await?;
    durable(&state).await?;
    Ok(json(StatusCode::CREATED, &Appended { seq }))
}

/// `GET /v1/channels/{channel}/envelopes?after=&limit=`: the channel's envelopes.
#[utoipa::path(
    get,
    path = "/v1/channels/{channel}/envelopes",
    tag = "handoffs",
    params(crate::schema::ChannelPath, crate::schema::PageQuery, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "Envelopes after the cursor, in order: at most `limit`; continue with `next`.", body = crate::schema::ChannelPage),
        (status = 400, description = "Malformed path or query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or expired channel, or a signature by a key not registered for it.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = channel_id(&path)?;
    let (after, limit) = parse_query::<Page>(&req)?.bounds()?;
    let (_, channel) = authorize(&state, &req, &id, b"").await?;
    let b = Body::decode(&channel.body).map_err(super::store_error)?;
    let envelopes: Vec<StoredEnvelope> = b
        .envelopes
        .into_iter()
        .filter(|e| e.seq > after)
        .take(limit)
        .collect();
    let next = envelopes.last().map_or(after, |e| e.seq);
    Ok(json(
        StatusCode::OK,
        &candor_protocol::api::channels::ChannelPage { envelopes, next },
    ))
}
