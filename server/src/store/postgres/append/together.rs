//! Several appends in one transaction: their replay entries, every lock they need, taken in
//! the global order, then one statement for each round of distinct mailboxes, so a batch whose
//! mailboxes are distinct costs the database four round trips and one flush however many
//! appends it holds.

use super::{Job, Written};
use crate::store::StoreError;
use crate::store::postgres::reads::insert_entries;
use crate::store::postgres::rows::u64_at;
use crate::store::postgres::session::{Fail, Pool};

/// Takes the lock of every mailbox of a batch, in the order of their IDs, and then of every
/// office they belong to, in the order of theirs (the sort reads every mailbox, locking it,
/// before the first office is locked). Every batch takes its locks in this one global order
/// (mailboxes by ID, then offices by ID), and so does every single write (its mailbox, then
/// its office), so none of them can wait on each other in a cycle, on one instance or several.
const LOCK: &str = "WITH m AS ( \
       SELECT id, office FROM mailboxes WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE) \
     SELECT o.id FROM offices o WHERE o.id IN (SELECT office FROM m) \
     ORDER BY o.id FOR NO KEY UPDATE OF o";

/// [`super::APPEND`] for appends to distinct mailboxes, given as arrays in the order of the
/// round (`n`, from 1). An office's appends move its counters once, by their sum, with the
/// office's byte quota checked for the sum, and take its next activity numbers in the round's
/// order. An append that wrote nothing (a mailbox unknown, closed or full, or an office whose
/// quota the round's sum would pass) returns no row.
const APPEND_ROUND: &str = "WITH j AS ( \
       SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int8[], $4::int8[], $5::int8[], \
         $6::int8[], $7::int8[], $8::int8[], $9::int8[]) \
       WITH ORDINALITY AS j(id, json, size, envelopes, mailbox_bytes, office_bytes, \
         earliest, latest, drawn, n)), \
     mb AS ( \
       SELECT m.id, m.office, j.json, j.size, j.office_bytes, j.earliest, j.latest, j.drawn, j.n \
       FROM mailboxes m JOIN j ON m.id = j.id \
       WHERE NOT m.closed AND m.count < j.envelopes AND m.bytes + j.size <= j.mailbox_bytes), \
     per AS ( \
       SELECT office, sum(size)::int8 AS bytes, count(*) AS k, min(office_bytes) AS cap \
       FROM mb GROUP BY office), \
     o AS ( \
       UPDATE offices SET activity = offices.activity + per.k, bytes = offices.bytes + per.bytes \
       FROM per WHERE offices.id = per.office AND offices.bytes + per.bytes <= per.cap \
       RETURNING offices.id, offices.activity - per.k AS before), \
     r AS ( \
       SELECT mb.*, o.before + row_number() OVER (PARTITION BY mb.office ORDER BY mb.n) \
         AS activity \
       FROM mb JOIN o ON o.id = mb.office), \
     m AS ( \
       UPDATE mailboxes SET last_seq = last_seq + 1, count = count + 1, \
         bytes = mailboxes.bytes + r.size, \
         expiry = CASE WHEN expiry BETWEEN r.earliest AND r.latest THEN expiry ELSE r.drawn END, \
         activity = r.activity \
       FROM r WHERE mailboxes.id = r.id \
       RETURNING mailboxes.id, mailboxes.last_seq, r.json, r.n), \
     e AS (INSERT INTO envelopes (mailbox, seq, json) SELECT id, last_seq, json FROM m) \
     SELECT n, last_seq FROM m";

/// Runs `jobs` in one transaction: what it did with each.
pub(super) fn together(pool: &Pool, jobs: &[Job]) -> Result<Vec<Written>, Fail> {
    let with_entry: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].entry.is_some())
        .collect();
    let entries: Vec<([u8; 32], i64)> = with_entry.iter().filter_map(|&i| jobs[i].entry).collect();
    pool.transact_failing(|s| {
        // The replay entries first: a replayed append takes no lock and writes nothing.
        let mut written = vec![Written::Held; jobs.len()];
        let fresh = if entries.is_empty() {
            Vec::new()
        } else {
            insert_entries(s, &entries)?
        };
        for (&i, fresh) in with_entry.iter().zip(fresh) {
            if !fresh {
                written[i] = Written::Replayed;
            }
        }
        let live: Vec<usize> = (0..jobs.len())
            .filter(|&i| !matches!(written[i], Written::Replayed))
            .collect();
        let mut ids: Vec<&[u8]> = live.iter().map(|&i| jobs[i].id.as_slice()).collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            s.query(LOCK, &[&ids])?;
        }
        for round in &rounds(jobs, &live) {
            let of = |f: fn(&Job) -> i64| round.iter().map(|&i| f(&jobs[i])).collect::<Vec<_>>();
            let rows = s.query(
                APPEND_ROUND,
                &[
                    &round
                        .iter()
                        .map(|&i| jobs[i].id.as_slice())
                        .collect::<Vec<_>>(),
                    &round
                        .iter()
                        .map(|&i| jobs[i].json.as_slice())
                        .collect::<Vec<_>>(),
                    &of(|j| j.size),
                    &of(|j| j.envelopes),
                    &of(|j| j.mailbox_bytes),
                    &of(|j| j.office_bytes),
                    &of(|j| j.earliest),
                    &of(|j| j.latest),
                    &of(|j| j.drawn),
                ],
            )?;
            for row in rows {
                let n = u64_at(&row, "n")?;
                let job = usize::try_from(n)
                    .ok()
                    .and_then(|n| round.get(n.checked_sub(1)?))
                    .ok_or(Fail::Store(StoreError::Corrupt(
                        "an append's place in its batch",
                    )))?;
                written[*job] = Written::Appended(u64_at(&row, "last_seq")?);
            }
        }
        Ok(written)
    })
}

/// The indices `live` of `jobs` in rounds of distinct mailboxes: the first append of each
/// mailbox, then the second of those that have two, and so on, each round in the order the
/// jobs came.
fn rounds(jobs: &[Job], live: &[usize]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen = std::collections::HashMap::<&[u8; 16], usize>::new();
    for &i in live {
        let job = &jobs[i];
        let times = seen.entry(&job.id).or_insert(0);
        if *times == rounds.len() {
            rounds.push(Vec::new());
        }
        rounds[*times].push(i);
        *times += 1;
    }
    rounds
}
