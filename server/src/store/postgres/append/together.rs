//! A batch of appends as one statement committed on its own: it stores their replay entries,
//! takes every lock they need in the global order, and writes them, so a batch costs the
//! database one round trip and one flush however many appends it holds, and the office's lock
//! is held only while that statement runs and its commit is flushed.
//!
//! The order of a statement's parts follows what each reads: the locks read the jobs whose
//! entries were new, so every entry is stored first (in the order of their digests); the
//! offices' lock reads the mailboxes' (a sort of them all), so every mailbox is locked first
//! (in the order of their IDs), and then each office (in the order of theirs). Every batch
//! takes its locks in this one order, and so does every single write (its mailbox, then its
//! office), so none of them can wait on each other in a cycle, on one instance or several.

use std::collections::HashSet;

use postgres::types::ToSql;

use super::{Job, Written};
use crate::store::StoreError;
use crate::store::postgres::rows::u64_at;
use crate::store::postgres::session::{Fail, Pool};

/// [`super::APPEND`] for a batch, given as arrays in the batch's order (`n`, from 1). A
/// mailbox's appends are numbered in that order, and each is written only if it and those
/// before it fit the mailbox's quotas; an office's appends move its counters once, by their
/// sum, with the office's byte quota checked for the sum, and take its next activity numbers
/// in that order. Each job gets one row: whether its entry was new (or it had none), and its
/// number if it was written. A job with no number (a mailbox unknown, closed or full, or an
/// office whose quota the batch's sum would pass) wrote nothing but its entry.
///
/// Under READ COMMITTED a row this statement locks is read as it stands once locked, and each
/// row it updates is updated as it then stands, so the counters are those the previous write
/// of the mailbox committed.
const APPEND_BATCH: &str = "WITH j AS ( \
       SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int8[], $4::int8[], $5::int8[], \
         $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::bytea[], $11::int8[]) \
       WITH ORDINALITY AS j(id, json, size, envelopes, mailbox_bytes, office_bytes, \
         earliest, latest, drawn, entry, expires, n)), \
     r AS ( \
       INSERT INTO replay_ids (id, expires) \
       SELECT entry, expires FROM j WHERE entry IS NOT NULL ORDER BY entry \
       ON CONFLICT (id) DO NOTHING RETURNING id), \
     live AS (SELECT * FROM j WHERE entry IS NULL OR entry IN (SELECT id FROM r)), \
     lk AS ( \
       SELECT id, office, count, bytes, last_seq FROM mailboxes \
       WHERE id IN (SELECT id FROM live) AND NOT closed ORDER BY id FOR NO KEY UPDATE), \
     mb AS ( \
       SELECT l.n, l.id, l.json, l.size, l.envelopes, l.mailbox_bytes, l.office_bytes, \
         l.earliest, l.latest, l.drawn, k.office, k.count, k.bytes, k.last_seq, \
         row_number() OVER w AS q, (sum(l.size) OVER w)::int8 AS upto \
       FROM live l JOIN lk k ON k.id = l.id WINDOW w AS (PARTITION BY l.id ORDER BY l.n)), \
     ok AS (SELECT * FROM mb WHERE count + q <= envelopes AND bytes + upto <= mailbox_bytes), \
     ol AS ( \
       SELECT id FROM offices WHERE id IN (SELECT office FROM ok) \
       ORDER BY id FOR NO KEY UPDATE), \
     per AS ( \
       SELECT office, sum(size)::int8 AS bytes, count(*) AS k, min(office_bytes) AS cap \
       FROM ok GROUP BY office), \
     o AS ( \
       UPDATE offices SET activity = offices.activity + per.k, bytes = offices.bytes + per.bytes \
       FROM per JOIN ol ON ol.id = per.office \
       WHERE offices.id = per.office AND offices.bytes + per.bytes <= per.cap \
       RETURNING offices.id, offices.activity - per.k AS before), \
     done AS ( \
       SELECT ok.*, o.before + row_number() OVER (PARTITION BY ok.office ORDER BY ok.n) \
         AS activity \
       FROM ok JOIN o ON o.id = ok.office), \
     last AS ( \
       SELECT DISTINCT ON (id) id, q, upto, earliest, latest, drawn, activity \
       FROM done ORDER BY id, n DESC), \
     m AS ( \
       UPDATE mailboxes SET last_seq = last_seq + last.q, count = count + last.q, \
         bytes = mailboxes.bytes + last.upto, \
         expiry = CASE WHEN expiry BETWEEN last.earliest AND last.latest THEN expiry \
           ELSE last.drawn END, \
         activity = last.activity \
       FROM last WHERE mailboxes.id = last.id RETURNING mailboxes.id), \
     w AS ( \
       SELECT done.n, done.id, done.last_seq + done.q AS seq, done.json \
       FROM done JOIN m ON m.id = done.id), \
     e AS (INSERT INTO envelopes (mailbox, seq, json) SELECT id, seq, json FROM w) \
     SELECT j.n, (j.entry IS NULL OR j.entry IN (SELECT id FROM r)) AS fresh, w.seq \
     FROM j LEFT JOIN w ON w.n = j.n";

/// Runs `jobs` as one statement: what it did with each. A job whose entry an earlier job of
/// the batch carries is a replay, and is not sent.
///
/// Fails with [`Fail::Commit`] when the connection broke after the statement was sent: whether
/// it committed is then unknown.
pub(super) fn together(pool: &Pool, jobs: &[Job]) -> Result<Vec<Written>, Fail> {
    let mut written = vec![Written::Held; jobs.len()];
    let mut entries = HashSet::with_capacity(jobs.len());
    let (mut sent, mut sent_at) = (Vec::with_capacity(jobs.len()), Vec::new());
    for (i, job) in jobs.iter().enumerate() {
        match job.entry {
            Some((id, _)) if !entries.insert(id) => written[i] = Written::Replayed,
            _ => {
                sent.push(job);
                sent_at.push(i);
            }
        }
    }
    let of = |f: fn(&Job) -> i64| sent.iter().map(|j| f(j)).collect::<Vec<_>>();
    let ids: Vec<&[u8]> = sent.iter().map(|j| j.id.as_slice()).collect();
    let json: Vec<&[u8]> = sent.iter().map(|j| j.json.as_slice()).collect();
    let digests: Vec<Option<&[u8]>> = sent
        .iter()
        .map(|j| j.entry.as_ref().map(|(id, _)| id.as_slice()))
        .collect();
    let arrays = [
        of(|j| j.size),
        of(|j| j.envelopes),
        of(|j| j.mailbox_bytes),
        of(|j| j.office_bytes),
        of(|j| j.earliest),
        of(|j| j.latest),
        of(|j| j.drawn),
        of(|j| j.entry.map_or(0, |(_, expires)| expires)),
    ];
    // In the statement's order: the mailboxes, the envelopes, seven numbers, then the
    // entries and their expiries.
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&ids, &json];
    params.extend(arrays[..7].iter().map(|a| a as &(dyn ToSql + Sync)));
    params.extend([&digests as &(dyn ToSql + Sync), &arrays[7]]);
    let rows = pool.write_failing(|s| s.query(APPEND_BATCH, &params))?;
    for row in rows {
        let job = usize::try_from(u64_at(&row, "n")?)
            .ok()
            .and_then(|n| sent_at.get(n.checked_sub(1)?))
            .ok_or(Fail::Store(StoreError::Corrupt(
                "an append's place in its batch",
            )))?;
        written[*job] = if !row.try_get::<_, bool>("fresh")? {
            Written::Replayed
        } else {
            match row.try_get::<_, Option<i64>>("seq")? {
                Some(seq) => Written::Appended(
                    u64::try_from(seq)
                        .map_err(|_| Fail::Store(StoreError::Corrupt("a negative number")))?,
                ),
                None => Written::Held,
            }
        };
    }
    Ok(written)
}
