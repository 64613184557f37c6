//! The three calls every signed request makes, batched across the requests this instance
//! serves at the same time (`batcher.rs`): the key lookup, the entry in the shared replay
//! cache, and, for a fetch, the replay entry and the page together. A batch is one statement,
//! whatever its size: the database spends more of its time per statement than per row
//! (`docs/benchmarks.md`).
//!
//! A batched read sees what had committed when its statement started, which is after every
//! call in it began: what each call returns is what a read of its own could have returned.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use candor_protocol::{MailboxId, Signer};

use super::batcher::{Answer, Batcher, Pending};
use super::rows::{self, array_at, bound, limit, u64_at};

use super::session::{Fail, Pool, Session};
use crate::store::{Found, KeyedPage, RawEnvelope, Remembered, StoreError};

/// The most calls one batch takes: one statement's arrays, small beside a page of envelopes.
const BATCH: usize = 64;

/// One page to read: the mailbox, the cursor, the bounds in envelopes and bytes, and the
/// replay entry to remember first, if any.
pub(super) struct PageJob {
    id: [u8; 16],
    after: i64,
    limit: i64,
    max_bytes: i64,
    entry: Option<([u8; 32], i64)>,
    /// The key the request named and its signer's code (1 case, 2 office, 3 third party),
    /// when the mailbox is to be checked in the statement (`Store::page_for_key`).
    key: Option<([u8; 32], i16)>,
}

/// This instance's batched reads, each kind with a thread of its own.
pub(super) struct Reads {
    lookups: Batcher<[u8; 16], Found>,
    replays: Batcher<([u8; 32], i64), bool>,
    pages: Batcher<PageJob, KeyedPage>,
}

impl Reads {
    pub(super) fn start(pool: &Arc<Pool>) -> std::io::Result<Self> {
        let (a, b, c) = (pool.clone(), pool.clone(), pool.clone());
        Ok(Self {
            lookups: Batcher::start("candor-pg-lookup", BATCH, move |ids| {
                failing_all(ids.len(), lookups(&a, &ids))
            })?,
            replays: Batcher::start("candor-pg-replay", BATCH, move |jobs| {
                failing_all(jobs.len(), remember(&b, &jobs))
            })?,
            pages: Batcher::start("candor-pg-page", BATCH, move |jobs| {
                failing_all(jobs.len(), pages(&c, &jobs))
            })?,
        })
    }

    /// How many batches of more than one call have run, of lookups, replay entries and pages:
    /// for tests, which must see that concurrent requests share statements.
    #[cfg(test)]
    pub(super) fn shared(&self) -> [u64; 3] {
        [
            self.lookups.shared(),
            self.replays.shared(),
            self.pages.shared(),
        ]
    }

    /// The mailbox `id` and its office (`None` if the office is gone).
    pub(super) fn lookup(&self, id: &MailboxId) -> Pending<Found> {
        self.lookups.submit(*id.as_bytes())
    }

    /// Remembers a request in the unlogged `replay_ids`; `false` if some instance already had.
    ///
    /// A connection that breaks after the insert committed is retried and then answers
    /// `false`: the request is refused as a replay, which is the safe side (its client signs
    /// it anew).
    pub(super) fn remember(&self, entry: Remembered) -> Pending<bool> {
        self.replays.submit((entry.id, bound(entry.expires)))
    }

    /// As `Store::page` (`job` without a key) or `Store::page_for_key` (with one).
    pub(super) fn page(&self, job: PageJob) -> Pending<KeyedPage> {
        self.pages.submit(job)
    }
}

impl PageJob {
    pub(super) fn new(
        entry: Option<Remembered>,
        id: &MailboxId,
        after: u64,
        max: usize,
        max_bytes: usize,
    ) -> Self {
        Self {
            id: *id.as_bytes(),
            // A cursor past every number reads nothing, as does a limit of 0.
            after: bound(after),
            limit: limit(max),
            max_bytes: limit(max_bytes),
            entry: entry.map(|e| (e.id, bound(e.expires))),
            key: None,
        }
    }

    /// The job checks that `key` is `signer`'s registered key for the mailbox before it
    /// remembers or reads anything (`Store::page_for_key`).
    pub(super) fn for_key(mut self, signer: Signer, key: [u8; 32]) -> Self {
        let code = match signer {
            Signer::Case => 1,
            Signer::Office => 2,
            Signer::ThirdParty => 3,
        };
        self.key = Some((key, code));
        self
    }
}

/// A page read without a key (`Store::page`): `None` for a replay. Such a job is always
/// found, since only a job with a key has its mailbox checked.
pub(super) fn unkeyed(page: KeyedPage) -> Result<Option<Vec<RawEnvelope>>, StoreError> {
    match page {
        KeyedPage::Page { envelopes, .. } => Ok(Some(envelopes)),
        KeyedPage::Replayed => Ok(None),
        KeyedPage::NotFound => Err(StoreError::Corrupt("a page read without a key not found")),
    }
}

/// Every call's answer, or the batch's one error for each of them.
fn failing_all<A>(n: usize, result: Result<Vec<A>, StoreError>) -> Vec<Answer<A>> {
    match result {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
    }
}

/// The lookup statement for `n` mailbox IDs, `WHERE m.id IN ($1, …, $n)`, for `n` = 1, 2, 4, …
/// up to [`BATCH`]; a batch is padded to the next of these sizes by repeating its last ID
/// (the index scan reads each ID once). With `= ANY($1)`, PostgreSQL planned the statement
/// anew on every call, since its generic plan, which cannot know the array's length, looked
/// dearer than a plan for the few IDs at hand: during appends the planning cost more than the
/// execution (`docs/benchmarks.md`). With a fixed number of parameters the generic plan
/// is as cheap as a custom one, and after its first few calls on a connection the statement
/// runs on its cached generic plan.
static LOOKUPS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::successors(Some(1usize), |n| (*n < BATCH).then_some(n * 2))
        .map(|n| {
            let params: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
            format!(
                // The office by its key, once per mailbox found (the subquery's LIMIT keeps
                // the planner from hashing the whole of `offices` for a join, which it chose
                // for a batch, reading every page of a table that each append updates).
                "SELECT m.id, m.office, m.signing_key, m.kem_key, m.last_seq, m.count, \
                 m.bytes, m.expiry, m.activity, m.closed, m.marker, o.card, o.signature, \
                 o.signing_key AS office_key, o.serial, o.retention_days \
                 FROM mailboxes m LEFT JOIN LATERAL ( \
                   SELECT card, signature, signing_key, serial, retention_days FROM offices \
                   WHERE id = m.office LIMIT 1) o ON true \
                 WHERE m.id IN ({})",
                params.join(", ")
            )
        })
        .collect()
});

/// The mailboxes `ids` (at most [`BATCH`]) with their offices, in one statement.
pub(super) fn lookups(pool: &Pool, ids: &[[u8; 16]]) -> Result<Vec<Found>, StoreError> {
    let Some(last) = ids.last() else {
        return Ok(Vec::new());
    };
    // `LOOKUPS[k]` takes 2^k IDs.
    let n = ids.len().next_power_of_two();
    let sql = LOOKUPS
        .get(n.trailing_zeros() as usize)
        .ok_or(StoreError::Corrupt(
            "a lookup batch larger than its statement",
        ))?;
    let keys: Vec<&[u8]> = ids
        .iter()
        .chain(std::iter::repeat(last))
        .take(n)
        .map(<[u8; 16]>::as_slice)
        .collect();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = keys
        .iter()
        .map(|k| k as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let found = pool.read(|s| {
        let rows = s.query(sql, &params)?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let mailbox = rows::mailbox(row)?;
            let office = match row.try_get::<_, Option<&[u8]>>("card")? {
                Some(_) => Some(rows::office_named(row, "office", "office_key")?),
                None => None,
            };
            found.insert(array_at::<16>(row, "id", "mailbox ID")?, (mailbox, office));
        }
        Ok(found)
    })?;
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// Inserts the batch's replay entries in one statement committed on its own.
pub(super) fn remember(pool: &Pool, entries: &[([u8; 32], i64)]) -> Result<Vec<bool>, StoreError> {
    pool.read(|s| insert_entries(s, entries))
}

/// Inserts replay entries in one statement: `true` for each one inserted. A digest that comes
/// twice is sent once, and only its first is told `true`.
fn insert_entries(
    s: &mut Session<'_, postgres::Client>,
    entries: &[([u8; 32], i64)],
) -> Result<Vec<bool>, Fail> {
    let mut seen = HashSet::with_capacity(entries.len());
    let (ids, expires): (Vec<&[u8]>, Vec<i64>) = entries
        .iter()
        .filter(|(id, _)| seen.insert(*id))
        .map(|(id, expires)| (id.as_slice(), *expires))
        .unzip();
    let rows = s.query(
        "INSERT INTO replay_ids (id, expires) \
         SELECT id, expires FROM unnest($1::bytea[], $2::int8[]) AS j(id, expires) \
         ON CONFLICT (id) DO NOTHING RETURNING id",
        &[&ids, &expires],
    )?;
    let mut inserted = rows
        .iter()
        .map(|row| array_at::<32>(row, "id", "replay ID"))
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(entries.iter().map(|(id, _)| inserted.remove(id)).collect())
}

/// The batch's replay entries and pages in one statement: each job's entry is inserted, and
/// only a job whose entry was new (or that had none) has its page read. A job that names the
/// key its request was signed with (`Candor-Key`) first has its mailbox read, and is found only
/// if that key is the mailbox's (signer 1, the case) or its office's (signer 2, read by the
/// office's ID in a scalar subquery: as `EXISTS`, the planner hashed the whole of `offices`).
/// The mailbox is read by its ID under a `LIMIT 1`, so that the subquery stays a lookup per
/// job: flattened into a join, the plan PostgreSQL cached for a small office hashed a scan of
/// every page of `mailboxes`, a table that each append updates, on every batch.
/// A job not found has no entry inserted and no page read, and a found job's `closed` is read
/// in the statement's snapshot, before its envelopes. The byte cap is applied by the database
/// (a running sum of the lengths, which PostgreSQL reads without fetching the values), so no
/// JSON past it is sent; each page's first envelope is always taken, whatever its size. An
/// entry that comes twice in one batch is sent once, and a later job that carries it is
/// answered as its first was found: a replay, or not found.
const PAGES: &str = "WITH j AS ( \
       SELECT * FROM unnest($1::bytea[], $2::int8[], $3::int8[], $4::int8[], $5::bytea[], \
         $6::int8[], $7::bytea[], $8::int2[]) WITH ORDINALITY \
         AS j(mailbox, after, lim, cap, entry, expires, key, signer, n)), \
     k AS ( \
       SELECT j.*, (j.key IS NULL OR m.closed IS NOT NULL) AS found, m.closed FROM j \
       LEFT JOIN LATERAL ( \
         SELECT closed FROM mailboxes m WHERE j.key IS NOT NULL AND m.id = j.mailbox AND ( \
           (j.signer = 1 AND m.signing_key = j.key) OR (j.signer = 2 AND j.key = ( \
             SELECT o.signing_key FROM offices o WHERE o.id = m.office))) LIMIT 1) m \
       ON true), \
     r AS ( \
       INSERT INTO replay_ids (id, expires) SELECT entry, expires FROM k \
       WHERE entry IS NOT NULL AND found ON CONFLICT (id) DO NOTHING RETURNING id), \
     f AS ( \
       SELECT k.*, (k.entry IS NULL OR k.entry IN (SELECT id FROM r)) AS fresh FROM k) \
     SELECT f.n, f.found, f.fresh, f.closed, p.seq, p.json FROM f LEFT JOIN LATERAL ( \
       SELECT seq, json FROM ( \
         SELECT seq, json, sum(length(json)) OVER (ORDER BY seq) AS upto, \
           row_number() OVER (ORDER BY seq) AS k \
         FROM (SELECT seq, json FROM envelopes \
           WHERE f.found AND f.fresh AND mailbox = f.mailbox AND seq > f.after \
           ORDER BY seq LIMIT f.lim) lim \
       ) page WHERE upto <= f.cap OR k = 1) p ON true \
     ORDER BY f.n, p.seq";

pub(super) fn pages(pool: &Pool, jobs: &[PageJob]) -> Result<Vec<KeyedPage>, StoreError> {
    // The first job of each entry; a repeated entry's job is answered from its first's
    // answer, without being sent.
    let mut first = HashMap::with_capacity(jobs.len());
    let sent: Vec<usize> = (0..jobs.len())
        .filter(|&i| {
            jobs[i]
                .entry
                .is_none_or(|(id, _)| *first.entry(id).or_insert(i) == i)
        })
        .collect();
    let ids: Vec<&[u8]> = sent.iter().map(|&i| jobs[i].id.as_slice()).collect();
    let of = |f: fn(&PageJob) -> i64| sent.iter().map(|&i| f(&jobs[i])).collect::<Vec<_>>();
    let (after, limits, caps) = (of(|j| j.after), of(|j| j.limit), of(|j| j.max_bytes));
    let entries: Vec<Option<&[u8]>> = sent
        .iter()
        .map(|&i| jobs[i].entry.as_ref().map(|(id, _)| id.as_slice()))
        .collect();
    let expires = of(|j| j.entry.map_or(0, |(_, e)| e));
    let keys: Vec<Option<&[u8]>> = sent
        .iter()
        .map(|&i| jobs[i].key.as_ref().map(|(key, _)| key.as_slice()))
        .collect();
    let signers: Vec<i16> = sent
        .iter()
        .map(|&i| jobs[i].key.map_or(0, |(_, signer)| signer))
        .collect();
    let params: [&(dyn postgres::types::ToSql + Sync); 8] = [
        &ids, &after, &limits, &caps, &entries, &expires, &keys, &signers,
    ];
    let mut out = pool.read(|s| {
        let rows = s.query(PAGES, &params)?;
        let mut out: Vec<KeyedPage> = jobs.iter().map(|_| KeyedPage::Replayed).collect();
        for row in &rows {
            let job = usize::try_from(u64_at(row, "n")?)
                .ok()
                .and_then(|n| sent.get(n.checked_sub(1)?))
                .ok_or(Fail::Store(StoreError::Corrupt(
                    "a page's place in its batch",
                )))?;
            if !row.try_get::<_, bool>("found")? {
                out[*job] = KeyedPage::NotFound;
                continue;
            }
            if !row.try_get::<_, bool>("fresh")? {
                continue;
            }
            if let KeyedPage::Replayed = out[*job] {
                out[*job] = KeyedPage::Page {
                    envelopes: Vec::new(),
                    closed: row.try_get::<_, Option<bool>>("closed")?.unwrap_or(false),
                };
            }
            if let (Some(seq), KeyedPage::Page { envelopes, .. }) =
                (row.try_get::<_, Option<i64>>("seq")?, &mut out[*job])
            {
                envelopes.push(RawEnvelope {
                    seq: u64::try_from(seq)
                        .map_err(|_| Fail::Store(StoreError::Corrupt("a negative number")))?,
                    json: row.try_get("json")?,
                });
            }
        }
        Ok(out)
    })?;
    for (i, job) in jobs.iter().enumerate() {
        if let Some((id, _)) = job.entry
            && let Some(&j) = first.get(&id)
            && j != i
            && out[j] == KeyedPage::NotFound
        {
            out[i] = KeyedPage::NotFound;
        }
    }
    Ok(out)
}
