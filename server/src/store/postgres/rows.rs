//! Typed columns: the relay's `u64`s as `BIGINT`, fixed-size keys as `BYTEA`, and the records
//! read back from rows, each refused as corrupt if it does not fit.

use candor_protocol::{MailboxId, OfficeId, SignedCard};
use postgres::Row;

use super::session::Fail;
use crate::store::{MailboxRecord, OfficeRecord, StoreError};

/// A `u64` as a `BIGINT` parameter. Every number the relay stores is far below 2^63; one above
/// it is refused rather than wrapped.
pub(super) fn int(v: u64) -> Result<i64, Fail> {
    i64::try_from(v).map_err(|_| Fail::Store(StoreError::Conflict("a number is out of range")))
}

/// As [`int`], saturating: for bounds of a range (`after`, `limit`, `now`).
pub(super) fn bound(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A `BIGINT` column as a `u64`.
pub(super) fn u64_at(row: &Row, column: &str) -> Result<u64, Fail> {
    let v: i64 = row.try_get(column)?;
    u64::try_from(v).map_err(|_| Fail::Store(StoreError::Corrupt("a negative number")))
}

/// A `BYTEA` column of exactly `N` bytes.
pub(super) fn array_at<const N: usize>(
    row: &Row,
    column: &str,
    what: &'static str,
) -> Result<[u8; N], Fail> {
    let v: &[u8] = row.try_get(column)?;
    <[u8; N]>::try_from(v).map_err(|_| Fail::Store(StoreError::Corrupt(what)))
}

/// The mailbox ID in `column`.
pub(super) fn mailbox_id_at(row: &Row, column: &str) -> Result<MailboxId, Fail> {
    array_at(row, column, "mailbox ID").map(MailboxId::from_bytes)
}

/// The office ID in `column`.
pub(super) fn office_id_at(row: &Row, column: &str) -> Result<OfficeId, Fail> {
    let v: &str = row.try_get(column)?;
    v.parse()
        .map_err(|_| Fail::Store(StoreError::Corrupt("office ID")))
}

/// The columns [`office`] reads, for `concat!`.
macro_rules! office_columns {
    () => {
        "id, card, signature, signing_key, serial, retention_days"
    };
}
pub(super) use office_columns;

/// An office from a row of [`office_columns`].
pub(super) fn office(row: &Row) -> Result<OfficeRecord, Fail> {
    office_named(row, "id", "signing_key")
}

/// An office from a row of [`office_columns`] whose `id` and `signing_key` are named `id` and
/// `key` (a row that joins a mailbox's columns, which have the same names).
pub(super) fn office_named(row: &Row, id: &str, key: &str) -> Result<OfficeRecord, Fail> {
    let retention: i32 = row.try_get("retention_days")?;
    Ok(OfficeRecord {
        id: office_id_at(row, id)?,
        card: SignedCard {
            card: row.try_get("card")?,
            signature: array_at(row, "signature", "card signature")?,
        },
        signing_key: array_at(row, key, "office key")?,
        serial: u64_at(row, "serial")?,
        retention_days: u32::try_from(retention)
            .map_err(|_| Fail::Store(StoreError::Corrupt("retention")))?,
    })
}

/// The columns [`mailbox`] reads, for `concat!`.
macro_rules! mailbox_columns {
    () => {
        "id, office, signing_key, kem_key, last_seq, count, bytes, expiry, activity, closed, marker"
    };
}
pub(super) use mailbox_columns;

/// A mailbox from a row of [`mailbox_columns`].
pub(super) fn mailbox(row: &Row) -> Result<MailboxRecord, Fail> {
    Ok(MailboxRecord {
        office: office_id_at(row, "office")?,
        signing_key: array_at(row, "signing_key", "case key")?,
        kem_key: array_at(row, "kem_key", "case key")?,
        last_seq: u64_at(row, "last_seq")?,
        count: u64_at(row, "count")?,
        bytes: u64_at(row, "bytes")?,
        expiry: u64_at(row, "expiry")?,
        activity: u64_at(row, "activity")?,
        closed: row.try_get("closed")?,
        marker: row.try_get("marker")?,
    })
}

/// A `usize` count or limit as a `BIGINT`.
pub(super) fn limit(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
