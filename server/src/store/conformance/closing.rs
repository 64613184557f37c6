//! Closing a case: the office's last message, if any, is appended with the closing; then
//! nothing more is, the case cannot be closed again, and it is swept at the grace period's
//! expiry the closing set.

use super::{
    DAY, Harness, RETAINED, TestCase, all_envelopes, appended, assert_clean, assert_no_envelopes,
    hours, inbox_order, keeping, opened, opened_expiring, quotas, registered, stored_package,
    window,
};
use crate::store::{Quotas, Store, StoreError};

/// The expiry the tests close cases with: a grace period shorter than the retention.
const GRACE: u64 = RETAINED - 16 * DAY;

/// Closes `case` with `last` and [`GRACE`], and flushes; returns the last message's number.
fn closed(
    store: &dyn Store,
    case: &TestCase,
    last: Option<&candor_protocol::Envelope>,
) -> Option<u64> {
    let seq = store
        .close_mailbox(&case.id(), last, GRACE, &quotas())
        .unwrap();
    store.flush().unwrap();
    seq
}

pub(crate) fn closing_with_a_last_message_appends_it_and_closes_the_case(h: &mut dyn Harness) {
    // Arrange: a case with a note after its first envelope, and another case.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let (_, note) = appended(store, &case, "a note");
    let last = case.reply(&office, "We are closing this case.");

    // Act
    let seq = store
        .close_mailbox(&case.id(), Some(&last), GRACE, &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert: the last message follows in sequence; the case is closed, expiring at the
    // grace period; the other case is as it was.
    assert_eq!(seq, Some(3));
    let sent = [
        case.first_stored(),
        (2, note.to_json()),
        (3, last.to_json()),
    ];
    assert_eq!(all_envelopes(store, &case.id()), sent);
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    let bytes: usize = sent.iter().map(|(_, json)| json.len()).sum();
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (3, 3, bytes as u64));
    assert_eq!((rec.closed, rec.expiry), (true, GRACE));
    let entries = store.inbox(&office.id(), 0, 100).unwrap();
    let entry = entries.iter().find(|e| e.mailbox == case.id()).unwrap();
    assert_eq!(
        (entry.closed, entry.envelopes, entry.last_seq),
        (true, 3, 3)
    );
    let untouched = store.mailbox(&other.id()).unwrap().unwrap();
    assert_eq!((untouched.closed, untouched.expiry), (false, RETAINED));
    assert_eq!(store.check().unwrap().envelopes, 4);
    assert_clean(store);
}

pub(crate) fn closing_without_a_last_message_appends_nothing(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);

    // Act
    let seq = store
        .close_mailbox(&case.id(), None, GRACE, &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!(seq, None);
    assert_eq!(all_envelopes(store, &case.id()), [case.first_stored()]);
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    let first_len = case.first.to_json().len() as u64;
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (1, 1, first_len));
    assert_eq!((rec.closed, rec.expiry), (true, GRACE));
    assert_clean(store);
}

pub(crate) fn appends_after_closing_are_refused_and_change_nothing(h: &mut dyn Harness) {
    // Arrange: a case closed without a last message, and an append queued right after it.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    store
        .close_mailbox(&case.id(), None, GRACE, &quotas())
        .unwrap();
    let queued = store.append(
        &case.id(),
        &case.envelope("too late"),
        &keeping(),
        &quotas(),
    );
    store.flush().unwrap();
    let before = (
        store.mailbox(&case.id()).unwrap(),
        store.inbox(&office.id(), 0, 100).unwrap(),
        store.check().unwrap(),
    );
    // A window that would have redrawn the expiry, were the append accepted.
    let elsewhere = window(RETAINED + 5 * DAY, RETAINED + 6 * DAY);

    // Act: the visitor's message and the office's reply, once the closing is durable.
    let visitor = store.append(
        &case.id(),
        &case.envelope("still here?"),
        &elsewhere,
        &quotas(),
    );
    let office_reply = store.append(
        &case.id(),
        &case.reply(&office, "one more thing"),
        &elsewhere,
        &quotas(),
    );
    store.flush().unwrap();

    // Assert: each refused as closed; the case holds its first envelope only, as it did.
    assert_eq!(queued, Err(StoreError::Closed));
    assert_eq!(visitor, Err(StoreError::Closed));
    assert_eq!(office_reply, Err(StoreError::Closed));
    assert_eq!(all_envelopes(store, &case.id()), [case.first_stored()]);
    let after = (
        store.mailbox(&case.id()).unwrap(),
        store.inbox(&office.id(), 0, 100).unwrap(),
        store.check().unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(after.0.map(|rec| rec.expiry), Some(GRACE));
    assert_clean(store);
}

pub(crate) fn closing_twice_is_refused_and_changes_nothing(h: &mut dyn Harness) {
    // Arrange: a case closed with a last message.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let last = case.reply(&office, "closing");
    store
        .close_mailbox(&case.id(), Some(&last), GRACE, &quotas())
        .unwrap();
    let later = GRACE + 3 * DAY;

    // Act: closed again, before the first closing is flushed and after, with and without a
    // last message and with another expiry.
    let queued = store.close_mailbox(
        &case.id(),
        Some(&case.reply(&office, "closing again")),
        later,
        &quotas(),
    );
    store.flush().unwrap();
    let flushed = store.close_mailbox(&case.id(), None, later, &quotas());
    store.flush().unwrap();

    // Assert: the first closing stands, with its last message and its expiry.
    assert_eq!(queued, Err(StoreError::Closed));
    assert_eq!(flushed, Err(StoreError::Closed));
    assert_eq!(
        all_envelopes(store, &case.id()),
        [case.first_stored(), (2, last.to_json())]
    );
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!((rec.closed, rec.expiry, rec.count), (true, GRACE, 2));
    assert_eq!(store.sweep(GRACE, 100).unwrap().mailboxes, 1);
    store.flush().unwrap();
    assert_clean(store);
}

pub(crate) fn closing_a_missing_mailbox_is_not_found(h: &mut dyn Harness) {
    // Arrange: a case never opened, and one deleted.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (never, deleted) = (TestCase::new(&office), opened(store, &office));
    assert!(store.delete_mailbox(&deleted.id()).unwrap());
    let last = never.reply(&office, "closing");

    // Act
    let refused = [&never, &deleted]
        .map(|case| store.close_mailbox(&case.id(), Some(&last), GRACE, &quotas()));
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

pub(crate) fn a_full_mailbox_closes_only_without_a_last_message(h: &mut dyn Harness) {
    // Arrange: a mailbox that may hold two envelopes, and holds them.
    let store = h.store();
    let limited = Quotas {
        envelopes_per_mailbox: 2,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    appended(store, &case, "the second");
    let held = all_envelopes(store, &case.id());
    let last = case.reply(&office, "closing");

    // Act
    let with_last = store.close_mailbox(&case.id(), Some(&last), GRACE, &limited);
    store.flush().unwrap();
    let open_after_refusal = store.mailbox(&case.id()).unwrap().unwrap();
    let without = store.close_mailbox(&case.id(), None, GRACE, &limited);
    store.flush().unwrap();

    // Assert: the refused closing changed nothing; the one without a last message closed.
    assert!(
        matches!(with_last, Err(StoreError::Quota(_))),
        "{with_last:?}"
    );
    assert_eq!(
        (open_after_refusal.closed, open_after_refusal.expiry),
        (false, RETAINED)
    );
    assert_eq!(without, Ok(None));
    assert_eq!(all_envelopes(store, &case.id()), held);
    assert!(store.mailbox(&case.id()).unwrap().unwrap().closed);
    assert_clean(store);
}

pub(crate) fn closing_moves_a_listed_case_to_the_end_of_the_inbox(h: &mut dyn Harness) {
    // Arrange: three cases, all listed by a reader.
    let store = h.store();
    let office = registered(store, "ombuds");
    let cases: Vec<TestCase> = (0..3).map(|_| opened(store, &office)).collect();
    let cursor = store
        .inbox(&office.id(), 0, 100)
        .unwrap()
        .last()
        .unwrap()
        .activity;

    // Act
    closed(store, &cases[0], Some(&cases[0].reply(&office, "closing")));

    // Assert: past the reader's cursor, closed, with its last message counted.
    let after = store.inbox(&office.id(), cursor, 100).unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].mailbox, cases[0].id());
    assert_eq!(
        (after[0].closed, after[0].envelopes, after[0].last_seq),
        (true, 2, 2)
    );
    assert_eq!(
        inbox_order(store, &office),
        [cases[1].id(), cases[2].id(), cases[0].id()]
    );
    assert_clean(store);
}

pub(crate) fn closing_sets_the_expiry_and_the_sweep_deletes_the_case_at_it(h: &mut dyn Harness) {
    // Arrange: a case whose closing shortens its expiry (and a package that would outlive
    // it), one whose closing postpones it, and an open case.
    let store = h.store();
    let office = registered(store, "ombuds");
    let shortened = opened(store, &office);
    let postponed = opened_expiring(store, &office, hours(1));
    let kept = opened(store, &office);
    let package = stored_package(store, &shortened, RETAINED + 60 * DAY, b"with its case");
    let last = shortened.reply(&office, "closing");
    store
        .close_mailbox(&shortened.id(), Some(&last), hours(5), &quotas())
        .unwrap();
    store
        .close_mailbox(&postponed.id(), None, hours(48), &quotas())
        .unwrap();
    store.flush().unwrap();
    let expiries =
        [&shortened, &postponed].map(|case| store.mailbox(&case.id()).unwrap().unwrap().expiry);

    // Act: sweeps just before the new expiry (after the postponed case's old one), at it,
    // and at the postponed one.
    let before = store.sweep(hours(5) - 1, 100).unwrap();
    let at = store.sweep(hours(5), 100).unwrap();
    store.flush().unwrap();
    let gone_at_grace = store.mailbox(&shortened.id()).unwrap();
    let at_postponed = store.sweep(hours(48), 100).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!(expiries, [hours(5), hours(48)]);
    assert_eq!([before, at, at_postponed].map(|s| s.mailboxes), [0, 1, 1]);
    assert_eq!(gone_at_grace, None);
    for case in [&shortened, &postponed] {
        assert_eq!(store.mailbox(&case.id()).unwrap(), None);
        assert_no_envelopes(store, &case.id());
    }
    assert_eq!(store.package(&package.id).unwrap(), None);
    assert_eq!(inbox_order(store, &office), [kept.id()]);
    let report = store.check().unwrap();
    assert_eq!(
        (report.mailboxes, report.envelopes, report.packages),
        (1, 1, 0)
    );
    assert_clean(store);
}

pub(crate) fn a_closed_case_stays_closed_after_a_restart(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let last = case.reply(&office, "closing");
    closed(store, &case, Some(&last));
    let before = store.mailbox(&case.id()).unwrap();

    // Act
    h.restart();

    // Assert: closed, with its last message; still refusing appends and a second closing.
    let store = h.store();
    assert_eq!(store.mailbox(&case.id()).unwrap(), before);
    assert!(before.is_some_and(|rec| rec.closed));
    assert_eq!(
        all_envelopes(store, &case.id()),
        [case.first_stored(), (2, last.to_json())]
    );
    assert!(store.inbox(&office.id(), 0, 100).unwrap()[0].closed);
    let append = store.append(&case.id(), &case.envelope("x"), &keeping(), &quotas());
    assert_eq!(append, Err(StoreError::Closed));
    let again = store.close_mailbox(&case.id(), None, GRACE, &quotas());
    assert_eq!(again, Err(StoreError::Closed));
    store.flush().unwrap();
    assert_clean(store);
}
