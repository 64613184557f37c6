//! The ombuds' case notes: numbered per mailbox, paged in order, counted against a quota,
//! kept apart from the envelopes and the inbox, taken on a closed case, and deleted with
//! their mailbox however it goes.

use super::{
    Harness, RETAINED, TestCase, all_envelopes, assert_clean, hours, opened, opened_expiring, pow,
    quotas, registered,
};
use crate::store::{Quotas, StoreError};

/// The notes `store` holds for `case`, all of them.
fn all_notes(store: &dyn crate::store::Store, case: &TestCase) -> Vec<(u64, Vec<u8>)> {
    store.notes(&case.id(), 0, 10_000).unwrap()
}

pub(crate) fn notes_are_numbered_per_mailbox_and_paged_in_order(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let texts: Vec<Vec<u8>> = (1..=5).map(|i| format!("note {i}").into_bytes()).collect();

    // Act
    let numbers: Vec<u64> = texts
        .iter()
        .map(|t| store.put_note(&case.id(), t, &quotas()).unwrap())
        .collect();
    let elsewhere = store.put_note(&other.id(), b"theirs", &quotas()).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert_eq!(elsewhere, 1);
    let expected: Vec<(u64, Vec<u8>)> = numbers.iter().copied().zip(texts).collect();
    assert_eq!(all_notes(store, &case), expected);
    assert_eq!(store.notes(&case.id(), 2, 2).unwrap(), expected[2..4]);
    assert_eq!(store.notes(&case.id(), 4, 10).unwrap(), expected[4..]);
    assert!(store.notes(&case.id(), 5, 10).unwrap().is_empty());
    assert!(store.notes(&case.id(), 0, 0).unwrap().is_empty());
    assert_eq!(all_notes(store, &other), [(1, b"theirs".to_vec())]);
    // Not among the envelopes the visitor fetches.
    assert_eq!(all_envelopes(store, &case.id()), [case.first_stored()]);
    assert_eq!(store.check().unwrap().notes, 6);
    assert_clean(store);
}

pub(crate) fn a_mailbox_holds_at_most_its_quota_of_notes(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let limited = Quotas {
        notes_per_mailbox: 2,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));

    // Act
    let results: Vec<_> = (0..3)
        .map(|_| store.put_note(&case.id(), b"n", &limited))
        .collect();
    let at_other = store.put_note(&other.id(), b"n", &limited);
    store.flush().unwrap();

    // Assert: the third is refused, for this mailbox only.
    assert_eq!(results[..2], [Ok(1), Ok(2)]);
    assert!(
        matches!(results[2], Err(StoreError::Quota(_))),
        "{results:?}"
    );
    assert_eq!(at_other, Ok(1));
    assert_eq!(all_notes(store, &case).len(), 2);
    assert_clean(store);
}

pub(crate) fn a_note_of_a_missing_mailbox_is_not_found(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let stranger = TestCase::new(&office);

    // Act
    let refused = store.put_note(&stranger.id(), b"note", &quotas());
    store.flush().unwrap();

    // Assert
    assert_eq!(refused, Err(StoreError::NotFound));
    assert!(all_notes(store, &stranger).is_empty());
    assert_eq!(store.check().unwrap().notes, 0);
    assert_clean(store);
}

pub(crate) fn a_note_moves_neither_the_inbox_nor_the_expiry(h: &mut dyn Harness) {
    // Arrange: two cases, the first listed by an inbox read (so that a write would move it).
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let inbox = store.inbox(&office.id(), 0, 100).unwrap();
    let record = store.mailbox(&case.id()).unwrap();

    // Act
    store
        .put_note(&case.id(), b"called them back", &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert: the same inbox entries, in the same order, and the same record.
    assert_eq!(store.inbox(&office.id(), 0, 100).unwrap(), inbox);
    assert_eq!(inbox.len(), 2);
    assert_eq!(
        (inbox[0].mailbox, inbox[1].mailbox),
        (case.id(), other.id())
    );
    assert_eq!(store.mailbox(&case.id()).unwrap(), record);
    assert_eq!(record.map(|r| r.expiry), Some(RETAINED));
    assert_clean(store);
}

pub(crate) fn notes_go_with_their_mailbox_deleted_or_swept(h: &mut dyn Harness) {
    // Arrange: a case to delete, one that expires, one that stays, each with notes.
    let store = h.store();
    let office = registered(store, "ombuds");
    let deleted = opened(store, &office);
    let expiring = opened_expiring(store, &office, hours(1));
    let kept = opened(store, &office);
    for case in [&deleted, &expiring, &kept] {
        for text in ["one", "two"] {
            store
                .put_note(&case.id(), text.as_bytes(), &quotas())
                .unwrap();
        }
    }
    store.flush().unwrap();

    // Act
    assert!(store.delete_mailbox(&deleted.id()).unwrap());
    let swept = store.sweep(hours(2), 100).unwrap();
    store.flush().unwrap();

    // Assert: gone with their cases; a reopened ID starts again from 1.
    assert_eq!(swept.mailboxes, 1);
    assert!(all_notes(store, &deleted).is_empty());
    assert!(all_notes(store, &expiring).is_empty());
    assert_eq!(all_notes(store, &kept).len(), 2);
    assert_eq!(store.check().unwrap().notes, 2);
    store
        .open_mailbox(&deleted.new_mailbox(&office, RETAINED), &pow(), &quotas())
        .unwrap();
    assert_eq!(store.put_note(&deleted.id(), b"anew", &quotas()), Ok(1));
    store.flush().unwrap();
    assert_eq!(all_notes(store, &deleted), [(1, b"anew".to_vec())]);
    assert_clean(store);
}

pub(crate) fn a_closed_case_takes_notes(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    store
        .close_mailbox(&case.id(), None, RETAINED, &quotas())
        .unwrap();
    store.flush().unwrap();
    let record = store.mailbox(&case.id()).unwrap();

    // Act
    let number = store.put_note(&case.id(), b"after closing", &quotas());
    store.flush().unwrap();

    // Assert
    assert_eq!(number, Ok(1));
    assert_eq!(all_notes(store, &case), [(1, b"after closing".to_vec())]);
    assert_eq!(store.mailbox(&case.id()).unwrap(), record);
    assert!(record.is_some_and(|r| r.closed));
    assert_clean(store);
}

pub(crate) fn notes_survive_a_restart(h: &mut dyn Harness) {
    // Arrange
    let office = registered(h.store(), "ombuds");
    let case = opened(h.store(), &office);
    h.store().put_note(&case.id(), b"kept", &quotas()).unwrap();
    h.store().flush().unwrap();

    // Act
    h.restart();

    // Assert: still there, and numbering goes on.
    let store = h.store();
    assert_eq!(all_notes(store, &case), [(1, b"kept".to_vec())]);
    assert_eq!(store.put_note(&case.id(), b"next", &quotas()), Ok(2));
    store.flush().unwrap();
    assert_clean(store);
}
