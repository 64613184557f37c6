//! The storage trait: what the relay keeps, free of any backend's types. sled is the embedded
//! default ([`sled::SledStore`]); a PostgreSQL backend for several relay instances implements
//! the same trait.
//!
//! Every method is blocking: callers run them on a blocking thread. Every write is atomic (a
//! mailbox is whole or wholly gone, and its expiry index entry moves with it) but only durable
//! after [`Store::flush`], which the group-commit flusher calls (`crate::durability`). A backend
//! may also hold a write back from plain reads until then (sled does, to apply a whole group
//! at once); the relay answers a write only after the flush, so a client never misses its own.

mod check;
pub mod sled;

use candor_protocol::api::InboxEntry;
use candor_protocol::{
    Envelope, HandoffId, MailboxId, OfficeCard, OfficeId, SignedCard, SigningPublicKey,
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

/// Per-office and per-mailbox limits, checked inside the write transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Open mailboxes per office.
    pub mailboxes_per_office: u64,
    /// Envelopes per mailbox.
    pub envelopes_per_mailbox: u64,
    /// Bytes of envelopes per mailbox.
    pub bytes_per_mailbox: u64,
    /// Handoff packages per mailbox.
    pub packages_per_mailbox: u64,
}

/// What one sweep batch removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired mailboxes deleted.
    pub mailboxes: u64,
    /// Expired handoff packages deleted (not counting those deleted with their mailbox).
    pub packages: u64,
    /// Expired used-token entries removed.
    pub tokens: u64,
    /// Whether the batch was full, so more may have expired.
    pub more: bool,
}

/// What one compaction of the store's files did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Live envelopes copied out of files that held deleted ones.
    pub envelopes_moved: u64,
    /// Files removed.
    pub files_removed: u64,
}

/// The result of checking a store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Offices found.
    pub offices: u64,
    /// Mailboxes found.
    pub mailboxes: u64,
    /// Envelopes found.
    pub envelopes: u64,
    /// Handoff packages found.
    pub packages: u64,
    /// Used-token entries found.
    pub used_tokens: u64,
    /// Every invariant that does not hold, one line each (mailboxes by short label only).
    pub problems: Vec<String>,
}

/// What a store operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The mailbox or office does not exist.
    #[error("not found")]
    NotFound,
    /// The office or mailbox already exists, or the card serial did not increase.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The invite was already used.
    #[error("invite already used")]
    InviteUsed,
    /// The proof-of-work challenge was already used.
    #[error("proof of work already used")]
    PowUsed,
    /// A quota is reached.
    #[error("quota exceeded: {0}")]
    Quota(&'static str),
    /// A stored value does not decode.
    #[error("corrupt store: {0}")]
    Corrupt(&'static str),
    /// The backend failed.
    #[error("store failure: {0}")]
    Backend(String),
}

/// The expiry a write gives a mailbox: a fresh draw of retention plus jitter, and the window
/// every such draw falls in (both ends rounded up to the hour, as the draw is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// `now + retention + jitter`, rounded up to the hour.
    pub drawn: u64,
    /// `now + retention`, rounded up to the hour: the earliest a draw can be.
    pub earliest: u64,
    /// `now + retention + the jitter's upper bound`, rounded up to the hour: the latest.
    pub latest: u64,
}

impl Expiry {
    /// The expiry after a write to a mailbox that now expires at `current`. A `current` inside
    /// the window is kept: it is an expiry this write could have drawn, so the mailbox still
    /// lives at least the retention period past this write and at most retention plus jitter,
    /// and the store need not move its expiry index entry on every write. Outside the window
    /// (older, or from a longer retention the office has since shortened) it is redrawn.
    pub fn after_write(&self, current: u64) -> u64 {
        if (self.earliest..=self.latest).contains(&current) {
            current
        } else {
            self.drawn
        }
    }
}

/// The relay's storage.
pub trait Store: Send + Sync + 'static {
    /// An office by ID.
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError>;
    /// Registers a new office and marks its invite used, atomically.
    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError>;
    /// Replaces an office's card if the new serial is larger than the stored one.
    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError>;
    /// Creates a mailbox and marks its proof of work used, atomically.
    fn open_mailbox(
        &self,
        mailbox: &NewMailbox,
        pow: &UsedToken,
        quotas: &Quotas,
    ) -> Result<(), StoreError>;
    /// A mailbox by ID.
    fn mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError>;
    /// Appends an envelope, sets the expiry as `expiry` says ([`Expiry::after_write`]) and
    /// moves the mailbox to the end of its office's inbox. Returns the new sequence number.
    fn append(
        &self,
        id: &MailboxId,
        envelope: &Envelope,
        expiry: &Expiry,
        quotas: &Quotas,
    ) -> Result<u64, StoreError>;
    /// Up to `limit` envelopes with a sequence number above `after`, in order.
    fn envelopes(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError>;
    /// Deletes a mailbox, with its envelopes and handoff packages, from every tree. Returns
    /// whether it existed.
    fn delete_mailbox(&self, id: &MailboxId) -> Result<bool, StoreError>;
    /// Up to `limit` of an office's mailboxes with activity above `after`, oldest first.
    ///
    /// Blocking: it may commit queued writes. A write to a mailbox moves the mailbox to a new
    /// activity number (the office's next) only if an inbox read may have listed its current
    /// one; otherwise the mailbox keeps its number, and the next read lists it anyway. Before a
    /// page that lists any mailbox is returned, every write queued so far is committed, and
    /// the page's counts are read after that; so a reader that polls with the last page's
    /// `next` and then fetches the listed mailboxes' envelopes misses no write.
    fn inbox(
        &self,
        office: &OfficeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError>;
    /// Stores a new handoff package of an existing mailbox. Fails with `NotFound` if the
    /// mailbox does not exist, `Conflict` if the ID is taken, `Quota` if the mailbox holds
    /// `quotas.packages_per_mailbox` packages.
    fn put_package(&self, package: &NewPackage, quotas: &Quotas) -> Result<(), StoreError>;
    /// A handoff package by ID.
    fn package(&self, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError>;
    /// The IDs of a mailbox's handoff packages, in ID order.
    fn packages(&self, mailbox: &MailboxId) -> Result<Vec<HandoffId>, StoreError>;
    /// Changes a package atomically: `update` gets the package as it stands and returns its
    /// new body, or an error that leaves it unchanged (a release refused, say). The package's
    /// expiry then follows `expiry` as a mailbox's does ([`Expiry::after_write`]). Returns the
    /// package as stored, or `NotFound`. `update` runs under a lock: it must not block.
    fn update_package(
        &self,
        id: &HandoffId,
        expiry: &Expiry,
        update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<PackageRecord, StoreError>;
    /// Deletes a package from every tree. Returns whether it existed.
    fn delete_package(&self, id: &HandoffId) -> Result<bool, StoreError>;
    /// Deletes up to `batch` mailboxes, packages and used tokens that expired at or before
    /// `now`.
    fn sweep(&self, now: u64, batch: usize) -> Result<Swept, StoreError>;
    /// Rewrites and removes what the backend keeps of deleted data, so that deleted envelopes
    /// leave the disk on a schedule (`now`: Unix seconds). The sweeper calls it after each
    /// pass.
    fn compact(&self, now: u64) -> Result<Compacted, StoreError>;
    /// Makes every committed write durable (fsync). Blocking.
    fn flush(&self) -> Result<(), StoreError> {
        self.flush_covering(&mut || {})
    }
    /// As [`Store::flush`], calling `covered` once the writes the flush covers are fixed:
    /// every write that returned before `covered` is called is durable, and visible to reads,
    /// when this returns. The
    /// group-commit flusher collects its waiters there, so that a backend that lets queued
    /// writes commit before it flushes also acknowledges them in this flush.
    fn flush_covering(&self, covered: &mut dyn FnMut()) -> Result<(), StoreError>;
    /// Bytes the store takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// Verifies every invariant of the stored data.
    fn check(&self) -> Result<CheckReport, StoreError>;
}
