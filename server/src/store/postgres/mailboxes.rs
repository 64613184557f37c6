//! Mailboxes: opening one, closing it, reading its envelopes, deleting it (appending to one is
//! `append.rs`).

use candor_protocol::{Envelope, MailboxId};

use super::offices::{self, Counters, spend};
use super::rows::{self, int, mailbox_columns};
use super::session::{Fail, Pool, Session};
use crate::store::{MailboxRecord, NewMailbox, NewTally, Quotas, StoreError, UsedToken};

pub(super) type Tx<'a, 'b> = Session<'a, postgres::Transaction<'b>>;

fn quota(what: &'static str) -> Fail {
    Fail::Store(StoreError::Quota(what))
}

/// Refuses `more` bytes that would take an office past its quota.
fn check_office_bytes(counters: &Counters, more: u64, quotas: &Quotas) -> Result<(), Fail> {
    if counters.bytes.saturating_add(more) > quotas.bytes_per_office {
        return Err(quota(
            "this office's cases hold as many bytes as the relay allows",
        ));
    }
    Ok(())
}

pub(super) fn open_mailbox(
    pool: &Pool,
    mailbox: &NewMailbox,
    pow: &UsedToken,
    quotas: &Quotas,
) -> Result<(), StoreError> {
    let json = mailbox.first.to_json();
    let len = json.len() as u64;
    pool.transact(|s| {
        let Some(counters) = offices::lock(s, &mailbox.office)? else {
            return Err(Fail::Store(StoreError::NotFound));
        };
        let taken = || Fail::Store(StoreError::Conflict("this mailbox already exists"));
        if s.query_opt(
            "SELECT 1 FROM mailboxes WHERE id = $1",
            &[&mailbox.id.as_bytes().as_slice()],
        )?
        .is_some()
        {
            return Err(taken());
        }
        spend(s, pow, StoreError::PowUsed)?;
        if counters.open >= quotas.mailboxes_per_office {
            return Err(quota(
                "this office has as many open mailboxes as the relay allows",
            ));
        }
        if len > quotas.bytes_per_mailbox {
            return Err(quota(
                "this mailbox holds as many bytes as the relay allows",
            ));
        }
        check_office_bytes(&counters, len, quotas)?;
        let activity = counters.activity + 1;
        // A concurrent open of the same ID at another office holds another lock: the key
        // settles it.
        let inserted = s.execute(
            "INSERT INTO mailboxes \
             (id, office, signing_key, kem_key, last_seq, count, bytes, expiry, activity) \
             VALUES ($1, $2, $3, $4, 1, 1, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            &[
                &mailbox.id.as_bytes().as_slice(),
                &mailbox.office.as_str(),
                &mailbox.signing_key.as_slice(),
                &mailbox.kem_key.as_slice(),
                &int(len)?,
                &int(mailbox.expiry)?,
                &int(activity)?,
            ],
        )?;
        if inserted == 0 {
            return Err(taken());
        }
        insert_envelope(s, &mailbox.id, 1, &json)?;
        s.execute(
            "UPDATE offices SET activity = $2, open_mailboxes = open_mailboxes + 1, \
             bytes = bytes + $3 WHERE id = $1",
            &[&mailbox.office.as_str(), &int(activity)?, &int(len)?],
        )?;
        Ok(())
    })
}

fn insert_envelope(s: &mut Tx<'_, '_>, id: &MailboxId, seq: u64, json: &[u8]) -> Result<(), Fail> {
    s.execute(
        "INSERT INTO envelopes (mailbox, seq, json) VALUES ($1, $2, $3)",
        &[&id.as_bytes().as_slice(), &int(seq)?, &json],
    )?;
    Ok(())
}

pub(super) fn mailbox(pool: &Pool, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
    pool.read(|s| {
        s.query_opt(
            concat!(
                "SELECT ",
                mailbox_columns!(),
                " FROM mailboxes WHERE id = $1"
            ),
            &[&id.as_bytes().as_slice()],
        )?
        .map(|row| rows::mailbox(&row))
        .transpose()
    })
}

/// Locks mailbox `id`'s row, then its office's, and reads the mailbox as it stands under
/// those locks. Every writer of a mailbox takes them in that order (the append's one statement
/// too, `append.rs`), so two writers never wait on each other. `None` if there is no such
/// mailbox.
pub(super) fn lock_mailbox(
    s: &mut Tx<'_, '_>,
    id: &MailboxId,
) -> Result<Option<(MailboxRecord, Counters)>, Fail> {
    // NO KEY UPDATE, as an UPDATE of the row takes: a row of `envelopes`, `notes` or
    // `packages` being inserted for it (its foreign key) does not wait on it.
    let Some(row) = s.query_opt(
        concat!(
            "SELECT ",
            mailbox_columns!(),
            " FROM mailboxes WHERE id = $1 FOR NO KEY UPDATE"
        ),
        &[&id.as_bytes().as_slice()],
    )?
    else {
        return Ok(None);
    };
    let rec = rows::mailbox(&row)?;
    let Some(counters) = offices::lock(s, &rec.office)? else {
        return Ok(None);
    };
    Ok(Some((rec, counters)))
}

/// Writes `rec` back after a write that moved it to the office's next activity number, and
/// the office's counters with it.
fn store_written(
    s: &mut Tx<'_, '_>,
    id: &MailboxId,
    rec: &MailboxRecord,
    added: u64,
) -> Result<(), Fail> {
    s.execute(
        "UPDATE mailboxes SET last_seq = $2, count = $3, bytes = $4, expiry = $5, \
         activity = $6, closed = $7 WHERE id = $1",
        &[
            &id.as_bytes().as_slice(),
            &int(rec.last_seq)?,
            &int(rec.count)?,
            &int(rec.bytes)?,
            &int(rec.expiry)?,
            &int(rec.activity)?,
            &rec.closed,
        ],
    )?;
    s.execute(
        "UPDATE offices SET activity = $2, bytes = bytes + $3 WHERE id = $1",
        &[&rec.office.as_str(), &int(rec.activity)?, &int(added)?],
    )?;
    Ok(())
}

pub(super) fn close_mailbox(
    pool: &Pool,
    id: &MailboxId,
    last: Option<&Envelope>,
    tally: Option<&NewTally>,
    expiry: u64,
    quotas: &Quotas,
) -> Result<Option<u64>, StoreError> {
    let json = last.map(Envelope::to_json);
    pool.transact(|s| {
        let Some((mut rec, counters)) = lock_mailbox(s, id)? else {
            return Err(Fail::Store(StoreError::NotFound));
        };
        if rec.closed {
            return Err(Fail::Store(StoreError::Closed));
        }
        let mut seq = None;
        let mut added = 0;
        if let Some(json) = &json {
            let len = json.len() as u64;
            if rec.count >= quotas.envelopes_per_mailbox
                || rec.bytes.saturating_add(len) > quotas.bytes_per_mailbox
            {
                return Err(quota(
                    "this mailbox is full: close it without a last message",
                ));
            }
            check_office_bytes(&counters, len, quotas)?;
            rec.last_seq += 1;
            rec.count += 1;
            rec.bytes += len;
            added = len;
            insert_envelope(s, id, rec.last_seq, json)?;
            seq = Some(rec.last_seq);
        }
        // Closing is a write the office's readers must see: it moves like an append.
        rec.activity = counters.activity + 1;
        rec.expiry = expiry;
        rec.closed = true;
        store_written(s, id, &rec, added)?;
        // In the same transaction: the tally is there if and only if the case closed.
        if let Some(tally) = tally {
            super::tallies::insert(s, &rec.office, tally)?;
        }
        Ok(seq)
    })
}

pub(super) fn set_marker(pool: &Pool, id: &MailboxId, marker: &[u8]) -> Result<(), StoreError> {
    if marker.len() > candor_protocol::api::MAX_MARKER_BYTES {
        return Err(StoreError::Conflict("a read marker is at most 256 bytes"));
    }
    // Neither the inbox order nor the expiry moves: reading is not activity. One statement,
    // so no office lock: it changes nothing an inbox reader orders by.
    pool.transact(|s| {
        let changed = s.execute(
            "UPDATE mailboxes SET marker = $2 WHERE id = $1",
            &[&id.as_bytes().as_slice(), &marker],
        )?;
        if changed == 0 {
            return Err(Fail::Store(StoreError::NotFound));
        }
        Ok(())
    })
}

pub(super) fn delete_mailbox(pool: &Pool, id: &MailboxId) -> Result<bool, StoreError> {
    pool.transact(|s| {
        let Some((rec, _)) = lock_mailbox(s, id)? else {
            return Ok(false);
        };
        delete_locked(s, id, &rec)?;
        Ok(true)
    })
}

/// Deletes a mailbox whose office the transaction has locked, with its envelopes and
/// packages (the foreign keys cascade), and takes it off the office's counters.
pub(super) fn delete_locked(
    s: &mut Tx<'_, '_>,
    id: &MailboxId,
    rec: &MailboxRecord,
) -> Result<(), Fail> {
    s.execute(
        "DELETE FROM mailboxes WHERE id = $1",
        &[&id.as_bytes().as_slice()],
    )?;
    s.execute(
        "UPDATE offices SET open_mailboxes = open_mailboxes - 1, bytes = bytes - $2 \
         WHERE id = $1",
        &[&rec.office.as_str(), &int(rec.bytes)?],
    )?;
    Ok(())
}
