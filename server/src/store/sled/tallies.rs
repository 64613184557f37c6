//! Tallies: an office's sealed anonymous records, kept apart from every case. They are
//! written with a closing (`mailboxes::close_mailbox`), listed by the office and dropped only
//! by the statistics retention, once their keep-until year is over.
//!
//! A tally's value is `keep-until year u16 ‖ sealed`; nothing else of it is stored, and its
//! key holds only the office and a random ID, so that the stored order says nothing of when
//! cases closed.

use candor_protocol::api::StoredTally;
use candor_protocol::{OfficeId, TallyId};

use super::codec::{prefix, tallies_prefix, tally_expiry_key, tally_key};
use super::commit::Changes;
use super::{SledStore, backend};
use crate::store::{NewTally, StoreError};

/// Queues `tally` of `office` into `batch`, which the caller submits with the closing.
pub(super) fn queue(batch: &mut Changes, office: &OfficeId, tally: &NewTally) {
    let mut value = Vec::with_capacity(2 + tally.sealed.len());
    value.extend_from_slice(&tally.keep_until.to_be_bytes());
    value.extend_from_slice(&tally.sealed);
    batch.insert(tally_key(office, &tally.id), value);
    batch.insert(
        &tally_expiry_key(tally.keep_until, &tally.id),
        office.as_str().as_bytes(),
    );
}

pub(super) fn tallies(
    store: &SledStore,
    office: &OfficeId,
    after: Option<&TallyId>,
    limit: usize,
) -> Result<Vec<StoredTally>, StoreError> {
    let prefix = tallies_prefix(office);
    let start = match after {
        // The key just past `after`'s: `after` itself followed by a zero byte.
        Some(id) => {
            let mut k = tally_key(office, id);
            k.push(0);
            k
        }
        None => prefix.clone(),
    };
    let mut out = Vec::new();
    for item in store.tree.range(start..) {
        if out.len() == limit {
            break;
        }
        let (key, value) = item.map_err(backend)?;
        let Some(raw) = key.strip_prefix(prefix.as_slice()) else {
            break;
        };
        let id = raw
            .try_into()
            .map(TallyId::from_bytes)
            .map_err(|_| StoreError::Corrupt("tally key"))?;
        let sealed = value
            .get(2..)
            .ok_or(StoreError::Corrupt("tally record"))?
            .to_vec();
        out.push(StoredTally { id, sealed });
    }
    Ok(out)
}

pub(super) fn expire(store: &SledStore, year: u16, batch: usize) -> Result<usize, StoreError> {
    let upper = [prefix::TALLY_EXPIRY, (year >> 8) as u8, year as u8];
    let due = store.unqueued_range([prefix::TALLY_EXPIRY].as_slice()..upper.as_slice(), batch)?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut changes = Changes::default();
    for key in &due {
        let id = key
            .get(3..)
            .and_then(|b| b.try_into().ok())
            .map(TallyId::from_bytes)
            .ok_or(StoreError::Corrupt("tally expiry key"))?;
        if let Some(office) = store.get(key)? {
            let office = std::str::from_utf8(&office)
                .ok()
                .and_then(|s| s.parse::<OfficeId>().ok())
                .ok_or(StoreError::Corrupt("tally expiry entry"))?;
            changes.remove(tally_key(&office, &id));
        }
        changes.remove(key.clone());
    }
    store.submit(changes)?;
    Ok(due.len())
}
