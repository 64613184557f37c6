//! Mailboxes: opening one, appending to it, reading its envelopes, deleting it (with its
//! packages and notes).

use std::sync::MutexGuard;

use candor_protocol::{Envelope, MailboxId};
use sled::IVec;

use super::codec::encode_counters;
use super::codec::{
    counters_key, decode_mailbox, encode_mailbox, envelope_key, envelopes_prefix, expiry_key,
    handoff_id, inbox_key, mailbox_key, mailbox_packages_prefix, notes_prefix, office_key,
    package_key, read_u64, used_key,
};
use super::commit::Changes;
use super::log::Pointer;
use super::packages::remove_package;
use super::{SledStore, backend, lock};
use crate::store::{
    Expiry, MailboxRecord, NewMailbox, NewTally, Quotas, RawEnvelope, StoreError, UsedToken,
};

pub(super) fn open_mailbox(
    store: &SledStore,
    mailbox: &NewMailbox,
    pow: &UsedToken,
    quotas: &Quotas,
) -> Result<(), StoreError> {
    let used = used_key(pow);
    let _registry = lock(&store.registry);
    let _office = store.lock_office(&mailbox.office);
    if store.latest(&office_key(&mailbox.office))?.is_none() {
        return Err(StoreError::NotFound);
    }
    if store.latest(&mailbox_key(&mailbox.id))?.is_some() {
        return Err(StoreError::Conflict("this mailbox already exists"));
    }
    if store.latest(&used)?.is_some() {
        return Err(StoreError::PowUsed);
    }
    let (_, open) = store.counters(&mailbox.office)?;
    if open >= quotas.mailboxes_per_office {
        return Err(StoreError::Quota(
            "this office has as many open mailboxes as the relay allows",
        ));
    }
    let json = mailbox.first.to_json();
    if json.len() as u64 > quotas.bytes_per_mailbox {
        return Err(StoreError::Quota(
            "this mailbox holds as many bytes as the relay allows",
        ));
    }
    store.check_office_bytes(&mailbox.office, json.len() as u64, quotas)?;
    let activity = store.next_activity(&mailbox.office)?;
    let rec = MailboxRecord {
        office: mailbox.office.clone(),
        signing_key: mailbox.signing_key,
        kem_key: mailbox.kem_key,
        last_seq: 1,
        count: 1,
        bytes: json.len() as u64,
        expiry: mailbox.expiry,
        activity,
        closed: false,
        marker: None,
    };
    let pointer = store.log.append_envelope(&mailbox.id, 1, &json)?;
    let mut batch = Changes::default();
    batch.insert(&envelope_key(&mailbox.id, 1), &pointer.encode());
    batch.insert(&mailbox_key(&mailbox.id), encode_mailbox(&rec));
    batch.insert(&expiry_key(rec.expiry, &mailbox.id), &[]);
    batch.insert(inbox_key(&rec.office, activity), mailbox.id.as_bytes());
    batch.insert(
        counters_key(&rec.office),
        &encode_counters(activity, open + 1),
    );
    batch.insert(&used, &[]);
    store.submit(batch)?;
    store.count_office_bytes(&rec.office, rec.bytes, 0);
    Ok(())
}

pub(super) fn mailbox(
    store: &SledStore,
    id: &MailboxId,
) -> Result<Option<MailboxRecord>, StoreError> {
    match store.get(&mailbox_key(id))? {
        Some(raw) => decode_mailbox(&raw).map(Some),
        None => Ok(None),
    }
}

pub(super) fn append(
    store: &SledStore,
    id: &MailboxId,
    envelope: &Envelope,
    expiry: &Expiry,
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    let json = envelope.to_json();
    let len = json.len() as u64;
    let Some((mut rec, _office)) = store.lock_mailbox(id)? else {
        return Err(StoreError::NotFound);
    };
    if rec.closed {
        return Err(StoreError::Closed);
    }
    if rec.count >= quotas.envelopes_per_mailbox {
        return Err(StoreError::Quota(
            "this mailbox holds as many envelopes as the relay allows",
        ));
    }
    if rec.bytes.saturating_add(len) > quotas.bytes_per_mailbox {
        return Err(StoreError::Quota(
            "this mailbox holds as many bytes as the relay allows",
        ));
    }
    store.check_office_bytes(&rec.office, len, quotas)?;
    let new_expiry = expiry.after_write(rec.expiry);
    let mut batch = Changes::default();
    move_expiry(&mut batch, id, rec.expiry, new_expiry);
    store.move_in_inbox(&mut batch, id, &mut rec)?;
    rec.last_seq += 1;
    rec.count += 1;
    rec.bytes += len;
    rec.expiry = new_expiry;
    let pointer = store.log.append_envelope(id, rec.last_seq, &json)?;
    batch.insert(&envelope_key(id, rec.last_seq), &pointer.encode());
    batch.insert(&mailbox_key(id), encode_mailbox(&rec));
    store.submit(batch)?;
    store.count_office_bytes(&rec.office, len, 0);
    Ok(rec.last_seq)
}

pub(super) fn close_mailbox(
    store: &SledStore,
    id: &MailboxId,
    last: Option<&Envelope>,
    tally: Option<&NewTally>,
    expiry: u64,
    quotas: &Quotas,
) -> Result<Option<u64>, StoreError> {
    let json = last.map(Envelope::to_json);
    let Some((mut rec, _office)) = store.lock_mailbox(id)? else {
        return Err(StoreError::NotFound);
    };
    if rec.closed {
        return Err(StoreError::Closed);
    }
    let mut batch = Changes::default();
    let mut seq = None;
    if let Some(json) = &json {
        let len = json.len() as u64;
        if rec.count >= quotas.envelopes_per_mailbox
            || rec.bytes.saturating_add(len) > quotas.bytes_per_mailbox
        {
            return Err(StoreError::Quota(
                "this mailbox is full: close it without a last message",
            ));
        }
        store.check_office_bytes(&rec.office, len, quotas)?;
        rec.last_seq += 1;
        rec.count += 1;
        rec.bytes += len;
        let pointer = store.log.append_envelope(id, rec.last_seq, json)?;
        batch.insert(&envelope_key(id, rec.last_seq), &pointer.encode());
        seq = Some(rec.last_seq);
    }
    // Closing is a write the office's other readers must see: it moves like an append.
    store.move_in_inbox(&mut batch, id, &mut rec)?;
    move_expiry(&mut batch, id, rec.expiry, expiry);
    rec.expiry = expiry;
    rec.closed = true;
    batch.insert(&mailbox_key(id), encode_mailbox(&rec));
    // The tally goes in the same write: it exists if and only if the case closed.
    if let Some(tally) = tally {
        super::tallies::queue(&mut batch, &rec.office, tally);
    }
    store.submit(batch)?;
    store.count_office_bytes(&rec.office, json.as_ref().map_or(0, |j| j.len() as u64), 0);
    Ok(seq)
}

pub(super) fn set_marker(
    store: &SledStore,
    id: &MailboxId,
    marker: &[u8],
) -> Result<(), StoreError> {
    if marker.len() > candor_protocol::api::MAX_MARKER_BYTES {
        return Err(StoreError::Conflict("a read marker is at most 256 bytes"));
    }
    let Some((mut rec, _office)) = store.lock_mailbox(id)? else {
        return Err(StoreError::NotFound);
    };
    // Neither the inbox order nor the expiry moves: reading is not activity.
    rec.marker = Some(marker.to_vec());
    let mut batch = Changes::default();
    batch.insert(&mailbox_key(id), encode_mailbox(&rec));
    store.submit(batch)
}

pub(super) fn envelopes(
    store: &SledStore,
    id: &MailboxId,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Vec<RawEnvelope>, StoreError> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    let range = envelope_key(id, first)..=envelope_key(id, u64::MAX);
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for item in store.tree.range(range).take(limit) {
        let (key, value) = item.map_err(backend)?;
        let seq = read_u64(&key[17..]).ok_or(StoreError::Corrupt("envelope key"))?;
        // The pointer knows the record's length, so the cap holds before anything is read.
        let len = Pointer::decode(&value).map_or(0, |p| p.len as usize);
        if !out.is_empty() && bytes.saturating_add(len) > max_bytes {
            break;
        }
        bytes = bytes.saturating_add(len);
        let Some(json) = store.read_envelope(&key, value, id, seq)? else {
            // Deleted since the range read.
            continue;
        };
        out.push(RawEnvelope { seq, json });
    }
    Ok(out)
}

pub(super) fn delete_mailbox(store: &SledStore, id: &MailboxId) -> Result<bool, StoreError> {
    store.delete_batch(id, None)
}

/// Moves a mailbox's expiry index entry from `from` to `to`, if they differ.
fn move_expiry(batch: &mut Changes, id: &MailboxId, from: u64, to: u64) {
    if from != to {
        batch.remove(&expiry_key(from, id));
        batch.insert(&expiry_key(to, id), &[]);
    }
}

impl SledStore {
    /// After a write to mailbox `id`: moves it to the office's next activity number, but only
    /// if an inbox read may have listed its current one. The caller holds the office's lock.
    fn move_in_inbox(
        &self,
        batch: &mut Changes,
        id: &MailboxId,
        rec: &mut MailboxRecord,
    ) -> Result<(), StoreError> {
        if rec.activity <= self.activity(&rec.office)?.listed {
            batch.remove(inbox_key(&rec.office, rec.activity));
            rec.activity = self.next_activity(&rec.office)?;
            batch.insert(inbox_key(&rec.office, rec.activity), id.as_bytes());
        }
        Ok(())
    }

    /// The JSON of envelope `seq` of mailbox `id`, from its pointer `value` under `key`. If
    /// compaction moved the record since the pointer was read, the pointer is read again.
    pub(super) fn read_envelope(
        &self,
        key: &[u8],
        mut value: IVec,
        id: &MailboxId,
        seq: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        for _ in 0..3 {
            let pointer = Pointer::decode(&value).ok_or(StoreError::Corrupt("envelope pointer"))?;
            if let Some(json) = self.log.read_envelope(&pointer, id, seq)? {
                return Ok(Some(json));
            }
            match self.get(key)? {
                Some(v) => value = v,
                None => return Ok(None),
            }
        }
        Err(StoreError::Corrupt(
            "an envelope pointer names a missing log segment",
        ))
    }

    /// A mailbox as the queued writes leave it.
    pub(super) fn latest_mailbox(
        &self,
        id: &MailboxId,
    ) -> Result<Option<MailboxRecord>, StoreError> {
        match self.latest(&mailbox_key(id))? {
            Some(raw) => decode_mailbox(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Locks the office of mailbox `id` and reads its record under that lock. The office of a
    /// mailbox never changes, but the mailbox may be deleted (and the ID reopened at another
    /// office) between the unlocked read and the lock, so the record is read again and
    /// compared.
    pub(super) fn lock_mailbox(
        &self,
        id: &MailboxId,
    ) -> Result<Option<(MailboxRecord, MutexGuard<'_, ()>)>, StoreError> {
        loop {
            let Some(seen) = self.latest_mailbox(id)? else {
                return Ok(None);
            };
            let guard = self.lock_office(&seen.office);
            match self.latest_mailbox(id)? {
                Some(rec) if rec.office == seen.office => return Ok(Some((rec, guard))),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Deletes a mailbox in one batch. With `expired_at`, only if the mailbox's expiry is
    /// still that one (it may have been written to since the sweeper looked).
    pub(super) fn delete_batch(
        &self,
        id: &MailboxId,
        expired_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let Some((rec, _office)) = self.lock_mailbox(id)? else {
            return Ok(false);
        };
        if expired_at.is_some_and(|at| at != rec.expiry) {
            return Ok(false);
        }
        let mut batch = Changes::default();
        batch.remove(&mailbox_key(id));
        // Every key under the mailbox's envelope prefix, not just 1..=last_seq, so that
        // nothing of it can outlive it.
        for key in self.latest_keys(&envelopes_prefix(id))? {
            batch.remove(key);
        }
        for key in self.latest_keys(&mailbox_packages_prefix(id))? {
            if let Some(package) = handoff_id(&key[17..]) {
                match self.latest_package(&package) {
                    Ok(Some(rec)) => remove_package(&mut batch, &package, &rec),
                    Ok(None) => {}
                    // A damaged record still goes with its mailbox; its expiry entry, which
                    // cannot be read from it, is dropped as stale when it comes due.
                    Err(StoreError::Corrupt(_)) => batch.remove(&package_key(&package)),
                    Err(e) => return Err(e),
                }
            }
            batch.remove(key);
        }
        for key in self.latest_keys(&notes_prefix(id))? {
            batch.remove(key);
        }
        batch.remove(&expiry_key(rec.expiry, id));
        batch.remove(inbox_key(&rec.office, rec.activity));
        let activity = self.activity(&rec.office)?.last;
        let (_, open) = self.counters(&rec.office)?;
        batch.insert(
            counters_key(&rec.office),
            &encode_counters(activity, open.saturating_sub(1)),
        );
        self.submit(batch)?;
        self.count_office_bytes(&rec.office, 0, rec.bytes);
        Ok(true)
    }
}
