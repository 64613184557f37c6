//! The relay's one error type and its RFC 9457 `application/problem+json` form.
//!
//! Every detail is a fixed text chosen here: nothing the client sent is ever echoed, so an
//! error cannot reflect a mailbox ID, a key or a body back into a log or a proxy.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use candor_protocol::api::Problem;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body, a path segment or a query parameter could not be parsed.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// An object's `v` is not a version this relay speaks.
    #[error("unsupported version")]
    UnsupportedVersion,
    /// A signature header is missing or malformed, or (when opening a mailbox) the signature
    /// does not verify under the key being registered.
    #[error("signature required: {0}")]
    SignatureRequired(&'static str),
    /// The timestamp is outside the window, or older than the relay's start.
    #[error("stale request")]
    StaleRequest,
    /// The request ID was already accepted within the window.
    #[error("replayed request")]
    ReplayedRequest,
    /// The invite was not issued by this relay, or has expired.
    #[error("invalid invite")]
    InviteInvalid,
    /// The invite was already used.
    #[error("invite already used")]
    InviteUsed,
    /// The proof of work is missing, forged, expired, too easy or wrong.
    #[error("proof of work refused: {0}")]
    PowInvalid(&'static str),
    /// The proof-of-work challenge was already used.
    #[error("proof of work already used")]
    PowUsed,
    /// Unknown office or mailbox, or a signature by a key not registered for it. One answer
    /// for all, byte for byte.
    #[error("not found")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The office or mailbox already exists, or a card's serial did not increase.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The body is over the limit.
    #[error("body too large")]
    TooLarge,
    /// The body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A per-office or per-mailbox quota is reached.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// The store has reached the relay's size cap (`max_store_bytes`): nothing new is taken,
    /// deletions still are.
    #[error("storage full")]
    StorageFull,
    /// The relay is shutting down or its store failed.
    #[error("unavailable")]
    Unavailable,
}

impl ApiError {
    /// The `type` suffix, title and detail of the problem document.
    fn parts(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            ApiError::Malformed(d) => ("malformed", "Malformed request", d),
            ApiError::UnsupportedVersion => (
                "unsupported-version",
                "Unsupported version",
                "an object's format version is not one this relay speaks; GET /v1/limits lists \
                 the versions it accepts",
            ),
            ApiError::SignatureRequired(d) => ("signature-required", "Signature required", d),
            ApiError::StaleRequest => (
                "stale-request",
                "Stale request",
                "the request timestamp is outside the accepted window; check the clock and sign again",
            ),
            ApiError::ReplayedRequest => (
                "replayed-request",
                "Replayed request",
                "this request ID was already used; sign the request again",
            ),
            ApiError::InviteInvalid => (
                "invite-invalid",
                "Invalid invite",
                "the registration token was not issued by this relay or has expired; ask the operator for a new one",
            ),
            ApiError::InviteUsed => (
                "invite-used",
                "Invite already used",
                "the registration token was already used; ask the operator for a new one",
            ),
            ApiError::PowInvalid(d) => ("pow-invalid", "Proof of work refused", d),
            ApiError::PowUsed => (
                "pow-used",
                "Proof of work already used",
                "this challenge was already used; fetch a new one",
            ),
            ApiError::NotFound => (
                "not-found",
                "Not found",
                "nothing here, or the request is not signed by a key registered for it",
            ),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                "Method not allowed",
                "this path does not accept this method",
            ),
            ApiError::Conflict(d) => ("conflict", "Conflict", d),
            ApiError::TooLarge => (
                "too-large",
                "Too large",
                "the body is larger than this relay accepts",
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json, with no parameter but charset=utf-8",
            ),
            ApiError::QuotaExceeded(d) => ("quota-exceeded", "Quota exceeded", d),
            ApiError::StorageFull => (
                "storage-full",
                "Storage full",
                "the relay holds as much as its operator allows; nothing new is stored until expired or deleted cases make room, so try again later (deleting a case still works)",
            ),
            ApiError::Unavailable => (
                "unavailable",
                "Unavailable",
                "the relay cannot serve this now; try again later",
            ),
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (slug, title, detail) = self.parts();
        Problem {
            kind: format!("urn:candor:problem:{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: detail.to_owned(),
        }
    }

    /// The error that stands for a bare status produced outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            StatusCode::INSUFFICIENT_STORAGE => ApiError::StorageFull,
            s if s.is_client_error() => ApiError::Malformed("the request could not be parsed"),
            _ => ApiError::Unavailable,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) | ApiError::UnsupportedVersion => StatusCode::BAD_REQUEST,
            ApiError::SignatureRequired(_) | ApiError::StaleRequest | ApiError::ReplayedRequest => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::InviteInvalid
            | ApiError::InviteUsed
            | ApiError::PowInvalid(_)
            | ApiError::PowUsed => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)))
            .body(body)
    }
}

/// Maps protocol-crate errors met while parsing or checking client input.
impl From<candor_protocol::Error> for ApiError {
    fn from(e: candor_protocol::Error) -> Self {
        use candor_protocol::{Error, PowError};
        match e {
            Error::UnsupportedVersion { .. } => ApiError::UnsupportedVersion,
            Error::Pow(PowError::Expired) => {
                ApiError::PowInvalid("the challenge has expired; fetch a new one")
            }
            Error::Pow(PowError::NotIssued) => {
                ApiError::PowInvalid("the challenge was not issued by this relay")
            }
            Error::Pow(PowError::TooEasy) => {
                ApiError::PowInvalid("the challenge is easier than this relay requires")
            }
            Error::Pow(_) => ApiError::PowInvalid("the solution does not meet the difficulty"),
            Error::BadSignature => ApiError::Malformed("a signature in the body does not verify"),
            Error::Malformed { what, .. } => ApiError::Malformed(malformed_detail(what)),
            _ => ApiError::Malformed("the body could not be parsed"),
        }
    }
}

/// A fixed detail per field name the protocol crate reports (its `what` is always one of our
/// own static strings, never input, but we still map it to text written here).
fn malformed_detail(what: &str) -> &'static str {
    match what {
        "envelope" => "the envelope is not valid: check its fields and base64url encoding",
        "envelope.ct" => "the envelope's ciphertext length is not a padding bucket",
        "office card" => "the office card is not valid",
        "signed card" | "card" => "the signed card is not valid",
        "signing key" => "a signing key is not a valid Ed25519 public key",
        "mailbox id" => "a mailbox ID must be 22 base64url characters (16 bytes)",
        "office id" => "an office ID must be 3 to 32 characters of a-z, 0-9 and '-'",
        "pow challenge" => "the proof-of-work challenge is not valid",
        _ => "the body could not be parsed",
    }
}

/// Describes a JSON parsing failure by position and class only, without quoting the input.
pub fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    ApiError::Malformed(match e.classify() {
        Category::Syntax | Category::Eof => "the body is not valid JSON",
        Category::Data => {
            "the body does not match this endpoint: a field is unknown, missing, or has the wrong type, length or encoding"
        }
        Category::Io => "the body could not be read",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_their_status_and_type() {
        let p = ApiError::NotFound.problem();
        assert_eq!(p.status, 404);
        assert_eq!(p.kind, "urn:candor:problem:not-found");
        let p = ApiError::QuotaExceeded("x").problem();
        assert_eq!(
            (p.status, p.kind.as_str()),
            (429, "urn:candor:problem:quota-exceeded")
        );
    }

    #[test]
    fn protocol_errors_never_carry_their_reason_text() {
        let e: ApiError = candor_protocol::envelope::Envelope::from_json(b"{\"secret-field\":1}")
            .unwrap_err()
            .into();
        assert!(!e.problem().detail.contains("secret-field"));
    }
}
