//! The JSON bodies of a handoff's channel and of the notice board (`docs/protocol.md` §11,
//! "Channels and notices").
//!
//! At agreement the office opens one channel for the handoff, under the ID the handoff's seed
//! gives ([`crate::handoff::ChannelKeys`]), with the third party's channel key and the sealed
//! notice. The relay lists every notice on one board that any third party reads whole, so that
//! it cannot tell whose a notice is; the third party finds its own by trial decryption. The
//! channel then carries envelopes between the office (`to-third-party`) and the third party
//! (`from-third-party`), never to or from the case.

use serde::{Deserialize, Serialize};

use crate::OfficeId;
use crate::api::StoredEnvelope;
use crate::encoding::b64_array;
use crate::handoff::Notice;
use crate::message::Day;

/// The channel request format version, the same as the handoff objects'.
pub const CHANNEL_API_VERSION: u8 = crate::handoff::HANDOFF_VERSION;

/// The most notices a page of `GET /v1/notices` holds.
pub const MAX_NOTICE_PAGE: usize = 500;

/// `PUT /v1/channels/{channel}`, signed (`office`) by the office key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenChannel {
    /// Format version, [`CHANNEL_API_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// The office whose key signs; the channel belongs to it, and to no case.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::OfficeName, inline))]
    pub office: OfficeId,
    /// The third party's channel key for this handoff (Ed25519 public key): it signs the
    /// third party's requests on the channel (signer `third-party`).
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub third_party_key: [u8; 32],
    /// The notice, sealed to the third party.
    pub notice: Notice,
    /// The handoff's last day: the relay keeps the channel no later than the end of it.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub expires: Day,
}

/// The answer to opening a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelOpened {
    /// The day the relay deletes the channel, at the latest.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub expires: Day,
}

/// One notice on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostedNotice {
    /// Its place on the board.
    pub cursor: u64,
    /// The sealed notice.
    pub notice: Notice,
}

/// `GET /v1/notices?after=<cursor>&limit=<n>`: the board, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticePage {
    /// Notices after the cursor, in board order.
    pub notices: Vec<PostedNotice>,
    /// The cursor for the next page (the last `cursor` returned, or the request's `after`).
    pub next: u64,
}

/// `GET /v1/channels/{channel}/envelopes?after=<seq>&limit=<n>`, signed by the office or by
/// the third party's channel key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelPage {
    /// Envelopes after the cursor, in order.
    pub envelopes: Vec<StoredEnvelope>,
    /// The cursor for the next page.
    pub next: u64,
}
