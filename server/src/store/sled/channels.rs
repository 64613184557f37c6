//! Handoff channels: opened by an office, tied to it and to no case, listed on the relay-wide
//! notice board in cursor order, changed atomically, deleted alone or on their own expiry.
//!
//! The board's counter (`BOARD_CURSOR_KEY`) is read and written under `registry`, which every
//! opening takes, so cursors are handed out once each and queue in order: a group applies
//! them in that order, and a reader polling the board from its last cursor misses none. The
//! counter is kept apart from the channels, so deleting the newest one never frees its
//! cursor.

use std::sync::MutexGuard;

use candor_protocol::MailboxId;

use super::codec::{
    BOARD_CURSOR_KEY, board_key, channel_expiry_key, channel_key, decode_channel, encode_channel,
    mailbox_id, office_channel_key, office_channels_prefix, office_key, read_u64,
};
use super::commit::Changes;
use super::{SledStore, backend, lock};
use crate::store::{ChannelRecord, NewChannel, Quotas, StoreError};

pub(super) fn open_channel(
    store: &SledStore,
    channel: &NewChannel,
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    let _registry = lock(&store.registry);
    let _office = store.lock_office(&channel.office);
    if store.latest(&office_key(&channel.office))?.is_none() {
        return Err(StoreError::NotFound);
    }
    if store.latest(&channel_key(&channel.id))?.is_some() {
        return Err(StoreError::Conflict("this channel already exists"));
    }
    let held = store
        .latest_keys(&office_channels_prefix(&channel.office))?
        .len() as u64;
    if held >= quotas.channels_per_office {
        return Err(StoreError::Quota(
            "this office holds as many handoff channels as the relay allows",
        ));
    }
    let cursor = store
        .last_cursor()?
        .checked_add(1)
        .ok_or(StoreError::Corrupt("the board's counter"))?;
    let rec = ChannelRecord {
        office: channel.office.clone(),
        expiry: channel.expiry,
        cursor,
        notice: channel.notice.clone(),
        body: channel.body.clone(),
    };
    // The record before its board entry: a reader that finds the entry finds the record.
    let mut batch = Changes::default();
    batch.insert(&BOARD_CURSOR_KEY, &cursor.to_be_bytes());
    batch.insert(&channel_key(&channel.id), encode_channel(&rec));
    batch.insert(office_channel_key(&rec.office, &channel.id), &[]);
    batch.insert(&channel_expiry_key(rec.expiry, &channel.id), &[]);
    batch.insert(&board_key(cursor), channel.id.as_bytes());
    store.submit(batch)?;
    Ok(cursor)
}

pub(super) fn channel(
    store: &SledStore,
    id: &MailboxId,
) -> Result<Option<ChannelRecord>, StoreError> {
    match store.get(&channel_key(id))? {
        Some(raw) => decode_channel(&raw).map(Some),
        None => Ok(None),
    }
}

pub(super) fn update_channel(
    store: &SledStore,
    id: &MailboxId,
    update: &mut dyn FnMut(&ChannelRecord) -> Result<Vec<u8>, StoreError>,
) -> Result<ChannelRecord, StoreError> {
    let Some((current, _office)) = store.lock_channel(id)? else {
        return Err(StoreError::NotFound);
    };
    let updated = ChannelRecord {
        body: update(&current)?,
        ..current
    };
    let mut batch = Changes::default();
    batch.insert(&channel_key(id), encode_channel(&updated));
    store.submit(batch)?;
    Ok(updated)
}

pub(super) fn notices(
    store: &SledStore,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in store.tree.range(board_key(first)..=board_key(u64::MAX)) {
        if out.len() == limit {
            break;
        }
        let (key, value) = item.map_err(backend)?;
        let cursor = read_u64(&key[1..]).ok_or(StoreError::Corrupt("board key"))?;
        let id = mailbox_id(&value).ok_or(StoreError::Corrupt("board entry"))?;
        // Deleted since the range read: its entry went first.
        if let Some(rec) = channel(store, &id)? {
            out.push((cursor, rec.notice));
        }
    }
    Ok(out)
}

/// The board's counter as sled holds it (for `copy`, with the relay stopped).
pub(super) fn board_counter(store: &SledStore) -> Result<u64, StoreError> {
    match store.get(&BOARD_CURSOR_KEY)? {
        Some(v) => read_u64(&v).ok_or(StoreError::Corrupt("the board's counter")),
        None => Ok(0),
    }
}

pub(super) fn delete_channel(store: &SledStore, id: &MailboxId) -> Result<bool, StoreError> {
    store.delete_channel_batch(id, None)
}

impl SledStore {
    /// The last board cursor handed out, as the queued writes leave it (0 before the first).
    /// The caller holds `registry`.
    pub(super) fn last_cursor(&self) -> Result<u64, StoreError> {
        match self.latest(&BOARD_CURSOR_KEY)? {
            Some(v) => read_u64(&v).ok_or(StoreError::Corrupt("the board's counter")),
            None => Ok(0),
        }
    }

    /// A channel as the queued writes leave it.
    fn latest_channel(&self, id: &MailboxId) -> Result<Option<ChannelRecord>, StoreError> {
        match self.latest(&channel_key(id))? {
            Some(raw) => decode_channel(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Locks the office of channel `id` and reads the channel under that lock (as
    /// [`SledStore::lock_mailbox`] does for a mailbox).
    fn lock_channel(
        &self,
        id: &MailboxId,
    ) -> Result<Option<(ChannelRecord, MutexGuard<'_, ()>)>, StoreError> {
        loop {
            let Some(seen) = self.latest_channel(id)? else {
                return Ok(None);
            };
            let guard = self.lock_office(&seen.office);
            match self.latest_channel(id)? {
                Some(rec) if rec.office == seen.office => return Ok(Some((rec, guard))),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Deletes a channel. With `expired_at`, only if its expiry is still that one.
    pub(super) fn delete_channel_batch(
        &self,
        id: &MailboxId,
        expired_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let Some((rec, _office)) = self.lock_channel(id)? else {
            return Ok(false);
        };
        if expired_at.is_some_and(|at| at != rec.expiry) {
            return Ok(false);
        }
        // The board entry first: a reader that finds it finds the record still there.
        let mut batch = Changes::default();
        batch.remove(&board_key(rec.cursor));
        batch.remove(&channel_key(id));
        batch.remove(office_channel_key(&rec.office, id));
        batch.remove(&channel_expiry_key(rec.expiry, id));
        self.submit(batch)?;
        Ok(true)
    }
}
