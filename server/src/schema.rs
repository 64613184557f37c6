//! The schemas of the relay's HTTP API, for its OpenAPI document (`crate::openapi` collects
//! them with the routes).
//!
//! The request and response bodies are the protocol crate's `api` types; their schemas are
//! written here, beside the HTTP layer, with the exact patterns and lengths of every field
//! (base64url of N bytes, IDs), so that a schema-driven fuzzer generates what the relay accepts.
//! A test compares every schema's property names with the real types' JSON. The routes name
//! these types in their annotations and import nothing else of the document, so that the
//! document can import the routes.

mod cases;
mod channels;
mod handoffs;
mod notes;
mod tallies;

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

pub use cases::{CloseMailbox, Closed, Limits, Marker, Stanza, Versions};
pub use channels::{
    ChannelOpened, ChannelPage, ChannelPath, Notice, NoticePage, OpenChannel, PostedNotice,
};
pub use handoffs::{
    Agreement, Fetch, Fetched, HandoffPath, HandoffStatus, KeyShare, Package, PutHandoff,
    Revocation,
};
pub use notes::{NotePage, NoteStored, PutNote, StoredNote};
pub use tallies::{StoredTally, TallyPage, TallyQuery};

/// The four headers of a signed request (docs/protocol.md §8).
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

/// An RFC 9457 problem.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Problem {
    /// `urn:candor:problem:<slug>`.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:candor:problem:[a-z-]+$")]
    kind: String,
    /// A short fixed title.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What was wrong; never echoes input.
    detail: String,
}

/// `{"status":"ok"}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    status: String,
}

/// A signed office card (docs/protocol.md §3).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SignedCard {
    /// base64url of the exact card JSON bytes (at most 64 KiB).
    #[schema(
        pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        min_length = 2,
        max_length = 87382
    )]
    card: String,
    /// Ed25519 signature by the card's signing key over `OFFICE_CARD || card bytes`.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{85}[AQgw]$",
        min_length = 86,
        max_length = 86
    )]
    signature: String,
}

/// `POST /v1/offices`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RegisterOffice {
    /// A one-time token from `candor-server invite`.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]\\.[0-9]{1,20}\\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"
    )]
    invite: String,
    /// The office's signed card.
    card: SignedCard,
}

/// The answer to registering or updating an office.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct OfficeSaved {
    /// The office ID.
    #[schema(
        pattern = "^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$",
        min_length = 3,
        max_length = 32
    )]
    office: String,
}

/// A proof-of-work challenge (docs/protocol.md §9).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Challenge {
    /// Format version: 1.
    #[schema(minimum = 1, maximum = 1)]
    v: u64,
    /// 16 random bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    random: String,
    /// Required leading zero bits.
    #[schema(minimum = 0, maximum = 40)]
    difficulty: u8,
    /// Unix seconds after which the challenge is refused.
    expires: u64,
    /// The relay's HMAC-SHA256.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    mac: String,
}

/// A solved challenge.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Solution {
    /// The challenge as issued.
    challenge: Challenge,
    /// The nonce found.
    nonce: u64,
}

/// `POST /v1/mailboxes`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct OpenMailbox {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// The office the case is with.
    #[schema(
        pattern = "^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$",
        min_length = 3,
        max_length = 32
    )]
    office: String,
    /// The mailbox to open.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
    /// The case's Ed25519 key; it also signs this request.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    signing_key: String,
    /// The case's X25519 HPKE key.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    kem_key: String,
    /// The solved proof of work, with the mailbox ID's 16 bytes as context.
    pow: Solution,
    /// The case's first envelope, to the office.
    envelope: Envelope,
}

/// The answer to opening a mailbox.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct MailboxOpened {
    /// The mailbox opened.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
}

/// Who wrote an envelope to whom.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum Direction {
    /// Visitor to office.
    ToOffice,
    /// Office to visitor.
    ToVisitor,
    /// Office to third party (not yet accepted by the relay).
    ToThirdParty,
    /// Third party to office (not yet accepted by the relay).
    FromThirdParty,
}

/// A sealed message (docs/protocol.md §6).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Envelope {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// The mailbox; must equal the path's.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
    /// Who wrote it to whom.
    direction: Direction,
    /// The content key wrapped for the other party, then for the sender's own side.
    #[schema(min_items = 2, max_items = 2)]
    stanzas: Vec<Stanza>,
    /// The commitment to the content key.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    commit: String,
    /// ChaCha20-Poly1305 ciphertext; its length minus 16 must be a Padmé bucket of at least
    /// 512 bytes.
    #[schema(
        pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        min_length = 704
    )]
    ct: String,
}

/// The answer to appending.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Appended {
    /// The envelope's sequence number, from 1.
    #[schema(minimum = 1)]
    seq: u64,
}

/// One stored envelope.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StoredEnvelope {
    /// Its sequence number.
    #[schema(minimum = 1)]
    seq: u64,
    /// The envelope.
    envelope: Envelope,
}

/// A page of envelopes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EnvelopePage {
    /// Envelopes after the cursor, in order.
    envelopes: Vec<StoredEnvelope>,
    /// The cursor for the next page.
    next: u64,
    /// Whether the office has closed the case.
    closed: bool,
}

/// One mailbox in an inbox.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct InboxEntry {
    /// The mailbox.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
    /// The case's HPKE key.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    kem_key: String,
    /// The case's signing key.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    signing_key: String,
    /// How many envelopes the mailbox holds.
    envelopes: u64,
    /// The highest sequence number.
    last_seq: u64,
    /// The office-wide activity counter at the mailbox's last write (a cursor, not a time).
    activity: u64,
    /// Whether the office has closed the case.
    closed: bool,
    /// The office's sealed read marker, base64url, or null.
    #[schema(pattern = "^[A-Za-z0-9_-]*$", max_length = 342, nullable)]
    marker: Option<String>,
}

/// A page of an office's inbox.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct InboxPage {
    /// Mailboxes with activity after the cursor, oldest first.
    mailboxes: Vec<InboxEntry>,
    /// The cursor for the next page.
    next: u64,
}
