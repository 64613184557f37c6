//! The JSON bodies of the relay's HTTP API (`docs/protocol.md` §11), shared by the relay and
//! its clients so that both sides parse exactly the same shapes. Unknown fields are refused.

pub mod batch;
pub mod channels;
pub mod handoffs;
pub mod notes;
#[cfg(feature = "openapi")]
pub mod schema;

use serde::{Deserialize, Serialize};

use crate::encoding::b64_array;
use crate::pow::Solution;
use crate::{Envelope, MailboxId, OfficeId, SignedCard, TallyId};

/// The open-mailbox request format version. Version 2 carries the case's first envelope and
/// a mailbox ID that certifies the case keys; a version 1 request is refused as unsupported.
pub const OPEN_MAILBOX_VERSION: u8 = 2;

/// The close request format version. Version 2 carries the case's sealed tally; a version 1
/// request is refused as unsupported, so that no close goes unrecorded by an old client.
pub const CLOSE_VERSION: u8 = 2;

/// The most tallies a page of `GET /v1/offices/{office}/tallies` holds.
pub const MAX_TALLY_PAGE: usize = 1000;

/// The largest sealed read marker the relay keeps, in bytes.
pub const MAX_MARKER_BYTES: usize = 256;

/// `GET /v1/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^ok$"))]
    pub status: String,
}

/// `POST /v1/offices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterOffice {
    /// A one-time registration token from `candor-server invite`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[A-Za-z0-9_-]{21}[AQgw]\\.[0-9]{1,20}\\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"
        )
    )]
    pub invite: String,
    /// The office's signed card.
    pub card: SignedCard,
}

/// The answer to registering or updating an office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OfficeSaved {
    /// The office ID.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::OfficeName, inline))]
    pub office: OfficeId,
}

/// `POST /v1/mailboxes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenMailbox {
    /// Format version, [`OPEN_MAILBOX_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// The office the case is with.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::OfficeName, inline))]
    pub office: OfficeId,
    /// The mailbox to open.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// The case's Ed25519 key; it must also sign this request.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub signing_key: [u8; 32],
    /// The case's X25519 HPKE key, which the office needs to open and answer messages.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub kem_key: [u8; 32],
    /// The solved proof of work, with the mailbox ID as context.
    pub pow: Solution,
    /// The case's first message, to the office: the mailbox and it are stored together or not
    /// at all, so that no case is ever empty.
    pub envelope: Envelope,
}

/// `GET /v1/limits`: what the relay accepts, so that a client can check a sealed envelope
/// before it spends a proof of work. They are the operator's, not an office's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The largest envelope, as JSON, in bytes.
    pub max_envelope_bytes: u64,
    /// Envelopes one mailbox may hold.
    pub max_envelopes_per_mailbox: u64,
    /// Bytes of envelopes one mailbox may hold.
    pub max_bytes_per_mailbox: u64,
    /// The proof of work's difficulty, in leading zero bits.
    pub pow_difficulty: u8,
    /// The accepted clock difference for signed requests, in seconds.
    pub request_window_secs: u64,
    /// The format versions the relay accepts, by object.
    pub versions: Versions,
}

/// The format versions of the objects a relay accepts (`GET /v1/limits`). A client compares
/// them with its own before it sends anything that costs the person effort; the relay refuses
/// any other version with `unsupported-version`. The API itself is versioned by its path
/// (`/v1/`): a relay that does not serve `/v1/limits` does not speak this API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Versions {
    /// Office cards (`v` of the card).
    pub office_card: Vec<u8>,
    /// Envelopes (the first byte of the header).
    pub envelope: Vec<u8>,
    /// `POST /v1/mailboxes` bodies.
    pub open_mailbox: Vec<u8>,
    /// `POST /v1/mailboxes/{m}/close` bodies.
    pub close: Vec<u8>,
    /// Proof-of-work challenges and solutions.
    pub pow: Vec<u8>,
}

impl Versions {
    /// The versions this crate speaks: one of each.
    pub fn ours() -> Self {
        Self {
            office_card: vec![crate::card::OFFICE_CARD_VERSION],
            envelope: vec![crate::envelope::ENVELOPE_VERSION],
            open_mailbox: vec![OPEN_MAILBOX_VERSION],
            close: vec![CLOSE_VERSION],
            pow: vec![crate::pow::POW_VERSION],
        }
    }

    /// The first object whose version this crate speaks and the relay does not, with both
    /// sides' versions, or `None` when the two agree on every object.
    pub fn mismatch(&self) -> Option<(&'static str, u8, Vec<u8>)> {
        let ours = Self::ours();
        [
            ("office card", &ours.office_card, &self.office_card),
            ("envelope", &ours.envelope, &self.envelope),
            (
                "open-mailbox request",
                &ours.open_mailbox,
                &self.open_mailbox,
            ),
            ("close request", &ours.close, &self.close),
            ("proof of work", &ours.pow, &self.pow),
        ]
        .into_iter()
        .find_map(|(what, ours, theirs)| {
            let ours = ours[0];
            (!theirs.contains(&ours)).then(|| (what, ours, theirs.clone()))
        })
    }
}

/// `POST /v1/mailboxes/{mailbox}/close`, signed by the office: closes the case, with an
/// optional last message. The visitor can still read it for the card's `close_grace_days`;
/// then it is swept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseMailbox {
    /// Format version, [`CLOSE_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// A last message to the visitor, or `null`.
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub envelope: Option<Envelope>,
    /// The case's tally, sealed under the office's records key ([`crate::tally`]), exactly
    /// [`crate::tally::SEALED_TALLY_LEN`] bytes; or `null` to record none.
    #[serde(with = "crate::encoding::b64_opt")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            nullable,
            pattern = "^[A-Za-z0-9_-]{309}[AQgw]$",
            min_length = 310,
            max_length = 310
        )
    )]
    pub tally: Option<Vec<u8>>,
}

/// One stored tally, as `GET /v1/offices/{office}/tallies` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoredTally {
    /// The tally's random ID, which is also its place in the listing.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub id: TallyId,
    /// The sealed tally.
    #[serde(with = "crate::encoding::b64_vec")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::SealedTally, inline))]
    pub sealed: Vec<u8>,
}

/// A page of an office's tallies, in ID order (random, so no order of closing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TallyPage {
    /// Tallies with an ID above the cursor.
    pub tallies: Vec<StoredTally>,
    /// The cursor for the next page, or `null` when this page is the last.
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            nullable,
            pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
            min_length = 22,
            max_length = 22
        )
    )]
    pub next: Option<TallyId>,
}

/// The answer to closing a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Closed {
    /// The last message's sequence number, if one was sent.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, nullable))]
    pub seq: Option<u64>,
}

/// `PUT /v1/mailboxes/{mailbox}/marker`, signed by the office: the office's read marker for
/// the case, sealed to the office (`crate::marker`). It is kept with the case and destroyed
/// with it; it neither moves the case in the inbox nor redraws its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// The sealed marker, at most [`MAX_MARKER_BYTES`].
    #[serde(with = "crate::encoding::b64_vec")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::SealedMarker, inline))]
    pub sealed: Vec<u8>,
}

/// The answer to opening a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailboxOpened {
    /// The mailbox opened.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
}

/// The answer to appending an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Appended {
    /// The envelope's sequence number in its mailbox, from 1.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub seq: u64,
}

/// One stored envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoredEnvelope {
    /// Sequence number.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub seq: u64,
    /// The envelope.
    pub envelope: Envelope,
}

/// `GET /v1/mailboxes/{mailbox}/envelopes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvelopePage {
    /// Envelopes after the cursor, in order.
    pub envelopes: Vec<StoredEnvelope>,
    /// The cursor for the next page (the last `seq` returned, or the request's `after`).
    pub next: u64,
    /// Whether the office has closed the case (it is swept after its grace period).
    pub closed: bool,
}

/// One mailbox in an office's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboxEntry {
    /// The mailbox.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub mailbox: MailboxId,
    /// The case's HPKE key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub kem_key: [u8; 32],
    /// The case's signing key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub signing_key: [u8; 32],
    /// How many envelopes the mailbox holds.
    pub envelopes: u64,
    /// The highest sequence number so far.
    pub last_seq: u64,
    /// The office-wide activity counter at the mailbox's last write (its opening or an append).
    pub activity: u64,
    /// Whether the office has closed the case.
    pub closed: bool,
    /// The office's sealed read marker, if it has set one.
    #[serde(with = "crate::encoding::b64_opt")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            pattern = "^[A-Za-z0-9_-]*$",
            max_length = 342,
            nullable
        )
    )]
    pub marker: Option<Vec<u8>>,
}

/// `GET /v1/offices/{office}/inbox`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboxPage {
    /// Mailboxes with activity after the cursor, oldest activity first.
    pub mailboxes: Vec<InboxEntry>,
    /// The cursor for the next page.
    pub next: u64,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:candor:problem:<slug>`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^urn:candor:problem:[a-z-]+$"))]
    pub kind: String,
    /// A short, fixed title for the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong and what to do; never echoes input.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_a_relay_that_does_not_speak_our_version_is_named_with_both_versions() {
        assert!(Versions::ours().mismatch().is_none());
        let newer = Versions {
            envelope: vec![3],
            ..Versions::ours()
        };
        assert_eq!(newer.mismatch(), Some(("envelope", 2, vec![3])));
        let both = Versions {
            envelope: vec![2, 3],
            ..Versions::ours()
        };
        assert!(both.mismatch().is_none());
    }
}
