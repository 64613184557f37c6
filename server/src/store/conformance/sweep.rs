//! The sweep: deletes exactly what expired by `now`, in batches, following every expiry a
//! write moved.

use super::{
    Harness, RETAINED, TestCase, TestOffice, all_envelopes, appended, appended_within,
    assert_clean, assert_no_envelopes, hours, inbox_order, opened, opened_expiring, pow, quotas,
    registered, stored_package, token, window,
};
use crate::store::{Store, StoreError, Swept, TokenKind, UsedToken};

/// Opens a mailbox for a new case at `office` expiring at `expiry`, spending `pow`; flushes.
fn opened_with(store: &dyn Store, office: &TestOffice, expiry: u64, pow: &UsedToken) -> TestCase {
    let case = TestCase::new(office);
    store
        .open_mailbox(&case.new_mailbox(office, expiry), pow, &quotas())
        .unwrap();
    store.flush().unwrap();
    case
}

pub(crate) fn a_sweep_deletes_what_expired_at_or_before_now(h: &mut dyn Harness) {
    // Arrange: at `now`, one case expired an hour ago, one expires now, one in an hour; their
    // proofs of work stopped being accepted before now, at now (still accepted then), and
    // long after. Packages: one due now, one fresh, one of the expired case due after it.
    let store = h.store();
    let now = hours(2);
    let office = registered(store, "ombuds");
    let (refused_before, accepted_at) =
        (token(TokenKind::Pow, now - 1), token(TokenKind::Pow, now));
    let gone = opened_with(store, &office, hours(1), &refused_before);
    let due = opened_with(store, &office, now, &accepted_at);
    let kept = opened_with(store, &office, hours(3), &pow());
    // Written to with windows that keep their expiries.
    appended_within(store, &gone, "expired", &window(hours(1), hours(3)));
    let (_, envelope) = appended_within(store, &kept, "kept", &window(hours(1), hours(3)));
    let with_its_case = stored_package(store, &gone, hours(10), b"goes with its case");
    let package_due = stored_package(store, &kept, now, b"due");
    let package_kept = stored_package(store, &kept, hours(3), b"fresh");
    assert_eq!(store.check().unwrap().used_tokens, 4);

    // Act
    let swept = store.sweep(now, 100).unwrap();
    store.flush().unwrap();

    // Assert: the packages of a deleted case are not counted as swept on their own.
    let expected = Swept {
        mailboxes: 2,
        packages: 1,
        channels: 0,
        tokens: 1,
        more: false,
    };
    assert_eq!(swept, expected);
    for case in [&gone, &due] {
        assert_eq!(store.mailbox(&case.id()).unwrap(), None);
        assert_no_envelopes(store, &case.id());
    }
    assert_eq!(inbox_order(store, &office), [kept.id()]);
    assert_eq!(
        all_envelopes(store, &kept.id()),
        [kept.first_stored(), (2, envelope.to_json())]
    );
    assert_eq!(store.package(&with_its_case.id).unwrap(), None);
    assert_eq!(store.package(&package_due.id).unwrap(), None);
    assert_eq!(store.packages(&kept.id()).unwrap(), [package_kept.id]);
    let report = store.check().unwrap();
    assert_eq!((report.mailboxes, report.packages), (1, 1));
    assert_eq!(report.used_tokens, 3);
    // The forgotten token opens a mailbox again; the one still accepted at now does not.
    let spend = |pow: &UsedToken| {
        let case = TestCase::new(&office);
        store.open_mailbox(&case.new_mailbox(&office, RETAINED), pow, &quotas())
    };
    assert_eq!(spend(&refused_before), Ok(()));
    assert_eq!(spend(&accepted_at), Err(StoreError::PowUsed));
    store.flush().unwrap();
    assert_clean(store);
}

pub(crate) fn a_sweep_with_nothing_expired_changes_nothing(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    appended(store, &case, "kept");
    let p = stored_package(store, &case, RETAINED, b"kept");
    let before = store.check().unwrap();

    // Act
    let swept = store.sweep(RETAINED - 1, 100).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!(swept, Swept::default());
    assert_eq!(store.check().unwrap(), before);
    assert!(store.mailbox(&case.id()).unwrap().is_some());
    assert_eq!(store.package(&p.id).unwrap(), Some(p.record));
    assert_eq!((before.mailboxes, before.envelopes), (1, 2));
    assert_clean(store);
}

pub(crate) fn a_full_batch_reports_more(h: &mut dyn Harness) {
    // Arrange: five expired cases, one fresh.
    let store = h.store();
    let office = registered(store, "ombuds");
    for _ in 0..5 {
        opened_expiring(store, &office, hours(1));
    }
    let fresh = opened(store, &office);

    // Act: batches of two until one says nothing more may have expired.
    let first = store.sweep(hours(1), 2).unwrap();
    let mut batches = vec![first];
    while batches.last().is_some_and(|b| b.more) && batches.len() < 10 {
        batches.push(store.sweep(hours(1), 2).unwrap());
    }
    store.flush().unwrap();

    // Assert: a full batch says more; no batch goes past its size; all five went.
    assert!(first.more, "{first:?}");
    assert!(batches.iter().all(|b| b.mailboxes <= 2), "{batches:?}");
    assert!(!batches.last().unwrap().more, "{batches:?}");
    assert_eq!(batches.iter().map(|b| b.mailboxes).sum::<u64>(), 5);
    assert_eq!(inbox_order(store, &office), [fresh.id()]);
    assert_eq!(store.check().unwrap().mailboxes, 1);
    assert_clean(store);
}

pub(crate) fn an_append_that_redraws_expiry_saves_a_mailbox(h: &mut dyn Harness) {
    // Arrange: two cases due in an hour; one is written to, with a window two days out.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (written, idle) = (
        opened_expiring(store, &office, hours(1)),
        opened_expiring(store, &office, hours(1)),
    );
    let envelope = written.envelope("still talking");
    store
        .append(
            &written.id(),
            &envelope,
            &window(hours(48), hours(72)),
            &quotas(),
        )
        .unwrap();
    store.flush().unwrap();

    // Act
    let at_old_expiry = store.sweep(hours(1), 100).unwrap();
    store.flush().unwrap();

    // Assert: only the idle case went; the written one goes at its new expiry.
    assert_eq!(at_old_expiry.mailboxes, 1);
    assert_eq!(store.mailbox(&idle.id()).unwrap(), None);
    assert_eq!(
        all_envelopes(store, &written.id()),
        [written.first_stored(), (2, envelope.to_json())]
    );
    assert_clean(store);
    assert_eq!(store.sweep(hours(72) - 1, 100).unwrap().mailboxes, 0);
    assert_eq!(store.sweep(hours(72), 100).unwrap().mailboxes, 1);
    store.flush().unwrap();
    assert_eq!(store.mailbox(&written.id()).unwrap(), None);
    assert_clean(store);
}

pub(crate) fn an_update_that_redraws_expiry_saves_a_package(h: &mut dyn Harness) {
    // Arrange: two packages due in an hour; one is changed, with a window two days out.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let changed = stored_package(store, &case, hours(1), b"changed");
    let idle = stored_package(store, &case, hours(1), b"idle");
    store
        .update_package(&changed.id, &window(hours(48), hours(72)), &mut |rec| {
            Ok(rec.body.clone())
        })
        .unwrap();
    store.flush().unwrap();

    // Act
    let at_old_expiry = store.sweep(hours(1), 100).unwrap();
    store.flush().unwrap();

    // Assert: only the idle package went; the changed one goes at its new expiry.
    assert_eq!((at_old_expiry.mailboxes, at_old_expiry.packages), (0, 1));
    assert_eq!(store.package(&idle.id).unwrap(), None);
    assert_eq!(store.packages(&case.id()).unwrap(), [changed.id]);
    assert_clean(store);
    assert_eq!(store.sweep(hours(72) - 1, 100).unwrap().packages, 0);
    assert_eq!(store.sweep(hours(72), 100).unwrap().packages, 1);
    store.flush().unwrap();
    assert_eq!(store.package(&changed.id).unwrap(), None);
    assert!(store.mailbox(&case.id()).unwrap().is_some());
    assert_clean(store);
}
