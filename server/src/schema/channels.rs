//! Schemas of a handoff's channel and of the notice board (`docs/protocol.md` §11, "Channels
//! and notices"), with the exact pattern and length of every field.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

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

/// A notice of a handoff, sealed to its third party.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Notice {
    /// HPKE encapsulated key, 32 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    enc: String,
    /// HPKE ciphertext of the 112-byte notice (128 bytes).
    #[schema(
        pattern = "^[A-Za-z0-9_-]{170}[AEIMQUYcgkosw048]$",
        min_length = 171,
        max_length = 171
    )]
    ct: String,
}

/// `PUT /v1/channels/{channel}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct OpenChannel {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// The office that opens it.
    #[schema(
        pattern = "^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$",
        min_length = 3,
        max_length = 32
    )]
    office: String,
    /// The third party's channel key, Ed25519, 32 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    third_party_key: String,
    /// The sealed notice.
    notice: Notice,
    /// The handoff's last day (days since 1970-01-01).
    expires: u32,
}

/// The answer to opening a channel.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ChannelOpened {
    /// The day the relay deletes the channel, at the latest.
    expires: u32,
}

/// One notice on the board.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PostedNotice {
    /// Its place on the board.
    cursor: u64,
    /// The sealed notice.
    notice: Notice,
}

/// `GET /v1/notices`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NoticePage {
    /// Notices after the cursor.
    notices: Vec<PostedNotice>,
    /// The cursor for the next page.
    next: u64,
}

/// `GET /v1/channels/{channel}/envelopes`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ChannelPage {
    /// Envelopes after the cursor, in order.
    envelopes: Vec<super::StoredEnvelope>,
    /// The cursor for the next page.
    next: u64,
}
