//! The office's tallies: `GET /v1/offices/{office}/tallies`, signed by the office key, lists
//! them a page at a time in ID order. IDs are random, so the order says nothing of when cases
//! closed. Tallies are written only with a closing (`super::cases::close`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use candor_protocol::TallyId;
use candor_protocol::api::{MAX_TALLY_PAGE, TallyPage};

use super::offices::{authorize, office_id};
use super::{blocking, json, parse_query};
use crate::error::ApiError;
use crate::state::AppState;

/// `after` and `limit` of a tally listing.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TallyQuery {
    after: Option<String>,
    limit: Option<u64>,
}

/// `GET /v1/offices/{office}/tallies?after=&limit=`: the office's sealed tallies.
#[utoipa::path(
    get,
    path = "/v1/offices/{office}/tallies",
    tag = "offices",
    params(crate::schema::OfficePath, crate::schema::TallyQuery, crate::schema::SignatureHeaders),
    responses(
        (status = 200, description = "Tallies with an ID above the cursor, in ID order; continue with `next` until it is null.", body = crate::schema::TallyPage),
        (status = 400, description = "Malformed path or query.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, stale or replayed.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown office, or a signature by another key.", body = crate::schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Unavailable.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = office_id(&path)?;
    let query = parse_query::<TallyQuery>(&req)?;
    let after = query
        .after
        .as_deref()
        .map(str::parse::<TallyId>)
        .transpose()
        .map_err(|_| ApiError::Malformed("after must be a tally ID: 22 base64url characters"))?;
    let limit = query.limit.unwrap_or(MAX_TALLY_PAGE as u64);
    if !(1..=MAX_TALLY_PAGE as u64).contains(&limit) {
        return Err(ApiError::Malformed("limit must be between 1 and 1000"));
    }
    authorize(&state, &req, id.clone(), b"").await?;
    // At most 1000, checked above.
    let limit = limit as usize;
    let tallies = blocking(&state, move |s| s.tallies(&id, after.as_ref(), limit)).await?;
    // A full page may have more after it; a short one is the last.
    let next = (tallies.len() == limit)
        .then(|| tallies.last().map(|t| t.id))
        .flatten();
    Ok(json(StatusCode::OK, &TallyPage { tallies, next }))
}
