//! Group commit: a write queues its sled changes; the committer writes every queued change to
//! the log as one commit record, syncs the log once, then applies the changes to sled.
//!
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

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sled::IVec;

use super::codec::prefix;
use super::log::{self, CHECKPOINT_KEY, Checkpoint, Pointer};
use super::{SledStore, backend, lock};
use crate::store::StoreError;

/// The committer's state.
pub(super) struct Committed {
    /// The LSN of the last group committed.
    pub(super) lsn: u64,
    /// When sled was last flushed (a checkpoint).
    pub(super) checkpointed: Instant,
}

/// Longest time between checkpoints while writes come in.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// What one write changes: each key's new value, `None` to remove it, in order.
#[derive(Default)]
pub(super) struct Changes(Vec<log::Change>);

impl Changes {
    pub(super) fn insert(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.0.push((key.into(), Some(value.into())));
    }

    pub(super) fn remove(&mut self, key: impl Into<IVec>) {
        self.0.push((key.into(), None));
    }
}

/// Writes queued and not yet applied to sled.
#[derive(Default)]
pub(super) struct Pending {
    /// Every queued key's newest value (`None`: removed) and the number of the write that set
    /// it. Read-modify-writes read here before sled. An entry stays until the group holding
    /// its write is applied.
    pub(super) overlay: BTreeMap<IVec, (u64, Option<IVec>)>,
    /// The queued changes, in order.
    queue: Vec<log::Change>,
    /// The number of the last queued write.
    last: u64,
    /// Set when syncing or applying a group failed: sled or the log no longer holds what the
    /// queue assumed, so every later write is refused until the relay restarts (nothing refused
    /// was acknowledged). A group whose commit record could not be written (a full disk) does
    /// not set it: it is queued again.
    failed: Option<String>,
}

impl SledStore {
    /// Queues one write's changes for the next group commit. The caller holds the locks that
    /// cover every key it changes.
    pub(super) fn submit(&self, changes: Changes) -> Result<(), StoreError> {
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

    /// Commits every queued write: one commit record in the log, one sync, then the changes
    /// applied to sled. Every write queued before this call is durable and visible when it
    /// returns.
    pub(super) fn commit_group(&self) -> Result<(), StoreError> {
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
        if let Err(e) = self.log.append_commit(lsn, queue.iter()) {
            // Nothing of the group reached the log (a failed append is cut off) or sled: a full
            // disk is not a broken store. The group goes back to the head of the queue and is
            // committed with the next one; its writers are answered with this error (a 503,
            // which promises nothing either way), and what they queued stays as queued, so
            // later writes built on it stay consistent.
            let mut pending = lock(&self.pending);
            let later = std::mem::replace(&mut pending.queue, queue);
            pending.queue.extend(later);
            return Err(e);
        }
        let result = self.log.sync().and_then(|()| self.apply(&queue, true));
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
    pub(super) fn apply(&self, changes: &[log::Change], fresh: bool) -> Result<(), StoreError> {
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
    pub(super) fn checkpoint(&self, committed: &mut Committed) -> Result<u64, StoreError> {
        let checkpoint = Checkpoint {
            lsn: committed.lsn,
            synced: self.log.synced(),
        };
        self.tree
            .insert(CHECKPOINT_KEY, &checkpoint.encode())
            .map_err(backend)?;
        self.db.flush().map_err(backend)?;
        if let Some(flushed) = &self.on_sled_flushed {
            flushed(&self.db);
        }
        committed.checkpointed = Instant::now();
        self.log.remove_dead(committed.lsn)
    }
}

pub(super) fn flush(store: &SledStore) -> Result<(), StoreError> {
    store.commit_group()?;
    store.checkpoint(&mut lock(&store.committing)).map(|_| ())
}

pub(super) fn flush_covering(
    store: &SledStore,
    covered: &mut dyn FnMut(),
) -> Result<(), StoreError> {
    // Every write queued before `covered` is committed below.
    covered();
    store.commit_group()
}
