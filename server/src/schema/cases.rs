//! Schemas of the wire's version 2 additions: key stanzas, the relay's limits, closing a case
//! and the office's read marker.

use serde::Serialize;
use utoipa::ToSchema;

use super::Envelope;

/// One recipient's wrapping of an envelope's content key.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Stanza {
    /// HPKE encapsulated key.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    enc: String,
    /// The 32-byte content key, sealed with HPKE (48 bytes).
    #[schema(pattern = "^[A-Za-z0-9_-]{64}$", min_length = 64, max_length = 64)]
    key: String,
}

/// What this relay accepts.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Limits {
    /// The largest envelope, as JSON, in bytes.
    max_envelope_bytes: u64,
    /// Envelopes one mailbox may hold.
    max_envelopes_per_mailbox: u64,
    /// Bytes of envelopes one mailbox may hold.
    max_bytes_per_mailbox: u64,
    /// The proof of work's difficulty, in leading zero bits.
    pow_difficulty: u8,
    /// The accepted clock difference for signed requests, in seconds.
    request_window_secs: u64,
    /// The format versions accepted, by object; any other is refused with
    /// `unsupported-version`.
    versions: Versions,
}

/// The format versions this relay accepts, by object.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Versions {
    /// Office cards.
    office_card: Vec<u8>,
    /// Envelopes.
    envelope: Vec<u8>,
    /// Open-mailbox requests.
    open_mailbox: Vec<u8>,
    /// Close requests.
    close: Vec<u8>,
    /// Proof-of-work challenges and solutions.
    pow: Vec<u8>,
}

/// `POST /v1/mailboxes/{mailbox}/close`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct CloseMailbox {
    /// Format version: 2 (a version 1 body is refused as unsupported).
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// A last message to the visitor, or null.
    #[schema(nullable)]
    envelope: Option<Envelope>,
    /// The case's tally sealed under the office's records key: 232 bytes, base64url; or
    /// null to record none. Stored in the same write as the closing.
    #[schema(
        nullable,
        pattern = "^[A-Za-z0-9_-]{309}[AQgw]$",
        min_length = 310,
        max_length = 310
    )]
    tally: Option<String>,
}

/// The answer to closing a case.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Closed {
    /// The last message's sequence number, or null.
    #[schema(minimum = 1, nullable)]
    seq: Option<u64>,
}

/// `PUT /v1/mailboxes/{mailbox}/marker`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Marker {
    /// The read marker, sealed by the office to itself: 1 to 256 bytes, canonical base64url
    /// (no length of 1 modulo 4, no trailing bits set: issue 19, as the relay decodes it).
    #[schema(
        pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        min_length = 2,
        max_length = 342
    )]
    sealed: String,
}
