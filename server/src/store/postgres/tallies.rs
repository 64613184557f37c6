//! Tallies: an office's sealed anonymous records, in a table of their own that neither case
//! deletion nor the sweep reads. Written in the closing's transaction, listed by the office in
//! ID order (random, so no order of closing), dropped only once their keep-until year is over.

use candor_protocol::api::StoredTally;
use candor_protocol::{OfficeId, TallyId};

use super::rows::{array_at, limit};
use super::session::{Fail, Pool, Session};
use crate::store::{NewTally, StoreError};

/// Stores `tally` of `office` in the caller's transaction (the closing's).
pub(super) fn insert(
    s: &mut Session<'_, postgres::Transaction<'_>>,
    office: &OfficeId,
    tally: &NewTally,
) -> Result<(), Fail> {
    s.execute(
        "INSERT INTO tallies (id, office, keep_until, sealed) VALUES ($1, $2, $3, $4)",
        &[
            &tally.id.as_bytes().as_slice(),
            &office.as_str(),
            &i32::from(tally.keep_until),
            &tally.sealed,
        ],
    )?;
    Ok(())
}

pub(super) fn tallies(
    pool: &Pool,
    office: &OfficeId,
    after: Option<&TallyId>,
    max: usize,
) -> Result<Vec<StoredTally>, StoreError> {
    // Below every 16-byte ID when no cursor is given.
    let after: &[u8] = after.map_or(&[], |id| id.as_bytes().as_slice());
    pool.read(|s| {
        let rows = s.query(
            "SELECT id, sealed FROM tallies WHERE office = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[&office.as_str(), &after, &limit(max)],
        )?;
        rows.iter()
            .map(|row| {
                Ok(StoredTally {
                    id: TallyId::from_bytes(array_at(row, "id", "tally ID")?),
                    sealed: row.try_get("sealed")?,
                })
            })
            .collect()
    })
}

/// Deletes up to `batch` tallies kept until a year before `year`. Every instance may run it:
/// rows another instance is deleting are skipped, never deleted twice.
pub(super) fn expire(pool: &Pool, year: u16, batch: usize) -> Result<usize, StoreError> {
    pool.transact(|s| {
        let deleted = s.execute(
            "DELETE FROM tallies WHERE id IN (SELECT id FROM tallies WHERE keep_until < $1 \
             ORDER BY keep_until LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&i32::from(year), &limit(batch)],
        )?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    })
}
