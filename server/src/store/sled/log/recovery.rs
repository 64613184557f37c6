//! Opening the log: where it ends, what to apply again to sled, and whether a bad record is a
//! write that never reached the disk (cut off, with a warning) or damage to one that did
//! (refused, naming the file and offset).
//!
//! The rules follow from the order of writes (`log.rs`):
//! - a segment other than the newest was synced before the next one was created, so a bad
//!   record in it is damage;
//! - in the newest segment, a bad record before the position the checkpoint saw synced is
//!   damage too; one after it is an unsynced tail, and the log ends there;
//! - commit records follow each other without gaps, so a gap is damage.
//!
//! Read-only (`candor-server check --read-only`), nothing is cut, removed or created: the log
//! is read as far as it goes whole, and what a read-write open would have cut or refused is
//! reported as problems instead.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::UNIX_EPOCH;

use super::{
    Change, Checkpoint, Disk, DiskFile, Head, Inner, Log, Position, Record, Segment, create, io,
    list, records, segment_path, sync_dir, unix_now,
};
use crate::store::StoreError;

/// How to open the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store::sled) enum Mode {
    /// For the relay: cut an unsynced tail, refuse damage, start a new head segment.
    ReadWrite,
    /// For inspection: change nothing, refuse nothing, report what is found.
    ReadOnly,
}

/// What opening the log found.
pub(in crate::store::sled) struct Opened {
    pub log: Log,
    /// Commit records after the checkpoint, in order, to apply again.
    pub replay: Vec<(u64, Vec<Change>)>,
    /// The last LSN in the log (or the checkpoint's, if larger).
    pub last_lsn: u64,
    /// Bytes of unacknowledged tail cut off (read-only: that would be cut off).
    pub cut: u64,
    /// Read-only: the damage a read-write open refuses, and the tail it cuts, one line each.
    pub problems: Vec<String>,
}

/// A bad record that is not an unsynced tail.
struct Damage {
    file: PathBuf,
    offset: u64,
    what: &'static str,
}

impl Log {
    /// Opens the log in `dir`, reads it, and (read-write) cuts off an unsynced tail and starts
    /// a new head segment. `checkpoint` is what sled holds of the log.
    pub(in crate::store::sled) fn open(
        disk: Arc<dyn Disk>,
        dir: PathBuf,
        checkpoint: Checkpoint,
        segment_bytes: u64,
        mode: Mode,
    ) -> Result<Opened, StoreError> {
        let numbers = match mode {
            Mode::ReadWrite => {
                disk.create_dir_all(&dir)
                    .map_err(|e| io("creating its directory", e))?;
                list(disk.as_ref(), &dir)?
            }
            Mode::ReadOnly if !dir.exists() => Vec::new(),
            Mode::ReadOnly => list(disk.as_ref(), &dir)?,
        };
        let newest = numbers.last().copied();
        let mut segments = BTreeMap::new();
        let mut files: BTreeMap<u64, Arc<dyn DiskFile>> = BTreeMap::new();
        let mut replay = Vec::new();
        let mut last_lsn = checkpoint.lsn;
        let (mut cut, mut problems) = (0u64, Vec::new());
        for &number in &numbers {
            let path = segment_path(&dir, number);
            let file = disk
                .open(&path, mode == Mode::ReadWrite)
                .map_err(|e| io("opening a segment", e))?;
            let bytes = read_all(file.as_ref())?;
            let (recs, torn) = records(&bytes);
            let mut seg = Segment {
                size: bytes.len() as u64,
                ..Segment::default()
            };
            let mut damage = None;
            for (offset, len, record) in recs {
                match record {
                    Record::Envelope { .. } => seg.envelopes += u64::from(len),
                    Record::Commit { lsn, changes } => {
                        seg.max_lsn = seg.max_lsn.max(lsn);
                        if lsn <= checkpoint.lsn {
                            continue;
                        }
                        if lsn != last_lsn + 1 {
                            damage = Some((offset, "a gap in the log sequence numbers"));
                            break;
                        }
                        last_lsn = lsn;
                        replay.push((lsn, changes));
                    }
                }
            }
            let damage = damage.or_else(|| {
                let at = torn?;
                if Some(number) != newest {
                    Some((
                        at,
                        "a bad record in a segment synced before a later one began",
                    ))
                } else if (Position {
                    segment: number,
                    offset: at,
                }) < checkpoint.synced
                {
                    Some((
                        at,
                        "a bad record before the last checkpoint's synced position",
                    ))
                } else {
                    None
                }
            });
            if let Some((offset, what)) = damage {
                let damage = Damage {
                    file: path,
                    offset,
                    what,
                };
                match mode {
                    Mode::ReadWrite => return Err(damage.into()),
                    Mode::ReadOnly => {
                        problems.push(damage.line());
                        seg.size = offset;
                        files.insert(number, file);
                        segments.insert(number, seg);
                        // The log is read as far as it is whole.
                        break;
                    }
                }
            }
            if let Some(at) = torn {
                let tail = seg.size - at;
                match mode {
                    Mode::ReadWrite => {
                        // The truncation is made durable before anything else is written, so
                        // that it cannot be lost while a later segment survives.
                        file.set_len(at)
                            .and_then(|()| file.sync_data())
                            .map_err(|e| io("cutting an unsynced tail", e))?;
                        sync_dir(disk.as_ref(), &dir)?;
                        tracing::warn!(
                            file = %path.display(),
                            offset = at,
                            bytes = tail,
                            "cut off the log's unsynced tail (writes that were never acknowledged)"
                        );
                    }
                    Mode::ReadOnly => problems.push(format!(
                        "{}: an unsynced tail of {tail} bytes from byte {at} (a read-write open \
                         cuts it off)",
                        path.display()
                    )),
                }
                cut += tail;
                seg.size = at;
            } else if mode == Mode::ReadWrite && Some(number) == newest {
                // What was read may have been only in the page cache (after a crash of the
                // process, not of the machine): make it durable before the position is trusted.
                file.sync_data()
                    .map_err(|e| io("syncing the newest segment", e))?;
            }
            seg.sealed_at = Some(
                file.modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or_else(unix_now, |d| d.as_secs()),
            );
            files.insert(number, file);
            segments.insert(number, seg);
        }
        let synced = newest
            .and_then(|n| Some((n, segments.get(&n)?.size)))
            .map_or(Position::default(), |(segment, offset)| Position {
                segment,
                offset,
            });
        let head = match mode {
            Mode::ReadWrite => {
                let number = newest.map_or(1, |n| n + 1);
                let file = create(disk.as_ref(), &dir, number)?;
                sync_dir(disk.as_ref(), &dir)?;
                files.insert(number, file.clone());
                segments.insert(number, Segment::default());
                Head {
                    number,
                    file,
                    size: 0,
                    started: unix_now(),
                }
            }
            // Never written: the log is opened failed, so that every write is refused.
            Mode::ReadOnly => Head {
                number: synced.segment,
                file: match files.get(&synced.segment) {
                    Some(f) => f.clone(),
                    None => Arc::new(Closed),
                },
                size: synced.offset,
                started: unix_now(),
            },
        };
        Ok(Opened {
            log: Log {
                disk,
                dir,
                segment_bytes,
                inner: Mutex::new(Inner {
                    head,
                    unsynced: BTreeMap::new(),
                    dir_dirty: false,
                    synced,
                    failed: mode == Mode::ReadOnly,
                }),
                files: RwLock::new(files),
                segments: Mutex::new(segments),
            },
            replay,
            last_lsn,
            cut,
            problems,
        })
    }
}

fn read_all(file: &dyn DiskFile) -> Result<Vec<u8>, StoreError> {
    let len = file.len().map_err(|e| io("reading a segment", e))?;
    let len = usize::try_from(len).map_err(|_| StoreError::Corrupt("a segment's length"))?;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, 0)
        .map_err(|e| io("reading a segment", e))?;
    Ok(bytes)
}

impl Damage {
    fn line(&self) -> String {
        format!(
            "{}: damaged at byte {}: {}",
            self.file.display(),
            self.offset,
            self.what
        )
    }
}

impl From<Damage> for StoreError {
    fn from(d: Damage) -> Self {
        StoreError::Damaged {
            file: d.file,
            offset: d.offset,
            what: d.what,
        }
    }
}

/// The head of a read-only log with no segment: nothing to read or write.
struct Closed;

impl DiskFile for Closed {
    fn write_all_at(&self, _: &[u8], _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::PermissionDenied.into())
    }

    fn read_exact_at(&self, _: &mut [u8], _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }

    fn len(&self) -> std::io::Result<u64> {
        Ok(0)
    }

    fn set_len(&self, _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::PermissionDenied.into())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn modified(&self) -> std::io::Result<std::time::SystemTime> {
        Ok(std::time::SystemTime::now())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use candor_protocol::MailboxId;
    use sled::IVec;

    use super::super::OsDisk;
    use super::super::record::{commit_record, envelope_record};
    use super::*;

    fn commit(lsn: u64) -> Vec<u8> {
        let change: Change = (IVec::from(b"k"), Some(IVec::from(&lsn.to_be_bytes())));
        commit_record(lsn, [change].iter())
    }

    fn write_segment(dir: &Path, number: u64, bytes: &[u8]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(segment_path(dir, number), bytes).unwrap();
    }

    fn open(dir: &Path, checkpoint: Checkpoint, mode: Mode) -> Result<Opened, StoreError> {
        Log::open(Arc::new(OsDisk), dir.to_owned(), checkpoint, 1 << 20, mode)
    }

    fn at(lsn: u64) -> Checkpoint {
        Checkpoint {
            lsn,
            synced: Position::default(),
        }
    }

    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_newest_segments_unsynced_tail_is_cut_and_the_rest_replayed() {
        // Arrange: commits 1 and 2 whole, 3 torn, in the newest segment.
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let mut bytes = commit(1);
        bytes.extend(commit(2));
        let whole = bytes.len() as u64;
        bytes.extend(&commit(3)[..10]);
        write_segment(&log_dir, 1, &bytes);

        // Act
        let opened = open(&log_dir, at(1), Mode::ReadWrite).unwrap();

        // Assert
        let lsns: Vec<u64> = opened.replay.iter().map(|(lsn, _)| *lsn).collect();
        assert_eq!(lsns, [2]);
        assert_eq!((opened.last_lsn, opened.cut), (2, 10));
        assert_eq!(
            std::fs::metadata(segment_path(&log_dir, 1)).unwrap().len(),
            whole
        );
        assert_eq!(list(&OsDisk, &log_dir).unwrap(), [1, 2]);
        assert_eq!(
            opened.log.synced(),
            Position {
                segment: 1,
                offset: whole
            }
        );
    }

    #[test]
    fn a_bad_record_in_an_older_segment_is_damage_named_by_file_and_offset() {
        // Arrange: a flipped bit in segment 1, which a later segment proves was synced.
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let mut first = commit(1);
        let second_at = first.len() as u64;
        first.extend(commit(2));
        let last = first.len() - 1;
        first[last] ^= 0x10;
        write_segment(&log_dir, 1, &first);
        write_segment(
            &log_dir,
            2,
            &envelope_record(&MailboxId::from_bytes([1; 16]), 1, b"{}"),
        );
        let before = snapshot(&log_dir);

        // Act
        let refused = open(&log_dir, at(0), Mode::ReadWrite);

        // Assert: refused, naming the place, and nothing changed.
        match refused {
            Err(StoreError::Damaged { file, offset, .. }) => {
                assert_eq!(file, segment_path(&log_dir, 1));
                assert_eq!(offset, second_at);
            }
            Err(other) => panic!("expected damage, got {other}"),
            Ok(_) => panic!("expected damage, the log opened"),
        }
        assert_eq!(snapshot(&log_dir), before);
    }

    #[test]
    fn a_bad_record_before_the_checkpoints_synced_position_is_damage() {
        // Arrange: the newest segment, damaged before the position a checkpoint saw synced.
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let mut bytes = commit(1);
        bytes.extend(commit(2));
        let end = bytes.len() as u64;
        bytes[3] ^= 1;
        write_segment(&log_dir, 1, &bytes);
        let checkpoint = Checkpoint {
            lsn: 0,
            synced: Position {
                segment: 1,
                offset: end,
            },
        };

        // Act
        let refused = open(&log_dir, checkpoint, Mode::ReadWrite);

        // Assert
        assert!(
            matches!(refused, Err(StoreError::Damaged { offset: 0, .. })),
            "the log opened over damage"
        );
        // Past that position, the same bytes are an unsynced tail.
        let later = Checkpoint {
            synced: Position::default(),
            ..checkpoint
        };
        assert_eq!(open(&log_dir, later, Mode::ReadWrite).unwrap().cut, end);
    }

    #[test]
    fn a_gap_in_lsns_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let mut bytes = commit(1);
        bytes.extend(commit(3));
        write_segment(&log_dir, 1, &bytes);

        assert!(matches!(
            open(&log_dir, at(0), Mode::ReadWrite),
            Err(StoreError::Damaged { .. })
        ));
    }

    #[test]
    fn read_only_reports_damage_and_tails_and_changes_nothing() {
        // Arrange: damage in segment 1, a torn tail in segment 2.
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("log");
        let mut first = commit(1);
        first.extend(commit(2));
        let last = first.len() - 1;
        first[last] ^= 1;
        write_segment(&log_dir, 1, &first);
        write_segment(&log_dir, 2, &commit(3)[..5]);
        let before = snapshot(&log_dir);

        // Act
        let opened = open(&log_dir, at(0), Mode::ReadOnly).unwrap();

        // Assert: the log reads up to the damage, says where it is, and is left as it was.
        assert_eq!(opened.last_lsn, 1);
        assert_eq!(opened.problems.len(), 1, "{:?}", opened.problems);
        assert!(opened.problems[0].contains("0000000000000001.seg"));
        assert!(opened.problems[0].contains("damaged at byte"));
        assert!(
            opened.log.append(b"x", |_| {}).is_err(),
            "a read-only log wrote"
        );
        assert_eq!(snapshot(&log_dir), before);
    }
}
