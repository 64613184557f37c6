//! The ombuds' case notes: kept beside a mailbox's envelopes, never among them, numbered per
//! mailbox, deleted with it (`SledStore::delete_batch`). Writing one moves neither the
//! mailbox's expiry nor its inbox entry.

use candor_protocol::MailboxId;

use super::codec::{note_key, notes_prefix, read_u64};
use super::commit::Changes;
use super::{SledStore, backend};
use crate::store::{Quotas, StoreError};

pub(super) fn put_note(
    store: &SledStore,
    mailbox: &MailboxId,
    note: &[u8],
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    // Under the office's lock, so that the count and the number below are not raced by
    // another note, and the mailbox is not deleted meanwhile.
    let Some((_, _office)) = store.lock_mailbox(mailbox)? else {
        return Err(StoreError::NotFound);
    };
    let held = store.latest_keys(&notes_prefix(mailbox))?;
    if held.len() as u64 >= quotas.notes_per_mailbox {
        return Err(StoreError::Quota(
            "this mailbox holds as many notes as the relay allows",
        ));
    }
    // Notes are deleted only with their mailbox, so the last key holds the last number.
    let last = match held.last() {
        Some(key) => key
            .get(17..)
            .and_then(read_u64)
            .ok_or(StoreError::Corrupt("note key"))?,
        None => 0,
    };
    let number = last + 1;
    let mut batch = Changes::default();
    batch.insert(&note_key(mailbox, number), note);
    store.submit(batch)?;
    Ok(number)
}

pub(super) fn notes(
    store: &SledStore,
    mailbox: &MailboxId,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    store
        .tree
        .range(note_key(mailbox, first)..=note_key(mailbox, u64::MAX))
        .take(limit)
        .map(|item| {
            let (key, value) = item.map_err(backend)?;
            let number = read_u64(&key[17..]).ok_or(StoreError::Corrupt("note key"))?;
            Ok((number, value.to_vec()))
        })
        .collect()
}
