//! Opening a sled store: the relay's way (bring sled up to date from the log, cut an unsynced
//! tail, refuse damage), or read-only for `candor-server check --read-only`, which changes
//! nothing it was given.
//!
//! The relay's way also keeps the store private whatever the umask and the data directory's
//! mode: the store's directory is created 0700 before sled sees it, and once sled has opened,
//! every file under it is made 0600 and every directory 0700. sled creates its files with the
//! default mode and offers no option for it; files it adds later (snapshots, blobs) are inside
//! the 0700 directory, and are tightened at the next start.

use std::collections::HashMap;
use std::fs::{DirBuilder, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::commit::{Committed, Pending};
use super::log::{self, CHECKPOINT_KEY, Checkpoint, Disk, Log, Mode, OsDisk, Pointer};
use super::{OFFICE_LOCK_STRIPES, SledStore, TREE, backend, codec::prefix, lock};
use crate::store::StoreError;

/// Called each time a flush of sled has returned, with sled, while nothing writes to it.
pub(super) type OnFlushed = Arc<dyn Fn(&sled::Db) + Send + Sync>;

/// How to open a store. [`Options::new`] gives the relay's.
#[derive(Clone)]
pub struct Options {
    cache_bytes: u64,
    mode: Mode,
    /// The log's directory, if not the one inside sled's.
    pub(super) log_dir: Option<PathBuf>,
    pub(super) disk: Arc<dyn Disk>,
    pub(super) segment_bytes: u64,
    pub(super) on_sled_flushed: Option<OnFlushed>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("cache_bytes", &self.cache_bytes)
            .field("mode", &self.mode)
            .field("log_dir", &self.log_dir)
            .field("segment_bytes", &self.segment_bytes)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The relay's: `cache_bytes` of sled page cache, the log on the real file system.
    pub fn new(cache_bytes: u64) -> Self {
        Self {
            cache_bytes,
            mode: Mode::ReadWrite,
            log_dir: None,
            disk: Arc::new(OsDisk),
            segment_bytes: log::SEGMENT_BYTES,
            on_sled_flushed: None,
        }
    }

    /// For inspection: sled opens from `dir` (a copy, since opening sled writes to it) and the
    /// log is read, and never changed, in `log_of`, the original store's directory.
    pub fn read_only(cache_bytes: u64, log_of: &Path) -> Self {
        Self {
            mode: Mode::ReadOnly,
            log_dir: Some(log_of.join(log::LOG_DIR)),
            ..Self::new(cache_bytes)
        }
    }
}

/// A store opened for inspection ([`SledStore::open_read_only`]): sled runs on a private copy
/// of its files, removed when this is dropped; the log is read where it is, and never written.
pub struct Inspected {
    /// The store; every write to it fails.
    pub store: SledStore,
    _copy: tempfile::TempDir,
}

impl std::fmt::Debug for Inspected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspected").finish_non_exhaustive()
    }
}

/// Copies sled's files (all of the directory `from` but the log) into `to`.
fn copy_sled(from: &Path, to: &Path) -> std::io::Result<()> {
    copy_tree(from, to, Some(log::LOG_DIR))
}

fn copy_tree(from: &Path, to: &Path, skip: Option<&str>) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if skip.is_some_and(|s| entry.file_name() == s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, None)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl SledStore {
    /// Opens the store in `dir` without changing or refusing it, for `candor-server check
    /// --read-only`: what a read-write open would refuse as damage, or cut as an unsynced
    /// tail, is reported by [`crate::store::Store::check`] instead. Stop the relay first: the
    /// copy of a store being written is not consistent.
    pub fn open_read_only(dir: &Path, cache_bytes: u64) -> Result<Inspected, StoreError> {
        let copy = tempfile::Builder::new()
            .prefix("candor-check-")
            .tempdir()
            .map_err(|e| StoreError::Backend(format!("a private copy of sled's files: {e}")))?;
        let sled_dir = copy.path().join("sled");
        copy_sled(dir, &sled_dir)
            .map_err(|e| StoreError::Backend(format!("copying sled's files: {e}")))?;
        let store = Self::open_with(&sled_dir, Options::read_only(cache_bytes, dir))?;
        Ok(Inspected { store, _copy: copy })
    }

    /// Opens (or creates) the store in `dir`, with `cache_bytes` of page cache, and brings it
    /// up to date from its log. sled's own periodic flush is off: durability is the log's job.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with(dir, Options::new(cache_bytes))
    }

    /// Opens the store in `dir` as `options` say.
    pub fn open_with(dir: &Path, options: Options) -> Result<Self, StoreError> {
        let private =
            |e: io::Error| StoreError::Backend(format!("making {} private: {e}", dir.display()));
        if options.mode == Mode::ReadWrite {
            private_dir(dir).map_err(private)?;
        }
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_bytes)
            .flush_every_ms(None)
            .open()
            .map_err(backend)?;
        let tree = db.open_tree(TREE).map_err(backend)?;
        let checkpoint = match tree.get(CHECKPOINT_KEY).map_err(backend)? {
            Some(v) => Checkpoint::decode(&v).ok_or(StoreError::Corrupt("the log checkpoint"))?,
            None => Checkpoint::default(),
        };
        let mode = options.mode;
        let log_dir = options
            .log_dir
            .clone()
            .unwrap_or_else(|| dir.join(log::LOG_DIR));
        let opened = Log::open(
            options.disk.clone(),
            log_dir,
            checkpoint,
            options.segment_bytes,
            mode,
        )?;
        let store = Self {
            tree,
            office_locks: (0..OFFICE_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            registry: Mutex::new(()),
            pending: Mutex::new(Pending::default()),
            activity: Mutex::new(HashMap::new()),
            office_bytes: Mutex::new(HashMap::new()),
            log: opened.log,
            log_problems: opened.problems,
            on_sled_flushed: options.on_sled_flushed,
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
        if mode == Mode::ReadWrite {
            store.checkpoint(&mut lock(&store.committing))?;
            tighten(dir).map_err(private)?;
        }
        Ok(store)
    }
}

/// Creates `dir` (and any missing parent) with mode 0700, or makes an existing one 0700.
fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
}

/// Makes every directory under `dir`, itself included, 0700 and every file 0600.
fn tighten(dir: &Path) -> io::Result<()> {
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{appended, opened, registered};

    /// Every file and directory under `dir` whose mode lets anyone but the owner in.
    fn open_to_others(dir: &Path) -> Vec<(PathBuf, u32)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                found.push((path.clone(), mode));
            }
            if path.is_dir() {
                found.extend(open_to_others(&path));
            }
        }
        found
    }

    #[test]
    fn issue_20_store_files_are_private_even_in_an_open_directory() {
        // Arrange: a data directory anyone may read, and a store directory made 0755 by an
        // earlier version.
        let data = tempfile::tempdir().unwrap();
        std::fs::set_permissions(data.path(), Permissions::from_mode(0o755)).unwrap();
        let dir = data.path().join("store");
        DirBuilder::new().mode(0o755).create(&dir).unwrap();

        // Act: open, write an envelope (so the log has a segment), reopen.
        let store = crate::startup::open_store(&dir, 1 << 20).unwrap();
        let office = registered(&store, "modes");
        appended(&store, &opened(&store, &office), "kept private");
        drop(store);
        let reopened = crate::startup::open_store(&dir, 1 << 20).unwrap();

        // Assert
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(dir.join(log::LOG_DIR).is_dir());
        assert_eq!(open_to_others(&dir), vec![]);
        drop(reopened);
    }
}
