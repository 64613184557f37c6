//! The HTTP API (`docs/protocol.md` §11): route table and the helpers every handler shares
//! (body reading, expiry, quotas; the store calls are in `calls.rs`).

pub mod batch;
mod calls;
pub mod cases;
pub mod channels;
pub mod handoffs;
pub mod mailboxes;
pub mod notes;
pub mod offices;
pub mod pow;
pub mod service;
mod signed;
pub mod tallies;

pub use calls::{
    blocking, durable, read, remember_entry, remember_shared, shared_entry, store_error,
};
pub use signed::Fresh;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use rand::RngExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, json_error};
use crate::state::AppState;
use crate::store::{Expiry, Quotas};

/// Route patterns, as they appear in the access log and metrics.
pub mod pattern {
    /// `GET`.
    pub const HEALTH: &str = "/v1/health";
    /// `GET`.
    pub const OPENAPI: &str = "/v1/openapi.json";
    /// `GET`, on the metrics listener only (`crate::startup`), never the API's.
    pub const METRICS: &str = "/metrics";
    /// `GET`.
    pub const POW: &str = "/v1/pow";
    /// `POST`.
    pub const OFFICES: &str = "/v1/offices";
    /// `GET`, `PUT`.
    pub const OFFICE: &str = "/v1/offices/{office}";
    /// `GET`.
    pub const INBOX: &str = "/v1/offices/{office}/inbox";
    /// `GET`.
    pub const TALLIES: &str = "/v1/offices/{office}/tallies";
    /// `POST`.
    pub const BATCH_ENVELOPES: &str = "/v1/offices/{office}/envelopes";
    /// `PUT`.
    pub const BATCH_MARKERS: &str = "/v1/offices/{office}/markers";
    /// `POST`.
    pub const MAILBOXES: &str = "/v1/mailboxes";
    /// `DELETE`.
    pub const MAILBOX: &str = "/v1/mailboxes/{mailbox}";
    /// `GET`, `POST`.
    pub const ENVELOPES: &str = "/v1/mailboxes/{mailbox}/envelopes";
    /// `POST`.
    pub const CLOSE: &str = "/v1/mailboxes/{mailbox}/close";
    /// `PUT`.
    pub const MARKER: &str = "/v1/mailboxes/{mailbox}/marker";
    /// `GET`, `POST`.
    pub const NOTES: &str = "/v1/mailboxes/{mailbox}/notes";
    /// `GET`.
    pub const LIMITS: &str = "/v1/limits";
    /// `GET`, `PUT`.
    pub const HANDOFF: &str = "/v1/handoffs/{handoff}";
    /// `POST`.
    pub const HANDOFF_AGREEMENT: &str = "/v1/handoffs/{handoff}/agreement";
    /// `POST`.
    pub const HANDOFF_FETCH: &str = "/v1/handoffs/{handoff}/fetch";
    /// `POST`.
    pub const HANDOFF_REVOCATION: &str = "/v1/handoffs/{handoff}/revocation";
    /// `PUT`.
    pub const CHANNEL: &str = "/v1/channels/{channel}";
    /// `GET`, `POST`.
    pub const CHANNEL_ENVELOPES: &str = "/v1/channels/{channel}/envelopes";
    /// `GET`.
    pub const NOTICES: &str = "/v1/notices";
    /// Anything else.
    pub const UNMATCHED: &str = "unmatched";

    /// The pattern of the resource that served a request, kept in its app data, so that the
    /// access log need not match the path against the routes a second time
    /// (`HttpRequest::match_pattern` does, with a regex per dynamic route).
    #[derive(Clone, Copy, Debug)]
    pub struct Matched(pub &'static str);
}

/// Registers every route. A known path with an unsupported method gets 405 problem+json with
/// an `Allow` header.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path: &'static str, allow: &'static str| {
        web::resource(path)
            .app_data(pattern::Matched(path))
            .default_service(web::to(move || method_not_allowed(allow)))
    };
    // actix tries resources in this order. Static patterns are a string comparison; each
    // dynamic one is a regex, so the busiest (envelopes: every append and every poll) comes
    // first among them. The patterns never overlap, so the order changes nothing else.
    cfg.service(resource(pattern::HEALTH, "GET").route(web::get().to(service::health)))
        .service(resource(pattern::OPENAPI, "GET").route(web::get().to(service::openapi)))
        .service(resource(pattern::POW, "GET").route(web::get().to(pow::challenge)))
        .service(resource(pattern::LIMITS, "GET").route(web::get().to(service::limits)))
        .service(resource(pattern::NOTICES, "GET").route(web::get().to(channels::notices)))
        .service(resource(pattern::OFFICES, "POST").route(web::post().to(offices::register)))
        .service(resource(pattern::MAILBOXES, "POST").route(web::post().to(mailboxes::open)))
        .service(
            resource(pattern::ENVELOPES, "GET, POST")
                .route(web::get().to(mailboxes::list))
                .route(web::post().to(mailboxes::append)),
        )
        .service(resource(pattern::CLOSE, "POST").route(web::post().to(cases::close)))
        .service(resource(pattern::MARKER, "PUT").route(web::put().to(cases::marker)))
        .service(
            resource(pattern::NOTES, "GET, POST")
                .route(web::get().to(notes::list))
                .route(web::post().to(notes::put)),
        )
        .service(resource(pattern::MAILBOX, "DELETE").route(web::delete().to(mailboxes::delete)))
        .service(resource(pattern::INBOX, "GET").route(web::get().to(offices::inbox)))
        .service(resource(pattern::TALLIES, "GET").route(web::get().to(tallies::list)))
        .service(resource(pattern::BATCH_ENVELOPES, "POST").route(web::post().to(batch::envelopes)))
        .service(resource(pattern::BATCH_MARKERS, "PUT").route(web::put().to(batch::markers)))
        .service(
            resource(pattern::HANDOFF, "GET, PUT")
                .route(web::get().to(handoffs::status))
                .route(web::put().to(handoffs::consent)),
        )
        .service(
            resource(pattern::HANDOFF_AGREEMENT, "POST").route(web::post().to(handoffs::agree)),
        )
        .service(resource(pattern::HANDOFF_FETCH, "POST").route(web::post().to(handoffs::fetch)))
        .service(
            resource(pattern::HANDOFF_REVOCATION, "POST").route(web::post().to(handoffs::revoke)),
        )
        .service(resource(pattern::CHANNEL, "PUT").route(web::put().to(channels::open)))
        .service(
            resource(pattern::CHANNEL_ENVELOPES, "GET, POST")
                .route(web::get().to(channels::list))
                .route(web::post().to(channels::append)),
        )
        .service(
            resource(pattern::OFFICE, "GET, PUT")
                .route(web::get().to(offices::fetch))
                .route(web::put().to(offices::update)),
        );
}

async fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut res = ApiError::MethodNotAllowed.error_response();
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    res
}

/// The default service: unknown routes.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// Whether a `Content-Type` value names a JSON body this relay reads: `application/json`, in
/// any case, with no parameter or only `charset=utf-8` (the body is always read as UTF-8, so
/// any other charset, or any other parameter, would be a claim the relay does not honour).
fn is_json_media_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    let params: Vec<&str> = parts.map(str::trim).collect();
    match params.as_slice() {
        [] => true,
        [param] => param.split_once('=').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("charset")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }),
        _ => false,
    }
}

/// Reads a JSON body: `application/json` only (`is_json_media_type`), at most `limit` bytes.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_media_type);
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::Malformed("the body could not be read")),
        Err(_) => Err(ApiError::TooLarge),
    }
}

/// Parses a strict JSON body.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| json_error(&e))
}

/// Whether a JSON object carries a `v` other than `current`, so that a future version is reported as
/// such rather than as an unknown field.
pub fn other_version(bytes: &[u8], current: u8) -> bool {
    #[derive(serde::Deserialize)]
    struct V {
        v: serde_json::Value,
    }
    serde_json::from_slice::<V>(bytes)
        .is_ok_and(|V { v }| v.as_u64().is_some_and(|n| n != u64::from(current)))
}

/// Parses the query string; unknown parameters are refused.
pub fn parse_query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::Malformed("the query string is not valid for this endpoint"))
}

/// The expiry of a mailbox written now: retention plus uniform jitter, rounded up to the hour,
/// so stored times do not pinpoint events; with the window any such draw falls in.
pub fn expiry(state: &AppState, retention_days: u32) -> Expiry {
    let days = if retention_days == 0 {
        state.settings.retention_default_days
    } else {
        retention_days
    };
    let jitter_range = u64::from(state.settings.retention_jitter_hours) * 3600;
    let jitter = if jitter_range == 0 {
        0
    } else {
        rand::rng().random_range(0..jitter_range)
    };
    let base = state.clock.now().saturating_add(u64::from(days) * 86_400);
    let hour = |at: u64| at.div_ceil(3600).saturating_mul(3600);
    Expiry {
        drawn: hour(base.saturating_add(jitter)),
        earliest: hour(base),
        latest: hour(base.saturating_add(jitter_range)),
    }
}

/// Refuses a write that would grow the store past `max_store_bytes` (issue 20, finding 4).
/// Only writes that add data ask: deletions, sweeps and the commits that carry them never do,
/// and use the disk space the operator leaves above the cap. The size is measured at most once
/// a second (sled lists its files for it) and counts the bytes accepted since.
/// `room` is what must fit below the cap for the write to go ahead (`adding` or more: a new
/// mailbox is refused unless an envelope would still fit).
pub fn storage_room(state: &AppState, adding: u64, room: u64) -> Result<(), ApiError> {
    let cap = state.settings.max_store_bytes;
    if cap == 0 {
        return Ok(());
    }
    let now = state.clock.now();
    let size = &state.store_size;
    let mut size = size
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if size.0 != now {
        // A failure to measure counts as full: refusing a write is safe, filling the disk not.
        *size = (now, state.store.size_on_disk().unwrap_or(u64::MAX));
    }
    if size.1.saturating_add(room.max(adding)) > cap {
        return Err(ApiError::StorageFull);
    }
    size.1 += adding;
    Ok(())
}

/// The quotas from the settings.
pub fn quotas(state: &AppState) -> Quotas {
    Quotas {
        mailboxes_per_office: state.settings.max_mailboxes_per_office,
        envelopes_per_mailbox: state.settings.max_envelopes_per_mailbox,
        bytes_per_mailbox: state.settings.max_bytes_per_mailbox,
        packages_per_mailbox: state.settings.max_packages_per_mailbox,
        channels_per_office: state.settings.max_channels_per_office,
        notes_per_mailbox: state.settings.max_notes_per_mailbox,
        bytes_per_office: state.settings.max_bytes_per_office,
    }
}

/// A JSON response.
pub fn json<T: serde::Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(serde_json::to_vec(body).unwrap_or_default())
}

/// `after` and `limit` for the listing endpoints.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The cursor; 0 for the start.
    pub after: Option<u64>,
    /// 1 to 500, default 100.
    pub limit: Option<u64>,
}

impl Page {
    /// The cursor and the checked limit.
    pub fn bounds(&self) -> Result<(u64, usize), ApiError> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::Malformed("limit must be between 1 and 500"));
        }
        // At most 500.
        Ok((self.after.unwrap_or(0), limit as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_json_may_say_charset_utf_8_and_nothing_else() {
        for good in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert!(is_json_media_type(good), "{good}");
        }
        for bad in [
            "text/plain",
            "application/json-patch+json",
            "application/json; charset=latin1",
            "application/json; boundary=x",
            "application/json; charset=utf-8; q=1",
            "application/jsonx",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }
}
