//! Read markers: the office's sealed marker of a case, opaque to the store, kept with the case
//! and read back with it and in the inbox. Setting one is not activity: the case keeps its
//! place in the inbox and its expiry.

use candor_protocol::api::InboxEntry;

use super::{
    Harness, TestCase, assert_clean, assert_no_envelopes, hours, inbox_order, opened,
    opened_expiring, registered, sealed_marker,
};
use crate::store::StoreError;

pub(crate) fn a_marker_reads_back_from_the_mailbox_and_the_inbox(h: &mut dyn Harness) {
    // Arrange: two cases, one marked read up to its first envelope.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let unmarked = store.mailbox(&case.id()).unwrap().unwrap().marker;
    let (first, second) = (
        sealed_marker(&office, &case, 1),
        sealed_marker(&office, &case, 2),
    );
    store.set_marker(&case.id(), &first).unwrap();
    store.flush().unwrap();
    let marked = store.mailbox(&case.id()).unwrap().unwrap().marker;

    // Act: replaced by a later one.
    store.set_marker(&case.id(), &second).unwrap();
    store.flush().unwrap();

    // Assert: each read back byte for byte, the last one in both reads; the other case
    // has none.
    assert_eq!(unmarked, None);
    assert_eq!(marked.as_deref(), Some(first.as_slice()));
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!(rec.marker.as_deref(), Some(second.as_slice()));
    let entries = store.inbox(&office.id(), 0, 100).unwrap();
    let markers: Vec<_> = entries.iter().map(|e| e.marker.as_deref()).collect();
    assert_eq!(markers, [Some(second.as_slice()), None]);
    assert_eq!(store.mailbox(&other.id()).unwrap().unwrap().marker, None);
    assert_clean(store);
}

pub(crate) fn a_marker_survives_a_restart(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let marker = sealed_marker(&office, &case, 1);
    store.set_marker(&case.id(), &marker).unwrap();
    store.flush().unwrap();

    // Act
    h.restart();

    // Assert
    let store = h.store();
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!(rec.marker.as_deref(), Some(marker.as_slice()));
    let entry = &store.inbox(&office.id(), 0, 100).unwrap()[0];
    assert_eq!(entry.marker.as_deref(), Some(marker.as_slice()));
    assert_clean(store);
}

pub(crate) fn setting_a_marker_moves_neither_the_inbox_order_nor_the_expiry(h: &mut dyn Harness) {
    // Arrange: three cases listed by a reader, the first due in an hour.
    let store = h.store();
    let office = registered(store, "ombuds");
    let due = opened_expiring(store, &office, hours(1));
    let (middle, last) = (opened(store, &office), opened(store, &office));
    let listed = store.inbox(&office.id(), 0, 100).unwrap();
    let cursor = listed.last().unwrap().activity;
    let records = [&due, &middle].map(|case| store.mailbox(&case.id()).unwrap().unwrap());
    let markers = [&due, &middle].map(|case| sealed_marker(&office, case, 1));

    // Act: the first two marked.
    for (case, marker) in [&due, &middle].into_iter().zip(&markers) {
        store.set_marker(&case.id(), marker).unwrap();
    }
    store.flush().unwrap();

    // Assert: nothing past the reader's cursor; the same entries at the same activity,
    // with their markers; the records changed in their marker only; the due case still
    // goes at its expiry.
    assert!(store.inbox(&office.id(), cursor, 100).unwrap().is_empty());
    let expected: Vec<InboxEntry> = listed
        .into_iter()
        .zip([Some(&markers[0]), Some(&markers[1]), None])
        .map(|(entry, marker)| InboxEntry {
            marker: marker.cloned(),
            ..entry
        })
        .collect();
    assert_eq!(store.inbox(&office.id(), 0, 100).unwrap(), expected);
    for (case, (before, marker)) in [&due, &middle]
        .into_iter()
        .zip(records.into_iter().zip(&markers))
    {
        let after = store.mailbox(&case.id()).unwrap().unwrap();
        assert_eq!(after.marker.as_ref(), Some(marker));
        assert_eq!(
            crate::store::MailboxRecord {
                marker: None,
                ..after
            },
            before
        );
    }
    assert_eq!(store.sweep(hours(1), 100).unwrap().mailboxes, 1);
    store.flush().unwrap();
    assert_eq!(inbox_order(store, &office), [middle.id(), last.id()]);
    assert_clean(store);
}

pub(crate) fn a_marker_of_a_missing_mailbox_is_not_found(h: &mut dyn Harness) {
    // Arrange: a case never opened, and one deleted.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (never, deleted) = (TestCase::new(&office), opened(store, &office));
    assert!(store.delete_mailbox(&deleted.id()).unwrap());

    // Act: the second before the deletion is flushed.
    let refused = [&never, &deleted]
        .map(|case| store.set_marker(&case.id(), &sealed_marker(&office, case, 1)));
    store.flush().unwrap();

    // Assert: nothing was created.
    assert_eq!(
        refused,
        [Err(StoreError::NotFound), Err(StoreError::NotFound)]
    );
    for case in [&never, &deleted] {
        assert_eq!(store.mailbox(&case.id()).unwrap(), None);
        assert_no_envelopes(store, &case.id());
    }
    assert!(inbox_order(store, &office).is_empty());
    assert_clean(store);
}
