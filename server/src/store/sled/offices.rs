//! Offices: their records, their counters and activity numbers, and their inbox.

use candor_protocol::OfficeId;
use candor_protocol::api::InboxEntry;

use super::codec::{
    counters_key, decode_counters, decode_office, encode_office, inbox_key, mailbox_id, office_key,
    read_u64, used_key,
};
use super::commit::Changes;
use super::{SledStore, backend, lock};
use crate::store::{OfficeRecord, Quotas, StoreError, UsedToken};

/// An office's activity numbers.
#[derive(Clone, Copy)]
pub(super) struct Activity {
    /// The last number handed out.
    pub(super) last: u64,
    /// The highest number an inbox read has listed: a reader may hold it as its cursor. A
    /// write to a mailbox whose entry is above it leaves the entry where it is, since every
    /// reader will still list it (`docs/protocol.md` §11); a write to any other mailbox moves
    /// its entry to a new number.
    pub(super) listed: u64,
}

pub(super) fn office(store: &SledStore, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
    match store.get(&office_key(id))? {
        Some(raw) => decode_office(id, &raw).map(Some),
        None => Ok(None),
    }
}

pub(super) fn register_office(
    store: &SledStore,
    office: &OfficeRecord,
    invite: &UsedToken,
) -> Result<(), StoreError> {
    let used = used_key(invite);
    let key = office_key(&office.id);
    let _registry = lock(&store.registry);
    let _office = store.lock_office(&office.id);
    if store.latest(&used)?.is_some() {
        return Err(StoreError::InviteUsed);
    }
    if store.latest(&key)?.is_some() {
        return Err(StoreError::Conflict("this office ID is already registered"));
    }
    let mut batch = Changes::default();
    batch.insert(key, encode_office(office));
    batch.insert(&used, &[]);
    store.submit(batch)
}

pub(super) fn update_office(store: &SledStore, office: &OfficeRecord) -> Result<(), StoreError> {
    let key = office_key(&office.id);
    let _office = store.lock_office(&office.id);
    let Some(raw) = store.latest(&key)? else {
        return Err(StoreError::NotFound);
    };
    let current = decode_office(&office.id, &raw)?;
    if office.serial <= current.serial {
        return Err(StoreError::Conflict(
            "the card's serial must be larger than the stored card's",
        ));
    }
    let mut batch = Changes::default();
    batch.insert(key, encode_office(office));
    store.submit(batch)
}

pub(super) fn inbox(
    store: &SledStore,
    office: &OfficeId,
    after: u64,
    limit: usize,
) -> Result<Vec<InboxEntry>, StoreError> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    let range = inbox_key(office, first)..=inbox_key(office, u64::MAX);
    let mut out = Vec::new();
    for item in store.tree.range(range) {
        if out.len() >= limit {
            break;
        }
        let (key, value) = item.map_err(backend)?;
        let activity = read_u64(&key[key.len() - 8..]).ok_or(StoreError::Corrupt("inbox key"))?;
        let id = mailbox_id(&value).ok_or(StoreError::Corrupt("inbox entry"))?;
        // A concurrent write may have moved or deleted the mailbox since the range read;
        // it then reappears later in the inbox, or is gone.
        let Some(rec) = super::mailboxes::mailbox(store, &id)? else {
            continue;
        };
        out.push(InboxEntry {
            mailbox: id,
            kem_key: rec.kem_key,
            signing_key: rec.signing_key,
            envelopes: rec.count,
            last_seq: rec.last_seq,
            activity,
            closed: rec.closed,
            marker: rec.marker,
        });
    }
    if let Some(last) = out.last() {
        store.mark_listed(office, last.activity)?;
        // The counts as of now, with every write that kept its entry in place applied. A
        // mailbox deleted since keeps the counts read above; fetching it finds nothing.
        for entry in &mut out {
            if let Some(rec) = super::mailboxes::mailbox(store, &entry.mailbox)? {
                entry.envelopes = rec.count;
                entry.last_seq = rec.last_seq;
                entry.closed = rec.closed;
                entry.marker = rec.marker;
            }
        }
    }
    Ok(out)
}

impl SledStore {
    /// An office's activity numbers. The caller holds the office's lock.
    pub(super) fn activity(&self, office: &OfficeId) -> Result<Activity, StoreError> {
        if let Some(a) = lock(&self.activity).get(office) {
            return Ok(*a);
        }
        // First use since the store opened: the larger of the counter stored at the last open
        // or deletion and the newest inbox entry (appends do not store the counter).
        let (stored, _) = self.counters(office)?;
        let newest = match self
            .tree
            .range(inbox_key(office, 0)..=inbox_key(office, u64::MAX))
            .keys()
            .next_back()
        {
            Some(key) => {
                let key = key.map_err(backend)?;
                read_u64(&key[key.len() - 8..]).ok_or(StoreError::Corrupt("inbox key"))?
            }
            None => 0,
        };
        // What inbox reads listed before the store opened is not known: take it all as listed.
        let last = stored.max(newest);
        let current = Activity { last, listed: last };
        lock(&self.activity).insert(office.clone(), current);
        Ok(current)
    }

    /// The next activity number of an office; the caller holds the office's lock and queues a
    /// write that uses it.
    pub(super) fn next_activity(&self, office: &OfficeId) -> Result<u64, StoreError> {
        let mut activity = self.activity(office)?;
        activity.last += 1;
        lock(&self.activity).insert(office.clone(), activity);
        Ok(activity.last)
    }

    /// Records that an inbox read listed an office's entries up to `upto`, then commits every
    /// queued write. A write that left its mailbox's entry in place, because no read had
    /// listed it, queued before this mark (or before an equal or higher mark by a concurrent
    /// read, which may still be committing); committing here, always, means it is applied
    /// before the reader gets its page, so the counts on the page and the envelope fetch that
    /// follows include it.
    pub(super) fn mark_listed(&self, office: &OfficeId, upto: u64) -> Result<(), StoreError> {
        {
            let _office = self.lock_office(office);
            let mut activity = self.activity(office)?;
            if upto > activity.listed {
                activity.listed = upto;
                lock(&self.activity).insert(office.clone(), activity);
            }
        }
        self.commit_group()
    }

    /// Bytes of envelopes an office's mailboxes hold. The caller holds the office's lock. At
    /// first use since the store opened it is summed over the office's mailboxes (one per
    /// inbox entry), as the queued writes leave them.
    pub(super) fn office_bytes(&self, office: &OfficeId) -> Result<u64, StoreError> {
        if let Some(bytes) = lock(&self.office_bytes).get(office) {
            return Ok(*bytes);
        }
        let mut total = 0u64;
        for item in self
            .tree
            .range(inbox_key(office, 0)..=inbox_key(office, u64::MAX))
        {
            let (_, value) = item.map_err(backend)?;
            let id = mailbox_id(&value).ok_or(StoreError::Corrupt("inbox entry"))?;
            if let Some(rec) = self.latest_mailbox(&id)? {
                total = total.saturating_add(rec.bytes);
            }
        }
        lock(&self.office_bytes).insert(office.clone(), total);
        Ok(total)
    }

    /// Refuses `more` bytes that would take an office past its quota. The caller holds the
    /// office's lock.
    pub(super) fn check_office_bytes(
        &self,
        office: &OfficeId,
        more: u64,
        quotas: &Quotas,
    ) -> Result<(), StoreError> {
        if self.office_bytes(office)?.saturating_add(more) > quotas.bytes_per_office {
            return Err(StoreError::Quota(
                "this office's cases hold as many bytes as the relay allows",
            ));
        }
        Ok(())
    }

    /// Adds `added` and takes `removed` bytes from an office's count, once a write that changes
    /// them is queued. The caller holds the office's lock.
    pub(super) fn count_office_bytes(&self, office: &OfficeId, added: u64, removed: u64) {
        if let Some(bytes) = lock(&self.office_bytes).get_mut(office) {
            *bytes = bytes.saturating_add(added).saturating_sub(removed);
        }
    }

    pub(super) fn counters(&self, office: &OfficeId) -> Result<(u64, u64), StoreError> {
        match self.latest(&counters_key(office))? {
            Some(v) => decode_counters(&v).ok_or(StoreError::Corrupt("counters")),
            None => Ok((0, 0)),
        }
    }
}
