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
//!
//! Kind 1 in `x` is a mailbox, kind 2 a handoff package. A package is written under its
//! mailbox's office lock, so that it cannot outlive a mailbox being deleted.
//!
//! Envelope bodies are not in sled but in the store's log (`log.rs`), which also makes writes
//! durable.
//!
//! **Group commit.** A write does not touch sled itself. Under our locks it reads what it needs,
//! writes its envelope's record to the log (for an append), and queues its sled changes
//! ([`SledStore::submit`]). The committer ([`SledStore::commit_group`], run by the group-commit
//! flusher) takes everything queued, writes it to the log as one commit record, syncs the log
//! once, and applies the changes to sled with plain inserts. sled is flushed only at
//! checkpoints. Measured on two cores: one sled batch and flush per request capped appends near
//! 3.5k/s, and sled's batch lock stalled every reader while it applied.
//!
//! A queued write is visible to the read-modify-writes that follow it (they read through
//! `Pending::overlay`) but not to plain reads until it is applied, which happens before its
//! writer is acknowledged: a client never sees its acknowledged write missing.
//!
//! **Atomicity.** A crash loses no acknowledged write and leaves no write half done: a group's
//! changes reach sled only after its commit record is synced, and when the store opens every
//! commit record after the last checkpoint is applied again, so a group that was being applied
//! is completed. While a group is being applied, a concurrent reader can see some of its
//! changes before others; the changes of each write are applied in the order the write made
//! them, and writes in the order they queued, so an office's inbox only ever grows at its end.
//!
//! **Isolation.** A write's reads and its queueing run under a lock of ours:
//! - an office's stripe of `office_locks` covers its record, its counters, its inbox entries,
//!   and the records, envelopes and expiry entries of its mailboxes;
//! - `registry` is taken first, for the rare writes that create things or spend a single-use
//!   token (registering an office, opening a mailbox, storing a package, sweeping used
//!   tokens), so that the same mailbox or package ID cannot be created at two offices at once
//!   and a token is spent once.
//!
//! Writes are queued in the order they took their locks, and a group applies them in that
//! order, so an office's activity numbers reach sled in order.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use candor_protocol::api::InboxEntry;
use candor_protocol::{Envelope, HandoffId, MailboxId, OfficeId};
use sled::{IVec, Tree};

use super::{
    CheckReport, Compacted, Expiry, MailboxRecord, NewMailbox, NewPackage, OfficeRecord,
    PackageRecord, Quotas, RawEnvelope, Store, StoreError, Swept, TokenKind, UsedToken,
};
use log::{CHECKPOINT_KEY, Log, Pointer};

mod codec;
mod inspect;
mod log;

/// The kinds of expiry entry, for `check`.
pub(super) use codec::{EXPIRY_MAILBOX, EXPIRY_PACKAGE};
use codec::{
    counters_key, decode_mailbox, decode_office, decode_package, encode_mailbox, encode_office,
    encode_package, envelope_key, envelopes_prefix, expiry_key, handoff_id, inbox_key, mailbox_id,
    mailbox_key, mailbox_package_key, mailbox_packages_prefix, office_key, package_expiry_key,
    package_key, prefix, read_u64, token_code, used_key,
};

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
    /// Taken before an office stripe by writes that create offices or mailboxes or touch used
    /// tokens (see the module docs).
    registry: Mutex<()>,
    /// The writes queued for the next group commit.
    pending: Mutex<Pending>,
    /// Each office's activity numbers, once used since the store opened (see
    /// [`SledStore::activity`]).
    activity: Mutex<HashMap<OfficeId, Activity>>,
    /// Envelope bodies and commit records.
    log: Log,
    /// Held by whoever commits a group, so that groups reach the log and sled in the order
    /// they were queued.
    committing: Mutex<Committed>,
}

/// The committer's state.
struct Committed {
    /// The LSN of the last group committed.
    lsn: u64,
    /// When sled was last flushed (a checkpoint).
    checkpointed: Instant,
}

/// An office's activity numbers.
#[derive(Clone, Copy)]
struct Activity {
    /// The last number handed out.
    last: u64,
    /// The highest number an inbox read has listed: a reader may hold it as its cursor. A
    /// write to a mailbox whose entry is above it leaves the entry where it is, since every
    /// reader will still list it (`docs/protocol.md` §11); a write to any other mailbox moves
    /// its entry to a new number.
    listed: u64,
}

/// Longest time between checkpoints while writes come in.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// What one write changes: each key's new value, `None` to remove it, in order.
#[derive(Default)]
struct Changes(Vec<log::Change>);

impl Changes {
    fn insert(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.0.push((key.into(), Some(value.into())));
    }

    fn remove(&mut self, key: impl Into<IVec>) {
        self.0.push((key.into(), None));
    }
}

/// Writes queued and not yet applied to sled.
#[derive(Default)]
struct Pending {
    /// Every queued key's newest value (`None`: removed) and the number of the write that set
    /// it. Read-modify-writes read here before sled. An entry stays until the group holding
    /// its write is applied.
    overlay: BTreeMap<IVec, (u64, Option<IVec>)>,
    /// The queued changes, in order.
    queue: Vec<log::Change>,
    /// The number of the last queued write.
    last: u64,
    /// Set when applying a group failed: sled no longer holds what the queue assumed, so every
    /// later write is refused until the relay restarts (nothing refused was acknowledged).
    failed: Option<String>,
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
    /// Opens (or creates) the store in `dir`, with `cache_bytes` of page cache, and brings it
    /// up to date from its log. sled's own periodic flush is off: durability is the log's job.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(None)
            .open()
            .map_err(backend)?;
        let tree = db.open_tree(TREE).map_err(backend)?;
        let checkpoint = match tree.get(CHECKPOINT_KEY).map_err(backend)? {
            Some(v) => read_u64(&v).ok_or(StoreError::Corrupt("the log checkpoint"))?,
            None => 0,
        };
        let opened = Log::open(dir, checkpoint)?;
        let store = Self {
            tree,
            office_locks: (0..OFFICE_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            registry: Mutex::new(()),
            pending: Mutex::new(Pending::default()),
            activity: Mutex::new(HashMap::new()),
            log: opened.log,
            committing: Mutex::new(Committed {
                lsn: opened.last_lsn,
                checkpointed: Instant::now(),
            }),
            db,
        };
        // What sled points to now; replaying keeps the count as it changes pointers.
        for value in store.tree.scan_prefix([prefix::ENVELOPE]).values() {
            let value = value.map_err(backend)?;
            store.log.account(None, Pointer::decode(&value));
        }
        let replayed = opened.replay.len();
        for (_, changes) in &opened.replay {
            store.apply(changes, false)?;
        }
        if replayed > 0 || opened.cut > 0 {
            tracing::info!(
                commits = replayed,
                cut_bytes = opened.cut,
                "brought the store up to date from its log"
            );
        }
        store.checkpoint(&mut lock(&store.committing))?;
        Ok(store)
    }

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

    /// Queues one write's changes for the next group commit. The caller holds the locks that
    /// cover every key it changes.
    fn submit(&self, changes: Changes) -> Result<(), StoreError> {
        let mut pending = lock(&self.pending);
        if let Some(failed) = &pending.failed {
            return Err(StoreError::Backend(format!(
                "an earlier write failed ({failed}); restart the relay"
            )));
        }
        pending.last += 1;
        let number = pending.last;
        for (key, value) in changes.0 {
            pending.queue.push((key.clone(), value.clone()));
            pending.overlay.insert(key, (number, value));
        }
        Ok(())
    }

    /// The JSON of envelope `seq` of mailbox `id`, from its pointer `value` under `key`. If
    /// compaction moved the record since the pointer was read, the pointer is read again.
    fn read_envelope(
        &self,
        key: &[u8],
        mut value: IVec,
        id: &MailboxId,
        seq: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        for _ in 0..3 {
            let pointer = Pointer::decode(&value).ok_or(StoreError::Corrupt("envelope pointer"))?;
            if let Some(json) = self.log.read_envelope(&pointer, id, seq)? {
                return Ok(Some(json));
            }
            match self.get(key)? {
                Some(v) => value = v,
                None => return Ok(None),
            }
        }
        Err(StoreError::Corrupt(
            "an envelope pointer names a missing log segment",
        ))
    }

    /// Commits every queued write: one commit record in the log, one sync, then the changes
    /// applied to sled. Every write queued before this call is durable and visible when it
    /// returns.
    fn commit_group(&self) -> Result<(), StoreError> {
        let mut committed = lock(&self.committing);
        let (queue, upto) = {
            let mut pending = lock(&self.pending);
            if let Some(failed) = &pending.failed {
                return Err(StoreError::Backend(failed.clone()));
            }
            (std::mem::take(&mut pending.queue), pending.last)
        };
        if queue.is_empty() {
            return Ok(());
        }
        let lsn = committed.lsn + 1;
        let result = self
            .log
            .append_commit(lsn, queue.iter())
            .and_then(|()| self.log.sync())
            .and_then(|()| self.apply(&queue, true));
        if let Err(e) = &result {
            lock(&self.pending).failed = Some(e.to_string());
        }
        result?;
        committed.lsn = lsn;
        lock(&self.pending)
            .overlay
            .retain(|_, (number, _)| *number > upto);
        if committed.checkpointed.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(&mut committed)?;
        }
        Ok(())
    }

    /// Applies changes to sled, in order, keeping the log's count of live envelope bytes.
    /// `fresh` says whether the pointers inserted were written by this process (not replayed),
    /// so that they stop holding their segment once in sled.
    fn apply(&self, changes: &[log::Change], fresh: bool) -> Result<(), StoreError> {
        for (key, value) in changes {
            let old = match value {
                Some(v) => self.tree.insert(key, v.clone()),
                None => self.tree.remove(key),
            }
            .map_err(backend)?;
            if key.first() == Some(&prefix::ENVELOPE) {
                let new = value.as_deref().and_then(Pointer::decode);
                if fresh && let Some(p) = &new {
                    self.log.applied(p);
                }
                self.log
                    .account(old.as_deref().and_then(Pointer::decode), new);
            }
        }
        Ok(())
    }

    /// Records that sled holds every commit so far, flushes it, and removes the log segments
    /// nothing needs any more (returns how many).
    fn checkpoint(&self, committed: &mut Committed) -> Result<u64, StoreError> {
        self.tree
            .insert(CHECKPOINT_KEY, &committed.lsn.to_be_bytes())
            .map_err(backend)?;
        self.db.flush().map_err(backend)?;
        committed.checkpointed = Instant::now();
        self.log.remove_dead(committed.lsn)
    }

    /// An office's activity numbers. The caller holds the office's lock.
    fn activity(&self, office: &OfficeId) -> Result<Activity, StoreError> {
        if let Some(a) = lock(&self.activity).get(office) {
            return Ok(*a);
        }
        // First use since the store opened: the larger of the counter stored at the last open
        // or deletion and the newest inbox entry (appends do not store the counter).
        let (stored, _) = self.counters(office)?;
        let newest = match self
            .tree
            .range(inbox_key(office, 0)..=inbox_key(office, u64::MAX))
            .keys()
            .next_back()
        {
            Some(key) => {
                let key = key.map_err(backend)?;
                read_u64(&key[key.len() - 8..]).ok_or(StoreError::Corrupt("inbox key"))?
            }
            None => 0,
        };
        // What inbox reads listed before the store opened is not known: take it all as listed.
        let last = stored.max(newest);
        let current = Activity { last, listed: last };
        lock(&self.activity).insert(office.clone(), current);
        Ok(current)
    }

    /// The next activity number of an office; the caller holds the office's lock and queues a
    /// write that uses it.
    fn next_activity(&self, office: &OfficeId) -> Result<u64, StoreError> {
        let mut activity = self.activity(office)?;
        activity.last += 1;
        lock(&self.activity).insert(office.clone(), activity);
        Ok(activity.last)
    }

    /// Records that an inbox read listed an office's entries up to `upto`, then commits every
    /// queued write. A write that left its mailbox's entry in place, because no read had
    /// listed it, queued before this mark (or before an equal or higher mark by a concurrent
    /// read, which may still be committing); committing here, always, means it is applied
    /// before the reader gets its page, so the counts on the page and the envelope fetch that
    /// follows include it.
    fn mark_listed(&self, office: &OfficeId, upto: u64) -> Result<(), StoreError> {
        {
            let _office = self.lock_office(office);
            let mut activity = self.activity(office)?;
            if upto > activity.listed {
                activity.listed = upto;
                lock(&self.activity).insert(office.clone(), activity);
            }
        }
        self.commit_group()
    }

    fn counters(&self, office: &OfficeId) -> Result<(u64, u64), StoreError> {
        match self.latest(&counters_key(office))? {
            Some(v) => decode_counters(&v).ok_or(StoreError::Corrupt("counters")),
            None => Ok((0, 0)),
        }
    }

    /// A mailbox as the queued writes leave it.
    fn latest_mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
        match self.latest(&mailbox_key(id))? {
            Some(raw) => decode_mailbox(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Locks the office of mailbox `id` and reads its record under that lock. The office of a
    /// mailbox never changes, but the mailbox may be deleted (and the ID reopened at another
    /// office) between the unlocked read and the lock, so the record is read again and
    /// compared.
    fn lock_mailbox(
        &self,
        id: &MailboxId,
    ) -> Result<Option<(MailboxRecord, MutexGuard<'_, ()>)>, StoreError> {
        loop {
            let Some(seen) = self.latest_mailbox(id)? else {
                return Ok(None);
            };
            let guard = self.lock_office(&seen.office);
            match self.latest_mailbox(id)? {
                Some(rec) if rec.office == seen.office => return Ok(Some((rec, guard))),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Deletes a mailbox in one batch. With `expired_at`, only if the mailbox's expiry is
    /// still that one (it may have been written to since the sweeper looked).
    fn delete_batch(&self, id: &MailboxId, expired_at: Option<u64>) -> Result<bool, StoreError> {
        let Some((rec, _office)) = self.lock_mailbox(id)? else {
            return Ok(false);
        };
        if expired_at.is_some_and(|at| at != rec.expiry) {
            return Ok(false);
        }
        let mut batch = Changes::default();
        batch.remove(&mailbox_key(id));
        // Every key under the mailbox's envelope prefix, not just 1..=last_seq, so that
        // nothing of it can outlive it.
        for key in self.latest_keys(&envelopes_prefix(id))? {
            batch.remove(key);
        }
        for key in self.latest_keys(&mailbox_packages_prefix(id))? {
            if let Some(package) = handoff_id(&key[17..]) {
                match self.latest_package(&package) {
                    Ok(Some(rec)) => remove_package(&mut batch, &package, &rec),
                    Ok(None) => {}
                    // A damaged record still goes with its mailbox; its expiry entry, which
                    // cannot be read from it, is dropped as stale when it comes due.
                    Err(StoreError::Corrupt(_)) => batch.remove(&package_key(&package)),
                    Err(e) => return Err(e),
                }
            }
            batch.remove(key);
        }
        batch.remove(&expiry_key(rec.expiry, id));
        batch.remove(inbox_key(&rec.office, rec.activity));
        let activity = self.activity(&rec.office)?.last;
        let (_, open) = self.counters(&rec.office)?;
        batch.insert(
            counters_key(&rec.office),
            &encode_counters(activity, open.saturating_sub(1)),
        );
        self.submit(batch)?;
        Ok(true)
    }

    /// A package as the queued writes leave it.
    fn latest_package(&self, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError> {
        match self.latest(&package_key(id))? {
            Some(raw) => decode_package(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Locks the office of package `id`'s mailbox and reads the package under that lock (as
    /// [`SledStore::lock_mailbox`] does for a mailbox).
    fn lock_package(
        &self,
        id: &HandoffId,
    ) -> Result<Option<(PackageRecord, MutexGuard<'_, ()>)>, StoreError> {
        loop {
            let Some(seen) = self.latest_package(id)? else {
                return Ok(None);
            };
            // Deleting a mailbox deletes its packages, so a package's mailbox exists; a
            // package without one (damage, which `check` reports) is treated as missing.
            let Some((_, guard)) = self.lock_mailbox(&seen.mailbox)? else {
                return Ok(None);
            };
            match self.latest_package(id)? {
                Some(rec) if rec.mailbox == seen.mailbox => return Ok(Some((rec, guard))),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Deletes a package. With `expired_at`, only if its expiry is still that one.
    fn delete_package_batch(
        &self,
        id: &HandoffId,
        expired_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let Some((rec, _office)) = self.lock_package(id)? else {
            return Ok(false);
        };
        if expired_at.is_some_and(|at| at != rec.expiry) {
            return Ok(false);
        }
        let mut batch = Changes::default();
        remove_package(&mut batch, id, &rec);
        self.submit(batch)?;
        Ok(true)
    }
}

/// The changes that delete a package from every tree.
fn remove_package(batch: &mut Changes, id: &HandoffId, rec: &PackageRecord) {
    batch.remove(&package_key(id));
    batch.remove(mailbox_package_key(&rec.mailbox, id).as_slice());
    batch.remove(&package_expiry_key(rec.expiry, id));
}

impl Store for SledStore {
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
        match self.get(&office_key(id))? {
            Some(raw) => decode_office(id, &raw).map(Some),
            None => Ok(None),
        }
    }

    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError> {
        let used = used_key(invite);
        let key = office_key(&office.id);
        let _registry = lock(&self.registry);
        let _office = self.lock_office(&office.id);
        if self.latest(&used)?.is_some() {
            return Err(StoreError::InviteUsed);
        }
        if self.latest(&key)?.is_some() {
            return Err(StoreError::Conflict("this office ID is already registered"));
        }
        let mut batch = Changes::default();
        batch.insert(key, encode_office(office));
        batch.insert(&used, &[]);
        self.submit(batch)
    }

    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError> {
        let key = office_key(&office.id);
        let _office = self.lock_office(&office.id);
        let Some(raw) = self.latest(&key)? else {
            return Err(StoreError::NotFound);
        };
        let current = decode_office(&office.id, &raw)?;
        if office.serial <= current.serial {
            return Err(StoreError::Conflict(
                "the card's serial must be larger than the stored card's",
            ));
        }
        let mut batch = Changes::default();
        batch.insert(key, encode_office(office));
        self.submit(batch)
    }

    fn open_mailbox(
        &self,
        mailbox: &NewMailbox,
        pow: &UsedToken,
        quotas: &Quotas,
    ) -> Result<(), StoreError> {
        let used = used_key(pow);
        let _registry = lock(&self.registry);
        let _office = self.lock_office(&mailbox.office);
        if self.latest(&office_key(&mailbox.office))?.is_none() {
            return Err(StoreError::NotFound);
        }
        if self.latest(&mailbox_key(&mailbox.id))?.is_some() {
            return Err(StoreError::Conflict("this mailbox already exists"));
        }
        if self.latest(&used)?.is_some() {
            return Err(StoreError::PowUsed);
        }
        let (_, open) = self.counters(&mailbox.office)?;
        if open >= quotas.mailboxes_per_office {
            return Err(StoreError::Quota(
                "this office has as many open mailboxes as the relay allows",
            ));
        }
        let activity = self.next_activity(&mailbox.office)?;
        let rec = MailboxRecord {
            office: mailbox.office.clone(),
            signing_key: mailbox.signing_key,
            kem_key: mailbox.kem_key,
            last_seq: 0,
            count: 0,
            bytes: 0,
            expiry: mailbox.expiry,
            activity,
        };
        let mut batch = Changes::default();
        batch.insert(&mailbox_key(&mailbox.id), encode_mailbox(&rec));
        batch.insert(&expiry_key(rec.expiry, &mailbox.id), &[]);
        batch.insert(inbox_key(&rec.office, activity), mailbox.id.as_bytes());
        batch.insert(
            counters_key(&rec.office),
            &encode_counters(activity, open + 1),
        );
        batch.insert(&used, &[]);
        self.submit(batch)
    }

    fn mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
        match self.get(&mailbox_key(id))? {
            Some(raw) => decode_mailbox(&raw).map(Some),
            None => Ok(None),
        }
    }

    fn append(
        &self,
        id: &MailboxId,
        envelope: &Envelope,
        expiry: &Expiry,
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        let json = envelope.to_json();
        let len = json.len() as u64;
        let Some((mut rec, _office)) = self.lock_mailbox(id)? else {
            return Err(StoreError::NotFound);
        };
        if rec.count >= quotas.envelopes_per_mailbox {
            return Err(StoreError::Quota(
                "this mailbox holds as many envelopes as the relay allows",
            ));
        }
        if rec.bytes.saturating_add(len) > quotas.bytes_per_mailbox {
            return Err(StoreError::Quota(
                "this mailbox holds as many bytes as the relay allows",
            ));
        }
        // Moved to a new activity number only if a reader may have listed the old one.
        let moves = rec.activity <= self.activity(&rec.office)?.listed;
        let new_expiry = expiry.after_write(rec.expiry);
        let mut batch = Changes::default();
        if rec.expiry != new_expiry {
            batch.remove(&expiry_key(rec.expiry, id));
            batch.insert(&expiry_key(new_expiry, id), &[]);
        }
        if moves {
            batch.remove(inbox_key(&rec.office, rec.activity));
            rec.activity = self.next_activity(&rec.office)?;
        }
        rec.last_seq += 1;
        rec.count += 1;
        rec.bytes += len;
        rec.expiry = new_expiry;
        let pointer = self.log.append_envelope(id, rec.last_seq, &json)?;
        batch.insert(&envelope_key(id, rec.last_seq), &pointer.encode());
        batch.insert(&mailbox_key(id), encode_mailbox(&rec));
        if moves {
            batch.insert(inbox_key(&rec.office, rec.activity), id.as_bytes());
        }
        self.submit(batch)?;
        Ok(rec.last_seq)
    }

    fn envelopes(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let range = envelope_key(id, first)..=envelope_key(id, u64::MAX);
        let mut out = Vec::new();
        for item in self.tree.range(range).take(limit) {
            let (key, value) = item.map_err(backend)?;
            let seq = read_u64(&key[17..]).ok_or(StoreError::Corrupt("envelope key"))?;
            let Some(json) = self.read_envelope(&key, value, id, seq)? else {
                // Deleted since the range read.
                continue;
            };
            out.push(RawEnvelope { seq, json });
        }
        Ok(out)
    }

    fn delete_mailbox(&self, id: &MailboxId) -> Result<bool, StoreError> {
        self.delete_batch(id, None)
    }

    fn inbox(
        &self,
        office: &OfficeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let range = inbox_key(office, first)..=inbox_key(office, u64::MAX);
        let mut out = Vec::new();
        for item in self.tree.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(backend)?;
            let activity =
                read_u64(&key[key.len() - 8..]).ok_or(StoreError::Corrupt("inbox key"))?;
            let id = mailbox_id(&value).ok_or(StoreError::Corrupt("inbox entry"))?;
            // A concurrent write may have moved or deleted the mailbox since the range read;
            // it then reappears later in the inbox, or is gone.
            let Some(rec) = self.mailbox(&id)? else {
                continue;
            };
            out.push(InboxEntry {
                mailbox: id,
                kem_key: rec.kem_key,
                signing_key: rec.signing_key,
                envelopes: rec.count,
                last_seq: rec.last_seq,
                activity,
            });
        }
        if let Some(last) = out.last() {
            self.mark_listed(office, last.activity)?;
            // The counts as of now, with every write that kept its entry in place applied. A
            // mailbox deleted since keeps the counts read above; fetching it finds nothing.
            for entry in &mut out {
                if let Some(rec) = self.mailbox(&entry.mailbox)? {
                    entry.envelopes = rec.count;
                    entry.last_seq = rec.last_seq;
                }
            }
        }
        Ok(out)
    }

    fn put_package(&self, package: &NewPackage, quotas: &Quotas) -> Result<(), StoreError> {
        let (id, rec) = (&package.id, &package.record);
        let _registry = lock(&self.registry);
        let Some((_, _office)) = self.lock_mailbox(&rec.mailbox)? else {
            return Err(StoreError::NotFound);
        };
        if self.latest(&package_key(id))?.is_some() {
            return Err(StoreError::Conflict("this handoff package already exists"));
        }
        let held = self
            .latest_keys(&mailbox_packages_prefix(&rec.mailbox))?
            .len() as u64;
        if held >= quotas.packages_per_mailbox {
            return Err(StoreError::Quota(
                "this mailbox holds as many handoff packages as the relay allows",
            ));
        }
        let mut batch = Changes::default();
        batch.insert(&package_key(id), encode_package(rec));
        batch.insert(mailbox_package_key(&rec.mailbox, id).as_slice(), &[]);
        batch.insert(&package_expiry_key(rec.expiry, id), &[]);
        self.submit(batch)
    }

    fn package(&self, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError> {
        match self.get(&package_key(id))? {
            Some(raw) => decode_package(&raw).map(Some),
            None => Ok(None),
        }
    }

    fn packages(&self, mailbox: &MailboxId) -> Result<Vec<HandoffId>, StoreError> {
        self.tree
            .scan_prefix(mailbox_packages_prefix(mailbox))
            .keys()
            .map(|key| {
                let key = key.map_err(backend)?;
                handoff_id(&key[17..]).ok_or(StoreError::Corrupt("package list key"))
            })
            .collect()
    }

    fn update_package(
        &self,
        id: &HandoffId,
        expiry: &Expiry,
        update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<PackageRecord, StoreError> {
        let Some((current, _office)) = self.lock_package(id)? else {
            return Err(StoreError::NotFound);
        };
        let updated = PackageRecord {
            mailbox: current.mailbox,
            expiry: expiry.after_write(current.expiry),
            body: update(&current)?,
        };
        let mut batch = Changes::default();
        if updated.expiry != current.expiry {
            batch.remove(&package_expiry_key(current.expiry, id));
            batch.insert(&package_expiry_key(updated.expiry, id), &[]);
        }
        batch.insert(&package_key(id), encode_package(&updated));
        self.submit(batch)?;
        Ok(updated)
    }

    fn delete_package(&self, id: &HandoffId) -> Result<bool, StoreError> {
        self.delete_package_batch(id, None)
    }

    fn sweep(&self, now: u64, batch: usize) -> Result<Swept, StoreError> {
        let mut swept = Swept::default();
        // Only what expired is read: the index is ordered by expiry. Entries a queued write
        // already removes are skipped.
        let mut upper = vec![prefix::EXPIRY];
        upper.extend_from_slice(&now.saturating_add(1).to_be_bytes());
        let expired = self.unqueued_range([prefix::EXPIRY].as_slice()..upper.as_slice(), batch)?;
        swept.more = expired.len() == batch;
        for key in expired {
            let (Some(at), Some(&kind), Some(id)) = (
                key.get(1..9).and_then(read_u64),
                key.get(9),
                key.get(10..).and_then(|b| <[u8; 16]>::try_from(b).ok()),
            ) else {
                return Err(StoreError::Corrupt("expiry key"));
            };
            let package = || match self.delete_package_batch(&HandoffId::from_bytes(id), Some(at)) {
                // A damaged package record must not stop every later sweep: it is left for
                // `check` to report, and its entry dropped.
                Err(StoreError::Corrupt(what)) => {
                    tracing::error!(what, "the sweeper skipped a damaged handoff package");
                    Ok(false)
                }
                other => other,
            };
            if kind == EXPIRY_MAILBOX && self.delete_batch(&MailboxId::from_bytes(id), Some(at))? {
                swept.mailboxes += 1;
            } else if kind == EXPIRY_PACKAGE && package()? {
                swept.packages += 1;
            } else {
                // The entry is stale (the mailbox moved on or is gone) or of a kind this
                // version does not sweep; no live entry can have an expiry in the past, so
                // removing it is safe and keeps the sweeper moving.
                let mut stale = Changes::default();
                stale.remove(key);
                self.submit(stale)?;
            }
        }
        for kind in TokenKind::ALL {
            let start = [prefix::USED, token_code(kind)];
            let mut end = start.to_vec();
            end.extend_from_slice(&now.to_be_bytes());
            let _registry = lock(&self.registry);
            let stale = self.unqueued_range(start.as_slice()..end.as_slice(), batch)?;
            swept.more |= stale.len() == batch;
            swept.tokens += stale.len() as u64;
            let mut spent = Changes::default();
            for key in stale {
                spent.remove(key);
            }
            self.submit(spent)?;
        }
        // Committed now, so that the next batch reads past them.
        self.commit_group()?;
        Ok(swept)
    }

    fn compact(&self, now: u64) -> Result<Compacted, StoreError> {
        self.log.rotate_if_old(now)?;
        let head = self.log.head();
        let due: Vec<u64> = self
            .log
            .segments()
            .into_iter()
            .filter(|(number, seg)| {
                let dead = seg.envelopes.saturating_sub(seg.live);
                *number != head
                    && dead > 0
                    && (2 * dead >= seg.envelopes
                        || seg
                            .sealed_at
                            .is_some_and(|at| now.saturating_sub(at) >= log::SHRED_AFTER_SECS))
            })
            .map(|(number, _)| number)
            .collect();
        let mut done = Compacted::default();
        for number in due {
            let Some(bytes) = self.log.read_segment(number)? else {
                continue;
            };
            for (offset, len, record) in log::records(&bytes).0 {
                let log::Record::Envelope { mailbox, seq, json } = record else {
                    continue;
                };
                let here = Pointer {
                    segment: number,
                    offset,
                    len,
                };
                let key = envelope_key(&mailbox, seq);
                let Some((_, _office)) = self.lock_mailbox(&mailbox)? else {
                    continue;
                };
                if self.latest(&key)?.as_deref().and_then(Pointer::decode) != Some(here) {
                    continue;
                }
                let moved = self.log.append_envelope(&mailbox, seq, json)?;
                let mut change = Changes::default();
                change.insert(&key, &moved.encode());
                self.submit(change)?;
                done.envelopes_moved += 1;
            }
        }
        self.commit_group()?;
        done.files_removed = self.checkpoint(&mut lock(&self.committing))?;
        Ok(done)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.commit_group()?;
        self.checkpoint(&mut lock(&self.committing)).map(|_| ())
    }

    fn flush_covering(&self, covered: &mut dyn FnMut()) -> Result<(), StoreError> {
        // Every write queued before `covered` is committed below.
        covered();
        self.commit_group()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk().map_err(backend)? + self.log.size())
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        super::check::run(self)
    }
}

fn encode_counters(activity: u64, open: u64) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..8].copy_from_slice(&activity.to_be_bytes());
    v[8..].copy_from_slice(&open.to_be_bytes());
    v
}

pub(super) fn decode_counters(v: &[u8]) -> Option<(u64, u64)> {
    if v.len() != 16 {
        return None;
    }
    Some((read_u64(&v[..8])?, read_u64(&v[8..])?))
}
