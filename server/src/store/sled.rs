//! The embedded sled backend: one directory, nothing to install.
//!
//! Everything lives in one tree, `relay`, each kind of entry under a one-byte key prefix
//! (`codec::prefix`; all integers big-endian, so that byte order is numeric order):
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `o` | office ID | [`OfficeRecord`] |
//! | `c` | office ID | activity `u64` as of the last open or deletion, open mailboxes `u64` |
//! | `m` | mailbox (16) | [`MailboxRecord`] |
//! | `e` | mailbox (16) ‖ seq `u64` | where its JSON is in the log (`log::Pointer`) |
//! | `x` | expiry `u64` ‖ kind `u8` ‖ id (16) | empty |
//! | `i` | office ID ‖ `0x00` ‖ activity `u64` | mailbox (16) |
//! | `u` | kind `u8` ‖ expires `u64` ‖ random (16) | empty |
//! | `l` | (nothing) | the log checkpoint's LSN `u64` |
//! | `h` | handoff (16) | [`PackageRecord`] |
//! | `p` | mailbox (16) ‖ handoff (16) | empty |
//! | `t` | office ID ‖ `0x00` ‖ tally (16) | keep-until year `u16` ‖ sealed tally |
//! | `y` | keep-until year `u16` ‖ tally (16) | office ID |
//! | `k` | channel (16) | [`ChannelRecord`] |
//! | `b` | cursor `u64` | channel (16): the notice board |
//! | `q` | office ID ‖ `0x00` ‖ channel (16) | empty: an office's channels |
//! | `a` | (nothing) | the last board cursor handed out `u64` |
//! | `n` | mailbox (16) ‖ number `u64` | the ombuds' note |
//!
//! Tallies (`t`, `y`) belong to no mailbox: deleting a case and the sweep never read them;
//! only the statistics retention (`tallies.rs`) drops them.
//!
//! Channels (`k`, `b`, `q`) belong to an office and to no mailbox: deleting a case and its
//! sweep never read them. The board's counter `a` only grows, so a cursor is never handed
//! out twice, even once its channel is gone (`channels.rs`). Notes (`n`) belong to their
//! mailbox and go with it (`notes.rs`).
//!
//! Kind 1 in `x` is a mailbox, kind 2 a handoff package, kind 3 a handoff channel. A package
//! is written under its mailbox's office lock, so that it cannot outlive a mailbox being
//! deleted; a note likewise; a channel under its own office's lock.
//!
//! Envelope bodies are not in sled but in the store's log (`log.rs`), which also makes writes
//! durable.
//!
//! The backend's files, by concept: `commit.rs` (group commit and checkpoints), `offices.rs`,
//! `mailboxes.rs`, `packages.rs`, `channels.rs`, `notes.rs`, `maintenance.rs` (sweeping and compaction), `log.rs` (the
//! log itself), `codec.rs` (keys and values), `check.rs` with `check_channels.rs` and
//! `inspect.rs` (`candor-server check`).
//!
//! **Isolation.** A write's reads and its queueing run under a lock of ours:
//! - an office's stripe of `office_locks` covers its record, its counters, its inbox entries,
//!   and the records, envelopes and expiry entries of its mailboxes;
//! - `registry` is taken first, for the rare writes that create things or spend a single-use
//!   token (registering an office, opening a mailbox, storing a package, opening a channel,
//!   sweeping used tokens), so that the same mailbox or package ID cannot be created at two offices at once
//!   and a token is spent once.
//!
//! Writes are queued in the order they took their locks, and a group applies them in that
//! order, so an office's activity numbers reach sled in order.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

use candor_protocol::api::{InboxEntry, StoredTally};
use candor_protocol::{Envelope, HandoffId, MailboxId, OfficeId, TallyId};
use sled::{IVec, Tree};

use super::{
    ChannelRecord, CheckReport, Compacted, Expiry, MailboxRecord, NewChannel, NewMailbox,
    NewPackage, NewTally, OfficeRecord, PackageRecord, Quotas, RawEnvelope, Store, StoreError,
    Swept, UsedToken,
};
use commit::{Committed, Pending};
use log::Log;
use offices::Activity;
pub use open::Options;

mod channels;
mod check;
mod check_channels;
mod codec;
mod commit;
mod export;
mod inspect;
mod log;
mod mailboxes;
mod maintenance;
mod notes;
mod offices;
mod open;
mod packages;
#[cfg(test)]
mod powerloss;
mod tallies;

/// The one tree the relay keeps its data in.
pub(super) const TREE: &str = "relay";

/// The sled store.
pub struct SledStore {
    db: sled::Db,
    tree: Tree,
    /// Writes that touch an office's counters, inbox or mailboxes take its stripe, so that
    /// their read-modify-write is isolated and they queue in activity order (an inbox reader
    /// never sees activity numbers out of order).
    office_locks: Vec<Mutex<()>>,
    /// Taken before an office stripe by writes that create offices, mailboxes, packages or
    /// channels (and the board's cursors) or touch used tokens (see the module docs).
    registry: Mutex<()>,
    /// The writes queued for the next group commit.
    pending: Mutex<Pending>,
    /// Each office's activity numbers, once used since the store opened (see
    /// [`SledStore::activity`]).
    activity: Mutex<HashMap<OfficeId, Activity>>,
    /// Bytes of envelopes each office's mailboxes hold, once used since the store opened (see
    /// [`SledStore::office_bytes`]): kept in memory and summed from the mailbox records at
    /// first use, so that an append writes nothing more.
    office_bytes: Mutex<HashMap<OfficeId, u64>>,
    /// Envelope bodies and commit records.
    log: Log,
    /// Opened read-only: what opening the log found that a read-write open would refuse or
    /// cut, reported by `check`.
    log_problems: Vec<String>,
    /// Called each time a flush of sled returned (the power-loss test takes sled's state).
    on_sled_flushed: Option<open::OnFlushed>,
    /// Held by whoever commits a group, so that groups reach the log and sled in the order
    /// they were queued.
    committing: Mutex<Committed>,
}

const OFFICE_LOCK_STRIPES: usize = 64;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // `()`, or state whose every change is made by code that cannot panic halfway.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SledStore {
    fn lock_office(&self, office: &OfficeId) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        office.hash(&mut h);
        let stripe = (h.finish() % OFFICE_LOCK_STRIPES as u64) as usize;
        lock(&self.office_locks[stripe])
    }

    fn get(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        self.tree.get(key).map_err(backend)
    }

    /// A key's value as the writes queued so far leave it: for read-modify-writes, under the
    /// lock that covers the key.
    fn latest(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        if let Some((_, value)) = lock(&self.pending).overlay.get(key) {
            return Ok(value.clone());
        }
        self.get(key)
    }

    /// Every key under `prefix`, in sled or queued, that the queued writes have not removed.
    /// The caller holds the lock that covers the prefix, so no write can queue under it
    /// meanwhile; but the committer may apply queued writes at any time (applying, then
    /// dropping them from the overlay), so the overlay is read first, as [`SledStore::latest`]
    /// does: a queued key is then in the copy, or already in sled when sled is scanned.
    fn latest_keys(&self, prefix: &[u8]) -> Result<Vec<IVec>, StoreError> {
        let queued: Vec<(IVec, bool)> = lock(&self.pending)
            .overlay
            .range::<[u8], _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, (_, value))| (key.clone(), value.is_some()))
            .collect();
        let mut keys = std::collections::BTreeSet::new();
        for key in self.tree.scan_prefix(prefix).keys() {
            keys.insert(key.map_err(backend)?);
        }
        for (key, present) in queued {
            if present {
                keys.insert(key);
            } else {
                keys.remove(&key);
            }
        }
        Ok(keys.into_iter().collect())
    }

    /// Up to `limit` keys of sled in `range` that no queued write removes.
    fn unqueued_range(
        &self,
        range: std::ops::Range<&[u8]>,
        limit: usize,
    ) -> Result<Vec<IVec>, StoreError> {
        let mut keys = Vec::new();
        for key in self.tree.range(range).keys() {
            if keys.len() == limit {
                break;
            }
            let key = key.map_err(backend)?;
            if !matches!(lock(&self.pending).overlay.get(&key), Some((_, None))) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

impl Store for SledStore {
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
        offices::office(self, id)
    }

    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError> {
        offices::register_office(self, office, invite)
    }

    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError> {
        offices::update_office(self, office)
    }

    fn open_mailbox(
        &self,
        mailbox: &NewMailbox,
        pow: &UsedToken,
        quotas: &Quotas,
    ) -> Result<(), StoreError> {
        mailboxes::open_mailbox(self, mailbox, pow, quotas)
    }

    fn mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
        mailboxes::mailbox(self, id)
    }

    fn append(
        &self,
        id: &MailboxId,
        envelope: &Envelope,
        expiry: &Expiry,
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        mailboxes::append(self, id, envelope, expiry, quotas)
    }

    fn close_recording(
        &self,
        id: &MailboxId,
        last: Option<&Envelope>,
        tally: Option<&NewTally>,
        expiry: u64,
        quotas: &Quotas,
    ) -> Result<Option<u64>, StoreError> {
        mailboxes::close_mailbox(self, id, last, tally, expiry, quotas)
    }

    fn tallies(
        &self,
        office: &OfficeId,
        after: Option<&TallyId>,
        limit: usize,
    ) -> Result<Vec<StoredTally>, StoreError> {
        tallies::tallies(self, office, after, limit)
    }

    fn expire_tallies(&self, year: u16, batch: usize) -> Result<usize, StoreError> {
        tallies::expire(self, year, batch)
    }

    fn set_marker(&self, id: &MailboxId, marker: &[u8]) -> Result<(), StoreError> {
        mailboxes::set_marker(self, id, marker)
    }

    fn envelopes_within(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        mailboxes::envelopes(self, id, after, limit, max_bytes)
    }

    fn delete_mailbox(&self, id: &MailboxId) -> Result<bool, StoreError> {
        mailboxes::delete_mailbox(self, id)
    }

    fn inbox(
        &self,
        office: &OfficeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        offices::inbox(self, office, after, limit)
    }

    fn put_package(&self, package: &NewPackage, quotas: &Quotas) -> Result<(), StoreError> {
        packages::put_package(self, package, quotas)
    }

    fn package(&self, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError> {
        packages::package(self, id)
    }

    fn packages(&self, mailbox: &MailboxId) -> Result<Vec<HandoffId>, StoreError> {
        packages::packages(self, mailbox)
    }

    fn update_package(
        &self,
        id: &HandoffId,
        expiry: &Expiry,
        update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<PackageRecord, StoreError> {
        packages::update_package(self, id, expiry, update)
    }

    fn delete_package(&self, id: &HandoffId) -> Result<bool, StoreError> {
        packages::delete_package(self, id)
    }

    fn put_note(
        &self,
        mailbox: &MailboxId,
        note: &[u8],
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        notes::put_note(self, mailbox, note, quotas)
    }

    fn notes(
        &self,
        mailbox: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        notes::notes(self, mailbox, after, limit)
    }

    fn open_channel(&self, channel: &NewChannel, quotas: &Quotas) -> Result<u64, StoreError> {
        channels::open_channel(self, channel, quotas)
    }

    fn channel(&self, id: &MailboxId) -> Result<Option<ChannelRecord>, StoreError> {
        channels::channel(self, id)
    }

    fn update_channel(
        &self,
        id: &MailboxId,
        update: &mut dyn FnMut(&ChannelRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<ChannelRecord, StoreError> {
        channels::update_channel(self, id, update)
    }

    fn notices(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        channels::notices(self, after, limit)
    }

    fn delete_channel(&self, id: &MailboxId) -> Result<bool, StoreError> {
        channels::delete_channel(self, id)
    }

    fn sweep(&self, now: u64, batch: usize) -> Result<Swept, StoreError> {
        maintenance::sweep(self, now, batch)
    }

    fn compact(&self, now: u64) -> Result<Compacted, StoreError> {
        maintenance::compact(self, now)
    }

    fn flush(&self) -> Result<(), StoreError> {
        commit::flush(self)
    }

    fn flush_covering(&self, covered: &mut dyn FnMut()) -> Result<(), StoreError> {
        commit::flush_covering(self, covered)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk().map_err(backend)? + self.log.size())
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        let mut report = check::run(self)?;
        report
            .problems
            .splice(0..0, self.log_problems.iter().cloned());
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    //! The conformance suite (`crate::store::conformance`), run against sled.

    use tempfile::TempDir;

    use super::SledStore;
    use crate::startup::open_store;
    use crate::store::Store;
    use crate::store::conformance::{Harness, store_conformance};

    /// A sled store in a temporary directory.
    struct Sled {
        dir: TempDir,
        store: Option<SledStore>,
    }

    impl Sled {
        /// Opens the store as the relay does, waiting for a closed instance's lock to go
        /// (sled releases it shortly after the store is dropped).
        fn open(dir: &TempDir) -> SledStore {
            open_store(&dir.path().join("store"), 8 * 1024 * 1024).unwrap()
        }
    }

    impl Harness for Sled {
        fn store(&self) -> &dyn Store {
            self.store.as_ref().expect("the store is open")
        }

        fn restart(&mut self) {
            drop(self.store.take());
            self.store = Some(Self::open(&self.dir));
        }
    }

    fn harness() -> Box<dyn Harness> {
        let dir = tempfile::tempdir().unwrap();
        let store = Some(Sled::open(&dir));
        Box::new(Sled { dir, store })
    }

    store_conformance!(harness);
}
