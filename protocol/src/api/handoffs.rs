//! The JSON bodies of the relay's handoff endpoints (`docs/protocol.md` §11, "Handoffs").

use serde::{Deserialize, Serialize};

use crate::MailboxId;
use crate::encoding::b64_array;
use crate::handoff::{KeyShare, Package};
use crate::message::Day;

/// The handoff request format version, the same as the handoff objects'.
pub const HANDOFF_API_VERSION: u8 = crate::handoff::HANDOFF_VERSION;

/// `PUT /v1/handoffs/{handoff}`, signed by the case key: the visitor's consent, with the
/// sealed package and the visitor's key share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutHandoff {
    /// Format version, [`HANDOFF_API_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// The case the handoff discloses from.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// SHA-256 of the consented proposal's bytes; the relay never sees the proposal.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub proposal_sha256: [u8; 32],
    /// The case key's consent over that hash.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes64, inline))]
    pub consent: [u8; 64],
    /// The proposal's last day: the relay releases nothing after it.
    #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 0))]
    pub expires: Day,
    /// The sealed package.
    pub package: Package,
    /// The visitor's key share, sealed to the third party.
    pub share: KeyShare,
}

/// `POST /v1/handoffs/{handoff}/agreement`, signed by the office key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Format version, [`HANDOFF_API_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// The office key's agreement over the consented proposal's hash.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes64, inline))]
    pub agreement: [u8; 64],
    /// The office's key share, sealed to the third party.
    pub share: KeyShare,
    /// The third party's fetch key for this handoff (`crate::handoff::ChannelKeys::fetch`).
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub fetch_key: [u8; 32],
}

/// `POST /v1/handoffs/{handoff}/fetch`, signed (`third-party`) by the fetch key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    /// Format version, [`HANDOFF_API_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
}

/// The answer to a fetch: everything the third party needs, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Fetched {
    /// The case's mailbox, whose keys the proposal inside must name.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub mailbox: MailboxId,
    /// The sealed package.
    pub package: Package,
    /// The visitor's share.
    pub visitor_share: KeyShare,
    /// The office's share.
    pub office_share: KeyShare,
    /// The visitor's consent.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub consent: [u8; 64],
    /// The office's agreement.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub agreement: [u8; 64],
}

/// Where a handoff stands on the relay. Drafts and declines never reach it; an expired
/// handoff is swept and answers 404.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum HandoffState {
    /// The visitor consented; the package and the visitor's share are stored.
    Consented,
    /// The office agreed, which releases it: both shares are stored.
    Agreed,
    /// The third party fetched it; the relay keeps only this state.
    Fetched,
    /// Either side revoked it; the relay keeps only this state, until the expiry.
    Revoked,
}

/// `GET /v1/handoffs/{handoff}`, signed by the case key or the office key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoffStatus {
    /// The state.
    pub state: HandoffState,
    /// The day of the last change, coarse on purpose.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub day: Day,
    /// The proposal's last day.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub expires: Day,
}
