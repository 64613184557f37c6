//! The keys and records of handoff channels, their notice board and the ombuds' notes (a part
//! of [`super`], whose layout rules they follow).

use candor_protocol::{MailboxId, OfficeId};

use super::{EXPIRY_CHANNEL, RECORD_VERSION, Reader, expiry_entry, id_key, prefix};
use crate::store::{ChannelRecord, StoreError};

pub(in crate::store::sled) fn channel_key(id: &MailboxId) -> [u8; 17] {
    id_key(prefix::CHANNEL, id.as_bytes())
}

pub(in crate::store::sled) fn channel_expiry_key(at: u64, id: &MailboxId) -> [u8; 26] {
    expiry_entry(at, EXPIRY_CHANNEL, id.as_bytes())
}

pub(in crate::store::sled) fn board_key(cursor: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = prefix::BOARD;
    k[1..].copy_from_slice(&cursor.to_be_bytes());
    k
}

/// The one key of the board's counter.
pub(in crate::store::sled) const BOARD_CURSOR_KEY: [u8; 1] = [prefix::BOARD_CURSOR];

/// The prefix of every entry of an office's channel list.
pub(in crate::store::sled) fn office_channels_prefix(office: &OfficeId) -> Vec<u8> {
    let mut k = Vec::with_capacity(office.as_str().len() + 18);
    k.push(prefix::OFFICE_CHANNEL);
    k.extend_from_slice(office.as_str().as_bytes());
    k.push(0);
    k
}

pub(in crate::store::sled) fn office_channel_key(office: &OfficeId, id: &MailboxId) -> Vec<u8> {
    let mut k = office_channels_prefix(office);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The prefix of every note key of a mailbox.
pub(in crate::store::sled) fn notes_prefix(id: &MailboxId) -> [u8; 17] {
    id_key(prefix::NOTE, id.as_bytes())
}

pub(in crate::store::sled) fn note_key(id: &MailboxId, number: u64) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[..17].copy_from_slice(&notes_prefix(id));
    k[17..].copy_from_slice(&number.to_be_bytes());
    k
}

// Channel record: version, office ID length (u8) and bytes, expiry, cursor, notice (length
// u32 and bytes), body (the rest).
pub(in crate::store::sled) fn encode_channel(c: &ChannelRecord) -> Vec<u8> {
    let office = c.office.as_str().as_bytes();
    let mut v = Vec::with_capacity(2 + office.len() + 20 + c.notice.len() + c.body.len());
    v.push(RECORD_VERSION);
    // Office IDs are at most 32 bytes.
    v.push(office.len() as u8);
    v.extend_from_slice(office);
    v.extend_from_slice(&c.expiry.to_be_bytes());
    v.extend_from_slice(&c.cursor.to_be_bytes());
    // A notice is far below 4 GiB: the relay's body limit bounds it.
    v.extend_from_slice(&(c.notice.len() as u32).to_be_bytes());
    v.extend_from_slice(&c.notice);
    v.extend_from_slice(&c.body);
    v
}

pub(in crate::store::sled) fn decode_channel(raw: &[u8]) -> Result<ChannelRecord, StoreError> {
    let mut r = Reader(raw);
    let parsed = (|| {
        if r.u8()? != RECORD_VERSION {
            return None;
        }
        let len = usize::from(r.u8()?);
        let office: OfficeId = std::str::from_utf8(r.take(len)?).ok()?.parse().ok()?;
        let expiry = r.u64()?;
        let cursor = r.u64()?;
        let notice_len = usize::try_from(r.u32()?).ok()?;
        let notice = r.take(notice_len)?.to_vec();
        Some(ChannelRecord {
            office,
            expiry,
            cursor,
            notice,
            body: r.0.to_vec(),
        })
    })();
    parsed.ok_or(StoreError::Corrupt("channel record"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_records_round_trip_and_refuse_short_ones() {
        let rec = ChannelRecord {
            office: "ombuds".parse().unwrap(),
            expiry: 1_800_000_000,
            cursor: 7,
            notice: b"sealed notice".to_vec(),
            body: b"body".to_vec(),
        };
        let mut raw = encode_channel(&rec);
        assert_eq!(decode_channel(&raw).unwrap(), rec);
        assert!(decode_channel(&raw[..2 + 6 + 16 + 4 + 5]).is_err());
        raw[0] = 2;
        assert!(decode_channel(&raw).is_err());
    }
}
