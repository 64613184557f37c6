//! Maintenance: the sweeper's deletion of what expired, the size of the store, and `check`.
//!
//! The sweep may run on every instance at once. Each batch locks what it deletes with
//! `FOR UPDATE SKIP LOCKED`, so two sweepers never wait on each other or delete a row twice,
//! and a mailbox whose office a writer holds is left for the next batch. Only expired rows are
//! read, through the expiry indexes, so a batch costs what it deletes.

use candor_protocol::{Envelope, MailboxId};

use super::rows::{bound, int, limit, mailbox_id_at, u64_at};
use super::session::{Fail, Pool};
use crate::store::{CheckReport, StoreError, Swept};

/// Rows of envelopes `check` reads at a time.
const CHECK_PAGE: i64 = 512;

pub(super) fn sweep(pool: &Pool, now: u64, batch: usize) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    let now = bound(now);
    swept.mailboxes = pool.transact(|s| {
        let due = s.query(
            "SELECT m.id, m.office, m.bytes FROM mailboxes m JOIN offices o ON o.id = m.office \
             WHERE m.expiry <= $1 ORDER BY m.expiry LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&now, &limit(batch)],
        )?;
        for row in &due {
            let id: &[u8] = row.try_get("id")?;
            let office: &str = row.try_get("office")?;
            let bytes: i64 = row.try_get("bytes")?;
            s.execute("DELETE FROM mailboxes WHERE id = $1", &[&id])?;
            s.execute(
                "UPDATE offices SET open_mailboxes = open_mailboxes - 1, bytes = bytes - $2 \
                 WHERE id = $1",
                &[&office, &bytes],
            )?;
        }
        Ok(due.len() as u64)
    })?;
    swept.more = swept.mailboxes as usize == batch;
    // After the mailboxes: the packages that went with them are not counted again.
    swept.packages = pool.transact(|s| {
        s.execute(
            "DELETE FROM packages WHERE id IN (SELECT id FROM packages WHERE expiry <= $1 \
             ORDER BY expiry LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&now, &limit(batch)],
        )
    })?;
    swept.more |= swept.packages as usize == batch;
    swept.channels = pool.transact(|s| {
        s.execute(
            "DELETE FROM channels WHERE id IN (SELECT id FROM channels WHERE expiry <= $1 \
             ORDER BY expiry LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&now, &limit(batch)],
        )
    })?;
    swept.more |= swept.channels as usize == batch;
    // A token is still refused at its expiry second, so it is kept through it.
    swept.tokens = pool.transact(|s| {
        s.execute(
            "DELETE FROM used_tokens WHERE (kind, random) IN (SELECT kind, random \
             FROM used_tokens WHERE expires < $1 ORDER BY expires LIMIT $2 \
             FOR UPDATE SKIP LOCKED)",
            &[&now, &limit(batch)],
        )
    })?;
    swept.more |= swept.tokens as usize == batch;
    pool.transact(|s| {
        s.execute(
            "DELETE FROM replay_ids WHERE id IN (SELECT id FROM replay_ids WHERE expires < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&now, &limit(batch)],
        )
    })?;
    Ok(swept)
}

pub(super) fn size_on_disk(pool: &Pool) -> Result<u64, StoreError> {
    pool.read(|s| {
        let row = s.query_opt(
            "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) AS size \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            &[],
        )?;
        row.map_or(Ok(0), |row| u64_at(&row, "size"))
    })
}

/// Verifies every invariant the schema's keys do not already hold:
/// - every office's card verifies and names the office, and its counters match its mailboxes;
/// - every mailbox's count, bytes and last sequence number match its envelopes, numbered
///   1..=last_seq;
/// - every envelope parses, names its mailbox and is stored in canonical form;
/// - every channel's cursor is at most the board's counter (unique by the key), and every
///   mailbox's notes are numbered 1..=n.
///
/// Orphans cannot exist: foreign keys tie envelopes, packages and notes to their mailbox, and
/// mailboxes and channels to their office.
pub(super) fn check(pool: &Pool) -> Result<CheckReport, StoreError> {
    pool.read(|s| {
        let mut report = CheckReport::default();
        let offices = s.query(
            "SELECT o.id, o.card, o.signature, o.open_mailboxes, o.bytes, o.activity, \
             COUNT(m.id) AS found, CAST(COALESCE(SUM(m.bytes), 0) AS BIGINT) AS found_bytes, \
             COALESCE(MAX(m.activity), 0) AS newest \
             FROM offices o LEFT JOIN mailboxes m ON m.office = o.id \
             GROUP BY o.id, o.card, o.signature, o.open_mailboxes, o.bytes, o.activity",
            &[],
        )?;
        for row in &offices {
            report.offices += 1;
            let id: &str = row.try_get("id")?;
            let card = candor_protocol::SignedCard {
                card: row.try_get("card")?,
                signature: super::rows::array_at(row, "signature", "card signature")?,
            };
            // A card of an older format verified when it was stored, and still names the
            // office's key; the office replaces it when it next publishes.
            let verifies = match card.verify_office() {
                Ok(c) => c.id.as_str() == id,
                Err(candor_protocol::Error::UnsupportedVersion { .. }) => true,
                Err(_) => false,
            };
            if !verifies {
                report
                    .problems
                    .push(format!("office {id}: its card does not verify"));
            }
            let (open, found) = (u64_at(row, "open_mailboxes")?, u64_at(row, "found")?);
            if open != found {
                report.problems.push(format!(
                    "office {id}: counter says {open} open mailboxes, found {found}"
                ));
            }
            let (bytes, found_bytes) = (u64_at(row, "bytes")?, u64_at(row, "found_bytes")?);
            if bytes != found_bytes {
                report.problems.push(format!(
                    "office {id}: counter says {bytes} bytes, its mailboxes hold {found_bytes}"
                ));
            }
            if u64_at(row, "activity")? < u64_at(row, "newest")? {
                report
                    .problems
                    .push(format!("office {id}: a mailbox's activity is past the office's"));
            }
        }
        let mailboxes = s.query(
            "SELECT m.id, m.count, m.bytes, m.last_seq, COUNT(e.seq) AS found, \
             CAST(COALESCE(SUM(LENGTH(e.json)), 0) AS BIGINT) AS found_bytes, \
             COALESCE(MAX(e.seq), 0) AS newest, COALESCE(MIN(e.seq), 1) AS oldest \
             FROM mailboxes m LEFT JOIN envelopes e ON e.mailbox = m.id \
             GROUP BY m.id, m.count, m.bytes, m.last_seq",
            &[],
        )?;
        for row in &mailboxes {
            report.mailboxes += 1;
            let label = mailbox_id_at(row, "id")?.short_label();
            let (count, bytes, last) = (
                u64_at(row, "count")?,
                u64_at(row, "bytes")?,
                u64_at(row, "last_seq")?,
            );
            let (found, found_bytes) = (u64_at(row, "found")?, u64_at(row, "found_bytes")?);
            if u64_at(row, "oldest")? != 1 || u64_at(row, "newest")? != found {
                report.problems.push(format!(
                    "mailbox {label}: envelope sequence numbers are not 1..={last}"
                ));
            }
            if found != count || found != last || found_bytes != bytes {
                report.problems.push(format!(
                    "mailbox {label}: holds {found} envelopes ({found_bytes} bytes) but its record says {count} ({bytes} bytes, last seq {last})"
                ));
            }
        }
        check_envelopes(s, &mut report)?;
        let counted = s.query_opt(
            "SELECT (SELECT COUNT(*) FROM packages) AS packages, \
             (SELECT COUNT(*) FROM used_tokens) AS tokens, \
             (SELECT COUNT(*) FROM channels) AS channels, \
             (SELECT COUNT(*) FROM notes) AS notes, \
             (SELECT COUNT(*) FROM channels WHERE cursor < 1 \
              OR cursor > (SELECT last_cursor FROM channel_board)) AS beyond, \
             (SELECT COUNT(*) FROM (SELECT mailbox FROM notes GROUP BY mailbox \
              HAVING MIN(number) <> 1 OR MAX(number) <> COUNT(*)) AS gaps) AS gaps",
            &[],
        )?;
        if let Some(row) = counted {
            report.packages = u64_at(&row, "packages")?;
            report.used_tokens = u64_at(&row, "tokens")?;
            report.channels = u64_at(&row, "channels")?;
            report.notes = u64_at(&row, "notes")?;
            let beyond = u64_at(&row, "beyond")?;
            if beyond > 0 {
                report.problems.push(format!(
                    "{beyond} channels have a cursor past the board's counter"
                ));
            }
            let gaps = u64_at(&row, "gaps")?;
            if gaps > 0 {
                report
                    .problems
                    .push(format!("{gaps} mailboxes' notes are not numbered 1..=n"));
            }
        }
        Ok(report)
    })
}

/// Reads every envelope, a page at a time in key order, and checks that it parses, names its
/// mailbox and is stored as its canonical JSON.
fn check_envelopes(
    s: &mut super::session::Session<'_, postgres::Client>,
    report: &mut CheckReport,
) -> Result<(), Fail> {
    let mut from: (Vec<u8>, i64) = (Vec::new(), 0);
    loop {
        let page = s.query(
            "SELECT mailbox, seq, json FROM envelopes WHERE (mailbox, seq) > ($1, $2) \
             ORDER BY mailbox, seq LIMIT $3",
            &[&from.0, &from.1, &CHECK_PAGE],
        )?;
        for row in &page {
            report.envelopes += 1;
            let id: MailboxId = mailbox_id_at(row, "mailbox")?;
            let json: &[u8] = row.try_get("json")?;
            let label = id.short_label();
            match Envelope::from_json(json) {
                Ok(e) if e.mailbox == id && e.to_json() == json => {}
                Ok(e) if e.mailbox == id => report.problems.push(format!(
                    "mailbox {label}: an envelope is not stored in canonical form"
                )),
                Ok(_) => report.problems.push(format!(
                    "mailbox {label}: an envelope names another mailbox"
                )),
                Err(_) => report
                    .problems
                    .push(format!("mailbox {label}: an envelope does not parse")),
            }
        }
        let Some(last) = page.last() else {
            return Ok(());
        };
        from = (last.try_get("mailbox")?, int(u64_at(last, "seq")?)?);
        if (page.len() as i64) < CHECK_PAGE {
            return Ok(());
        }
    }
}
