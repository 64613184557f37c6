//! Schemas of the ombuds' notes on a case (`routes::notes`): what the office stores and reads
//! back, sealed to itself. The relay sees only their number, size and time.

use serde::Serialize;
use utoipa::ToSchema;

/// `POST /v1/mailboxes/{mailbox}/notes`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutNote {
    /// Format version: 1.
    #[schema(minimum = 1, maximum = 1)]
    v: u64,
    /// The note, sealed by the office to itself (docs/protocol.md, "Notes"): at least one byte
    /// and at most the relay's `max_envelope_bytes` (by default 256 KiB), canonical base64url.
    #[schema(
        pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        min_length = 2,
        max_length = 349526
    )]
    sealed: String,
}

/// A stored note's number.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NoteStored {
    /// From 1, per case, increasing.
    note: u64,
}

/// One stored note.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StoredNote {
    /// Its number.
    note: u64,
    /// The sealed note, base64url.
    #[schema(
        pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"
    )]
    sealed: String,
}

/// A page of notes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NotePage {
    /// The notes after the cursor, in order.
    notes: Vec<StoredNote>,
    /// The cursor for the next page.
    next: u64,
}
