//! Maintenance: the sweeper's deletion of what expired, and the compaction that takes deleted
//! envelopes off the disk.

use candor_protocol::{HandoffId, MailboxId};

use super::codec::{
    EXPIRY_CHANNEL, EXPIRY_MAILBOX, EXPIRY_PACKAGE, envelope_key, prefix, read_u64, token_code,
};
use super::commit::Changes;
use super::log::{self, Pointer};
use super::{SledStore, lock};
use crate::store::{Compacted, StoreError, Swept, TokenKind};

pub(super) fn sweep(store: &SledStore, now: u64, batch: usize) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    // Only what expired is read: the index is ordered by expiry. Entries a queued write
    // already removes are skipped.
    let mut upper = vec![prefix::EXPIRY];
    upper.extend_from_slice(&now.saturating_add(1).to_be_bytes());
    let expired = store.unqueued_range([prefix::EXPIRY].as_slice()..upper.as_slice(), batch)?;
    swept.more = expired.len() == batch;
    for key in expired {
        let (Some(at), Some(&kind), Some(id)) = (
            key.get(1..9).and_then(read_u64),
            key.get(9),
            key.get(10..).and_then(|b| <[u8; 16]>::try_from(b).ok()),
        ) else {
            return Err(StoreError::Corrupt("expiry key"));
        };
        let package = || match store.delete_package_batch(&HandoffId::from_bytes(id), Some(at)) {
            // A damaged package record must not stop every later sweep: it is left for
            // `check` to report, and its entry dropped.
            Err(StoreError::Corrupt(what)) => {
                tracing::error!(what, "the sweeper skipped a damaged handoff package");
                Ok(false)
            }
            other => other,
        };
        let channel = || match store.delete_channel_batch(&MailboxId::from_bytes(id), Some(at)) {
            Err(StoreError::Corrupt(what)) => {
                tracing::error!(what, "the sweeper skipped a damaged handoff channel");
                Ok(false)
            }
            other => other,
        };
        if kind == EXPIRY_MAILBOX && store.delete_batch(&MailboxId::from_bytes(id), Some(at))? {
            swept.mailboxes += 1;
        } else if kind == EXPIRY_PACKAGE && package()? {
            swept.packages += 1;
        } else if kind == EXPIRY_CHANNEL && channel()? {
            swept.channels += 1;
        } else {
            // The entry is stale (the mailbox moved on or is gone) or of a kind this
            // version does not sweep; no live entry can have an expiry in the past, so
            // removing it is safe and keeps the sweeper moving.
            let mut stale = Changes::default();
            stale.remove(key);
            store.submit(stale)?;
        }
    }
    for kind in TokenKind::ALL {
        let start = [prefix::USED, token_code(kind)];
        let mut end = start.to_vec();
        end.extend_from_slice(&now.to_be_bytes());
        let _registry = lock(&store.registry);
        let stale = store.unqueued_range(start.as_slice()..end.as_slice(), batch)?;
        swept.more |= stale.len() == batch;
        swept.tokens += stale.len() as u64;
        let mut spent = Changes::default();
        for key in stale {
            spent.remove(key);
        }
        store.submit(spent)?;
    }
    // Committed now, so that the next batch reads past them.
    store.commit_group()?;
    Ok(swept)
}

pub(super) fn compact(store: &SledStore, now: u64) -> Result<Compacted, StoreError> {
    store.log.rotate_if_old(now)?;
    let head = store.log.head();
    let due: Vec<u64> = store
        .log
        .segments()
        .into_iter()
        .filter(|(number, seg)| {
            let dead = seg.envelopes.saturating_sub(seg.live);
            *number != head
                && dead > 0
                && (2 * dead >= seg.envelopes
                    || seg
                        .sealed_at
                        .is_some_and(|at| now.saturating_sub(at) >= log::SHRED_AFTER_SECS))
        })
        .map(|(number, _)| number)
        .collect();
    let mut done = Compacted::default();
    for number in due {
        let Some(bytes) = store.log.read_segment(number)? else {
            continue;
        };
        for (offset, len, record) in log::records(&bytes).0 {
            let log::Record::Envelope { mailbox, seq, json } = record else {
                continue;
            };
            let here = Pointer {
                segment: number,
                offset,
                len,
            };
            let key = envelope_key(&mailbox, seq);
            let Some((_, _office)) = store.lock_mailbox(&mailbox)? else {
                continue;
            };
            if store.latest(&key)?.as_deref().and_then(Pointer::decode) != Some(here) {
                continue;
            }
            let moved = store.log.append_envelope(&mailbox, seq, json)?;
            let mut change = Changes::default();
            change.insert(&key, &moved.encode());
            store.submit(change)?;
            done.envelopes_moved += 1;
        }
    }
    store.commit_group()?;
    done.files_removed = store.checkpoint(&mut lock(&store.committing))?;
    Ok(done)
}
