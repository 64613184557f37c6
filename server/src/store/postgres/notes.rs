//! The ombuds' case notes: rows beside a mailbox's envelopes, numbered per mailbox, deleted
//! with it (the foreign key cascades). Writing one moves neither the mailbox's expiry nor its
//! activity number.

use candor_protocol::MailboxId;

use super::mailboxes::lock_mailbox;
use super::rows::{bound, int, limit, u64_at};
use super::session::{Fail, Pool};
use crate::store::{Quotas, StoreError};

pub(super) fn put_note(
    pool: &Pool,
    mailbox: &MailboxId,
    note: &[u8],
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    pool.transact(|s| {
        // Under the office's lock, so that the count and the number are not raced by another
        // note.
        if lock_mailbox(s, mailbox)?.is_none() {
            return Err(Fail::Store(StoreError::NotFound));
        }
        let row = s.query_opt(
            "SELECT COUNT(*) AS held, COALESCE(MAX(number), 0) AS last FROM notes \
             WHERE mailbox = $1",
            &[&mailbox.as_bytes().as_slice()],
        )?;
        let (held, last) = match row {
            Some(row) => (u64_at(&row, "held")?, u64_at(&row, "last")?),
            None => (0, 0),
        };
        if held >= quotas.notes_per_mailbox {
            return Err(Fail::Store(StoreError::Quota(
                "this mailbox holds as many notes as the relay allows",
            )));
        }
        let number = last + 1;
        s.execute(
            "INSERT INTO notes (mailbox, number, note) VALUES ($1, $2, $3)",
            &[&mailbox.as_bytes().as_slice(), &int(number)?, &note],
        )?;
        Ok(number)
    })
}

pub(super) fn notes(
    pool: &Pool,
    mailbox: &MailboxId,
    after: u64,
    max: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    if max == 0 || after >= i64::MAX as u64 {
        return Ok(Vec::new());
    }
    pool.read(|s| {
        s.query(
            "SELECT number, note FROM notes WHERE mailbox = $1 AND number > $2 \
             ORDER BY number LIMIT $3",
            &[&mailbox.as_bytes().as_slice(), &bound(after), &limit(max)],
        )?
        .iter()
        .map(|row| Ok((u64_at(row, "number")?, row.try_get("note")?)))
        .collect()
    })
}
