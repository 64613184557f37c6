//! The part of `candor-server check` (`check.rs`) that covers handoff channels and the
//! ombuds' case notes:
//!
//! - every channel record decodes, belongs to an existing office, is on that office's channel
//!   list, has exactly its expiry entry and its board entry, and its cursor is at most the
//!   board's counter; no two channels share a cursor;
//! - every board entry and office channel list entry names a channel that says so (expiry
//!   entries of kind 3 are checked with the others, in `check.rs`);
//! - every note belongs to an existing mailbox, and a mailbox's notes are numbered 1..=n.

use std::collections::BTreeSet;

use candor_protocol::{MailboxId, OfficeId};

use super::SledStore;
use super::codec::{
    BOARD_CURSOR_KEY, board_key, channel_expiry_key, decode_channel, mailbox_id,
    office_channel_key, prefix, read_u64,
};
use super::{Store as _, backend};
use crate::store::{CheckReport, StoreError};

pub(super) fn run(
    store: &SledStore,
    report: &mut CheckReport,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let counter = match store.tree.get(BOARD_CURSOR_KEY).map_err(backend)? {
        Some(v) => read_u64(&v).unwrap_or_else(|| {
            problems.push("the board's counter is malformed".into());
            u64::MAX
        }),
        None => 0,
    };
    let mut cursors = BTreeSet::new();
    for item in store.tree.scan_prefix([prefix::CHANNEL]) {
        let (key, value) = item.map_err(backend)?;
        report.channels += 1;
        let Some(id) = mailbox_id(&key[1..]) else {
            problems.push("a channel key is not 16 bytes".into());
            continue;
        };
        let Ok(rec) = decode_channel(&value) else {
            problems.push(format!("channel {id}: the record does not decode"));
            continue;
        };
        if store.office(&rec.office)?.is_none() {
            problems.push(format!("channel {id}: its office does not exist"));
        }
        let has = |key: &[u8]| store.tree.contains_key(key).map_err(backend);
        if !has(&office_channel_key(&rec.office, &id))? {
            problems.push(format!("channel {id}: not on its office's channel list"));
        }
        if !has(&channel_expiry_key(rec.expiry, &id))? {
            problems.push(format!("channel {id}: no expiry index entry"));
        }
        let on_board = store.tree.get(board_key(rec.cursor)).map_err(backend)?;
        if on_board.as_deref().and_then(mailbox_id) != Some(id) {
            problems.push(format!("channel {id}: no board entry at its cursor"));
        }
        if rec.cursor == 0 || rec.cursor > counter {
            problems.push(format!(
                "channel {id}: cursor {} is not within the board's counter {counter}",
                rec.cursor
            ));
        }
        if !cursors.insert(rec.cursor) {
            problems.push(format!(
                "channel {id}: another channel has cursor {}",
                rec.cursor
            ));
        }
    }

    for item in store.tree.scan_prefix([prefix::BOARD]) {
        let (key, value) = item.map_err(backend)?;
        let parsed = key.get(1..).and_then(read_u64).zip(mailbox_id(&value));
        let Some((cursor, id)) = parsed else {
            problems.push("a board entry is malformed".into());
            continue;
        };
        match store.channel(&id) {
            Ok(Some(rec)) if rec.cursor == cursor => {}
            // Reported with the record.
            Err(StoreError::Corrupt(_)) => {}
            Ok(_) => problems.push(format!("channel {id}: a stale board entry")),
            Err(e) => return Err(e),
        }
    }

    for key in store.tree.scan_prefix([prefix::OFFICE_CHANNEL]).keys() {
        let key = key.map_err(backend)?;
        let parsed = (key.len() > 18 && key[key.len() - 17] == 0)
            .then(|| {
                let office: OfficeId = std::str::from_utf8(&key[1..key.len() - 17])
                    .ok()?
                    .parse()
                    .ok()?;
                Some((office, mailbox_id(&key[key.len() - 16..])?))
            })
            .flatten();
        let Some((office, id)) = parsed else {
            problems.push("an office channel list entry is malformed".into());
            continue;
        };
        match store.channel(&id) {
            Ok(Some(rec)) if rec.office == office => {}
            Err(StoreError::Corrupt(_)) => {}
            Ok(_) => problems.push(format!("channel {id}: a stale office channel list entry")),
            Err(e) => return Err(e),
        }
    }

    let mut last: Option<(MailboxId, u64)> = None;
    for key in store.tree.scan_prefix([prefix::NOTE]).keys() {
        let key = key.map_err(backend)?;
        report.notes += 1;
        let parsed = (key.len() == 25)
            .then(|| mailbox_id(&key[1..17]).zip(read_u64(&key[17..])))
            .flatten();
        let Some((id, number)) = parsed else {
            problems.push("a note key is not 24 bytes".into());
            continue;
        };
        let expected = match last {
            Some((previous, n)) if previous == id => n + 1,
            _ => {
                if store.mailbox(&id)?.is_none() {
                    problems.push(format!(
                        "mailbox {id}: notes of a mailbox that does not exist"
                    ));
                }
                1
            }
        };
        if number != expected {
            problems.push(format!("mailbox {id}: its notes are not numbered 1..=n"));
        }
        last = Some((id, number));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use candor_protocol::MailboxId;

    use super::super::codec::{board_key, note_key};
    use crate::startup::open_store;
    use crate::store::conformance::{RETAINED, hours, opened, opened_expiring, quotas, registered};
    use crate::store::{NewChannel, Store as _};

    fn channel(office: &crate::store::conformance::TestOffice, expiry: u64) -> NewChannel {
        NewChannel {
            id: MailboxId::random(&mut rand::rng()),
            office: office.id(),
            expiry,
            notice: b"notice".to_vec(),
            body: b"body".to_vec(),
        }
    }

    #[test]
    fn channels_and_notes_keep_every_invariant_and_damage_is_reported() {
        // Arrange: channels opened, changed, deleted and swept; notes of a case kept, of one
        // deleted and of one swept.
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir.path().join("store"), 8 * 1024 * 1024).unwrap();
        let office = registered(&store, "ombuds");
        let (kept, deleted) = (opened(&store, &office), opened(&store, &office));
        let expiring = opened_expiring(&store, &office, hours(1));
        let channels: Vec<NewChannel> = [RETAINED, RETAINED, hours(1)]
            .iter()
            .map(|&at| channel(&office, at))
            .collect();
        for c in &channels {
            store.open_channel(c, &quotas()).unwrap();
        }
        store
            .update_channel(&channels[0].id, &mut |_| Ok(b"changed".to_vec()))
            .unwrap();
        assert!(store.delete_channel(&channels[1].id).unwrap());
        for case in [&kept, &deleted, &expiring] {
            for _ in 0..3 {
                store.put_note(&case.id(), b"note", &quotas()).unwrap();
            }
        }
        assert!(store.delete_mailbox(&deleted.id()).unwrap());
        // The sweep reads what is committed.
        store.flush().unwrap();
        let swept = store.sweep(hours(2), 100).unwrap();
        store.flush().unwrap();

        // Act
        let clean = store.check().unwrap();
        store.tree.remove(board_key(1)).unwrap();
        store.tree.remove(note_key(&kept.id(), 2)).unwrap();
        let damaged = store.check().unwrap();

        // Assert
        assert_eq!((swept.channels, swept.mailboxes), (1, 1));
        assert!(clean.problems.is_empty(), "{:?}", clean.problems);
        assert_eq!((clean.channels, clean.notes, clean.mailboxes), (1, 3, 1));
        let id = channels[0].id;
        assert_eq!(
            damaged.problems,
            [
                format!("channel {id}: no board entry at its cursor"),
                format!("mailbox {}: its notes are not numbered 1..=n", kept.id()),
            ]
        );
    }
}
