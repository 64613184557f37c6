//! Handoff channels: tied to their office, listed on the relay-wide notice board in cursor
//! order, changed atomically under their row lock, deleted alone or on their own expiry.
//!
//! Opening one first locks the board's counter row (`channel_board`), as a mailbox write
//! locks its office's row: cursors are then handed out one at a time and commit in that
//! order across every instance, so a reader polling the board from its last cursor never
//! misses a channel that committed after a higher one. The counter only grows.

use candor_protocol::MailboxId;

use super::rows::{bound, int, limit, office_id_at, u64_at};
use super::session::{Fail, Pool};
use crate::store::{ChannelRecord, NewChannel, Quotas, StoreError};

pub(super) fn open_channel(
    pool: &Pool,
    channel: &NewChannel,
    quotas: &Quotas,
) -> Result<u64, StoreError> {
    pool.transact(|s| {
        let board = s
            .query_opt("SELECT last_cursor FROM channel_board FOR UPDATE", &[])?
            .ok_or(Fail::Store(StoreError::Corrupt("channel_board is empty")))?;
        let last = u64_at(&board, "last_cursor")?;
        if s.query_opt(
            "SELECT 1 FROM offices WHERE id = $1",
            &[&channel.office.as_str()],
        )?
        .is_none()
        {
            return Err(Fail::Store(StoreError::NotFound));
        }
        let taken = || Fail::Store(StoreError::Conflict("this channel already exists"));
        if s.query_opt(
            "SELECT 1 FROM channels WHERE id = $1",
            &[&channel.id.as_bytes().as_slice()],
        )?
        .is_some()
        {
            return Err(taken());
        }
        // Every opening holds the board's lock, so the count is not raced.
        let held = s
            .query_opt(
                "SELECT COUNT(*) AS held FROM channels WHERE office = $1",
                &[&channel.office.as_str()],
            )?
            .map_or(Ok(0), |row| u64_at(&row, "held"))?;
        if held >= quotas.channels_per_office {
            return Err(Fail::Store(StoreError::Quota(
                "this office holds as many handoff channels as the relay allows",
            )));
        }
        let cursor = last + 1;
        let inserted = s.execute(
            "INSERT INTO channels (id, office, expiry, cursor, notice, body) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &channel.id.as_bytes().as_slice(),
                &channel.office.as_str(),
                &int(channel.expiry)?,
                &int(cursor)?,
                &channel.notice,
                &channel.body,
            ],
        )?;
        if inserted == 0 {
            return Err(taken());
        }
        s.execute(
            "UPDATE channel_board SET last_cursor = $1",
            &[&int(cursor)?],
        )?;
        Ok(cursor)
    })
}

/// A channel from a row of `office, expiry, cursor, notice, body`.
fn record(row: &postgres::Row) -> Result<ChannelRecord, Fail> {
    Ok(ChannelRecord {
        office: office_id_at(row, "office")?,
        expiry: u64_at(row, "expiry")?,
        cursor: u64_at(row, "cursor")?,
        notice: row.try_get("notice")?,
        body: row.try_get("body")?,
    })
}

pub(super) fn channel(pool: &Pool, id: &MailboxId) -> Result<Option<ChannelRecord>, StoreError> {
    pool.read(|s| {
        s.query_opt(
            "SELECT office, expiry, cursor, notice, body FROM channels WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?
        .map(|row| record(&row))
        .transpose()
    })
}

pub(super) fn update_channel(
    pool: &Pool,
    id: &MailboxId,
    update: &mut dyn FnMut(&ChannelRecord) -> Result<Vec<u8>, StoreError>,
) -> Result<ChannelRecord, StoreError> {
    pool.transact(|s| {
        let Some(row) = s.query_opt(
            "SELECT office, expiry, cursor, notice, body FROM channels WHERE id = $1 FOR UPDATE",
            &[&id.as_bytes().as_slice()],
        )?
        else {
            return Err(Fail::Store(StoreError::NotFound));
        };
        let current = record(&row)?;
        let updated = ChannelRecord {
            body: update(&current)?,
            ..current
        };
        s.execute(
            "UPDATE channels SET body = $2 WHERE id = $1",
            &[&id.as_bytes().as_slice(), &updated.body],
        )?;
        Ok(updated)
    })
}

pub(super) fn notices(
    pool: &Pool,
    after: u64,
    max: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    if max == 0 || after >= i64::MAX as u64 {
        return Ok(Vec::new());
    }
    pool.read(|s| {
        s.query(
            "SELECT cursor, notice FROM channels WHERE cursor > $1 ORDER BY cursor LIMIT $2",
            &[&bound(after), &limit(max)],
        )?
        .iter()
        .map(|row| Ok((u64_at(row, "cursor")?, row.try_get("notice")?)))
        .collect()
    })
}

pub(super) fn delete_channel(pool: &Pool, id: &MailboxId) -> Result<bool, StoreError> {
    pool.transact(|s| {
        Ok(s.execute(
            "DELETE FROM channels WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )? > 0)
    })
}
