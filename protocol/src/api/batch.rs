//! The JSON bodies of the office's batch requests (`docs/protocol.md` §11, "Batches"):
//! `POST /v1/offices/{office}/envelopes`, the envelopes of many of the office's cases after a
//! cursor each, and `PUT /v1/offices/{office}/markers`, the sealed read markers of many cases.
//! Both are signed by the office key. They let `candor inbox` open every case that moved since
//! it last listed them in a few requests, not two per case.

use serde::{Deserialize, Serialize};

use super::StoredEnvelope;
use crate::MailboxId;

/// The batch request format version.
pub const BATCH_VERSION: u8 = 1;
/// The most cases one batch names.
pub const MAX_BATCH_CASES: usize = 100;

/// One case and the sequence number after which its envelopes are wanted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseCursor {
    /// The case's mailbox.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// Envelopes after this sequence number are wanted (0: all); at most 2^63 - 1.
    #[cfg_attr(feature = "openapi", schema(maximum = 9_223_372_036_854_775_807_u64))]
    pub after: u64,
}

/// `POST /v1/offices/{office}/envelopes`, signed (`office`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchFetch {
    /// [`BATCH_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1))]
    pub v: u8,
    /// 1 to [`MAX_BATCH_CASES`] cases, each once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub cases: Vec<CaseCursor>,
}

/// One case's envelopes in a batch answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CasePage {
    /// The case's mailbox.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// Envelopes after the case's cursor, in order; possibly not all of them.
    pub envelopes: Vec<StoredEnvelope>,
    /// The cursor to ask again with (the last `seq` returned, or the cursor asked with).
    pub next: u64,
    /// Whether the office has closed the case.
    pub closed: bool,
}

/// The answer to a [`BatchFetch`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchPage {
    /// The pages of the cases the relay reached, in the order asked. A case among the first
    /// `done` without a page is not the office's (unknown, deleted, or another office's).
    pub cases: Vec<CasePage>,
    /// How many of the cases asked for, from the first, the relay reached before its page
    /// budget ran out; ask again for the rest.
    pub done: usize,
}

/// One case's sealed read marker (`crate::marker`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseMarker {
    /// The case's mailbox.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// The sealed marker, 1 to [`super::MAX_MARKER_BYTES`] bytes.
    #[serde(with = "crate::encoding::b64_vec")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::SealedMarker, inline))]
    pub sealed: Vec<u8>,
}

/// `PUT /v1/offices/{office}/markers`, signed (`office`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchMarkers {
    /// [`BATCH_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1))]
    pub v: u8,
    /// 1 to [`MAX_BATCH_CASES`] markers, each case once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub markers: Vec<CaseMarker>,
}

/// The answer to a [`BatchMarkers`]: the cases whose marker was set, on disk. A case asked
/// for and not listed is not the office's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkersSet {
    /// The cases whose marker was set.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub set: Vec<MailboxId>,
}
