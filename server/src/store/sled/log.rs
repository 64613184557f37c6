//! The store's log: envelope bodies and the record of every committed write, in append-only
//! segment files next to sled.
//!
//! **Why.** sled keeps values inside its B-tree leaves and rewrites a whole leaf (up to 16
//! entries) into its log every few updates; with 4 KiB envelopes that is tens of KiB written and
//! copied per append, and sled's own `flush` plus its batch lock stalled every reader. So
//! envelope bodies live here, and sled holds only a 20-byte [`Pointer`] to each; and the
//! durability of a group of writes is one `fdatasync` of this log, not a flush of sled.
//!
//! **Records.** A segment is a sequence of records, `len u32 ‖ crc32 u32 ‖ payload` (little-
//! endian; the CRC covers the payload), the payload's first byte its kind:
//! - [`record::KIND_ENVELOPE`]: `mailbox (16) ‖ seq u64 ‖ envelope JSON`;
//! - [`record::KIND_COMMIT`]: `lsn u64 ‖ count u32 ‖ count × (tag u8 ‖ key len u32 ‖ key ‖
//!   [value len u32 ‖ value])`, tag 1 an insert and 0 a removal: one group commit's sled
//!   changes, in the order they are applied, under a log sequence number (LSN) one more than
//!   the last.
//!
//! **Order.** A write first appends its envelope record (if any), then queues its sled changes.
//! The committer (`SledStore::commit_group`) appends a commit record holding every queued change,
//! `fdatasync`s every segment written since the last sync, and only then applies the changes to
//! sled. So a pointer reaches sled only after the record it points to is on disk, and a write is
//! acknowledged only after its commit record is.
//!
//! **Segments.** The head segment is sealed, and a new one started, when it is full or an hour
//! old. The sealed segment is synced before the next one is created, so a later segment proves
//! that every record of the earlier ones was on disk: a bad record can be a write that never
//! reached the disk only in the newest segment.
//!
//! **Checkpoints and recovery** (`recovery.rs`, `checkpoint.rs`). sled is written without
//! syncing. Now and then (and after a compaction) the committer stores a [`Checkpoint`] under
//! the key [`CHECKPOINT_KEY`], the last applied LSN and how far the log was synced then, and
//! flushes sled; commit records up to that LSN are then no longer needed. When the store opens,
//! every commit record after the checkpoint is applied again, in order (they hold whole values,
//! so applying one twice is harmless). The newest segment may end in writes that never reached
//! the disk whole: a torn record, a hole, a flipped bit. The log ends at its first bad record
//! there, which is cut off with a warning; nothing after it was acknowledged, because an
//! acknowledgement needs everything before its commit record synced. A bad record anywhere else
//! (in an older segment, or before the position the checkpoint says was synced) is damage to
//! what was once on disk: the store refuses to open and names the file and offset.
//!
//! **Forgetting** (`segments.rs`). A deleted envelope's record stays in its segment until the
//! segment goes. A segment is removed once no pointer refers to it and the checkpoint covers
//! its commit records. Compaction (`SledStore::compact`) copies the live records out of a
//! sealed segment once half of it is dead, or once it has been sealed for [`SHRED_AFTER_SECS`]
//! with any dead record, and the head segment is sealed once it is [`ROTATE_AFTER_SECS`] old;
//! so a deleted envelope's ciphertext leaves the disk within about a day.

mod checkpoint;
mod disk;
mod record;
mod recovery;
mod segments;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use candor_protocol::MailboxId;

use crate::store::StoreError;
pub(super) use checkpoint::{Checkpoint, Position};
pub(crate) use disk::{Disk, DiskFile, OsDisk};
pub(super) use record::{Change, Pointer, Record, records};
use record::{commit_record, envelope_record};
pub(super) use recovery::Mode;

/// The log's directory inside sled's.
pub(super) const LOG_DIR: &str = "candor-log";
/// The sled key (under its own prefix) holding the [`Checkpoint`].
pub(super) const CHECKPOINT_KEY: [u8; 1] = [super::codec::prefix::LOG];
/// The head segment's size at which a new one starts.
pub(super) const SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// A head segment this old (in seconds) is sealed at the next compaction.
pub(super) const ROTATE_AFTER_SECS: u64 = 3600;
/// A sealed segment with any dead record is compacted once sealed this long (seconds).
pub(super) const SHRED_AFTER_SECS: u64 = 24 * 3600;

/// What is known of one segment.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Segment {
    /// Bytes written.
    pub size: u64,
    /// Bytes of envelope records that sled points to.
    pub live: u64,
    /// Bytes of envelope records written.
    pub envelopes: u64,
    /// Envelope records written whose pointer has not reached sled yet: the segment must stay
    /// even if sled points nowhere into it.
    pub unapplied: u64,
    /// The largest LSN of a commit record in it (0: none).
    pub max_lsn: u64,
    /// Unix seconds when it was sealed (`None`: the head).
    pub sealed_at: Option<u64>,
}

struct Head {
    number: u64,
    file: Arc<dyn DiskFile>,
    size: u64,
    /// Unix seconds when it was started.
    started: u64,
}

struct Inner {
    head: Head,
    /// Segments written since the last sync.
    unsynced: BTreeMap<u64, Arc<dyn DiskFile>>,
    /// A segment was created since the last sync: the directory needs syncing too.
    dir_dirty: bool,
    /// How far the last sync that returned covered the log.
    synced: Position,
    /// A write or sync failed: what is on disk is unknown, so nothing more is acknowledged.
    failed: bool,
}

/// The open log.
pub(super) struct Log {
    disk: Arc<dyn Disk>,
    dir: PathBuf,
    /// The head's size at which a new one starts ([`SEGMENT_BYTES`] but in tests).
    segment_bytes: u64,
    inner: Mutex<Inner>,
    /// Every segment, for reading.
    files: RwLock<BTreeMap<u64, Arc<dyn DiskFile>>>,
    segments: Mutex<BTreeMap<u64, Segment>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded value is changed in whole steps that cannot panic halfway.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("the store's log: {what}: {e}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:016x}.seg"))
}

/// The segment numbers in `dir`, in order.
fn list(disk: &dyn Disk, dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut numbers: Vec<u64> = disk
        .list(dir)
        .map_err(|e| io("listing its directory", e))?
        .iter()
        .filter_map(|name| name.strip_suffix(".seg"))
        .filter_map(|n| u64::from_str_radix(n, 16).ok())
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

fn sync_dir(disk: &dyn Disk, dir: &Path) -> Result<(), StoreError> {
    disk.sync_dir(dir)
        .map_err(|e| io("syncing its directory", e))
}

fn create(disk: &dyn Disk, dir: &Path, number: u64) -> Result<Arc<dyn DiskFile>, StoreError> {
    disk.create_new(&segment_path(dir, number))
        .map_err(|e| io("creating a segment", e))
}

impl Log {
    /// Appends `record` to the head, starting a new head first if it is full, and counts it in
    /// the segment's state with `count` before any other thread can see the segment again: a
    /// compaction must never find an envelope's segment holding it but not yet counting it
    /// (it would remove the segment as dead while the envelope's pointer is on its way).
    fn append(
        &self,
        record: &[u8],
        count: impl FnOnce(&mut Segment),
    ) -> Result<(u64, u64), StoreError> {
        let mut inner = lock(&self.inner);
        if inner.failed {
            return Err(StoreError::Backend(
                "the store's log: an earlier write failed; restart the relay".into(),
            ));
        }
        if inner.head.size > 0 && inner.head.size + record.len() as u64 > self.segment_bytes {
            self.rotate(&mut inner)?;
        }
        let offset = inner.head.size;
        if let Err(e) = inner.head.file.write_all_at(record, offset) {
            // A write that failed (most often for want of space, which is transient) may have
            // left part of the record past the head's end. Cut it off, and the log is as if the
            // write never happened: the next record goes where this one would have, and
            // nothing half-written is left to be taken for damage once the segment is sealed.
            // Only if that fails too is the log's state unknown.
            if inner.head.file.set_len(offset).is_err() {
                inner.failed = true;
            }
            return Err(io("writing", e));
        }
        inner.head.size += record.len() as u64;
        let (number, file) = (inner.head.number, inner.head.file.clone());
        inner.unsynced.insert(number, file);
        if let Some(seg) = lock(&self.segments).get_mut(&number) {
            seg.size = inner.head.size;
            count(seg);
        }
        Ok((number, offset))
    }

    /// Seals the head and starts the next segment. The sealed head, and its name, are synced
    /// first: a later segment then proves that every earlier one is on disk whole (module
    /// docs).
    fn rotate(&self, inner: &mut Inner) -> Result<(), StoreError> {
        if let Err(e) = inner.head.file.sync_data() {
            inner.failed = true;
            return Err(io("syncing a full segment", e));
        }
        // The sealed head's own name, always: a sync under way may have taken the flag that
        // says it is new without having synced the directory yet.
        sync_dir(self.disk.as_ref(), &self.dir).inspect_err(|_| inner.failed = true)?;
        inner.synced = Position {
            segment: inner.head.number,
            offset: inner.head.size,
        };
        let number = inner.head.number + 1;
        // A segment that could not be created holds nothing: the head stays the head (synced),
        // and the next append tries again.
        let file = create(self.disk.as_ref(), &self.dir, number)?;
        let now = unix_now();
        {
            let mut segments = lock(&self.segments);
            if let Some(old) = segments.get_mut(&inner.head.number) {
                old.sealed_at = Some(now);
            }
            segments.insert(number, Segment::default());
        }
        self.files
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number, file.clone());
        inner.head = Head {
            number,
            file,
            size: 0,
            started: now,
        };
        inner.dir_dirty = true;
        Ok(())
    }

    /// Writes an envelope's record; durable at the next [`Log::sync`].
    pub(super) fn append_envelope(
        &self,
        mailbox: &MailboxId,
        seq: u64,
        json: &[u8],
    ) -> Result<Pointer, StoreError> {
        let record = envelope_record(mailbox, seq, json);
        let len = record.len() as u32;
        let (segment, offset) = self.append(&record, |seg| {
            seg.envelopes += u64::from(len);
            seg.unapplied += 1;
        })?;
        Ok(Pointer {
            segment,
            offset,
            len,
        })
    }

    /// Writes a commit record; durable at the next [`Log::sync`].
    pub(super) fn append_commit<'a>(
        &self,
        lsn: u64,
        changes: impl ExactSizeIterator<Item = &'a Change>,
    ) -> Result<(), StoreError> {
        self.append(&commit_record(lsn, changes), |seg| {
            seg.max_lsn = seg.max_lsn.max(lsn);
        })?;
        Ok(())
    }

    /// Makes every record written before this call durable. Called by one thread at a time
    /// (the committer, under its lock), so that no caller returns before an earlier caller's
    /// sync is done.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let (files, dir_dirty, upto) = {
            let mut inner = lock(&self.inner);
            if inner.failed {
                return Err(StoreError::Backend(
                    "the store's log: an earlier write failed; restart the relay".into(),
                ));
            }
            let dirty = std::mem::take(&mut inner.dir_dirty);
            let upto = Position {
                segment: inner.head.number,
                offset: inner.head.size,
            };
            (std::mem::take(&mut inner.unsynced), dirty, upto)
        };
        let mut result = Ok(());
        for file in files.values() {
            if let Err(e) = file.sync_data() {
                result = Err(io("syncing", e));
                break;
            }
        }
        if result.is_ok() && dir_dirty {
            result = sync_dir(self.disk.as_ref(), &self.dir);
        }
        let mut inner = lock(&self.inner);
        if result.is_err() {
            // After a failed fsync the file's state is unknown (Linux may drop the dirty
            // pages): stop acknowledging rather than build on a hole.
            inner.failed = true;
        } else {
            inner.synced = inner.synced.max(upto);
        }
        result
    }

    /// How far the last sync that returned covered the log.
    pub(super) fn synced(&self) -> Position {
        lock(&self.inner).synced
    }

    /// Reads the record `pointer` refers to and checks that it is the envelope `seq` of
    /// `mailbox`. `Ok(None)`: the segment is gone (compacted since the pointer was read).
    pub(super) fn read_envelope(
        &self,
        pointer: &Pointer,
        mailbox: &MailboxId,
        seq: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&pointer.segment)
            .cloned()
        else {
            return Ok(None);
        };
        let mut buf = vec![0u8; pointer.len as usize];
        file.read_exact_at(&mut buf, pointer.offset)
            .map_err(|e| io("reading an envelope", e))?;
        match records(&buf) {
            (mut recs, None) if recs.len() == 1 => match recs.pop() {
                Some((
                    _,
                    _,
                    Record::Envelope {
                        mailbox: m,
                        seq: s,
                        json,
                    },
                )) if m == *mailbox && s == seq => Ok(Some(json.to_vec())),
                _ => Err(StoreError::Corrupt(
                    "an envelope pointer names another record",
                )),
            },
            _ => Err(StoreError::Corrupt("an envelope record in the log")),
        }
    }
}
