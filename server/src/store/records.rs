//! What the store keeps, as the relay hands it over and gets it back: offices, mailboxes,
//! envelopes, handoff packages, handoff channels, the ombuds' case notes, spent single-use
//! tokens and the offices' sealed tallies.

use candor_protocol::{
    Envelope, HandoffId, MailboxId, OfficeCard, OfficeId, SignedCard, SigningPublicKey, TallyId,
};

/// An office as stored: its signed card and what the relay needs from it without reparsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeRecord {
    /// The office ID.
    pub id: OfficeId,
    /// The card as the office signed it.
    pub card: SignedCard,
    /// The card's identity key, which signs the office's requests.
    pub signing_key: [u8; 32],
    /// The card's serial.
    pub serial: u64,
    /// The card's retention period.
    pub retention_days: u32,
}

impl OfficeRecord {
    /// The record for a card that has been verified (`SignedCard::verify_office`).
    pub fn from_verified(card: SignedCard, parsed: &OfficeCard) -> Self {
        Self {
            id: parsed.id.clone(),
            card,
            signing_key: parsed.signing_key,
            serial: parsed.serial,
            retention_days: parsed.retention_days,
        }
    }

    /// The office's request-signing key.
    pub fn signing_public_key(&self) -> Option<SigningPublicKey> {
        crate::auth::signing_key(&self.signing_key)
    }
}

/// A mailbox as stored: its keys, its counters and its coarse expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxRecord {
    /// The office the case is with.
    pub office: OfficeId,
    /// The case's Ed25519 key.
    pub signing_key: [u8; 32],
    /// The case's X25519 HPKE key.
    pub kem_key: [u8; 32],
    /// The highest sequence number so far (0 when empty).
    pub last_seq: u64,
    /// How many envelopes the mailbox holds.
    pub count: u64,
    /// Bytes of envelope JSON the mailbox holds.
    pub bytes: u64,
    /// Unix seconds, on the hour, after which the sweeper deletes the mailbox.
    pub expiry: u64,
    /// The office's activity counter at the mailbox's last write.
    pub activity: u64,
    /// Whether the office has closed the case: nobody may append, and the expiry is the
    /// grace period's.
    pub closed: bool,
    /// The office's sealed read marker (`candor_protocol::marker`), opaque to the relay.
    pub marker: Option<Vec<u8>>,
}

impl MailboxRecord {
    /// The case's request-signing key.
    pub fn signing_public_key(&self) -> Option<SigningPublicKey> {
        crate::auth::signing_key(&self.signing_key)
    }
}

/// A mailbox to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMailbox {
    /// Its ID.
    pub id: MailboxId,
    /// The office; it must exist.
    pub office: OfficeId,
    /// The case's Ed25519 key.
    pub signing_key: [u8; 32],
    /// The case's X25519 key.
    pub kem_key: [u8; 32],
    /// Its first expiry.
    pub expiry: u64,
    /// Its first envelope (sequence number 1), stored with it or not at all.
    pub first: Envelope,
}

/// A stored envelope as the relay serves it: its sequence number and its canonical wire JSON
/// (`Envelope::to_json`), validated when it was appended, so that a fetch need not parse and
/// re-serialize it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEnvelope {
    /// Sequence number.
    pub seq: u64,
    /// The envelope's JSON.
    pub json: Vec<u8>,
}

/// A handoff package as stored. Its body is opaque to the store: the relay's encoding of the
/// sealed package, its key shares, the signatures and the release state, all of which the
/// handoff endpoints define. The store keeps it with the case it discloses from, so that
/// deleting or sweeping the case deletes it too, and sweeps it on its own expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageRecord {
    /// The case's mailbox.
    pub mailbox: MailboxId,
    /// Unix seconds, on the hour, after which the sweeper deletes the package.
    pub expiry: u64,
    /// The relay's encoding of the package and its state.
    pub body: Vec<u8>,
}

/// A package to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPackage {
    /// Its ID.
    pub id: HandoffId,
    /// The package itself.
    pub record: PackageRecord,
}

/// A handoff's channel as the relay keeps it: tied to its office only, never to a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRecord {
    /// The office that opened it.
    pub office: OfficeId,
    /// Unix seconds, on the hour, after which the sweeper deletes it.
    pub expiry: u64,
    /// Its place on the notice board: a relay-wide number, increasing in creation order (from
    /// 1).
    pub cursor: u64,
    /// The sealed notice, opaque to the store.
    pub notice: Vec<u8>,
    /// The relay's encoding of the channel's keys and envelopes, opaque to the store.
    pub body: Vec<u8>,
}

/// A channel to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChannel {
    /// Its ID, in a space of its own (no mailbox's).
    pub id: MailboxId,
    /// The office; it must exist.
    pub office: OfficeId,
    /// Its expiry.
    pub expiry: u64,
    /// The sealed notice the board lists.
    pub notice: Vec<u8>,
    /// Its first body.
    pub body: Vec<u8>,
}

/// Which kind of single-use token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A proof-of-work challenge.
    Pow,
    /// A registration invite.
    Invite,
}

impl TokenKind {
    /// Every kind, for sweeping.
    pub const ALL: [TokenKind; 2] = [TokenKind::Pow, TokenKind::Invite];
}

/// A single-use token to mark as used, kept until it expires (after which it is refused
/// anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsedToken {
    /// Its kind.
    pub kind: TokenKind,
    /// Its random value.
    pub random: [u8; 16],
    /// Unix seconds after which the token is refused.
    pub expires: u64,
}

/// A tally to store with a closing: the office's anonymous record of the case, sealed under its
/// records key. It holds no time but the calendar year after which the relay may drop it
/// (its statistics retention), and no link to the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTally {
    /// A random ID the relay drew.
    pub id: TallyId,
    /// The last calendar year (UTC) the tally is kept; it is dropped once that year is over.
    pub keep_until: u16,
    /// The sealed tally, as the office sent it.
    pub sealed: Vec<u8>,
}
