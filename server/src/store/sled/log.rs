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
//! - [`KIND_ENVELOPE`]: `mailbox (16) ‖ seq u64 ‖ envelope JSON`;
//! - [`KIND_COMMIT`]: `lsn u64 ‖ count u32 ‖ count × (tag u8 ‖ key len u32 ‖ key ‖ [value len
//!   u32 ‖ value])`, tag 1 an insert and 0 a removal: one group commit's sled changes, in the
//!   order they are applied, under a log sequence number (LSN) one more than the last.
//!
//! **Order.** A write first appends its envelope record (if any), then queues its sled changes.
//! The committer (`SledStore::commit_group`) appends a commit record holding every queued change,
//! `fdatasync`s every segment written since the last sync, and only then applies the changes to
//! sled. So a pointer reaches sled only after the record it points to is on disk, and a write is
//! acknowledged only after its commit record is.
//!
//! **Checkpoints and recovery.** sled is written without syncing. Now and then (and after a
//! compaction) the committer stores the last applied LSN under the key [`CHECKPOINT_KEY`] and
//! flushes sled; commit records up to it are then no longer needed. When the store opens,
//! every commit record after the checkpoint is applied again, in order (they hold whole values,
//! so applying one twice is harmless). The log ends at its first torn or corrupt record: nothing
//! after it was acknowledged, because an acknowledgement needs everything before its commit
//! record synced. That tail is cut off (the segment truncated, later segments removed) before
//! new records are written. A valid commit record after a bad one, which a torn tail cannot
//! produce, is refused as corruption.
//!
//! **Forgetting.** A deleted envelope's record stays in its segment until the segment goes.
//! A segment is removed once no pointer refers to it and the checkpoint covers its commit
//! records. Compaction (`SledStore::compact`) copies the live records out of a sealed segment
//! once half of it is dead, or once it has been sealed for [`SHRED_AFTER_SECS`] with any dead
//! record, and the head segment is sealed once it is [`ROTATE_AFTER_SECS`] old; so a deleted
//! envelope's ciphertext leaves the disk within about a day.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use candor_protocol::MailboxId;
use sled::IVec;

use crate::store::StoreError;

/// The log's directory inside sled's.
pub(super) const LOG_DIR: &str = "candor-log";
/// The sled key (under its own prefix) holding the LSN up to which sled holds every commit.
pub(super) const CHECKPOINT_KEY: [u8; 1] = [super::codec::prefix::LOG];
/// The head segment's size at which a new one starts.
pub(super) const SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// A head segment this old (in seconds) is sealed at the next compaction.
pub(super) const ROTATE_AFTER_SECS: u64 = 3600;
/// A sealed segment with any dead record is compacted once sealed this long (seconds).
pub(super) const SHRED_AFTER_SECS: u64 = 24 * 3600;

/// An envelope body.
pub(super) const KIND_ENVELOPE: u8 = 1;
/// A group commit's sled changes.
pub(super) const KIND_COMMIT: u8 = 2;
const TAG_REMOVE: u8 = 0;
const TAG_INSERT: u8 = 1;
/// `len` and `crc`.
const HEADER: usize = 8;
/// Kind, mailbox and seq before an envelope's JSON.
const ENVELOPE_PREFIX: usize = 1 + 16 + 8;

/// Where an envelope's record is: stored in sled as the envelope key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pointer {
    pub segment: u64,
    pub offset: u64,
    /// The whole record's length, header included.
    pub len: u32,
}

impl Pointer {
    pub(super) const LEN: usize = 20;

    pub(super) fn encode(&self) -> [u8; Self::LEN] {
        let mut v = [0u8; Self::LEN];
        v[..8].copy_from_slice(&self.segment.to_be_bytes());
        v[8..16].copy_from_slice(&self.offset.to_be_bytes());
        v[16..].copy_from_slice(&self.len.to_be_bytes());
        v
    }

    pub(super) fn decode(v: &[u8]) -> Option<Self> {
        if v.len() != Self::LEN {
            return None;
        }
        Some(Self {
            segment: u64::from_be_bytes(v[..8].try_into().ok()?),
            offset: u64::from_be_bytes(v[8..16].try_into().ok()?),
            len: u32::from_be_bytes(v[16..].try_into().ok()?),
        })
    }
}

/// One change to sled: a key and its new value, `None` to remove it.
pub(super) type Change = (IVec, Option<IVec>);

/// A decoded record; an envelope's JSON is borrowed from the bytes it was read from, so that
/// opening the log and compacting it copy no envelope they only pass over.
pub(super) enum Record<'a> {
    Envelope {
        mailbox: MailboxId,
        seq: u64,
        json: &'a [u8],
    },
    Commit {
        lsn: u64,
        changes: Vec<Change>,
    },
}

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
    file: Arc<File>,
    size: u64,
    /// Unix seconds when it was started.
    started: u64,
}

struct Inner {
    head: Head,
    /// Segments written since the last sync.
    unsynced: BTreeMap<u64, Arc<File>>,
    /// A segment was created since the last sync: the directory needs syncing too.
    dir_dirty: bool,
    /// A write or sync failed: what is on disk is unknown, so nothing more is acknowledged.
    failed: bool,
}

/// The open log.
pub(super) struct Log {
    dir: PathBuf,
    inner: Mutex<Inner>,
    /// Every segment, for reading.
    files: RwLock<BTreeMap<u64, Arc<File>>>,
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
fn list(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io("listing its directory", e))? {
        let name = entry
            .map_err(|e| io("listing its directory", e))?
            .file_name();
        if let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| u64::from_str_radix(n, 16).ok())
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing its directory", e))
}

fn create(dir: &Path, number: u64) -> Result<Arc<File>, StoreError> {
    OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(segment_path(dir, number))
        .map(Arc::new)
        .map_err(|e| io("creating a segment", e))
}

/// A record: `write` appends the payload after room for the header, which is then filled in
/// (one buffer, no copy of the payload).
fn frame(capacity: usize, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + capacity);
    out.resize(HEADER, 0);
    write(&mut out);
    let payload = &out[HEADER..];
    let header = [
        (payload.len() as u32).to_le_bytes(),
        crc32fast::hash(payload).to_le_bytes(),
    ];
    out[..HEADER].copy_from_slice(header.as_flattened());
    out
}

fn envelope_record(mailbox: &MailboxId, seq: u64, json: &[u8]) -> Vec<u8> {
    frame(ENVELOPE_PREFIX + json.len(), |payload| {
        payload.push(KIND_ENVELOPE);
        payload.extend_from_slice(mailbox.as_bytes());
        payload.extend_from_slice(&seq.to_le_bytes());
        payload.extend_from_slice(json);
    })
}

fn commit_record<'a>(lsn: u64, changes: impl ExactSizeIterator<Item = &'a Change>) -> Vec<u8> {
    frame(0, |payload| {
        payload.push(KIND_COMMIT);
        payload.extend_from_slice(&lsn.to_le_bytes());
        payload.extend_from_slice(&(changes.len() as u32).to_le_bytes());
        for (key, value) in changes {
            payload.push(if value.is_some() {
                TAG_INSERT
            } else {
                TAG_REMOVE
            });
            payload.extend_from_slice(&(key.len() as u32).to_le_bytes());
            payload.extend_from_slice(key);
            if let Some(v) = value {
                payload.extend_from_slice(&(v.len() as u32).to_le_bytes());
                payload.extend_from_slice(v);
            }
        }
    })
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Decodes a record's payload.
pub(super) fn decode(payload: &[u8]) -> Option<Record<'_>> {
    let (&kind, rest) = payload.split_first()?;
    let mut r = Reader { b: rest };
    match kind {
        KIND_ENVELOPE => {
            let mailbox = MailboxId::from_bytes(r.take(16)?.try_into().ok()?);
            let seq = r.u64()?;
            Some(Record::Envelope {
                mailbox,
                seq,
                json: r.b,
            })
        }
        KIND_COMMIT => {
            let lsn = r.u64()?;
            let count = r.u32()?;
            let mut changes = Vec::new();
            for _ in 0..count {
                let tag = r.take(1)?[0];
                let klen = r.u32()? as usize;
                let key = IVec::from(r.take(klen)?);
                let value = match tag {
                    TAG_INSERT => {
                        let vlen = r.u32()? as usize;
                        Some(IVec::from(r.take(vlen)?))
                    }
                    TAG_REMOVE => None,
                    _ => return None,
                };
                changes.push((key, value));
            }
            r.b.is_empty().then_some(Record::Commit { lsn, changes })
        }
        _ => None,
    }
}

/// The intact records of a segment's bytes with their offsets and lengths, and the offset of
/// the first torn or corrupt one, if any.
pub(super) fn records(bytes: &[u8]) -> (Vec<(u64, u32, Record<'_>)>, Option<u64>) {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let parsed = (|| {
            let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
            let crc = u32::from_le_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?);
            let payload = bytes.get(at + HEADER..(at + HEADER).checked_add(len)?)?;
            if crc32fast::hash(payload) != crc {
                return None;
            }
            Some((HEADER + len, decode(payload)?))
        })();
        match parsed {
            Some((len, record)) => {
                out.push((at as u64, len as u32, record));
                at += len;
            }
            None => return (out, Some(at as u64)),
        }
    }
    (out, None)
}

/// What opening the log found.
pub(super) struct Opened {
    pub log: Log,
    /// Commit records after `checkpoint`, in order, to apply again.
    pub replay: Vec<(u64, Vec<Change>)>,
    /// The last LSN in the log (or the checkpoint, if larger).
    pub last_lsn: u64,
    /// Bytes of unacknowledged tail cut off.
    pub cut: u64,
}

impl Log {
    /// Opens the log in `sled_dir`, reads it, cuts off a torn tail, and starts a new head
    /// segment. `checkpoint` is the LSN sled holds every commit up to.
    pub(super) fn open(sled_dir: &Path, checkpoint: u64) -> Result<Opened, StoreError> {
        let dir = sled_dir.join(LOG_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| io("creating its directory", e))?;
        let numbers = list(&dir)?;
        let mut segments = BTreeMap::new();
        let mut files = BTreeMap::new();
        let mut replay = Vec::new();
        let mut last_lsn = checkpoint;
        let mut cut = 0u64;
        let mut ended: Option<u64> = None;
        for &number in &numbers {
            let path = segment_path(&dir, number);
            let bytes = std::fs::read(&path).map_err(|e| io("reading a segment", e))?;
            let (recs, torn) = records(&bytes);
            if let Some(at_segment) = ended {
                // Past the end of the log: only unacknowledged writes can be here. A commit is
                // written only after the previous one was synced, and a sync covers every byte
                // before it, so a later commit means the bad record was once synced: damage,
                // not a torn tail.
                if recs
                    .iter()
                    .any(|(_, _, r)| matches!(r, Record::Commit { lsn, .. } if *lsn > last_lsn))
                {
                    return Err(StoreError::Corrupt(
                        "the store's log has a bad record before acknowledged ones",
                    ));
                }
                cut += bytes.len() as u64;
                std::fs::remove_file(&path).map_err(|e| io("removing a torn segment", e))?;
                tracing::warn!(
                    segment = number,
                    after = at_segment,
                    "removed an unacknowledged log segment"
                );
                continue;
            }
            let mut seg = Segment {
                size: bytes.len() as u64,
                ..Segment::default()
            };
            for (_, len, record) in recs {
                match record {
                    Record::Envelope { .. } => seg.envelopes += u64::from(len),
                    Record::Commit { lsn, changes } => {
                        seg.max_lsn = seg.max_lsn.max(lsn);
                        if lsn <= checkpoint {
                            continue;
                        }
                        if lsn != last_lsn + 1 {
                            return Err(StoreError::Corrupt(
                                "a gap in the store's log sequence numbers",
                            ));
                        }
                        last_lsn = lsn;
                        replay.push((lsn, changes));
                    }
                }
            }
            if let Some(at) = torn {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io("opening a torn segment", e))?;
                file.set_len(at).map_err(|e| io("cutting a torn tail", e))?;
                file.sync_all().map_err(|e| io("cutting a torn tail", e))?;
                cut += seg.size - at;
                seg.size = at;
                ended = Some(number);
            }
            let file = File::open(&path).map_err(|e| io("opening a segment", e))?;
            seg.sealed_at = Some(
                std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or_else(unix_now, |d| d.as_secs()),
            );
            files.insert(number, Arc::new(file));
            segments.insert(number, seg);
        }
        let number = numbers.last().map_or(1, |n| n + 1);
        let file = create(&dir, number)?;
        sync_dir(&dir)?;
        files.insert(number, file.clone());
        segments.insert(number, Segment::default());
        Ok(Opened {
            log: Log {
                dir,
                inner: Mutex::new(Inner {
                    head: Head {
                        number,
                        file,
                        size: 0,
                        started: unix_now(),
                    },
                    unsynced: BTreeMap::new(),
                    dir_dirty: false,
                    failed: false,
                }),
                files: RwLock::new(files),
                segments: Mutex::new(segments),
            },
            replay,
            last_lsn,
            cut,
        })
    }

    /// Appends `record` to the head, starting a new head first if it is full.
    fn append(&self, record: &[u8]) -> Result<(u64, u64), StoreError> {
        let mut inner = lock(&self.inner);
        if inner.failed {
            return Err(StoreError::Backend(
                "the store's log: an earlier write failed; restart the relay".into(),
            ));
        }
        if inner.head.size > 0 && inner.head.size + record.len() as u64 > SEGMENT_BYTES {
            self.rotate(&mut inner)?;
        }
        let offset = inner.head.size;
        if let Err(e) = inner.head.file.write_all_at(record, offset) {
            inner.failed = true;
            return Err(io("writing", e));
        }
        inner.head.size += record.len() as u64;
        let (number, file) = (inner.head.number, inner.head.file.clone());
        inner.unsynced.insert(number, file);
        if let Some(seg) = lock(&self.segments).get_mut(&number) {
            seg.size = inner.head.size;
        }
        Ok((number, offset))
    }

    fn rotate(&self, inner: &mut Inner) -> Result<(), StoreError> {
        let number = inner.head.number + 1;
        let file = create(&self.dir, number)?;
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
        let (segment, offset) = self.append(&record)?;
        let pointer = Pointer {
            segment,
            offset,
            len: record.len() as u32,
        };
        if let Some(seg) = lock(&self.segments).get_mut(&segment) {
            seg.envelopes += u64::from(pointer.len);
            seg.unapplied += 1;
        }
        Ok(pointer)
    }

    /// Writes a commit record; durable at the next [`Log::sync`].
    pub(super) fn append_commit<'a>(
        &self,
        lsn: u64,
        changes: impl ExactSizeIterator<Item = &'a Change>,
    ) -> Result<(), StoreError> {
        let (segment, _) = self.append(&commit_record(lsn, changes))?;
        if let Some(seg) = lock(&self.segments).get_mut(&segment) {
            seg.max_lsn = seg.max_lsn.max(lsn);
        }
        Ok(())
    }

    /// Makes every record written before this call durable.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let (files, dir_dirty) = {
            let mut inner = lock(&self.inner);
            if inner.failed {
                return Err(StoreError::Backend(
                    "the store's log: an earlier write failed; restart the relay".into(),
                ));
            }
            let dirty = std::mem::take(&mut inner.dir_dirty);
            (std::mem::take(&mut inner.unsynced), dirty)
        };
        let mut result = Ok(());
        for file in files.values() {
            if let Err(e) = file.sync_data() {
                result = Err(io("syncing", e));
                break;
            }
        }
        if result.is_ok() && dir_dirty {
            result = sync_dir(&self.dir);
        }
        if result.is_err() {
            // After a failed fsync the file's state is unknown (Linux may drop the dirty
            // pages): stop acknowledging rather than build on a hole.
            lock(&self.inner).failed = true;
        }
        result
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

    /// Counts a pointer that [`Log::append_envelope`] returned as applied to sled (or never to
    /// be: its write failed).
    pub(super) fn applied(&self, pointer: &Pointer) {
        if let Some(seg) = lock(&self.segments).get_mut(&pointer.segment) {
            seg.unapplied = seg.unapplied.saturating_sub(1);
        }
    }

    /// Counts a pointer change that sled now holds: `old` no longer live, `new` live.
    pub(super) fn account(&self, old: Option<Pointer>, new: Option<Pointer>) {
        let mut segments = lock(&self.segments);
        if let Some(p) = old
            && let Some(seg) = segments.get_mut(&p.segment)
        {
            seg.live = seg.live.saturating_sub(u64::from(p.len));
        }
        if let Some(p) = new
            && let Some(seg) = segments.get_mut(&p.segment)
        {
            seg.live += u64::from(p.len);
        }
    }

    /// Every segment's state.
    pub(super) fn segments(&self) -> BTreeMap<u64, Segment> {
        lock(&self.segments).clone()
    }

    /// The head segment's number.
    pub(super) fn head(&self) -> u64 {
        lock(&self.inner).head.number
    }

    /// Seals the head if it holds anything and was started at least `ROTATE_AFTER_SECS`
    /// before `now`.
    pub(super) fn rotate_if_old(&self, now: u64) -> Result<(), StoreError> {
        let mut inner = lock(&self.inner);
        if inner.head.size > 0 && now.saturating_sub(inner.head.started) >= ROTATE_AFTER_SECS {
            self.rotate(&mut inner)?;
        }
        Ok(())
    }

    /// The raw bytes of a segment, for compaction and checks.
    pub(super) fn read_segment(&self, number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&number)
            .cloned()
        else {
            return Ok(None);
        };
        let len = file
            .metadata()
            .map_err(|e| io("reading a segment", e))?
            .len();
        let mut buf = vec![0u8; len as usize];
        file.read_exact_at(&mut buf, 0)
            .map_err(|e| io("reading a segment", e))?;
        Ok(Some(buf))
    }

    /// Removes every sealed segment that no pointer in sled or on its way there refers to and
    /// whose commit records are all at or before `checkpoint`. Returns how many went.
    pub(super) fn remove_dead(&self, checkpoint: u64) -> Result<u64, StoreError> {
        let head = self.head();
        let dead: Vec<u64> = lock(&self.segments)
            .iter()
            .filter(|(n, s)| {
                **n != head && s.live == 0 && s.unapplied == 0 && s.max_lsn <= checkpoint
            })
            .map(|(n, _)| *n)
            .collect();
        for number in &dead {
            std::fs::remove_file(segment_path(&self.dir, *number))
                .map_err(|e| io("removing a segment", e))?;
            lock(&self.segments).remove(number);
            self.files
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(number);
        }
        if !dead.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(dead.len() as u64)
    }

    /// Bytes the segments take.
    pub(super) fn size(&self) -> u64 {
        lock(&self.segments).values().map(|s| s.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(key: &[u8], value: Option<&[u8]>) -> Change {
        (IVec::from(key), value.map(IVec::from))
    }

    #[test]
    fn records_round_trip_and_a_torn_or_flipped_tail_ends_them() {
        let mailbox = MailboxId::from_bytes([7; 16]);
        let mut buf = envelope_record(&mailbox, 3, b"{\"v\":1}");
        let changes = [change(b"ka", Some(b"va")), change(b"kb", None)];
        buf.extend(commit_record(9, changes.iter()));
        let (recs, torn) = records(&buf);
        assert_eq!(torn, None);
        assert_eq!(recs.len(), 2);
        match &recs[0].2 {
            Record::Envelope {
                mailbox: m,
                seq,
                json,
            } => {
                assert_eq!((m, *seq, *json), (&mailbox, 3, b"{\"v\":1}".as_slice()));
            }
            Record::Commit { .. } => panic!("expected an envelope"),
        }
        match &recs[1].2 {
            Record::Commit { lsn, changes: c } => {
                assert_eq!(*lsn, 9);
                assert_eq!(c.as_slice(), changes.as_slice());
            }
            Record::Envelope { .. } => panic!("expected a commit"),
        }
        let second = recs[1].0;
        let (recs, torn) = records(&buf[..buf.len() - 1]);
        assert_eq!((recs.len(), torn), (1, Some(second)));
        let mut flipped = buf.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(records(&flipped).1, Some(second));
    }

    fn write_segment(dir: &Path, number: u64, bytes: &[u8]) {
        std::fs::create_dir_all(dir.join(LOG_DIR)).unwrap();
        std::fs::write(segment_path(&dir.join(LOG_DIR), number), bytes).unwrap();
    }

    fn commit(lsn: u64) -> Vec<u8> {
        commit_record(lsn, [change(b"k", Some(&lsn.to_be_bytes()))].iter())
    }

    #[test]
    fn opening_replays_after_the_checkpoint_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = commit(1);
        first.extend(commit(2));
        first.extend(commit(3));
        let torn = first.len() - 3;
        write_segment(dir.path(), 1, &first[..torn]);
        // A later segment holding only unacknowledged writes.
        write_segment(
            dir.path(),
            2,
            &envelope_record(&MailboxId::from_bytes([1; 16]), 1, b"{}"),
        );

        let opened = Log::open(dir.path(), 1).unwrap();

        let lsns: Vec<u64> = opened.replay.iter().map(|(lsn, _)| *lsn).collect();
        assert_eq!(lsns, [2]);
        assert_eq!(opened.last_lsn, 2);
        let log_dir = dir.path().join(LOG_DIR);
        assert_eq!(
            std::fs::metadata(segment_path(&log_dir, 1)).unwrap().len(),
            (commit(1).len() + commit(2).len()) as u64
        );
        assert!(!segment_path(&log_dir, 2).exists());
        // Writing goes on in a new head segment.
        assert_eq!(list(&log_dir).unwrap(), [1, 3]);
    }

    #[test]
    fn a_bad_record_before_an_acknowledged_commit_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = commit(1);
        first.extend(commit(2));
        let last = first.len() - 1;
        first[last] ^= 0xff;
        write_segment(dir.path(), 1, &first);
        write_segment(dir.path(), 2, &commit(3));

        assert!(matches!(
            Log::open(dir.path(), 0),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn pointers_round_trip_and_refuse_other_lengths() {
        let p = Pointer {
            segment: 5,
            offset: 1 << 40,
            len: 4096,
        };
        assert_eq!(Pointer::decode(&p.encode()), Some(p));
        assert_eq!(Pointer::decode(&p.encode()[..19]), None);
    }
}
