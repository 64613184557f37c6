//! Filling an empty database from a sled store, in one transaction (`store::copy`).

use super::PostgresStore;
use super::offices::token_code;
use super::rows::int;
use super::session::{Fail, Session};
use crate::store::StoreError;
use crate::store::copy::{Copied, Item};
use crate::store::sled::SledStore;

type Tx<'a, 'b> = Session<'a, postgres::Transaction<'b>>;

impl PostgresStore {
    /// Copies every record of `from` into this database, which must hold no relay's data,
    /// and sets each office's counters from what was copied. All or nothing.
    pub fn copy_from(&self, from: &SledStore) -> Result<Copied, StoreError> {
        self.pool.transact(|s| {
            let row = s.query_opt(
                "SELECT (SELECT count(*) FROM offices) + (SELECT count(*) FROM used_tokens) \
                 + (SELECT count(*) FROM mailboxes) AS n",
                &[],
            )?;
            let held: i64 = match row {
                Some(row) => row.try_get("n")?,
                None => 0,
            };
            if held != 0 {
                return Err(Fail::Store(StoreError::Conflict(
                    "the target database already holds a relay's data",
                )));
            }
            let mut copied = Copied::default();
            from.export::<Fail>(&mut |item| {
                insert(s, &item)?;
                copied.count(&item);
                Ok(())
            })?;
            // What the office's writes keep in step, from what arrived.
            s.execute(
                "UPDATE offices SET \
                 open_mailboxes = (SELECT count(*) FROM mailboxes m WHERE m.office = offices.id), \
                 bytes = (SELECT COALESCE(sum(m.bytes), 0) FROM mailboxes m \
                          WHERE m.office = offices.id), \
                 activity = GREATEST(activity, (SELECT COALESCE(max(m.activity), 0) \
                          FROM mailboxes m WHERE m.office = offices.id))",
                &[],
            )?;
            // The board goes on above every cursor copied, whatever the source's counter said.
            s.execute(
                "UPDATE channel_board SET last_cursor = GREATEST(last_cursor, \
                 (SELECT COALESCE(max(cursor), 0) FROM channels))",
                &[],
            )?;
            Ok(copied)
        })
    }
}

fn insert(s: &mut Tx<'_, '_>, item: &Item) -> Result<(), Fail> {
    match item {
        Item::Office { record, activity } => {
            s.execute(
                "INSERT INTO offices \
                 (id, card, signature, signing_key, serial, retention_days, activity) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &record.id.as_str(),
                    &record.card.card,
                    &record.card.signature.as_slice(),
                    &record.signing_key.as_slice(),
                    &int(record.serial)?,
                    &i32::try_from(record.retention_days)
                        .map_err(|_| Fail::Store(StoreError::Corrupt("retention")))?,
                    &int(*activity)?,
                ],
            )?;
        }
        Item::Mailbox { id, record: m } => {
            s.execute(
                "INSERT INTO mailboxes (id, office, signing_key, kem_key, last_seq, count, \
                 bytes, expiry, activity, closed, marker) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &id.as_bytes().as_slice(),
                    &m.office.as_str(),
                    &m.signing_key.as_slice(),
                    &m.kem_key.as_slice(),
                    &int(m.last_seq)?,
                    &int(m.count)?,
                    &int(m.bytes)?,
                    &int(m.expiry)?,
                    &int(m.activity)?,
                    &m.closed,
                    &m.marker,
                ],
            )?;
        }
        Item::Envelope { mailbox, envelope } => {
            s.execute(
                "INSERT INTO envelopes (mailbox, seq, json) VALUES ($1, $2, $3)",
                &[
                    &mailbox.as_bytes().as_slice(),
                    &int(envelope.seq)?,
                    &envelope.json,
                ],
            )?;
        }
        Item::Package(p) => {
            s.execute(
                "INSERT INTO packages (id, mailbox, expiry, body) VALUES ($1, $2, $3, $4)",
                &[
                    &p.id.as_bytes().as_slice(),
                    &p.record.mailbox.as_bytes().as_slice(),
                    &int(p.record.expiry)?,
                    &p.record.body,
                ],
            )?;
        }
        Item::Note {
            mailbox,
            number,
            note,
        } => {
            s.execute(
                "INSERT INTO notes (mailbox, number, note) VALUES ($1, $2, $3)",
                &[&mailbox.as_bytes().as_slice(), &int(*number)?, note],
            )?;
        }
        Item::Channel { id, record: c } => {
            s.execute(
                "INSERT INTO channels (id, office, expiry, cursor, notice, body) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &id.as_bytes().as_slice(),
                    &c.office.as_str(),
                    &int(c.expiry)?,
                    &int(c.cursor)?,
                    &c.notice,
                    &c.body,
                ],
            )?;
        }
        Item::BoardCursor(last) => {
            s.execute(
                "UPDATE channel_board SET last_cursor = GREATEST(last_cursor, $1)",
                &[&int(*last)?],
            )?;
        }
        Item::Token(t) => {
            s.execute(
                "INSERT INTO used_tokens (kind, random, expires) VALUES ($1, $2, $3)",
                &[&token_code(t.kind), &t.random.as_slice(), &int(t.expires)?],
            )?;
        }
        Item::Tally { office, tally } => {
            s.execute(
                "INSERT INTO tallies (id, office, keep_until, sealed) VALUES ($1, $2, $3, $4)",
                &[
                    &tally.id.as_bytes().as_slice(),
                    &office.as_str(),
                    &i32::from(tally.keep_until),
                    &tally.sealed,
                ],
            )?;
        }
    }
    Ok(())
}
