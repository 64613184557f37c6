//! A simulated disk for the log that loses, at a power cut, what was never synced, in the
//! manner of Jepsen's LazyFS and the storage faults FoundationDB and TigerBeetle simulate:
//! - a file keeps what `sync_data` made durable; of what was written since, each 4 KiB page
//!   independently survives or is lost (a lost page inside the file reads as its old bytes,
//!   or zeros), so there are holes and not only a torn tail, and the length may stay short;
//! - creating, removing and truncating files survive only if their directory was synced
//!   (truncation is held to the directory too, stricter than Linux);
//! - a surviving unsynced page may come back with one bit flipped in what was written to it
//!   since the last sync (a flip in synced bytes is damage, which the log refuses; its own
//!   tests cover that).
//!
//! The cut happens before the `cut_after`-th change (a write, truncation, sync, creation or
//! removal), or when [`SimDisk::cut`] is called. From then on every call on a file or the disk
//! fails, until [`SimDisk::restore`] brings the disk back as it survived. Handles opened before
//! the cut stay dead.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::store::sled::log::{Disk, DiskFile};

const PAGE: usize = 4096;

/// One file's contents.
#[derive(Clone, Default)]
struct Inode {
    /// What a read sees.
    current: Vec<u8>,
    /// What survives a cut for certain.
    durable: Vec<u8>,
    /// Pages written since they were last made durable.
    dirty: BTreeSet<usize>,
    /// A truncation not yet made durable by a sync of its directory: the shortest length.
    truncated: Option<usize>,
    modified: Option<SystemTime>,
}

#[derive(Default)]
struct Dir {
    current: BTreeMap<String, u64>,
    durable: BTreeMap<String, u64>,
}

struct State {
    /// Bumped at each cut: handles of an earlier generation are dead.
    generation: u64,
    /// Power is off.
    down: bool,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    dirs: BTreeMap<PathBuf, Dir>,
    /// Changes so far, and the one before which the power is cut.
    changes: u64,
    cut_after: Option<u64>,
    /// The chance that a cut flips a bit in one surviving unsynced page.
    flip_chance: f64,
    rng: StdRng,
    /// What the last cut did, for a failing round's report.
    report: Vec<String>,
}

/// The simulated disk. Clones share it.
#[derive(Clone)]
pub(super) struct SimDisk {
    state: Arc<Mutex<State>>,
}

fn down() -> io::Error {
    io::Error::other("the power is off")
}

impl SimDisk {
    pub(super) fn new(seed: u64, flip_chance: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                generation: 0,
                down: false,
                inodes: BTreeMap::new(),
                next_inode: 1,
                dirs: BTreeMap::new(),
                changes: 0,
                cut_after: None,
                flip_chance,
                rng: StdRng::seed_from_u64(seed),
                report: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cuts the power before the `n`-th change from now (`None`: only when [`SimDisk::cut`]
    /// is called).
    pub(super) fn cut_after(&self, n: Option<u64>) {
        let mut s = self.lock();
        s.changes = 0;
        s.cut_after = n;
    }

    /// Cuts the power now, if it is on.
    pub(super) fn cut(&self) {
        self.lock().cut();
    }

    /// Whether the power is off.
    pub(super) fn is_down(&self) -> bool {
        self.lock().down
    }

    /// Runs `f` while the power is on and cannot go off; `false` if it was already off.
    pub(super) fn while_up(&self, f: impl FnOnce()) -> bool {
        let s = self.lock();
        if s.down {
            return false;
        }
        f();
        drop(s);
        true
    }

    /// Brings the power back: the disk as it survived the cut. Returns what the cut did.
    pub(super) fn restore(&self) -> Vec<String> {
        let mut s = self.lock();
        s.down = false;
        s.cut_after = None;
        std::mem::take(&mut s.report)
    }
}

impl State {
    /// Counts a change; cuts the power if this is the one before which it goes.
    fn change(&mut self) -> io::Result<()> {
        if self.down {
            return Err(down());
        }
        self.changes += 1;
        if self.cut_after.is_some_and(|n| self.changes >= n) {
            self.cut();
            return Err(down());
        }
        Ok(())
    }

    fn up(&self, generation: u64) -> io::Result<()> {
        if self.down || generation != self.generation {
            return Err(down());
        }
        Ok(())
    }

    fn cut(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        self.generation += 1;
        let mut report = Vec::new();
        for dir in self.dirs.values_mut() {
            let names: BTreeSet<String> = dir
                .current
                .keys()
                .chain(dir.durable.keys())
                .cloned()
                .collect();
            for name in names {
                let (now, then) = (dir.current.get(&name), dir.durable.get(&name));
                if now != then && self.rng.random_bool(0.5) {
                    report.push(format!("{name}: its unsynced creation or removal survived"));
                    match now {
                        Some(&inode) => dir.durable.insert(name, inode),
                        None => dir.durable.remove(&name),
                    };
                }
            }
            dir.current = dir.durable.clone();
        }
        let live: BTreeSet<u64> = self
            .dirs
            .values()
            .flat_map(|d| d.durable.values().copied())
            .collect();
        self.inodes.retain(|n, _| live.contains(n));
        let flip_chance = self.flip_chance;
        for (number, inode) in &mut self.inodes {
            let survived = survive(inode, &mut self.rng, flip_chance);
            if !survived.is_empty() {
                report.push(format!("inode {number}: {}", survived.join(", ")));
            }
        }
        self.report = report;
    }
}

/// What of an inode survives a cut: its durable bytes, each unsynced page with even odds, and
/// an unsynced truncation with even odds. Returns what happened, for the report.
fn survive(inode: &mut Inode, rng: &mut StdRng, flip_chance: f64) -> Vec<String> {
    let mut said = Vec::new();
    let mut bytes = std::mem::take(&mut inode.durable);
    // What was on the disk for certain; a flip falls only past it, in what was never synced.
    let synced = bytes.len();
    if let Some(len) = inode.truncated.take()
        && rng.random_bool(0.5)
    {
        bytes.truncate(len);
        said.push(format!("truncation to {len} survived"));
    }
    let mut kept = Vec::new();
    for &page in &inode.dirty {
        let start = page * PAGE;
        if start >= inode.current.len() || !rng.random_bool(0.5) {
            continue;
        }
        let end = (start + PAGE).min(inode.current.len());
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(&inode.current[start..end]);
        kept.push(page);
    }
    if !kept.is_empty() {
        said.push(format!(
            "unsynced pages {kept:?} of {:?} survived",
            inode.dirty
        ));
    }
    if !kept.is_empty() && rng.random_bool(flip_chance) {
        let page = kept[rng.random_range(0..kept.len())];
        let start = (page * PAGE).max(synced);
        let end = (page * PAGE + PAGE).min(bytes.len());
        if start < end {
            let at = rng.random_range(start..end);
            bytes[at] ^= 1 << rng.random_range(0..8u32);
            said.push(format!("a bit flipped at byte {at}"));
        }
    }
    inode.current = bytes.clone();
    inode.durable = bytes;
    inode.dirty.clear();
    said
}

fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(name)) => Ok((dir.to_owned(), name.to_owned())),
        _ => Err(io::ErrorKind::InvalidInput.into()),
    }
}

impl Disk for SimDisk {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.down {
            return Err(down());
        }
        // Directories are created once, before the test cuts anything, and never removed.
        s.dirs.entry(dir.to_owned()).or_default();
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        if s.down {
            return Err(down());
        }
        let dir = s.dirs.get(dir).ok_or(io::ErrorKind::NotFound)?;
        Ok(dir.current.keys().cloned().collect())
    }

    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn DiskFile>> {
        let (dir, name) = split(path)?;
        let mut s = self.lock();
        s.change()?;
        let inode = s.next_inode;
        let generation = s.generation;
        let entry = s.dirs.get_mut(&dir).ok_or(io::ErrorKind::NotFound)?;
        if entry.current.contains_key(&name) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        entry.current.insert(name, inode);
        s.next_inode += 1;
        s.inodes.insert(inode, Inode::default());
        Ok(Arc::new(SimFile {
            disk: self.clone(),
            inode,
            generation,
            write: true,
        }))
    }

    fn open(&self, path: &Path, write: bool) -> io::Result<Arc<dyn DiskFile>> {
        let (dir, name) = split(path)?;
        let s = self.lock();
        if s.down {
            return Err(down());
        }
        let inode = *s
            .dirs
            .get(&dir)
            .and_then(|d| d.current.get(&name))
            .ok_or(io::ErrorKind::NotFound)?;
        Ok(Arc::new(SimFile {
            disk: self.clone(),
            inode,
            generation: s.generation,
            write,
        }))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let (dir, name) = split(path)?;
        let mut s = self.lock();
        s.change()?;
        let entry = s.dirs.get_mut(&dir).ok_or(io::ErrorKind::NotFound)?;
        entry
            .current
            .remove(&name)
            .map(|_| ())
            .ok_or(io::ErrorKind::NotFound.into())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.change()?;
        let entry = s.dirs.get_mut(dir).ok_or(io::ErrorKind::NotFound)?;
        entry.durable = entry.current.clone();
        let inodes: Vec<u64> = entry.current.values().copied().collect();
        for n in inodes {
            if let Some(inode) = s.inodes.get_mut(&n)
                && let Some(len) = inode.truncated.take()
            {
                inode.durable.truncate(len);
            }
        }
        Ok(())
    }
}

struct SimFile {
    disk: SimDisk,
    inode: u64,
    generation: u64,
    write: bool,
}

impl SimFile {
    /// The file's inode, for a change: counts it, and refuses it on a read-only handle.
    fn change(&self, f: impl FnOnce(&mut Inode)) -> io::Result<()> {
        let mut s = self.disk.lock();
        s.up(self.generation)?;
        if !self.write {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        s.change()?;
        let inode = s
            .inodes
            .get_mut(&self.inode)
            .ok_or(io::ErrorKind::NotFound)?;
        f(inode);
        inode.modified = Some(SystemTime::now());
        Ok(())
    }

    fn read<T>(&self, f: impl FnOnce(&Inode) -> io::Result<T>) -> io::Result<T> {
        let s = self.disk.lock();
        s.up(self.generation)?;
        f(s.inodes.get(&self.inode).ok_or(io::ErrorKind::NotFound)?)
    }
}

impl DiskFile for SimFile {
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let offset = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.change(|inode| {
            let end = offset + buf.len();
            if inode.current.len() < end {
                inode.current.resize(end, 0);
            }
            inode.current[offset..end].copy_from_slice(buf);
            inode
                .dirty
                .extend(offset / PAGE..end.div_ceil(PAGE).max(offset / PAGE + 1));
        })
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let offset = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.read(|inode| {
            let src = inode
                .current
                .get(offset..offset + buf.len())
                .ok_or(io::ErrorKind::UnexpectedEof)?;
            buf.copy_from_slice(src);
            Ok(())
        })
    }

    fn len(&self) -> io::Result<u64> {
        self.read(|inode| Ok(inode.current.len() as u64))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.change(|inode| {
            let old = inode.current.len();
            if len < old {
                inode.truncated = Some(inode.truncated.map_or(len, |t| t.min(len)));
                inode.dirty.retain(|&p| p * PAGE < len);
            } else {
                inode.dirty.extend(old / PAGE..len.div_ceil(PAGE));
            }
            inode.current.resize(len, 0);
        })
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut s = self.disk.lock();
        s.up(self.generation)?;
        s.change()?;
        let inode = s
            .inodes
            .get_mut(&self.inode)
            .ok_or(io::ErrorKind::NotFound)?;
        // The data and a longer length become durable; a pending truncation waits for the
        // directory, so the old bytes past it stay durable meanwhile.
        let len = inode.current.len();
        if inode.durable.len() < len {
            inode.durable.resize(len, 0);
        }
        let (current, durable) = (&inode.current, &mut inode.durable);
        for &page in &inode.dirty {
            let start = page * PAGE;
            let end = (start + PAGE).min(len);
            if start < end {
                durable[start..end].copy_from_slice(&current[start..end]);
            }
        }
        inode.dirty.clear();
        if inode.truncated.is_none() {
            inode.durable.truncate(len);
        }
        Ok(())
    }

    fn modified(&self) -> io::Result<SystemTime> {
        self.read(|inode| Ok(inode.modified.unwrap_or_else(SystemTime::now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk_with_dir() -> (SimDisk, PathBuf) {
        let disk = SimDisk::new(7, 0.0);
        let dir = PathBuf::from("/sim/log");
        disk.create_dir_all(&dir).unwrap();
        (disk, dir)
    }

    #[test]
    fn what_was_synced_survives_and_what_was_not_may_not() {
        // Arrange: a file whose name and first page are synced, then three more pages not.
        let (disk, dir) = disk_with_dir();
        let path = dir.join("a");
        let file = disk.create_new(&path).unwrap();
        file.write_all_at(&[1; PAGE], 0).unwrap();
        file.sync_data().unwrap();
        disk.sync_dir(&dir).unwrap();
        file.write_all_at(&[2; 3 * PAGE], PAGE as u64).unwrap();

        // Act
        disk.cut();
        let report = disk.restore();

        // Assert: the synced page is there; the handle is dead; the rest is some mix.
        assert!(file.len().is_err(), "a handle outlived the cut");
        let file = disk.open(&path, false).unwrap();
        let mut first = [0u8; PAGE];
        file.read_exact_at(&mut first, 0).unwrap();
        assert_eq!(first, [1; PAGE]);
        let len = file.len().unwrap() as usize;
        assert!((PAGE..=4 * PAGE).contains(&len), "{len}");
        let mut rest = vec![0u8; len - PAGE];
        file.read_exact_at(&mut rest, PAGE as u64).unwrap();
        assert!(rest.iter().all(|&b| b == 0 || b == 2));
        assert!(!report.is_empty() || len == PAGE);
    }

    #[test]
    fn an_unsynced_creation_or_truncation_can_be_lost() {
        let mut lost_creation = false;
        let mut lost_truncation = false;
        for seed in 0..32 {
            // Arrange
            let disk = SimDisk::new(seed, 0.0);
            let dir = PathBuf::from("/sim/log");
            disk.create_dir_all(&dir).unwrap();
            let kept = disk.create_new(&dir.join("kept")).unwrap();
            kept.write_all_at(&[3; 100], 0).unwrap();
            kept.sync_data().unwrap();
            disk.sync_dir(&dir).unwrap();
            kept.set_len(10).unwrap();
            kept.sync_data().unwrap();
            disk.create_new(&dir.join("new")).unwrap();

            // Act
            disk.cut();
            disk.restore();

            // Assert
            let names = disk.list(&dir).unwrap();
            assert!(names.contains(&"kept".to_owned()));
            lost_creation |= !names.contains(&"new".to_owned());
            let len = disk.open(&dir.join("kept"), false).unwrap().len().unwrap();
            assert!(len == 10 || len == 100, "{len}");
            lost_truncation |= len == 100;
        }
        assert!(lost_creation && lost_truncation);
    }

    #[test]
    fn the_power_goes_before_the_chosen_change() {
        let (disk, dir) = disk_with_dir();
        let file = disk.create_new(&dir.join("a")).unwrap();
        disk.cut_after(Some(2));

        file.write_all_at(b"one", 0).unwrap();
        assert!(file.write_all_at(b"two", 3).is_err());
        assert!(disk.is_down());
        assert!(!disk.while_up(|| {}));
    }
}
