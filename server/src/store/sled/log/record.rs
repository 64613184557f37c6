//! The log's record format: `len u32 ‖ crc32 u32 ‖ payload`, an envelope body or one group
//! commit's sled changes, and the pointer sled keeps to an envelope's record.

use candor_protocol::MailboxId;
use sled::IVec;

/// An envelope body.
pub(in crate::store::sled) const KIND_ENVELOPE: u8 = 1;
/// A group commit's sled changes.
pub(in crate::store::sled) const KIND_COMMIT: u8 = 2;
const TAG_REMOVE: u8 = 0;
const TAG_INSERT: u8 = 1;
/// `len` and `crc`.
const HEADER: usize = 8;
/// Kind, mailbox and seq before an envelope's JSON.
const ENVELOPE_PREFIX: usize = 1 + 16 + 8;

/// Where an envelope's record is: stored in sled as the envelope key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store::sled) struct Pointer {
    pub segment: u64,
    pub offset: u64,
    /// The whole record's length, header included.
    pub len: u32,
}

impl Pointer {
    pub(in crate::store::sled) const LEN: usize = 20;

    pub(in crate::store::sled) fn encode(&self) -> [u8; Self::LEN] {
        let mut v = [0u8; Self::LEN];
        v[..8].copy_from_slice(&self.segment.to_be_bytes());
        v[8..16].copy_from_slice(&self.offset.to_be_bytes());
        v[16..].copy_from_slice(&self.len.to_be_bytes());
        v
    }

    pub(in crate::store::sled) fn decode(v: &[u8]) -> Option<Self> {
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
pub(in crate::store::sled) type Change = (IVec, Option<IVec>);

/// A decoded record; an envelope's JSON is borrowed from the bytes it was read from, so that
/// opening the log and compacting it copy no envelope they only pass over.
pub(in crate::store::sled) enum Record<'a> {
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

/// A record: `write` appends the payload after room for the header, which is then filled in
/// (one buffer, no copy of the payload).
pub(super) fn frame(capacity: usize, write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
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

pub(super) fn envelope_record(mailbox: &MailboxId, seq: u64, json: &[u8]) -> Vec<u8> {
    frame(ENVELOPE_PREFIX + json.len(), |payload| {
        payload.push(KIND_ENVELOPE);
        payload.extend_from_slice(mailbox.as_bytes());
        payload.extend_from_slice(&seq.to_le_bytes());
        payload.extend_from_slice(json);
    })
}

pub(super) fn commit_record<'a>(
    lsn: u64,
    changes: impl ExactSizeIterator<Item = &'a Change>,
) -> Vec<u8> {
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
pub(in crate::store::sled) fn decode(payload: &[u8]) -> Option<Record<'_>> {
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
pub(in crate::store::sled) fn records(bytes: &[u8]) -> (Vec<(u64, u32, Record<'_>)>, Option<u64>) {
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
