//! The JSON bodies of the ombuds' notes on a case (`docs/protocol.md` §11, "Notes"):
//! `POST /v1/mailboxes/{mailbox}/notes` and `GET /v1/mailboxes/{mailbox}/notes`, both signed
//! by the office key. A note is sealed by the office to itself (`crate::note`); the relay keeps
//! it beside the case, never among the envelopes, and destroys it with the case.

use serde::{Deserialize, Serialize};

/// The note request format version.
pub const NOTE_VERSION: u8 = 1;

/// `POST /v1/mailboxes/{mailbox}/notes`, signed (`office`) by the office key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutNote {
    /// Format version, [`NOTE_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1))]
    pub v: u64,
    /// The sealed note (`crate::note::seal`), at most the relay's envelope size.
    #[serde(with = "crate::encoding::b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
            min_length = 2,
            max_length = 349526
        )
    )]
    pub sealed: Vec<u8>,
}

/// The answer to a stored note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteStored {
    /// The note's number: from 1, per case, increasing.
    pub note: u64,
}

/// One stored note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoredNote {
    /// Its number.
    pub note: u64,
    /// The sealed note.
    #[serde(with = "crate::encoding::b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"
        )
    )]
    pub sealed: Vec<u8>,
}

/// A page of `GET /v1/mailboxes/{mailbox}/notes?after=&limit=`: the notes numbered above
/// `after`, in order, at most `limit` (1 to 500, default 100).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotePage {
    /// The notes.
    pub notes: Vec<StoredNote>,
    /// The cursor for the next page (the last number returned, or the request's `after`).
    pub next: u64,
}
