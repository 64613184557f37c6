//! Mailboxes: opened once per ID and per proof of work, at an existing office within its
//! quota, and deleted whole, after which the ID may be opened again.

use super::{
    DAY, Harness, RETAINED, TestCase, TestOffice, all_envelopes, appended, assert_clean,
    assert_no_envelopes, inbox_order, opened, pow, quotas, registered, stored_package,
};
use crate::store::{Quotas, StoreError};

pub(crate) fn a_new_mailbox_is_empty_with_its_keys_and_expiry(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = TestCase::new(&office);
    let new = case.new_mailbox(&office, RETAINED);

    // Act
    store.open_mailbox(&new, &pow(), &quotas()).unwrap();
    store.flush().unwrap();

    // Assert
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!(rec.office, office.id());
    assert_eq!(
        (rec.signing_key, rec.kem_key),
        (new.signing_key, new.kem_key)
    );
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (0, 0, 0));
    assert_eq!(rec.expiry, RETAINED);
    assert_no_envelopes(store, &case.id());
    assert_eq!(store.mailbox(&TestCase::new(&office).id()).unwrap(), None);
    assert_eq!(store.check().unwrap().mailboxes, 1);
    assert_clean(store);
}

pub(crate) fn opening_needs_an_existing_office_and_keeps_the_token(h: &mut dyn Harness) {
    // Arrange: an office that was never registered.
    let store = h.store();
    let nowhere = TestOffice::new("nowhere");
    let case = TestCase::new(&nowhere);
    let token = pow();

    // Act
    let refused = store.open_mailbox(&case.new_mailbox(&nowhere, RETAINED), &token, &quotas());
    store.flush().unwrap();

    // Assert: nothing was created, and the token was not spent.
    assert_eq!(refused, Err(StoreError::NotFound));
    assert_eq!(store.mailbox(&case.id()).unwrap(), None);
    let office = registered(store, "ombuds");
    let other = TestCase::new(&office);
    store
        .open_mailbox(&other.new_mailbox(&office, RETAINED), &token, &quotas())
        .unwrap();
    store.flush().unwrap();
    assert!(store.mailbox(&other.id()).unwrap().is_some());
    assert_clean(store);
}

pub(crate) fn a_proof_of_work_opens_one_mailbox(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let (first, second) = (TestCase::new(&office), TestCase::new(&office));
    let token = pow();
    store
        .open_mailbox(&first.new_mailbox(&office, RETAINED), &token, &quotas())
        .unwrap();

    // Act: the same token again, before the first opening is flushed.
    let again = store.open_mailbox(&second.new_mailbox(&office, RETAINED), &token, &quotas());
    store.flush().unwrap();

    // Assert
    assert_eq!(again, Err(StoreError::PowUsed));
    assert!(store.mailbox(&first.id()).unwrap().is_some());
    assert_eq!(store.mailbox(&second.id()).unwrap(), None);
    assert_eq!(inbox_order(store, &office), [first.id()]);
    assert_clean(store);
}

pub(crate) fn opening_a_taken_mailbox_id_is_a_conflict(h: &mut dyn Harness) {
    // Arrange: the ID is open at one office; someone opens it again, with other keys, there
    // and at another office.
    let store = h.store();
    let office = registered(store, "ombuds");
    let other = registered(store, "other");
    let case = opened(store, &office);
    let before = store.mailbox(&case.id()).unwrap();
    let mut twin = case.new_mailbox(&office, RETAINED + DAY);
    twin.signing_key = TestCase::new(&office).keys.signing.public_key().to_bytes();
    let mut elsewhere = twin.clone();
    elsewhere.office = other.id();

    // Act
    let here = store.open_mailbox(&twin, &pow(), &quotas());
    let there = store.open_mailbox(&elsewhere, &pow(), &quotas());
    store.flush().unwrap();

    // Assert
    assert!(matches!(here, Err(StoreError::Conflict(_))), "{here:?}");
    assert!(matches!(there, Err(StoreError::Conflict(_))), "{there:?}");
    assert_eq!(store.mailbox(&case.id()).unwrap(), before);
    assert_eq!(inbox_order(store, &office), [case.id()]);
    assert!(inbox_order(store, &other).is_empty());
    assert_clean(store);
}

pub(crate) fn an_office_opens_at_most_its_quota_of_mailboxes(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let limited = Quotas {
        mailboxes_per_office: 2,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let other = registered(store, "other");
    let cases: Vec<TestCase> = (0..3).map(|_| TestCase::new(&office)).collect();
    let open = |case: &TestCase, office: &TestOffice| {
        store.open_mailbox(&case.new_mailbox(office, RETAINED), &pow(), &limited)
    };

    // Act
    let results: Vec<_> = cases.iter().map(|case| open(case, &office)).collect();
    let at_other = open(&TestCase::new(&other), &other);
    store.flush().unwrap();

    // Assert: the third is refused, at this office only; deleting one frees its place.
    assert_eq!(results[..2], [Ok(()), Ok(())]);
    assert!(
        matches!(results[2], Err(StoreError::Quota(_))),
        "{results:?}"
    );
    assert_eq!(at_other, Ok(()));
    assert_eq!(store.mailbox(&cases[2].id()).unwrap(), None);
    assert!(store.delete_mailbox(&cases[0].id()).unwrap());
    assert_eq!(open(&cases[2], &office), Ok(()));
    store.flush().unwrap();
    assert_eq!(inbox_order(store, &office), [cases[1].id(), cases[2].id()]);
    assert_clean(store);
}

pub(crate) fn deleting_a_mailbox_removes_it_with_its_envelopes_and_packages(h: &mut dyn Harness) {
    // Arrange: two cases, each with an envelope and a package.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    appended(store, &case, "mine");
    let (_, kept) = appended(store, &other, "theirs");
    let mine = stored_package(store, &case, RETAINED, b"mine");
    let theirs = stored_package(store, &other, RETAINED, b"theirs");

    // Act: deleted twice, the second before the first is flushed.
    let deleted = store.delete_mailbox(&case.id()).unwrap();
    let again = store.delete_mailbox(&case.id()).unwrap();
    store.flush().unwrap();

    // Assert: it existed once; it is gone from every read; the other case is untouched.
    assert!(deleted);
    assert!(!again);
    assert_eq!(store.mailbox(&case.id()).unwrap(), None);
    assert_no_envelopes(store, &case.id());
    assert_eq!(store.package(&mine.id).unwrap(), None);
    assert!(store.packages(&case.id()).unwrap().is_empty());
    assert_eq!(inbox_order(store, &office), [other.id()]);
    assert_eq!(all_envelopes(store, &other.id()), [(1, kept.to_json())]);
    assert_eq!(store.package(&theirs.id).unwrap(), Some(theirs.record));
    let report = store.check().unwrap();
    assert_eq!(
        (report.mailboxes, report.envelopes, report.packages),
        (1, 1, 1)
    );
    assert_clean(store);
}

pub(crate) fn a_deleted_mailbox_id_opens_again_empty(h: &mut dyn Harness) {
    // Arrange: a case with envelopes and a package, deleted.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    appended(store, &case, "one");
    appended(store, &case, "two");
    let old = stored_package(store, &case, RETAINED, b"old");
    assert!(store.delete_mailbox(&case.id()).unwrap());
    store.flush().unwrap();

    // Act
    store
        .open_mailbox(&case.new_mailbox(&office, RETAINED), &pow(), &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert: nothing of the old mailbox came back; numbering starts again.
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (0, 0, 0));
    assert_no_envelopes(store, &case.id());
    assert!(store.packages(&case.id()).unwrap().is_empty());
    assert_eq!(store.package(&old.id).unwrap(), None);
    let (seq, envelope) = appended(store, &case, "fresh");
    assert_eq!(seq, 1);
    assert_eq!(all_envelopes(store, &case.id()), [(1, envelope.to_json())]);
    assert_eq!(inbox_order(store, &office), [case.id()]);
    assert_clean(store);
}
