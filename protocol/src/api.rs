//! The JSON bodies of the relay's HTTP API (`docs/protocol.md` §11), shared by the relay and
//! its clients so that both sides parse exactly the same shapes. Unknown fields are refused.

use serde::{Deserialize, Serialize};

use crate::encoding::b64_array;
use crate::pow::Solution;
use crate::{Envelope, MailboxId, OfficeId, SignedCard};

/// The open-mailbox request format version.
pub const OPEN_MAILBOX_VERSION: u8 = 1;

/// `GET /v1/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// `POST /v1/offices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterOffice {
    /// A one-time registration token from `candor-server invite`.
    pub invite: String,
    /// The office's signed card.
    pub card: SignedCard,
}

/// The answer to registering or updating an office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSaved {
    /// The office ID.
    pub office: OfficeId,
}

/// `POST /v1/mailboxes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenMailbox {
    /// Format version, [`OPEN_MAILBOX_VERSION`].
    pub v: u64,
    /// The office the case is with.
    pub office: OfficeId,
    /// The mailbox to open.
    pub mailbox: MailboxId,
    /// The case's Ed25519 key; it must also sign this request.
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// The case's X25519 HPKE key, which the office needs to open and answer messages.
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
    /// The solved proof of work, with the mailbox ID as context.
    pub pow: Solution,
}

/// The answer to opening a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxOpened {
    /// The mailbox opened.
    pub mailbox: MailboxId,
}

/// The answer to appending an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appended {
    /// The envelope's sequence number in its mailbox, from 1.
    pub seq: u64,
}

/// One stored envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEnvelope {
    /// Sequence number.
    pub seq: u64,
    /// The envelope.
    pub envelope: Envelope,
}

/// `GET /v1/mailboxes/{mailbox}/envelopes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopePage {
    /// Envelopes after the cursor, in order.
    pub envelopes: Vec<StoredEnvelope>,
    /// The cursor for the next page (the last `seq` returned, or the request's `after`).
    pub next: u64,
}

/// One mailbox in an office's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxEntry {
    /// The mailbox.
    pub mailbox: MailboxId,
    /// The case's HPKE key.
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
    /// The case's signing key.
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// How many envelopes the mailbox holds.
    pub envelopes: u64,
    /// The highest sequence number so far.
    pub last_seq: u64,
    /// The office-wide activity counter at the mailbox's last write (its opening or an append).
    pub activity: u64,
}

/// `GET /v1/offices/{office}/inbox`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxPage {
    /// Mailboxes with activity after the cursor, oldest activity first.
    pub mailboxes: Vec<InboxEntry>,
    /// The cursor for the next page.
    pub next: u64,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:candor:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed title for the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong and what to do; never echoes input.
    pub detail: String,
}
