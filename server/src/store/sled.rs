//! The embedded sled backend: one directory, nothing to install.
//!
//! Trees and keys (all integers big-endian, so that byte order is numeric order):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `offices` | office ID | [`OfficeRecord`] |
//! | `counters` | office ID | activity `u64`, open mailboxes `u64` |
//! | `mailboxes` | mailbox (16) | [`MailboxRecord`] |
//! | `envelopes` | mailbox (16) ‖ seq `u64` | envelope JSON |
//! | `expiry` | expiry `u64` ‖ kind `u8` ‖ id (16) | empty |
//! | `inbox` | office ID ‖ `0x00` ‖ activity `u64` | mailbox (16) |
//! | `used` | kind `u8` ‖ expires `u64` ‖ random (16) | empty |
//!
//! Kind 1 in `expiry` is a mailbox; kind 2 is reserved for handoff packages. A mailbox, its
//! envelopes, its expiry entry and its inbox entry change together in one multi-tree
//! transaction.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use candor_protocol::api::{InboxEntry, StoredEnvelope};
use candor_protocol::{Envelope, MailboxId, OfficeId};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use sled::{IVec, Tree};

use super::{
    CheckReport, MailboxRecord, NewMailbox, OfficeRecord, Quotas, Store, StoreError, Swept,
    TokenKind, UsedToken,
};

mod codec;
mod inspect;

use codec::{
    EXPIRY_MAILBOX, decode_mailbox, decode_office, encode_mailbox, encode_office, envelope_key,
    expiry_key, inbox_key, mailbox_id, read_u64, token_code, used_key,
};

/// The sled store.
pub struct SledStore {
    db: sled::Db,
    offices: Tree,
    counters: Tree,
    mailboxes: Tree,
    envelopes: Tree,
    expiry: Tree,
    inbox: Tree,
    used: Tree,
    /// Writes that touch an office's counters take its stripe first, so that they commit one
    /// at a time in activity order instead of conflicting and retrying (sled transactions are
    /// optimistic), and so that an inbox reader never sees activity numbers out of order.
    office_locks: Vec<Mutex<()>>,
}

const OFFICE_LOCK_STRIPES: usize = 64;

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn finish<T>(r: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    })
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with `cache_bytes` of page cache. sled's own
    /// periodic flush is off: durability is the group-commit flusher's job.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(None)
            .open()
            .map_err(backend)?;
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        Ok(Self {
            offices: tree("offices")?,
            counters: tree("counters")?,
            mailboxes: tree("mailboxes")?,
            envelopes: tree("envelopes")?,
            expiry: tree("expiry")?,
            inbox: tree("inbox")?,
            used: tree("used")?,
            office_locks: (0..OFFICE_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            db,
        })
    }

    fn lock_office(&self, office: &OfficeId) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        office.hash(&mut h);
        let stripe = (h.finish() % OFFICE_LOCK_STRIPES as u64) as usize;
        // The guarded value is `()`: a panic elsewhere cannot leave it inconsistent.
        self.office_locks[stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The office of a mailbox, read outside any transaction (it never changes).
    fn office_of(&self, id: &MailboxId) -> Result<Option<OfficeId>, StoreError> {
        Ok(self.mailbox(id)?.map(|m| m.office))
    }

    /// Deletes a mailbox inside a transaction. With `expired_at`, only if the mailbox's expiry
    /// is still that one (it may have been written to since the sweeper looked).
    fn delete_tx(&self, id: &MailboxId, expired_at: Option<u64>) -> Result<bool, StoreError> {
        let Some(office) = self.office_of(id)? else {
            return Ok(false);
        };
        let _serial = self.lock_office(&office);
        finish(
            (
                &self.mailboxes,
                &self.envelopes,
                &self.expiry,
                &self.inbox,
                &self.counters,
            )
                .transaction(|(mailboxes, envelopes, expiry, inbox, counters)| {
                    let Some(raw) = mailboxes.get(id.as_bytes())? else {
                        return Ok(false);
                    };
                    let rec = match decode_mailbox(&raw) {
                        Ok(r) => r,
                        Err(e) => return abort(e),
                    };
                    if expired_at.is_some_and(|at| at != rec.expiry) {
                        return Ok(false);
                    }
                    mailboxes.remove(id.as_bytes())?;
                    for seq in 1..=rec.last_seq {
                        envelopes.remove(envelope_key(id, seq).as_slice())?;
                    }
                    expiry.remove(expiry_key(rec.expiry, id).as_slice())?;
                    inbox.remove(inbox_key(&rec.office, rec.activity).as_slice())?;
                    let (activity, open) = read_counters(counters, &rec.office)?;
                    write_counters(counters, &rec.office, activity, open.saturating_sub(1))?;
                    Ok(true)
                }),
        )
    }
}

impl Store for SledStore {
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
        match self.offices.get(id.as_str()).map_err(backend)? {
            Some(raw) => decode_office(id, &raw).map(Some),
            None => Ok(None),
        }
    }

    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError> {
        let value = encode_office(office);
        let used_key = used_key(invite);
        finish((&self.offices, &self.used).transaction(|(offices, used)| {
            if used.get(used_key.as_slice())?.is_some() {
                return abort(StoreError::InviteUsed);
            }
            if offices.get(office.id.as_str())?.is_some() {
                return abort(StoreError::Conflict("this office ID is already registered"));
            }
            offices.insert(office.id.as_str(), value.as_slice())?;
            used.insert(used_key.as_slice(), &[])?;
            Ok(())
        }))
    }

    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError> {
        let value = encode_office(office);
        finish(self.offices.transaction(|offices| {
            let Some(raw) = offices.get(office.id.as_str())? else {
                return abort(StoreError::NotFound);
            };
            let current = match decode_office(&office.id, &raw) {
                Ok(c) => c,
                Err(e) => return abort(e),
            };
            if office.serial <= current.serial {
                return abort(StoreError::Conflict(
                    "the card's serial must be larger than the stored card's",
                ));
            }
            offices.insert(office.id.as_str(), value.as_slice())?;
            Ok(())
        }))
    }

    fn open_mailbox(
        &self,
        mailbox: &NewMailbox,
        pow: &UsedToken,
        quotas: &Quotas,
    ) -> Result<(), StoreError> {
        let used_key = used_key(pow);
        let _serial = self.lock_office(&mailbox.office);
        finish(
            (
                &self.offices,
                &self.mailboxes,
                &self.expiry,
                &self.inbox,
                &self.counters,
                &self.used,
            )
                .transaction(|(offices, mailboxes, expiry, inbox, counters, used)| {
                    if offices.get(mailbox.office.as_str())?.is_none() {
                        return abort(StoreError::NotFound);
                    }
                    if mailboxes.get(mailbox.id.as_bytes())?.is_some() {
                        return abort(StoreError::Conflict("this mailbox already exists"));
                    }
                    if used.get(used_key.as_slice())?.is_some() {
                        return abort(StoreError::PowUsed);
                    }
                    let (activity, open) = read_counters(counters, &mailbox.office)?;
                    if open >= quotas.mailboxes_per_office {
                        return abort(StoreError::Quota(
                            "this office has as many open mailboxes as the relay allows",
                        ));
                    }
                    let activity = activity + 1;
                    let rec = MailboxRecord {
                        office: mailbox.office.clone(),
                        signing_key: mailbox.signing_key,
                        kem_key: mailbox.kem_key,
                        last_seq: 0,
                        count: 0,
                        bytes: 0,
                        expiry: mailbox.expiry,
                        activity,
                    };
                    mailboxes.insert(mailbox.id.as_bytes(), encode_mailbox(&rec))?;
                    expiry.insert(expiry_key(rec.expiry, &mailbox.id).as_slice(), &[])?;
                    inbox.insert(
                        inbox_key(&rec.office, activity).as_slice(),
                        mailbox.id.as_bytes(),
                    )?;
                    write_counters(counters, &rec.office, activity, open + 1)?;
                    used.insert(used_key.as_slice(), &[])?;
                    Ok(())
                }),
        )
    }

    fn mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
        match self.mailboxes.get(id.as_bytes()).map_err(backend)? {
            Some(raw) => decode_mailbox(&raw).map(Some),
            None => Ok(None),
        }
    }

    fn append(
        &self,
        id: &MailboxId,
        envelope: &Envelope,
        new_expiry: u64,
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        let json = envelope.to_json();
        let len = json.len() as u64;
        let Some(office) = self.office_of(id)? else {
            return Err(StoreError::NotFound);
        };
        let _serial = self.lock_office(&office);
        finish(
            (
                &self.mailboxes,
                &self.envelopes,
                &self.expiry,
                &self.inbox,
                &self.counters,
            )
                .transaction(|(mailboxes, envelopes, expiry, inbox, counters)| {
                    let Some(raw) = mailboxes.get(id.as_bytes())? else {
                        return abort(StoreError::NotFound);
                    };
                    let mut rec = match decode_mailbox(&raw) {
                        Ok(r) => r,
                        Err(e) => return abort(e),
                    };
                    if rec.count >= quotas.envelopes_per_mailbox {
                        return abort(StoreError::Quota(
                            "this mailbox holds as many envelopes as the relay allows",
                        ));
                    }
                    if rec.bytes.saturating_add(len) > quotas.bytes_per_mailbox {
                        return abort(StoreError::Quota(
                            "this mailbox holds as many bytes as the relay allows",
                        ));
                    }
                    let (activity, open) = read_counters(counters, &rec.office)?;
                    let activity = activity + 1;
                    expiry.remove(expiry_key(rec.expiry, id).as_slice())?;
                    inbox.remove(inbox_key(&rec.office, rec.activity).as_slice())?;
                    rec.last_seq += 1;
                    rec.count += 1;
                    rec.bytes += len;
                    rec.expiry = new_expiry;
                    rec.activity = activity;
                    envelopes.insert(envelope_key(id, rec.last_seq).as_slice(), json.as_slice())?;
                    mailboxes.insert(id.as_bytes(), encode_mailbox(&rec))?;
                    expiry.insert(expiry_key(rec.expiry, id).as_slice(), &[])?;
                    inbox.insert(inbox_key(&rec.office, activity).as_slice(), id.as_bytes())?;
                    write_counters(counters, &rec.office, activity, open)?;
                    Ok(rec.last_seq)
                }),
        )
    }

    fn envelopes(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEnvelope>, StoreError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let range = envelope_key(id, first)..=envelope_key(id, u64::MAX);
        let mut out = Vec::new();
        for item in self.envelopes.range(range).take(limit) {
            let (key, value) = item.map_err(backend)?;
            let seq = read_u64(&key[16..]).ok_or(StoreError::Corrupt("envelope key"))?;
            let envelope =
                Envelope::from_json(&value).map_err(|_| StoreError::Corrupt("envelope"))?;
            out.push(StoredEnvelope { seq, envelope });
        }
        Ok(out)
    }

    fn delete_mailbox(&self, id: &MailboxId) -> Result<bool, StoreError> {
        self.delete_tx(id, None)
    }

    fn inbox(
        &self,
        office: &OfficeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let range = inbox_key(office, first)..=inbox_key(office, u64::MAX);
        let mut out = Vec::new();
        for item in self.inbox.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(backend)?;
            let activity =
                read_u64(&key[key.len() - 8..]).ok_or(StoreError::Corrupt("inbox key"))?;
            let id = mailbox_id(&value).ok_or(StoreError::Corrupt("inbox entry"))?;
            // A concurrent write may have moved or deleted the mailbox since the range read;
            // it then reappears later in the inbox, or is gone.
            let Some(rec) = self.mailbox(&id)? else {
                continue;
            };
            out.push(InboxEntry {
                mailbox: id,
                kem_key: rec.kem_key,
                signing_key: rec.signing_key,
                envelopes: rec.count,
                last_seq: rec.last_seq,
                activity,
            });
        }
        Ok(out)
    }

    fn sweep(&self, now: u64, batch: usize) -> Result<Swept, StoreError> {
        let mut swept = Swept::default();
        // Only what expired is read: the index is ordered by expiry.
        let upper = now.saturating_add(1).to_be_bytes();
        let expired: Vec<IVec> = self
            .expiry
            .range(..upper.as_slice())
            .keys()
            .take(batch)
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        swept.more = expired.len() == batch;
        for key in expired {
            let (Some(at), Some(&kind), Some(id)) = (
                read_u64(&key[..8.min(key.len())]),
                key.get(8),
                key.get(9..).and_then(mailbox_id),
            ) else {
                return Err(StoreError::Corrupt("expiry key"));
            };
            if kind == EXPIRY_MAILBOX && self.delete_tx(&id, Some(at))? {
                swept.mailboxes += 1;
            } else {
                // The entry is stale (the mailbox moved on or is gone) or of a kind this
                // version does not sweep; no live entry can have an expiry in the past, so
                // removing it is safe and keeps the sweeper moving.
                self.expiry.remove(&key).map_err(backend)?;
            }
        }
        for kind in TokenKind::ALL {
            let start = [token_code(kind)];
            let mut end = vec![token_code(kind)];
            end.extend_from_slice(&now.to_be_bytes());
            let stale: Vec<IVec> = self
                .used
                .range(start.as_slice()..end.as_slice())
                .keys()
                .take(batch)
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            swept.more |= stale.len() == batch;
            for key in stale {
                self.used.remove(key).map_err(backend)?;
                swept.tokens += 1;
            }
        }
        Ok(swept)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(backend)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(backend)
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        super::check::run(self)
    }
}

fn read_counters(
    counters: &TransactionalTree,
    office: &OfficeId,
) -> Result<(u64, u64), ConflictableTransactionError<StoreError>> {
    match counters.get(office.as_str())? {
        Some(v) => match decode_counters(&v) {
            Some(c) => Ok(c),
            None => abort(StoreError::Corrupt("counters")),
        },
        None => Ok((0, 0)),
    }
}

fn write_counters(
    counters: &TransactionalTree,
    office: &OfficeId,
    activity: u64,
    open: u64,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let mut v = [0u8; 16];
    v[..8].copy_from_slice(&activity.to_be_bytes());
    v[8..].copy_from_slice(&open.to_be_bytes());
    counters.insert(office.as_str(), &v)?;
    Ok(())
}

pub(super) fn decode_counters(v: &[u8]) -> Option<(u64, u64)> {
    if v.len() != 16 {
        return None;
    }
    Some((read_u64(&v[..8])?, read_u64(&v[8..])?))
}
