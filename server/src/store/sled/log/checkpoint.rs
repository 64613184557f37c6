//! The checkpoint that sled holds of the log: how far its commit records are applied, and how
//! far the log had been synced then (`log.rs`, "Checkpoints and recovery").

/// What sled holds of the log, stored under [`super::CHECKPOINT_KEY`]: `lsn u64` (every commit up to
/// it is applied), then optionally `segment u64 ‖ offset u64`, a position in the log up to
/// which it had been synced when the checkpoint was taken (so that a bad record before it is
/// known to be damage). Stores written before the position was kept have the LSN alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(in crate::store::sled) struct Checkpoint {
    pub lsn: u64,
    pub synced: Position,
}

/// A place in the log: a segment and a byte offset in it. Ordered as the log is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::store::sled) struct Position {
    pub segment: u64,
    pub offset: u64,
}

impl Checkpoint {
    pub(in crate::store::sled) fn encode(&self) -> [u8; 24] {
        let mut v = [0u8; 24];
        v[..8].copy_from_slice(&self.lsn.to_be_bytes());
        v[8..16].copy_from_slice(&self.synced.segment.to_be_bytes());
        v[16..].copy_from_slice(&self.synced.offset.to_be_bytes());
        v
    }

    pub(in crate::store::sled) fn decode(v: &[u8]) -> Option<Self> {
        let word = |i: usize| Some(u64::from_be_bytes(v.get(i..i + 8)?.try_into().ok()?));
        match v.len() {
            8 => Some(Self {
                lsn: word(0)?,
                synced: Position::default(),
            }),
            24 => Some(Self {
                lsn: word(0)?,
                synced: Position {
                    segment: word(8)?,
                    offset: word(16)?,
                },
            }),
            _ => None,
        }
    }
}
