//! The inbox: an office's mailboxes by activity, paged by a cursor a reader keeps, so that a
//! reader polling from its last cursor sees every write.

use std::collections::HashMap;

use candor_protocol::MailboxId;

use super::{Harness, TestCase, appended, assert_clean, inbox_order, opened, registered};
use crate::store::Store;

pub(crate) fn the_inbox_lists_an_office_s_mailboxes_oldest_first(h: &mut dyn Harness) {
    // Arrange: three cases opened in turn, the first written to before the others opened,
    // and a case at another office.
    let store = h.store();
    let office = registered(store, "ombuds");
    let other = registered(store, "other");
    let first = opened(store, &office);
    appended(store, &first, "one");
    appended(store, &first, "two");
    let cases = [first, opened(store, &office), opened(store, &office)];
    let stranger = opened(store, &other);

    // Act
    let entries = store.inbox(&office.id(), 0, 100).unwrap();

    // Assert: this office's mailboxes, by activity, with their keys and counts.
    let listed: Vec<MailboxId> = entries.iter().map(|e| e.mailbox).collect();
    assert_eq!(listed, cases.each_ref().map(TestCase::id));
    assert!(!listed.contains(&stranger.id()));
    assert!(entries.windows(2).all(|w| w[0].activity < w[1].activity));
    assert!(entries[0].activity > 0);
    for (entry, case) in entries.iter().zip(&cases) {
        assert_eq!(entry.kem_key, case.keys.kem.public_key().to_bytes());
        assert_eq!(entry.signing_key, case.keys.signing.public_key().to_bytes());
    }
    let counts: Vec<(u64, u64)> = entries.iter().map(|e| (e.envelopes, e.last_seq)).collect();
    assert_eq!(counts, [(3, 3), (1, 1), (1, 1)]);
    assert_eq!(inbox_order(store, &other), [stranger.id()]);
}

pub(crate) fn the_inbox_pages_after_an_activity(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    for _ in 0..5 {
        opened(store, &office);
    }
    let all = store.inbox(&office.id(), 0, 100).unwrap();
    let page = |after: u64, limit: usize| store.inbox(&office.id(), after, limit).unwrap();

    // Act: pages of two, each after the last activity of the one before.
    let first = page(0, 2);
    let second = page(first[1].activity, 2);
    let third = page(second[1].activity, 2);
    let end = page(third[0].activity, 2);

    // Assert
    assert_eq!(all.len(), 5);
    assert_eq!([first, second, third].concat(), all);
    assert!(end.is_empty());
    assert_eq!(page(all[2].activity, 100), all[3..]);
    assert!(page(0, 0).is_empty());
    assert!(page(u64::MAX, 100).is_empty());
}

pub(crate) fn a_mailbox_written_after_a_read_moves_to_the_end(h: &mut dyn Harness) {
    // Arrange: three cases, all listed by a reader.
    let store = h.store();
    let office = registered(store, "ombuds");
    let cases: Vec<TestCase> = (0..3).map(|_| opened(store, &office)).collect();
    let listed = store.inbox(&office.id(), 0, 100).unwrap();
    let cursor = listed.last().unwrap().activity;

    // Act
    appended(store, &cases[0], "again");

    // Assert: past the reader's cursor, with its new counts; the others keep their order.
    let after = store.inbox(&office.id(), cursor, 100).unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].mailbox, cases[0].id());
    assert_eq!((after[0].envelopes, after[0].last_seq), (2, 2));
    assert!(after[0].activity > cursor);
    assert_eq!(
        inbox_order(store, &office),
        [cases[1].id(), cases[2].id(), cases[0].id()]
    );
    assert_clean(store);
}

pub(crate) fn a_deleted_mailbox_leaves_the_inbox(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let cases: Vec<TestCase> = (0..3).map(|_| opened(store, &office)).collect();
    let listed = store.inbox(&office.id(), 0, 100).unwrap();

    // Act
    assert!(store.delete_mailbox(&cases[1].id()).unwrap());
    store.flush().unwrap();

    // Assert: gone from the whole inbox and from a page after a cursor before it.
    assert_eq!(inbox_order(store, &office), [cases[0].id(), cases[2].id()]);
    let after_first = store.inbox(&office.id(), listed[0].activity, 100).unwrap();
    let ids: Vec<MailboxId> = after_first.iter().map(|e| e.mailbox).collect();
    assert_eq!(ids, [cases[2].id()]);
    assert_clean(store);
}

/// Reads one inbox entry after `cursor`, records its counts in `seen`, and returns the new
/// cursor (the same if nothing was listed).
fn poll(
    store: &dyn Store,
    office: &super::TestOffice,
    cursor: u64,
    seen: &mut HashMap<MailboxId, (u64, u64)>,
) -> u64 {
    let page = store.inbox(&office.id(), cursor, 1).unwrap();
    for entry in &page {
        assert!(entry.activity > cursor, "{} <= {cursor}", entry.activity);
        seen.insert(entry.mailbox, (entry.envelopes, entry.last_seq));
    }
    page.last().map_or(cursor, |e| e.activity)
}

pub(crate) fn a_reader_polling_from_its_cursor_misses_no_append(h: &mut dyn Harness) {
    // Arrange: three cases, a fourth opened midway, and a reader that pages one at a time.
    let store = h.store();
    let office = registered(store, "ombuds");
    let mut cases: Vec<TestCase> = (0..3).map(|_| opened(store, &office)).collect();
    let mut cursor = 0;
    // What the reader saw of each case at its last listing: envelopes and last seq.
    let mut seen = HashMap::new();

    // Act: writes to listed and unlisted cases, each acknowledged, between reads.
    for i in [0, 0, 1, 2, 2, 0, 3, 1, 1, 3, 0, 2, 1, 0, 3] {
        if i == cases.len() {
            cases.push(opened(store, &office));
        }
        appended(store, &cases[i], "note");
        cursor = poll(store, &office, cursor, &mut seen);
    }
    // Then the reader drains what is left after its cursor.
    for _ in 0..100 {
        let before = cursor;
        cursor = poll(store, &office, cursor, &mut seen);
        if cursor == before {
            break;
        }
    }

    // Assert: its last listing of every case shows all of that case's envelopes.
    for case in &cases {
        let held = store.envelopes(&case.id(), 0, 1000).unwrap();
        let last = held.last().map_or(0, |e| e.seq);
        assert_eq!(
            seen.get(&case.id()),
            Some(&(held.len() as u64, last)),
            "the reader missed a write to {}",
            case.id()
        );
    }
}
