//! Mailboxes: opened once per ID and per proof of work, at an existing office within its
//! quota, and deleted whole, after which the ID may be opened again.

use super::{
    DAY, Harness, RETAINED, TestCase, TestOffice, all_envelopes, appended, assert_clean,
    assert_no_envelopes, inbox_order, opened, pow, quotas, registered, sealed_marker,
    stored_package,
};
use crate::store::{Quotas, StoreError};

pub(crate) fn a_new_mailbox_holds_exactly_its_first_envelope_with_its_keys_and_expiry(
    h: &mut dyn Harness,
) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = TestCase::new(&office);
    let new = case.new_mailbox(&office, RETAINED);

    // Act
    store.open_mailbox(&new, &pow(), &quotas()).unwrap();
    store.flush().unwrap();

    // Assert: the first envelope is sequence number 1, byte for byte; the case is open and
    // unmarked.
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!(rec.office, office.id());
    assert_eq!(
        (rec.signing_key, rec.kem_key),
        (new.signing_key, new.kem_key)
    );
    let first_len = case.first.to_json().len() as u64;
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (1, 1, first_len));
    assert_eq!(rec.expiry, RETAINED);
    assert_eq!((rec.closed, rec.marker), (false, None));
    assert_eq!(all_envelopes(store, &case.id()), [case.first_stored()]);
    assert_eq!(store.mailbox(&TestCase::new(&office).id()).unwrap(), None);
    let report = store.check().unwrap();
    assert_eq!((report.mailboxes, report.envelopes), (1, 1));
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
    assert_no_envelopes(store, &case.id());
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
    assert_no_envelopes(store, &second.id());
    assert_eq!(inbox_order(store, &office), [first.id()]);
    assert_clean(store);
}

pub(crate) fn opening_a_taken_mailbox_id_is_a_conflict(h: &mut dyn Harness) {
    // Arrange: the ID is open at one office; someone opens it again, with other keys and
    // another first envelope, there and at another office.
    let store = h.store();
    let office = registered(store, "ombuds");
    let other = registered(store, "other");
    let case = opened(store, &office);
    let before = store.mailbox(&case.id()).unwrap();
    let mut twin = case.new_mailbox(&office, RETAINED + DAY);
    twin.signing_key = TestCase::new(&office).keys.signing.public_key().to_bytes();
    twin.first = case.envelope("an impostor's first message");
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
    assert_eq!(all_envelopes(store, &case.id()), [case.first_stored()]);
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
    assert_no_envelopes(store, &cases[2].id());
    assert!(store.delete_mailbox(&cases[0].id()).unwrap());
    assert_eq!(open(&cases[2], &office), Ok(()));
    store.flush().unwrap();
    assert_eq!(inbox_order(store, &office), [cases[1].id(), cases[2].id()]);
    assert_clean(store);
}

pub(crate) fn an_office_holds_at_most_its_quota_of_bytes_across_restarts(h: &mut dyn Harness) {
    // Arrange: an office allowed about three envelopes' worth of bytes in all, and another.
    let office = registered(h.store(), "ombuds");
    let other = registered(h.store(), "other");
    let a = opened(h.store(), &office);
    let one = a.first.to_json().len() as u64;
    let limited = Quotas {
        bytes_per_office: 3 * one + one / 2,
        ..quotas()
    };
    let b = TestCase::new(&office);

    // Act: a second case and one more envelope fit; the next envelope, a third case, and a
    // last message with a closing do not. After a restart the count is summed again.
    let store = h.store();
    let opened_b = store.open_mailbox(&b.new_mailbox(&office, RETAINED), &pow(), &limited);
    let fits = store.append(&a.id(), &a.envelope("fits"), &super::keeping(), &limited);
    let over = store.append(&b.id(), &b.envelope("over"), &super::keeping(), &limited);
    store.flush().unwrap();
    h.restart();
    let store = h.store();
    let over_after_restart =
        store.append(&b.id(), &b.envelope("over"), &super::keeping(), &limited);
    let third = TestCase::new(&office);
    let no_third = store.open_mailbox(&third.new_mailbox(&office, RETAINED), &pow(), &limited);
    let no_last = store.close_mailbox(&a.id(), Some(&a.reply(&office, "bye")), RETAINED, &limited);
    let elsewhere = TestCase::new(&other);
    let at_other = store.open_mailbox(&elsewhere.new_mailbox(&other, RETAINED), &pow(), &limited);
    // Deleting a case frees its bytes.
    assert!(store.delete_mailbox(&a.id()).unwrap());
    let after_delete = store.append(
        &b.id(),
        &b.envelope("room now"),
        &super::keeping(),
        &limited,
    );
    store.flush().unwrap();

    // Assert
    assert_eq!((opened_b, fits.map(|_| ())), (Ok(()), Ok(())));
    for refused in [
        over.map(|_| ()),
        over_after_restart.map(|_| ()),
        no_third,
        no_last.map(|_| ()),
    ] {
        assert!(matches!(refused, Err(StoreError::Quota(_))), "{refused:?}");
    }
    assert_eq!(store.mailbox(&third.id()).unwrap(), None);
    assert_eq!(at_other, Ok(()));
    assert_eq!(after_delete, Ok(2));
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
    assert_eq!(
        all_envelopes(store, &other.id()),
        [other.first_stored(), (2, kept.to_json())]
    );
    assert_eq!(store.package(&theirs.id).unwrap(), Some(theirs.record));
    let report = store.check().unwrap();
    assert_eq!(
        (report.mailboxes, report.envelopes, report.packages),
        (1, 2, 1)
    );
    assert_clean(store);
}

pub(crate) fn a_deleted_mailbox_id_opens_again_with_only_its_new_first_envelope(
    h: &mut dyn Harness,
) {
    // Arrange: a case with envelopes and a package, deleted.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    appended(store, &case, "one");
    appended(store, &case, "two");
    let old = stored_package(store, &case, RETAINED, b"old");
    assert!(store.delete_mailbox(&case.id()).unwrap());
    store.flush().unwrap();
    let mut again = case.new_mailbox(&office, RETAINED);
    again.first = case.envelope("opened again");

    // Act
    store.open_mailbox(&again, &pow(), &quotas()).unwrap();
    store.flush().unwrap();

    // Assert: nothing of the old mailbox came back; numbering starts again after the new
    // first envelope.
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    let first_len = again.first.to_json().len() as u64;
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (1, 1, first_len));
    assert_eq!(
        all_envelopes(store, &case.id()),
        [(1, again.first.to_json())]
    );
    assert!(store.packages(&case.id()).unwrap().is_empty());
    assert_eq!(store.package(&old.id).unwrap(), None);
    let (seq, envelope) = appended(store, &case, "fresh");
    assert_eq!(seq, 2);
    assert_eq!(
        all_envelopes(store, &case.id()),
        [(1, again.first.to_json()), (2, envelope.to_json())]
    );
    assert_eq!(inbox_order(store, &office), [case.id()]);
    assert_clean(store);
}

pub(crate) fn a_refused_open_leaves_neither_mailbox_nor_envelope(h: &mut dyn Harness) {
    // Arrange: an office that may hold one mailbox and holds it, and another with room.
    let store = h.store();
    let one_mailbox = Quotas {
        mailboxes_per_office: 1,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let roomy = registered(store, "roomy");
    let taken = opened(store, &office);
    let spent = pow();
    let neighbour = TestCase::new(&roomy);
    store
        .open_mailbox(&neighbour.new_mailbox(&roomy, RETAINED), &spent, &quotas())
        .unwrap();
    store.flush().unwrap();
    let before = store.check().unwrap();
    let mut impostor = taken.new_mailbox(&roomy, RETAINED);
    impostor.first = taken.envelope("an impostor's first message");
    let nowhere = TestOffice::new("nowhere");
    let (late, over, big, lost) = (
        TestCase::new(&roomy),
        TestCase::new(&office),
        TestCase::new(&roomy),
        TestCase::new(&nowhere),
    );
    let first_only = Quotas {
        bytes_per_mailbox: big.first.to_json().len() as u64 - 1,
        ..quotas()
    };
    let tokens = [pow(), pow(), pow()];

    // Act: a taken ID, a spent proof of work, the office's mailbox quota, a first envelope
    // over the byte quota, an unknown office.
    let refused = [
        store.open_mailbox(&impostor, &pow(), &quotas()),
        store.open_mailbox(&late.new_mailbox(&roomy, RETAINED), &spent, &quotas()),
        store.open_mailbox(
            &over.new_mailbox(&office, RETAINED),
            &tokens[0],
            &one_mailbox,
        ),
        store.open_mailbox(&big.new_mailbox(&roomy, RETAINED), &tokens[1], &first_only),
        store.open_mailbox(&lost.new_mailbox(&nowhere, RETAINED), &tokens[2], &quotas()),
    ];
    store.flush().unwrap();

    // Assert: each refused as such, and nothing of it was stored.
    assert!(
        matches!(refused[0], Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(refused[1], Err(StoreError::PowUsed));
    assert!(
        matches!(refused[2], Err(StoreError::Quota(_))),
        "{refused:?}"
    );
    assert!(
        matches!(refused[3], Err(StoreError::Quota(_))),
        "{refused:?}"
    );
    assert_eq!(refused[4], Err(StoreError::NotFound));
    assert_eq!(all_envelopes(store, &taken.id()), [taken.first_stored()]);
    for case in [&late, &over, &big, &lost] {
        assert_eq!(store.mailbox(&case.id()).unwrap(), None);
        assert_no_envelopes(store, &case.id());
    }
    assert_eq!(store.check().unwrap(), before);
    assert_eq!(inbox_order(store, &office), [taken.id()]);
    assert_eq!(inbox_order(store, &roomy), [neighbour.id()]);
    // The tokens of the refused openings were not spent.
    for (i, token) in tokens.iter().enumerate() {
        let retry = TestCase::new(&roomy);
        assert_eq!(
            store.open_mailbox(&retry.new_mailbox(&roomy, RETAINED), token, &quotas()),
            Ok(()),
            "token {i} was spent by a refused opening"
        );
    }
    store.flush().unwrap();
    assert_clean(store);
}

pub(crate) fn a_deleted_mailbox_id_opens_again_open_and_unmarked(h: &mut dyn Harness) {
    // Arrange: a case the office marked and closed, then deleted.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let marker = sealed_marker(&office, &case, 1);
    store.set_marker(&case.id(), &marker).unwrap();
    let last = case.reply(&office, "closing");
    store
        .close_mailbox(&case.id(), Some(&last), RETAINED, &quotas())
        .unwrap();
    store.flush().unwrap();
    assert!(store.delete_mailbox(&case.id()).unwrap());
    store.flush().unwrap();
    let gone = store.mailbox(&case.id()).unwrap();

    // Act
    store
        .open_mailbox(&case.new_mailbox(&office, RETAINED), &pow(), &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert: the flag and the marker went with the deleted mailbox; the new one takes
    // appends.
    assert_eq!(gone, None);
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!((rec.closed, rec.marker), (false, None));
    let entry = &store.inbox(&office.id(), 0, 100).unwrap()[0];
    assert_eq!((entry.closed, entry.marker.as_deref()), (false, None));
    assert_eq!(appended(store, &case, "a new case").0, 2);
    assert_clean(store);
}
