//! Every record of the store, in an order a copy can insert them in (`store::copy`).

use candor_protocol::{OfficeId, TallyId};

use super::channels::board_counter;
use super::codec::{decode_channel, decode_package, handoff_id, mailbox_id, prefix, read_u64};
use super::{SledStore, backend};
use crate::store::copy::Item;
use crate::store::{NewPackage, NewTally, RawEnvelope, StoreError, TokenKind, UsedToken};

impl SledStore {
    /// Hands every record to `each`: offices, mailboxes, envelopes, notes, packages, channels,
    /// the board's counter, used tokens, tallies, in that order. The relay must not be running on this store.
    pub(in crate::store) fn export<E: From<StoreError>>(
        &self,
        each: &mut dyn FnMut(Item) -> Result<(), E>,
    ) -> Result<(), E> {
        for office in self.all_offices() {
            let (id, record) = office?;
            let record = record?;
            let activity = self.activity(&id)?.last;
            each(Item::Office { record, activity })?;
        }
        for mailbox in self.all_mailboxes() {
            let (id, record) = mailbox?;
            let id = id.ok_or(StoreError::Corrupt("mailbox key"))?;
            each(Item::Mailbox {
                id,
                record: record?,
            })?;
        }
        for item in self.tree.scan_prefix([prefix::ENVELOPE]) {
            let (key, value) = item.map_err(backend)?;
            let corrupt = || StoreError::Corrupt("envelope key");
            let mailbox = (key.len() == 25)
                .then(|| mailbox_id(&key[1..17]))
                .flatten()
                .ok_or_else(corrupt)?;
            let seq = read_u64(&key[17..]).ok_or_else(corrupt)?;
            let json = self
                .read_envelope(&key, value, &mailbox, seq)?
                .ok_or(StoreError::Corrupt("an envelope vanished during the copy"))?;
            each(Item::Envelope {
                mailbox,
                envelope: RawEnvelope { seq, json },
            })?;
        }
        for item in self.tree.scan_prefix([prefix::NOTE]) {
            let (key, value) = item.map_err(backend)?;
            let corrupt = || StoreError::Corrupt("note key");
            let (mailbox, number) = (key.len() == 25)
                .then(|| mailbox_id(&key[1..17]).zip(read_u64(&key[17..])))
                .flatten()
                .ok_or_else(corrupt)?;
            each(Item::Note {
                mailbox,
                number,
                note: value.to_vec(),
            })?;
        }
        for item in self.tree.scan_prefix([prefix::PACKAGE]) {
            let (key, value) = item.map_err(backend)?;
            let id = handoff_id(&key[1..]).ok_or(StoreError::Corrupt("package key"))?;
            let record = decode_package(&value)?;
            each(Item::Package(NewPackage { id, record }))?;
        }
        for item in self.tree.scan_prefix([prefix::CHANNEL]) {
            let (key, value) = item.map_err(backend)?;
            let id = mailbox_id(&key[1..]).ok_or(StoreError::Corrupt("channel key"))?;
            let record = decode_channel(&value)?;
            each(Item::Channel { id, record })?;
        }
        each(Item::BoardCursor(board_counter(self)?))?;
        for key in self.tree.scan_prefix([prefix::USED]).keys() {
            each(Item::Token(used_token(&key.map_err(backend)?)?))?;
        }
        for item in self.tree.scan_prefix([prefix::TALLY]) {
            let (key, value) = item.map_err(backend)?;
            let (office, tally) = tally(&key[1..], &value)?;
            each(Item::Tally { office, tally })?;
        }
        Ok(())
    }
}

/// A used token from its key: prefix, kind `u8`, expires `u64`, random (16).
fn used_token(key: &[u8]) -> Result<UsedToken, StoreError> {
    let corrupt = StoreError::Corrupt("used token key");
    if key.len() != 26 {
        return Err(corrupt);
    }
    let kind = match key[1] {
        1 => TokenKind::Pow,
        2 => TokenKind::Invite,
        _ => return Err(corrupt),
    };
    let expires = read_u64(&key[2..10]).ok_or(StoreError::Corrupt("used token key"))?;
    let random = key[10..26]
        .try_into()
        .map_err(|_| StoreError::Corrupt("used token key"))?;
    Ok(UsedToken {
        kind,
        random,
        expires,
    })
}

/// A tally from its key (office ID ‖ `0x00` ‖ tally (16), prefix cut off) and value
/// (keep-until year `u16` ‖ sealed).
fn tally(key: &[u8], value: &[u8]) -> Result<(OfficeId, NewTally), StoreError> {
    let corrupt = || StoreError::Corrupt("tally entry");
    let split = key.len().checked_sub(17).ok_or_else(corrupt)?;
    if key[split] != 0 || value.len() < 2 {
        return Err(corrupt());
    }
    let office = std::str::from_utf8(&key[..split])
        .ok()
        .and_then(|s| s.parse::<OfficeId>().ok())
        .ok_or_else(corrupt)?;
    let id = TallyId::from_bytes(key[split + 1..].try_into().map_err(|_| corrupt())?);
    let keep_until = u16::from_be_bytes([value[0], value[1]]);
    Ok((
        office,
        NewTally {
            id,
            keep_until,
            sealed: value[2..].to_vec(),
        },
    ))
}
