//! Appending to a mailbox: one statement, committed on its own, that takes the office's lock
//! only for itself and its commit, for the append alone or with the appends that arrived while
//! the previous batch ran (`batcher.rs`).

use candor_protocol::{Envelope, MailboxId};

use postgres::GenericClient;

use super::batcher::Answer;
use super::rows::{bound, int, u64_at};
use super::session::{Fail, Pool, Session, words};
use crate::store::{Expiry, Quotas, Remembered, StoreError};

mod together;

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

/// The most appends one batch takes: the office's lock is held while the batch's statement
/// runs, so a larger batch shares one flush among more appends but makes the next wait
/// longer.
pub(super) const BATCH: usize = 32;

/// How many batches ran again one append at a time: for tests, which must see the batched
/// statement work rather than its fallback.
#[cfg(test)]
pub(super) static FELL_BACK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One append, with its parameters checked and converted before it is queued.
pub(super) struct Job {
    id: [u8; 16],
    json: Vec<u8>,
    len: u64,
    size: i64,
    envelopes: i64,
    mailbox_bytes: i64,
    office_bytes: i64,
    earliest: i64,
    latest: i64,
    drawn: i64,
    quotas: Quotas,
    /// The request's entry in the shared replay cache, stored with the append.
    entry: Option<([u8; 32], i64)>,
}

impl Job {
    pub(super) fn new(
        id: &MailboxId,
        envelope: &Envelope,
        expiry: &Expiry,
        quotas: &Quotas,
    ) -> Result<Self, StoreError> {
        let json = envelope.to_json();
        let len = json.len() as u64;
        Ok(Self {
            id: *id.as_bytes(),
            json,
            len,
            size: int(len)?,
            envelopes: bound(quotas.envelopes_per_mailbox),
            mailbox_bytes: bound(quotas.bytes_per_mailbox),
            office_bytes: bound(quotas.bytes_per_office),
            earliest: int(expiry.earliest)?,
            latest: int(expiry.latest)?,
            drawn: int(expiry.drawn)?,
            quotas: *quotas,
            entry: None,
        })
    }

    /// The job, remembering `entry` in the shared replay cache with the append: if it was
    /// remembered already, the job answers [`StoreError::Replayed`] and appends nothing.
    pub(super) fn remembering(self, entry: Option<Remembered>) -> Self {
        Self {
            entry: entry.map(|e| (e.id, bound(e.expires))),
            ..self
        }
    }

    /// [`APPEND`] for this job: the envelope's number, or `None` if it wrote nothing.
    fn run<C: GenericClient>(&self, s: &mut Session<'_, C>) -> Result<Option<u64>, Fail> {
        let row = s.query_opt(
            APPEND,
            &[
                &self.id.as_slice(),
                &self.json,
                &self.size,
                &self.envelopes,
                &self.mailbox_bytes,
                &self.office_bytes,
                &self.earliest,
                &self.latest,
                &self.drawn,
            ],
        )?;
        row.map(|row| u64_at(&row, "last_seq")).transpose()
    }
}

/// Runs one batch of appends, one or many, as one statement committed on its own, with their
/// replay entries, and one WAL flush for all of them (the relay's group commit, as sled's log
/// has; `append/together.rs`). A batch the database refused as a whole runs again one append
/// at a time, so that no append fails for another's sake; a batch whose connection broke
/// after it was sent does not, since whether it committed is unknown.
pub(super) fn batch(pool: &Pool, jobs: Vec<Job>) -> Vec<Answer<u64>> {
    match together::together(pool, &jobs) {
        Ok(written) => jobs
            .iter()
            .zip(written)
            .map(|(job, written)| match written {
                Written::Appended(number) => Ok(number),
                Written::Replayed => Err(StoreError::Replayed),
                // Refused, or held back by another append of its office or its mailbox in the
                // batch (the quotas are checked for their sums): alone, it gets its own
                // answer. Its replay entry committed with the batch.
                Written::Held => alone(pool, job),
            })
            .collect(),
        Err(Fail::Commit(e)) => jobs
            .iter()
            .map(|_| Err(StoreError::Backend(words(&e))))
            .collect(),
        Err(e) => {
            #[cfg(test)]
            FELL_BACK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Words only: no mailbox ID, no parameter.
            tracing::warn!(
                error = %StoreError::from(e),
                "a batch of appends failed; running them one at a time"
            );
            jobs.iter().map(|job| remembered_alone(pool, job)).collect()
        }
    }
}

/// What a batch did with one of its appends.
#[derive(Clone, Copy, Debug)]
pub(super) enum Written {
    /// Appended, with this number.
    Appended(u64),
    /// Not written: its replay entry was remembered already.
    Replayed,
    /// Not written by the batch's statement; its replay entry, if any, is stored.
    Held,
}

/// One append with its replay entry, each a statement committed on its own.
fn remembered_alone(pool: &Pool, job: &Job) -> Answer<u64> {
    if let Some(entry) = job.entry
        && !super::reads::remember(pool, &[entry])?
            .first()
            .copied()
            .unwrap_or(false)
    {
        return Err(StoreError::Replayed);
    }
    alone(pool, job)
}

/// One append, as one statement committed on its own.
fn alone(pool: &Pool, job: &Job) -> Answer<u64> {
    pool.write(|s| match job.run(s)? {
        Some(number) => Ok(number),
        None => Err(refused_append(s, job)?),
    })
}

/// Why [`APPEND`] wrote nothing, as the error the append answers.
fn refused_append(s: &mut Session<'_, postgres::Client>, job: &Job) -> Result<Fail, Fail> {
    let (len, quotas) = (job.len, &job.quotas);
    let Some(row) = s.query_opt(
        "SELECT m.closed, m.count, m.bytes, o.bytes AS office_bytes FROM mailboxes m \
         JOIN offices o ON o.id = m.office WHERE m.id = $1",
        &[&job.id.as_slice()],
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
