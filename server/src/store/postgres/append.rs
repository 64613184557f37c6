//! Appending to a mailbox: one statement, committed on its own, that takes the office's lock
//! only for itself and its commit.

use candor_protocol::{Envelope, MailboxId};

use super::rows::{bound, int, u64_at};
use super::session::{Fail, Pool, Session};
use crate::store::{Expiry, Quotas, StoreError};

fn quota(what: &'static str) -> Fail {
    Fail::Store(StoreError::Quota(what))
}

/// An append, as one statement committed on its own: it locks the mailbox's row (checking
/// that it is open and has room), then the office's (checking the office's bytes) and takes
/// the office's next activity number, moves the mailbox's counters, expiry and activity, and
/// stores the envelope. One round trip, and the office's lock is held only while this
/// statement runs and its commit is flushed, not while the relay sends the next statement
/// (`docs/benchmarks.md`). Under READ COMMITTED each row is read again as it stands once
/// locked, so the counters are those the previous append of the mailbox committed.
const APPEND: &str = "WITH mb AS ( \
       SELECT id, office FROM mailboxes \
       WHERE id = $1 AND NOT closed AND count < $4 AND bytes + $3 <= $5 \
       FOR NO KEY UPDATE), \
     o AS ( \
       UPDATE offices SET activity = offices.activity + 1, bytes = offices.bytes + $3 \
       FROM mb WHERE offices.id = mb.office AND offices.bytes + $3 <= $6 \
       RETURNING offices.activity), \
     m AS ( \
       UPDATE mailboxes SET last_seq = last_seq + 1, count = count + 1, bytes = bytes + $3, \
         expiry = CASE WHEN expiry BETWEEN $7 AND $8 THEN expiry ELSE $9 END, \
         activity = o.activity \
       FROM o WHERE mailboxes.id = $1 \
       RETURNING mailboxes.id, mailboxes.last_seq), \
     e AS (INSERT INTO envelopes (mailbox, seq, json) SELECT id, last_seq, $2 FROM m) \
     SELECT last_seq FROM m";

pub(super) fn append(
    pool: &Pool,
    id: &MailboxId,
    envelope: &Envelope,
    expiry: &Expiry,
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    let json = envelope.to_json();
    let len = json.len() as u64;
    let size = int(len)?;
    let (envelopes, mailbox_bytes, office_bytes) = (
        bound(quotas.envelopes_per_mailbox),
        bound(quotas.bytes_per_mailbox),
        bound(quotas.bytes_per_office),
    );
    let (earliest, latest, drawn) = (
        int(expiry.earliest)?,
        int(expiry.latest)?,
        int(expiry.drawn)?,
    );
    pool.write(|s| {
        let appended = s.query_opt(
            APPEND,
            &[
                &id.as_bytes().as_slice(),
                &json,
                &size,
                &envelopes,
                &mailbox_bytes,
                &office_bytes,
                &earliest,
                &latest,
                &drawn,
            ],
        )?;
        match appended {
            Some(row) => u64_at(&row, "last_seq"),
            None => Err(refused_append(s, id, len, quotas)?),
        }
    })
}

/// Why [`APPEND`] wrote nothing, as the error the append answers.
fn refused_append(
    s: &mut Session<'_, postgres::Client>,
    id: &MailboxId,
    len: u64,
    quotas: &Quotas,
) -> Result<Fail, Fail> {
    let Some(row) = s.query_opt(
        "SELECT m.closed, m.count, m.bytes, o.bytes AS office_bytes FROM mailboxes m \
         JOIN offices o ON o.id = m.office WHERE m.id = $1",
        &[&id.as_bytes().as_slice()],
    )?
    else {
        return Ok(Fail::Store(StoreError::NotFound));
    };
    if row.try_get::<_, bool>("closed")? {
        return Ok(Fail::Store(StoreError::Closed));
    }
    if u64_at(&row, "count")? >= quotas.envelopes_per_mailbox {
        return Ok(quota(
            "this mailbox holds as many envelopes as the relay allows",
        ));
    }
    if u64_at(&row, "bytes")?.saturating_add(len) > quotas.bytes_per_mailbox {
        return Ok(quota(
            "this mailbox holds as many bytes as the relay allows",
        ));
    }
    if u64_at(&row, "office_bytes")?.saturating_add(len) > quotas.bytes_per_office {
        return Ok(quota(
            "this office's cases hold as many bytes as the relay allows",
        ));
    }
    // Nothing refuses it now: it changed since the statement ran (the mailbox was opened
    // just after, or the office's bytes freed just after). Answered as the statement saw it
    // the moment before: a mailbox it did not find.
    Ok(Fail::Store(StoreError::NotFound))
}
