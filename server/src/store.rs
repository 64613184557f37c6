//! The storage trait: what the relay keeps, free of any backend's types. sled is the embedded
//! default ([`sled::SledStore`]); PostgreSQL ([`postgres::PostgresStore`]) serves several relay
//! instances on one database. One conformance suite runs against both.
//!
//! Every method is blocking, and callers run them on a blocking thread, except the calls every
//! signed request makes ([`Store::lookup`], [`Store::remember`], [`Store::page`]) and the
//! append ([`Store::append_later`]): they answer with a future, so that a backend may batch
//! the concurrent requests' calls (PostgreSQL does) without a thread per caller. Every write is atomic (a
//! mailbox is whole or wholly gone, and its expiry index entry moves with it) but only durable
//! after [`Store::flush`], which the group-commit flusher calls (`crate::durability`). A backend
//! may also hold a write back from plain reads until then (sled does, to apply a whole group
//! at once); the relay answers a write only after the flush, so a client never misses its own.

pub mod copy;
mod error;
mod limits;
pub mod postgres;
mod records;
mod reports;
pub mod sled;

#[cfg(test)]
mod conformance;

use candor_protocol::api::{InboxEntry, StoredTally};
use candor_protocol::{Envelope, HandoffId, MailboxId, OfficeId, Signer, TallyId};

pub use error::StoreError;
pub use limits::{Expiry, Quotas};
pub use records::{
    ChannelRecord, MailboxRecord, NewChannel, NewMailbox, NewPackage, NewTally, OfficeRecord,
    PackageRecord, RawEnvelope, TokenKind, UsedToken,
};
pub use reports::{CheckReport, Compacted, Swept};

/// The answer of a store call that may come later ([`Store::lookup`], [`Store::remember`],
/// [`Store::page`], [`Store::append_later`]).
pub type Later<T> = std::pin::Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send>>;

/// A mailbox with its office's record (`None` if the office is gone), as a signed request's
/// check reads them.
pub type Found = Option<(MailboxRecord, Option<OfficeRecord>)>;

/// A signed request's entry in a replay cache that several relay instances share
/// ([`Store::remember_request`]).
#[derive(Clone, Copy, Debug)]
pub struct Remembered {
    /// A digest of the signing key, the request ID and the timestamp: it names no mailbox.
    pub id: [u8; 32],
    /// When it may be forgotten (Unix seconds, coarse).
    pub expires: u64,
}

/// A fetch's page for a request that named its key (`Candor-Key`, [`Store::page_for_key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyedPage {
    /// No such mailbox, or the key named is not the one registered for it, for this signer:
    /// nothing was remembered or read.
    NotFound,
    /// The request's entry was already remembered: a replay.
    Replayed,
    /// The envelopes after the cursor, and whether the case is closed, read before them.
    Page {
        envelopes: Vec<RawEnvelope>,
        closed: bool,
    },
}

/// The relay's storage.
pub trait Store: Send + Sync + 'static {
    /// An office by ID.
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError>;
    /// Registers a new office and marks its invite used, atomically.
    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError>;
    /// Replaces an office's card if the new serial is larger than the stored one.
    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError>;
    /// Creates a mailbox with its first envelope (sequence number 1) and marks its proof of
    /// work used, atomically: a case is never empty.
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
    /// Closes a case: appends `last`, if given, marks the mailbox closed, so that nothing more
    /// may be appended ([`StoreError::Closed`]), and sets its expiry to `expiry` (the grace
    /// period's), atomically. Moves the mailbox in its office's inbox as an append does.
    /// Returns the last envelope's sequence number.
    fn close_mailbox(
        &self,
        id: &MailboxId,
        last: Option<&Envelope>,
        expiry: u64,
        quotas: &Quotas,
    ) -> Result<Option<u64>, StoreError> {
        self.close_recording(id, last, None, expiry, quotas)
    }
    /// As [`Store::close_mailbox`], storing `tally`, if given, under the mailbox's office in
    /// the same atomic write: the tally is there if and only if the case closed. A tally is
    /// kept apart from every case: deleting a mailbox and the sweep never touch it.
    fn close_recording(
        &self,
        id: &MailboxId,
        last: Option<&Envelope>,
        tally: Option<&NewTally>,
        expiry: u64,
        quotas: &Quotas,
    ) -> Result<Option<u64>, StoreError>;
    /// Up to `limit` of an office's tallies with an ID above `after` (all, if `None`), in ID
    /// order.
    fn tallies(
        &self,
        office: &OfficeId,
        after: Option<&TallyId>,
        limit: usize,
    ) -> Result<Vec<StoredTally>, StoreError>;
    /// Deletes up to `batch` tallies, of any office, kept until a year before `year`: the
    /// statistics retention. Returns how many it deleted.
    fn expire_tallies(&self, year: u16, batch: usize) -> Result<usize, StoreError>;
    /// Sets the office's sealed read marker of a mailbox. Neither the inbox order nor the
    /// expiry moves.
    fn set_marker(&self, id: &MailboxId, marker: &[u8]) -> Result<(), StoreError>;
    /// Up to `limit` envelopes with a sequence number above `after`, in order.
    fn envelopes(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        self.envelopes_within(id, after, limit, usize::MAX)
    }
    /// As [`Store::envelopes`], stopping before the envelope that would take the JSON read past
    /// `max_bytes`; the first envelope is always returned, so that a reader always moves on. A
    /// page is then bounded by bytes as well as by count, whatever the mailbox holds.
    fn envelopes_within(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError>;
    /// Deletes a mailbox, with its envelopes, handoff packages and notes, from every tree.
    /// Returns whether it existed. It never touches a channel.
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
    /// Stores a note of an existing mailbox, opaque to the store. `NotFound` if the mailbox
    /// does not exist, `Quota` if it holds `quotas.notes_per_mailbox` notes. Neither the
    /// mailbox's expiry nor its inbox place moves; a closed case takes notes too. Returns the
    /// note's number (from 1, per mailbox, increasing). Notes go with their mailbox.
    fn put_note(
        &self,
        mailbox: &MailboxId,
        note: &[u8],
        quotas: &Quotas,
    ) -> Result<u64, StoreError>;
    /// Up to `limit` notes of a mailbox with a number above `after`, in order: (number, note).
    fn notes(
        &self,
        mailbox: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Opens a channel of an existing office. `NotFound` if the office does not exist,
    /// `Conflict` if the ID is taken (by a channel; a channel ID lives in its own space),
    /// `Quota` if the office holds `quotas.channels_per_office` channels. Returns its board
    /// cursor: relay-wide, never handed out twice, and committed in cursor order, so that a
    /// reader polling the board from its last cursor misses no channel.
    fn open_channel(&self, channel: &NewChannel, quotas: &Quotas) -> Result<u64, StoreError>;
    /// A channel by ID.
    fn channel(&self, id: &MailboxId) -> Result<Option<ChannelRecord>, StoreError>;
    /// Changes a channel's body atomically, as [`Store::update_package`] does (`update` gets
    /// the record as it stands, returns the new body or an error that leaves it unchanged;
    /// it runs under a lock and must not block). Expiry, cursor and notice do not change.
    /// Returns the record as stored, or `NotFound`.
    fn update_channel(
        &self,
        id: &MailboxId,
        update: &mut dyn FnMut(&ChannelRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<ChannelRecord, StoreError>;
    /// Up to `limit` (cursor, notice) pairs of the channels with a cursor above `after`, in
    /// cursor order: the notice board.
    fn notices(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Deletes a channel. Returns whether it existed.
    fn delete_channel(&self, id: &MailboxId) -> Result<bool, StoreError>;
    /// Deletes up to `batch` mailboxes, packages, channels and used tokens that expired at or
    /// before `now`.
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
    /// Whether every write is durable when it returns (it committed synchronously), so that
    /// a flush has nothing left to do and the relay answers without waiting for the flusher.
    fn durable_on_return(&self) -> bool {
        false
    }
    /// Bytes the store takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// Verifies every invariant of the stored data.
    fn check(&self) -> Result<CheckReport, StoreError>;
    /// Remembers a signed request accepted by any instance, under `id` (a digest that names
    /// no mailbox), until `expires` (Unix seconds, coarse); `false` if it was already
    /// remembered, so the request is a replay. A store that serves one relay process keeps
    /// nothing (the relay's in-memory cache covers it) and always says `true`.
    fn remember_request(&self, _id: &[u8; 32], _expires: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// A mailbox by ID with its office's record (`None` if the office is gone), as a signed
    /// request's check reads them: one round trip where the backend can join them.
    fn mailbox_with_office(&self, id: &MailboxId) -> Result<Found, StoreError> {
        let Some(mailbox) = self.mailbox(id)? else {
            return Ok(None);
        };
        let office = self.office(&mailbox.office)?;
        Ok(Some((mailbox, office)))
    }
    /// As [`Store::mailbox_with_office`], as a future. A backend that batches the concurrent
    /// requests' lookups (PostgreSQL) answers once the batch has run; the default answers at
    /// once, on the caller's thread, so a store that does not [`Store::runs_inline`] must
    /// override it.
    fn lookup(&self, id: MailboxId) -> Later<Found> {
        Box::pin(std::future::ready(self.mailbox_with_office(&id)))
    }
    /// Remembers `entry`, if given, as [`Store::remember_request`] does, and then appends as
    /// [`Store::append`] does, as a future (see [`Store::lookup`]): [`StoreError::Replayed`],
    /// and nothing appended, if the entry was already remembered. PostgreSQL commits the
    /// appends that arrive together, with their entries, in one transaction.
    fn append_later(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        envelope: Envelope,
        expiry: Expiry,
        quotas: Quotas,
    ) -> Later<u64> {
        let append = || {
            if let Some(entry) = entry
                && !self.remember_request(&entry.id, entry.expires)?
            {
                return Err(StoreError::Replayed);
            }
            self.append(&id, &envelope, &expiry, &quotas)
        };
        Box::pin(std::future::ready(append()))
    }
    /// As [`Store::remember_request`], as a future (see [`Store::lookup`]).
    fn remember(&self, entry: Remembered) -> Later<bool> {
        Box::pin(std::future::ready(
            self.remember_request(&entry.id, entry.expires),
        ))
    }
    /// Remembers `entry`, if given, as [`Store::remember_request`] does, and then reads a page
    /// as [`Store::envelopes_within`] does: `None`, and no page read, if the entry was already
    /// remembered (the request is a replay). As a future (see [`Store::lookup`]).
    fn page(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Later<Option<Vec<RawEnvelope>>> {
        let page = || {
            if let Some(entry) = entry
                && !self.remember_request(&entry.id, entry.expires)?
            {
                return Ok(None);
            }
            self.envelopes_within(&id, after, limit, max_bytes)
                .map(Some)
        };
        Box::pin(std::future::ready(page()))
    }
    /// As [`Store::page`], for a request whose signature was checked under the key it named,
    /// `key`, before anything was read: the page is read only if `key` is the one registered
    /// for the mailbox for `signer` (the case's key, or its office's), and `entry` is
    /// remembered only then. PostgreSQL does it all in one batched statement; the default
    /// reads the mailbox, then remembers, then reads the page, as the unnamed key's path does.
    #[allow(clippy::too_many_arguments)]
    fn page_for_key(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        signer: Signer,
        key: [u8; 32],
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Later<KeyedPage> {
        let page = || {
            let Some((mailbox, office)) = self.mailbox_with_office(&id)? else {
                return Ok(KeyedPage::NotFound);
            };
            let registered = match signer {
                Signer::Case => Some(mailbox.signing_key),
                Signer::Office => office.map(|o| o.signing_key),
                Signer::ThirdParty => None,
            };
            if registered != Some(key) {
                return Ok(KeyedPage::NotFound);
            }
            if let Some(entry) = entry
                && !self.remember_request(&entry.id, entry.expires)?
            {
                return Ok(KeyedPage::Replayed);
            }
            let envelopes = self.envelopes_within(&id, after, limit, max_bytes)?;
            Ok(KeyedPage::Page {
                envelopes,
                closed: mailbox.closed,
            })
        };
        Box::pin(std::future::ready(page()))
    }
    /// Whether the store could be reached when last tried, without trying now: `GET
    /// /v1/health` answers from it, so it must cost no more than reading a flag. A store in
    /// the relay's own process is always reachable.
    fn reachable(&self) -> bool {
        true
    }
    /// Whether a call may run on an HTTP worker's thread, inside the async runtime. A backend
    /// whose driver blocks on a runtime of its own (the PostgreSQL client) says no, and the
    /// relay then runs even its short reads on a thread of their own.
    fn runs_inline(&self) -> bool {
        true
    }
}
