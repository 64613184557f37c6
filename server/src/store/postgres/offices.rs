//! Offices: their records, their counters and activity numbers, and their inbox.

use candor_protocol::OfficeId;
use candor_protocol::api::InboxEntry;

use super::rows::{self, array_at, bound, int, limit, mailbox_id_at, office_columns, u64_at};
use super::session::{Fail, Pool, Session};
use crate::store::{OfficeRecord, StoreError, TokenKind, UsedToken};

/// An office's counters, read under its row lock.
pub(super) struct Counters {
    /// The last activity number handed out.
    pub(super) activity: u64,
    /// Mailboxes the office holds.
    pub(super) open: u64,
    /// Bytes of envelopes its mailboxes hold.
    pub(super) bytes: u64,
}

/// Locks office `id`'s row for the rest of the transaction and reads its counters; `None` if
/// there is no such office. Every write that touches the office's mailboxes, counters or
/// inbox takes this lock first.
pub(super) fn lock(
    s: &mut Session<'_, postgres::Transaction<'_>>,
    id: &OfficeId,
) -> Result<Option<Counters>, Fail> {
    let Some(row) = s.query_opt(
        "SELECT activity, open_mailboxes, bytes FROM offices WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Counters {
        activity: u64_at(&row, "activity")?,
        open: u64_at(&row, "open_mailboxes")?,
        bytes: u64_at(&row, "bytes")?,
    }))
}

/// Marks a single-use token used; fails with `used` if it already was. Under the token's
/// primary key, so that two instances cannot both spend it: the second insert waits for the
/// first to commit and then finds the row.
pub(super) fn spend(
    s: &mut Session<'_, postgres::Transaction<'_>>,
    token: &UsedToken,
    used: StoreError,
) -> Result<(), Fail> {
    let inserted = s.execute(
        "INSERT INTO used_tokens (kind, random, expires) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, random) DO NOTHING",
        &[
            &token_code(token.kind),
            &token.random.as_slice(),
            &int(token.expires)?,
        ],
    )?;
    if inserted == 0 {
        return Err(Fail::Store(used));
    }
    Ok(())
}

/// The stored code of a token kind.
pub(super) fn token_code(kind: TokenKind) -> i16 {
    match kind {
        TokenKind::Pow => 1,
        TokenKind::Invite => 2,
    }
}

pub(super) fn office(pool: &Pool, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
    pool.read(|s| {
        s.query_opt(
            concat!("SELECT ", office_columns!(), " FROM offices WHERE id = $1"),
            &[&id.as_str()],
        )?
        .map(|row| rows::office(&row))
        .transpose()
    })
}

pub(super) fn register_office(
    pool: &Pool,
    office: &OfficeRecord,
    invite: &UsedToken,
) -> Result<(), StoreError> {
    pool.transact(|s| {
        spend(s, invite, StoreError::InviteUsed)?;
        let inserted = s.execute(
            "INSERT INTO offices (id, card, signature, signing_key, serial, retention_days) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &office.id.as_str(),
                &office.card.card,
                &office.card.signature.as_slice(),
                &office.signing_key.as_slice(),
                &int(office.serial)?,
                &i32::try_from(office.retention_days)
                    .map_err(|_| Fail::Store(StoreError::Conflict("a number is out of range")))?,
            ],
        )?;
        if inserted == 0 {
            return Err(Fail::Store(StoreError::Conflict(
                "this office ID is already registered",
            )));
        }
        Ok(())
    })
}

pub(super) fn update_office(pool: &Pool, office: &OfficeRecord) -> Result<(), StoreError> {
    pool.transact(|s| {
        let Some(row) = s.query_opt(
            "SELECT serial FROM offices WHERE id = $1 FOR UPDATE",
            &[&office.id.as_str()],
        )?
        else {
            return Err(Fail::Store(StoreError::NotFound));
        };
        if office.serial <= u64_at(&row, "serial")? {
            return Err(Fail::Store(StoreError::Conflict(
                "the card's serial must be larger than the stored card's",
            )));
        }
        s.execute(
            "UPDATE offices SET card = $2, signature = $3, signing_key = $4, serial = $5, \
             retention_days = $6 WHERE id = $1",
            &[
                &office.id.as_str(),
                &office.card.card,
                &office.card.signature.as_slice(),
                &office.signing_key.as_slice(),
                &int(office.serial)?,
                &i32::try_from(office.retention_days)
                    .map_err(|_| Fail::Store(StoreError::Conflict("a number is out of range")))?,
            ],
        )?;
        Ok(())
    })
}

/// One statement, so one snapshot: writes commit in activity order per office (each holds the
/// office's row lock from taking its number to its commit), so every write with a number at
/// or below the page's last one is in the snapshot, with its counts. A write still running
/// gets a higher number and shows on the reader's next page.
pub(super) fn inbox(
    pool: &Pool,
    office: &OfficeId,
    after: u64,
    max: usize,
) -> Result<Vec<InboxEntry>, StoreError> {
    if max == 0 || after >= i64::MAX as u64 {
        return Ok(Vec::new());
    }
    pool.read(|s| {
        let found = s.query(
            "SELECT id, kem_key, signing_key, count, last_seq, activity, closed, marker \
             FROM mailboxes WHERE office = $1 AND activity > $2 ORDER BY activity LIMIT $3",
            &[&office.as_str(), &bound(after), &limit(max)],
        )?;
        found
            .iter()
            .map(|row| {
                Ok(InboxEntry {
                    mailbox: mailbox_id_at(row, "id")?,
                    kem_key: array_at(row, "kem_key", "case key")?,
                    signing_key: array_at(row, "signing_key", "case key")?,
                    envelopes: u64_at(row, "count")?,
                    last_seq: u64_at(row, "last_seq")?,
                    activity: u64_at(row, "activity")?,
                    closed: row.try_get("closed")?,
                    marker: row.try_get("marker")?,
                })
            })
            .collect()
    })
}
