//! The byte layout of the sled store: one tree, each kind of entry under its own one-byte key
//! prefix ([`prefix`]), keys with big-endian integers (so byte order is numeric order), and
//! records (a version byte, then fixed fields). Decoders refuse anything short,
//! long or of another version.

use candor_protocol::{HandoffId, MailboxId, OfficeId, SignedCard, TallyId};

use crate::store::{MailboxRecord, OfficeRecord, PackageRecord, StoreError, TokenKind, UsedToken};

mod channels;
pub(super) use channels::*;

/// The version byte of every record.
const RECORD_VERSION: u8 = 1;
/// The kind byte of a mailbox's expiry entry.
pub(in crate::store) const EXPIRY_MAILBOX: u8 = 1;
/// The kind byte of a handoff package's expiry entry.
pub(in crate::store) const EXPIRY_PACKAGE: u8 = 2;
/// The kind byte of a handoff channel's expiry entry.
pub(in crate::store) const EXPIRY_CHANNEL: u8 = 3;

pub(super) fn token_code(kind: TokenKind) -> u8 {
    match kind {
        TokenKind::Pow => 1,
        TokenKind::Invite => 2,
    }
}

/// The key prefix of each kind of entry in the one tree.
pub(super) mod prefix {
    /// Office ID → office record.
    pub const OFFICE: u8 = b'o';
    /// Office ID → activity `u64` (as of the last open or deletion), open mailboxes `u64`.
    pub const COUNTERS: u8 = b'c';
    /// Mailbox (16) → mailbox record.
    pub const MAILBOX: u8 = b'm';
    /// Mailbox (16) ‖ seq `u64` → the envelope's `log::Pointer`.
    pub const ENVELOPE: u8 = b'e';
    /// Expiry `u64` ‖ kind `u8` ‖ id (16) → empty.
    pub const EXPIRY: u8 = b'x';
    /// Office ID ‖ `0x00` ‖ activity `u64` → mailbox (16).
    pub const INBOX: u8 = b'i';
    /// Kind `u8` ‖ expires `u64` ‖ random (16) → empty.
    pub const USED: u8 = b'u';
    /// The one key holding the log checkpoint's LSN `u64` (see `log.rs`).
    pub const LOG: u8 = b'l';
    /// Handoff (16) → package record.
    pub const PACKAGE: u8 = b'h';
    /// Mailbox (16) ‖ handoff (16) → empty: a mailbox's packages.
    pub const MAILBOX_PACKAGE: u8 = b'p';
    /// Office ID ‖ `0x00` ‖ tally (16) → keep-until year `u16` ‖ sealed tally.
    pub const TALLY: u8 = b't';
    /// Keep-until year `u16` ‖ tally (16) → office ID: the statistics retention's index.
    pub const TALLY_EXPIRY: u8 = b'y';
    /// Channel (16) → channel record.
    pub const CHANNEL: u8 = b'k';
    /// Cursor `u64` → channel (16): the notice board.
    pub const BOARD: u8 = b'b';
    /// Office ID ‖ `0x00` ‖ channel (16) → empty: an office's channels.
    pub const OFFICE_CHANNEL: u8 = b'q';
    /// The one key holding the last board cursor handed out, `u64`.
    pub const BOARD_CURSOR: u8 = b'a';
    /// Mailbox (16) ‖ number `u64` → the note.
    pub const NOTE: u8 = b'n';
    /// Every prefix in use.
    pub const ALL: [u8; 17] = [
        OFFICE,
        COUNTERS,
        MAILBOX,
        ENVELOPE,
        EXPIRY,
        INBOX,
        USED,
        LOG,
        PACKAGE,
        MAILBOX_PACKAGE,
        TALLY,
        TALLY_EXPIRY,
        CHANNEL,
        BOARD,
        OFFICE_CHANNEL,
        BOARD_CURSOR,
        NOTE,
    ];
}

pub(super) fn used_key(t: &UsedToken) -> [u8; 26] {
    let mut k = [0u8; 26];
    k[0] = prefix::USED;
    k[1] = token_code(t.kind);
    k[2..10].copy_from_slice(&t.expires.to_be_bytes());
    k[10..].copy_from_slice(&t.random);
    k
}

pub(super) fn office_key(office: &OfficeId) -> Vec<u8> {
    prefixed(prefix::OFFICE, office.as_str().as_bytes())
}

pub(super) fn counters_key(office: &OfficeId) -> Vec<u8> {
    prefixed(prefix::COUNTERS, office.as_str().as_bytes())
}

fn prefixed(p: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(p);
    k.extend_from_slice(rest);
    k
}

/// A one-byte prefix and a 16-byte ID.
fn id_key(p: u8, id: &[u8; 16]) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = p;
    k[1..].copy_from_slice(id);
    k
}

pub(super) fn mailbox_key(id: &MailboxId) -> [u8; 17] {
    id_key(prefix::MAILBOX, id.as_bytes())
}

/// The prefix of every envelope key of a mailbox.
pub(super) fn envelopes_prefix(id: &MailboxId) -> [u8; 17] {
    id_key(prefix::ENVELOPE, id.as_bytes())
}

pub(super) fn envelope_key(id: &MailboxId, seq: u64) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[..17].copy_from_slice(&envelopes_prefix(id));
    k[17..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn expiry_key(at: u64, id: &MailboxId) -> [u8; 26] {
    expiry_entry(at, EXPIRY_MAILBOX, id.as_bytes())
}

pub(super) fn package_expiry_key(at: u64, id: &HandoffId) -> [u8; 26] {
    expiry_entry(at, EXPIRY_PACKAGE, id.as_bytes())
}

fn expiry_entry(at: u64, kind: u8, id: &[u8; 16]) -> [u8; 26] {
    let mut k = [0u8; 26];
    k[0] = prefix::EXPIRY;
    k[1..9].copy_from_slice(&at.to_be_bytes());
    k[9] = kind;
    k[10..].copy_from_slice(id);
    k
}

pub(super) fn package_key(id: &HandoffId) -> [u8; 17] {
    id_key(prefix::PACKAGE, id.as_bytes())
}

/// The prefix of every entry of a mailbox's package list.
pub(super) fn mailbox_packages_prefix(id: &MailboxId) -> [u8; 17] {
    id_key(prefix::MAILBOX_PACKAGE, id.as_bytes())
}

pub(super) fn mailbox_package_key(mailbox: &MailboxId, id: &HandoffId) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[..17].copy_from_slice(&mailbox_packages_prefix(mailbox));
    k[17..].copy_from_slice(id.as_bytes());
    k
}

pub(super) fn inbox_key(office: &OfficeId, activity: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(office.as_str().len() + 10);
    k.push(prefix::INBOX);
    k.extend_from_slice(office.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&activity.to_be_bytes());
    k
}

/// The prefix of every tally key of an office.
pub(super) fn tallies_prefix(office: &OfficeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(office.as_str().len() + 18);
    k.push(prefix::TALLY);
    k.extend_from_slice(office.as_str().as_bytes());
    k.push(0);
    k
}

pub(super) fn tally_key(office: &OfficeId, id: &TallyId) -> Vec<u8> {
    let mut k = tallies_prefix(office);
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn tally_expiry_key(keep_until: u16, id: &TallyId) -> [u8; 19] {
    let mut k = [0u8; 19];
    k[0] = prefix::TALLY_EXPIRY;
    k[1..3].copy_from_slice(&keep_until.to_be_bytes());
    k[3..].copy_from_slice(id.as_bytes());
    k
}

pub(super) fn read_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.try_into().ok()?))
}

pub(super) fn mailbox_id(b: &[u8]) -> Option<MailboxId> {
    Some(MailboxId::from_bytes(b.try_into().ok()?))
}

pub(super) fn handoff_id(b: &[u8]) -> Option<HandoffId> {
    Some(HandoffId::from_bytes(b.try_into().ok()?))
}

/// A cursor over a stored record.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        read_u64(self.take(8)?)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

// Office record: version, signing key (32), serial, retention days (u32), signature (64),
// card bytes (the rest).
pub(super) fn encode_office(o: &OfficeRecord) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + 32 + 8 + 4 + 64 + o.card.card.len());
    v.push(RECORD_VERSION);
    v.extend_from_slice(&o.signing_key);
    v.extend_from_slice(&o.serial.to_be_bytes());
    v.extend_from_slice(&o.retention_days.to_be_bytes());
    v.extend_from_slice(&o.card.signature);
    v.extend_from_slice(&o.card.card);
    v
}

pub(super) fn decode_office(id: &OfficeId, raw: &[u8]) -> Result<OfficeRecord, StoreError> {
    let mut r = Reader(raw);
    let parsed = (|| {
        if r.u8()? != RECORD_VERSION {
            return None;
        }
        let signing_key = r.array::<32>()?;
        let serial = r.u64()?;
        let retention_days = r.u32()?;
        let signature = r.array::<64>()?;
        Some(OfficeRecord {
            id: id.clone(),
            card: SignedCard {
                card: r.0.to_vec(),
                signature,
            },
            signing_key,
            serial,
            retention_days,
        })
    })();
    parsed.ok_or(StoreError::Corrupt("office record"))
}

/// The version byte of a mailbox record: 2 added the closed flag and the read marker. A version
/// 1 record (of a case opened before the wire's version 2) reads as open and unmarked; its
/// envelopes are version 1, which clients refuse as such, and it is swept on its expiry.
const MAILBOX_VERSION: u8 = 2;

// Mailbox record: version, office ID length (u8) and bytes, signing key, KEM key, last_seq,
// count, bytes, expiry, activity; since version 2 also closed (u8, 0 or 1) and the marker
// (length u16 and bytes, length 0 for none).
pub(super) fn encode_mailbox(m: &MailboxRecord) -> Vec<u8> {
    let office = m.office.as_str().as_bytes();
    let marker = m.marker.as_deref().unwrap_or_default();
    let mut v = Vec::with_capacity(2 + office.len() + 64 + 43 + marker.len());
    v.push(MAILBOX_VERSION);
    // Office IDs are at most 32 bytes.
    v.push(office.len() as u8);
    v.extend_from_slice(office);
    v.extend_from_slice(&m.signing_key);
    v.extend_from_slice(&m.kem_key);
    for n in [m.last_seq, m.count, m.bytes, m.expiry, m.activity] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v.push(u8::from(m.closed));
    // Markers are at most `MAX_MARKER_BYTES` (256), checked by the relay.
    v.extend_from_slice(&(marker.len() as u16).to_be_bytes());
    v.extend_from_slice(marker);
    v
}

pub(super) fn decode_mailbox(raw: &[u8]) -> Result<MailboxRecord, StoreError> {
    let mut r = Reader(raw);
    let parsed = (|| {
        let version = r.u8()?;
        if version != 1 && version != MAILBOX_VERSION {
            return None;
        }
        let len = usize::from(r.u8()?);
        let office: OfficeId = std::str::from_utf8(r.take(len)?).ok()?.parse().ok()?;
        let mut rec = MailboxRecord {
            office,
            signing_key: r.array()?,
            kem_key: r.array()?,
            last_seq: r.u64()?,
            count: r.u64()?,
            bytes: r.u64()?,
            expiry: r.u64()?,
            activity: r.u64()?,
            closed: false,
            marker: None,
        };
        if version == MAILBOX_VERSION {
            rec.closed = match r.u8()? {
                0 => false,
                1 => true,
                _ => return None,
            };
            let len = usize::from(u16::from_be_bytes(r.array()?));
            rec.marker = (len > 0).then(|| r.take(len).map(<[u8]>::to_vec)).flatten();
            if len > 0 && rec.marker.is_none() {
                return None;
            }
        }
        r.0.is_empty().then_some(rec)
    })();
    parsed.ok_or(StoreError::Corrupt("mailbox record"))
}

// Package record: version, mailbox (16), expiry, body (the rest).
pub(super) fn encode_package(p: &PackageRecord) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + 16 + 8 + p.body.len());
    v.push(RECORD_VERSION);
    v.extend_from_slice(p.mailbox.as_bytes());
    v.extend_from_slice(&p.expiry.to_be_bytes());
    v.extend_from_slice(&p.body);
    v
}

pub(super) fn decode_package(raw: &[u8]) -> Result<PackageRecord, StoreError> {
    let mut r = Reader(raw);
    let parsed = (|| {
        if r.u8()? != RECORD_VERSION {
            return None;
        }
        Some(PackageRecord {
            mailbox: MailboxId::from_bytes(r.array()?),
            expiry: r.u64()?,
            body: r.0.to_vec(),
        })
    })();
    parsed.ok_or(StoreError::Corrupt("package record"))
}

/// An office's counters: its activity number as of the last open or deletion, and its open
/// mailboxes.
pub(super) fn encode_counters(activity: u64, open: u64) -> [u8; 16] {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_mailbox_record_reads_as_open_and_unmarked() {
        // Version 1's layout: no closed flag, no marker.
        let mut raw = vec![1, 6];
        raw.extend_from_slice(b"ombuds");
        raw.extend_from_slice(&[1; 32]);
        raw.extend_from_slice(&[2; 32]);
        for n in [3u64, 3, 4000, 1_800_000_000, 9] {
            raw.extend_from_slice(&n.to_be_bytes());
        }
        let rec = decode_mailbox(&raw).unwrap();
        assert!(!rec.closed && rec.marker.is_none() && rec.last_seq == 3);
        raw[0] = 3;
        assert!(decode_mailbox(&raw).is_err());
    }

    #[test]
    fn mailbox_records_round_trip_and_refuse_trailing_bytes() {
        let rec = MailboxRecord {
            office: "ombuds".parse().unwrap(),
            signing_key: [1; 32],
            kem_key: [2; 32],
            last_seq: 3,
            count: 3,
            bytes: 4000,
            expiry: 1_800_000_000,
            activity: 9,
            closed: false,
            marker: None,
        };
        let mut raw = encode_mailbox(&rec);
        assert_eq!(decode_mailbox(&raw).unwrap(), rec);
        raw.push(0);
        assert!(decode_mailbox(&raw).is_err());
        let marked = MailboxRecord {
            closed: true,
            marker: Some(vec![5; 56]),
            ..rec.clone()
        };
        let raw = encode_mailbox(&marked);
        assert_eq!(decode_mailbox(&raw).unwrap(), marked);
        assert!(decode_mailbox(&raw[..raw.len() - 1]).is_err());
    }

    #[test]
    fn package_records_round_trip_and_refuse_other_versions() {
        let rec = PackageRecord {
            mailbox: MailboxId::from_bytes([7; 16]),
            expiry: 1_800_000_000,
            body: b"sealed".to_vec(),
        };
        let mut raw = encode_package(&rec);
        assert_eq!(decode_package(&raw).unwrap(), rec);
        assert!(decode_package(&raw[..24]).is_err());
        raw[0] = 2;
        assert!(decode_package(&raw).is_err());
    }

    #[test]
    fn index_keys_sort_numerically() {
        let id = MailboxId::from_bytes([0xff; 16]);
        let other = MailboxId::from_bytes([0; 16]);
        assert!(expiry_key(255, &id) < expiry_key(256, &other));
        let office: OfficeId = "ombuds".parse().unwrap();
        assert!(inbox_key(&office, 255) < inbox_key(&office, 256));
        assert!(envelope_key(&id, 255) < envelope_key(&id, 256));
        assert!(board_key(255) < board_key(256));
        assert!(note_key(&id, 255) < note_key(&id, 256));
    }
}
