//! The schemas of the relay's HTTP API, for its OpenAPI document (`crate::openapi` collects
//! them with the routes).
//!
//! The request and response bodies are the protocol crate's `api` types, whose schemas the
//! protocol derives behind its `openapi` feature, with the exact patterns and lengths of every
//! field (base64url of N bytes, IDs), so that a schema-driven fuzzer generates what the relay
//! accepts; this module re-exports them under short names. What is genuinely the relay's is
//! written here: the signature headers, the path parameters and the page queries. A test
//! compares every body schema's property names with the real types' JSON. The routes name
//! these types in their annotations and import nothing else of the document, so that the
//! document can import the routes.

use utoipa::IntoParams;

pub use candor_protocol::api::batch::{
    BatchFetch, BatchMarkers, BatchPage, CaseCursor, CaseMarker, CasePage, MarkersSet,
};
pub use candor_protocol::api::channels::{
    ChannelOpened, ChannelPage, NoticePage, OpenChannel, PostedNotice,
};
pub use candor_protocol::api::handoffs::{
    Agreement, Fetch, Fetched, HandoffState, HandoffStatus, PutHandoff,
};
pub use candor_protocol::api::notes::{NotePage, NoteStored, PutNote, StoredNote};
pub use candor_protocol::api::{
    Appended, CloseMailbox, Closed, EnvelopePage, Health, InboxEntry, InboxPage, Limits,
    MailboxOpened, Marker, OfficeSaved, OpenMailbox, Problem, RegisterOffice, StoredEnvelope,
    StoredTally, TallyPage, Versions,
};
pub use candor_protocol::envelope::Stanza;
pub use candor_protocol::handoff::{KeyShare, Notice, Package, Party, Revocation};
pub use candor_protocol::pow::{Challenge, Solution};
pub use candor_protocol::{Direction, Envelope, SignedCard};

/// The headers of a signed request (docs/protocol.md §8): four, and an optional fifth.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct SignatureHeaders {
    /// Which registered key signed: `case`, `office` or `third-party`.
    #[param(rename = "Candor-Signer", pattern = "^(case|office|third-party)$")]
    signer: String,
    /// Unix seconds when the request was signed, within the relay's window.
    #[param(rename = "Candor-Timestamp", pattern = "^[0-9]{1,20}$")]
    timestamp: String,
    /// 16 random bytes, base64url; each is accepted once.
    #[param(
        rename = "Candor-Request-Id",
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    request_id: String,
    /// Ed25519 signature, 64 bytes, base64url.
    #[param(
        rename = "Candor-Signature",
        pattern = "^[A-Za-z0-9_-]{85}[AQgw]$",
        min_length = 86,
        max_length = 86
    )]
    signature: String,
    /// Optional: the public key that signed, 32 bytes, base64url. Every client should send it;
    /// a key other than the registered one is `not-found`, as a wrong signature is.
    #[param(
        rename = "Candor-Key",
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    key: Option<String>,
}

/// A mailbox in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct MailboxPath {
    /// The mailbox ID: 16 bytes as 22 base64url characters.
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
}

/// An office in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct OfficePath {
    /// The office ID: 3 to 32 characters of a-z, 0-9 and '-', not starting or ending with '-'.
    #[param(
        pattern = "^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$",
        min_length = 3,
        max_length = 32
    )]
    office: String,
}

/// A page cursor.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// Return items after this cursor (default 0).
    #[param(schema_with = cursor_schema)]
    after: Option<u64>,
    /// At most this many items, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// A cursor is any `u64`. Derived, it would be `format: int64`, whose range ends at 2^63 - 1,
/// and a schema-driven fuzzer then takes the relay's acceptance of a larger cursor for a bug
/// (issue 19): the schema says the relay's range instead.
fn cursor_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uint64".into())))
        .minimum(Some(0))
        .maximum(Some(u64::MAX))
        .description(Some("Return items after this cursor (default 0)."))
        .build()
}

/// A channel in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ChannelPath {
    /// The channel ID: 16 bytes as 22 base64url characters.
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    channel: String,
}

/// A handoff in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct HandoffPath {
    /// The handoff ID: 16 bytes as 22 base64url characters.
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    handoff: String,
}

/// The query of a tally listing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TallyQuery {
    /// Return tallies with an ID above this one (default: from the first).
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    after: Option<String>,
    /// At most this many tallies, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}
