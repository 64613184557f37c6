//! The log's segments as files: counting what in each is live, what compaction and the checks
//! read of them, sealing an old head, and removing the segments nothing needs any more
//! (`log.rs`, "Segments" and "Forgetting").

use std::collections::BTreeMap;
use std::sync::PoisonError;

use super::{Log, Pointer, ROTATE_AFTER_SECS, Segment, io, lock, segment_path, sync_dir};
use crate::store::StoreError;

impl Log {
    /// Counts a pointer that [`Log::append_envelope`] returned as applied to sled (or never to
    /// be: its write failed).
    pub(in crate::store::sled) fn applied(&self, pointer: &Pointer) {
        if let Some(seg) = lock(&self.segments).get_mut(&pointer.segment) {
            seg.unapplied = seg.unapplied.saturating_sub(1);
        }
    }

    /// Counts a pointer change that sled now holds: `old` no longer live, `new` live.
    pub(in crate::store::sled) fn account(&self, old: Option<Pointer>, new: Option<Pointer>) {
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
    pub(in crate::store::sled) fn segments(&self) -> BTreeMap<u64, Segment> {
        lock(&self.segments).clone()
    }

    /// The head segment's number.
    pub(in crate::store::sled) fn head(&self) -> u64 {
        lock(&self.inner).head.number
    }

    /// Seals the head if it holds anything and was started at least `ROTATE_AFTER_SECS`
    /// before `now`.
    pub(in crate::store::sled) fn rotate_if_old(&self, now: u64) -> Result<(), StoreError> {
        let mut inner = lock(&self.inner);
        if inner.head.size > 0 && now.saturating_sub(inner.head.started) >= ROTATE_AFTER_SECS {
            self.rotate(&mut inner)?;
        }
        Ok(())
    }

    /// The raw bytes of a segment, for compaction and checks.
    pub(in crate::store::sled) fn read_segment(
        &self,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&number)
            .cloned()
        else {
            return Ok(None);
        };
        let len = file.len().map_err(|e| io("reading a segment", e))?;
        let mut buf = vec![0u8; len as usize];
        file.read_exact_at(&mut buf, 0)
            .map_err(|e| io("reading a segment", e))?;
        Ok(Some(buf))
    }

    /// Removes every sealed segment that no pointer in sled or on its way there refers to and
    /// whose commit records are all at or before `checkpoint`. Returns how many went.
    pub(in crate::store::sled) fn remove_dead(&self, checkpoint: u64) -> Result<u64, StoreError> {
        let dead: Vec<u64> = {
            // Under the head's lock, so that the head cannot move on (and a write land in a
            // segment taken for dead) while the dead are chosen.
            let inner = lock(&self.inner);
            lock(&self.segments)
                .iter()
                .filter(|(n, s)| {
                    **n != inner.head.number
                        && s.live == 0
                        && s.unapplied == 0
                        && s.max_lsn <= checkpoint
                })
                .map(|(n, _)| *n)
                .collect()
        };
        for number in &dead {
            self.disk
                .remove(&segment_path(&self.dir, *number))
                .map_err(|e| io("removing a segment", e))?;
            lock(&self.segments).remove(number);
            self.files
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(number);
        }
        if !dead.is_empty() {
            sync_dir(self.disk.as_ref(), &self.dir)?;
        }
        Ok(dead.len() as u64)
    }

    /// Bytes the segments take.
    pub(in crate::store::sled) fn size(&self) -> u64 {
        lock(&self.segments).values().map(|s| s.size).sum()
    }
}
