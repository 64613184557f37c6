//! Handoff packages: stored with an existing case, listed by ID, changed atomically, counted
//! against a quota, and deleted alone or with their case.

use super::{
    DAY, Harness, RETAINED, TestCase, assert_clean, keeping, opened, package, quotas, registered,
    stored_package, window,
};
use crate::store::{Expiry, NewPackage, PackageRecord, Quotas, StoreError};

pub(crate) fn a_package_is_stored_and_listed_in_id_order(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let new: Vec<NewPackage> = (0..3)
        .map(|i| package(&case, RETAINED, format!("package {i}").as_bytes()))
        .collect();
    let elsewhere = stored_package(store, &other, RETAINED, b"another case's");

    // Act
    for p in &new {
        store.put_package(p, &quotas()).unwrap();
    }
    store.flush().unwrap();

    // Assert
    for p in &new {
        assert_eq!(store.package(&p.id).unwrap(), Some(p.record.clone()));
    }
    let mut ids: Vec<_> = new.iter().map(|p| p.id).collect();
    ids.sort();
    assert_eq!(store.packages(&case.id()).unwrap(), ids);
    assert_eq!(store.packages(&other.id()).unwrap(), [elsewhere.id]);
    assert_eq!(store.check().unwrap().packages, 4);
    assert_clean(store);
}

pub(crate) fn an_update_sees_the_package_and_replaces_its_body(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let p = stored_package(store, &case, RETAINED, b"sealed, no consent yet");
    let mut seen = Vec::new();

    // Act
    let returned = store
        .update_package(&p.id, &keeping(), &mut |current| {
            seen.push(current.clone());
            Ok(b"consented".to_vec())
        })
        .unwrap();
    store.flush().unwrap();

    // Assert: `update` saw the package as stored (a backend may retry it, so it may have
    // run more than once); its result is what is stored.
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|rec| *rec == p.record), "{seen:?}");
    let expected = PackageRecord {
        body: b"consented".to_vec(),
        ..p.record
    };
    assert_eq!(returned, expected);
    assert_eq!(store.package(&p.id).unwrap(), Some(expected));
    assert_clean(store);
}

pub(crate) fn a_refused_update_leaves_the_package_unchanged(h: &mut dyn Harness) {
    // Arrange: an update that would also have redrawn the expiry.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let p = stored_package(store, &case, RETAINED, b"one signature");
    let elsewhere = window(RETAINED + 5 * DAY, RETAINED + 6 * DAY);

    // Act
    let refused = store.update_package(&p.id, &elsewhere, &mut |_| {
        Err(StoreError::Conflict("not both signatures"))
    });
    store.flush().unwrap();

    // Assert: the error as `update` gave it; body and expiry as they were.
    assert_eq!(refused, Err(StoreError::Conflict("not both signatures")));
    assert_eq!(store.package(&p.id).unwrap(), Some(p.record));
    assert_clean(store);
}

pub(crate) fn an_update_keeps_an_expiry_in_its_window_and_redraws_another(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let p = stored_package(store, &case, RETAINED, b"package");
    let later = Expiry {
        drawn: RETAINED + 2 * DAY,
        earliest: RETAINED + DAY,
        latest: RETAINED + 3 * DAY,
    };
    let mut expiries = Vec::new();

    // Act: a window holding the expiry, then one after it.
    for expiry in [keeping(), later] {
        let returned = store
            .update_package(&p.id, &expiry, &mut |rec| Ok(rec.body.clone()))
            .unwrap();
        store.flush().unwrap();
        let stored = store.package(&p.id).unwrap().unwrap();
        assert_eq!(returned, stored);
        expiries.push(stored.expiry);
    }

    // Assert
    assert_eq!(expiries, [RETAINED, later.drawn]);
    assert_clean(store);
}

pub(crate) fn packages_are_refused_for_a_missing_mailbox_or_a_taken_id(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let stranger = TestCase::new(&office);
    let first = stored_package(store, &case, RETAINED, b"first");
    let same_id = |mailbox| NewPackage {
        id: first.id,
        record: PackageRecord {
            mailbox,
            expiry: RETAINED,
            body: b"overwrite".to_vec(),
        },
    };
    let missing = package(&case, RETAINED, b"never stored").id;

    // Act
    let no_mailbox = store.put_package(&package(&stranger, RETAINED, b"x"), &quotas());
    let taken_here = store.put_package(&same_id(case.id()), &quotas());
    let taken_there = store.put_package(&same_id(other.id()), &quotas());
    let update = store.update_package(&missing, &keeping(), &mut |_| Ok(Vec::new()));
    store.flush().unwrap();

    // Assert: refused, and nothing changed.
    assert_eq!(no_mailbox, Err(StoreError::NotFound));
    assert!(store.packages(&stranger.id()).unwrap().is_empty());
    assert!(
        matches!(taken_here, Err(StoreError::Conflict(_))),
        "{taken_here:?}"
    );
    assert!(
        matches!(taken_there, Err(StoreError::Conflict(_))),
        "{taken_there:?}"
    );
    assert_eq!(store.package(&first.id).unwrap(), Some(first.record));
    assert!(store.packages(&other.id()).unwrap().is_empty());
    assert_eq!(update, Err(StoreError::NotFound));
    assert_eq!(store.package(&missing).unwrap(), None);
    assert!(!store.delete_package(&missing).unwrap());
    assert_clean(store);
}

pub(crate) fn a_mailbox_holds_at_most_its_quota_of_packages(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let limited = Quotas {
        packages_per_mailbox: 2,
        bytes_per_office: u64::MAX,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let new: Vec<NewPackage> = (0..3).map(|_| package(&case, RETAINED, b"p")).collect();

    // Act
    let results: Vec<_> = new.iter().map(|p| store.put_package(p, &limited)).collect();
    let at_other = store.put_package(&package(&other, RETAINED, b"p"), &limited);
    store.flush().unwrap();

    // Assert: the third is refused, for this mailbox only; deleting one frees its place.
    assert_eq!(results[..2], [Ok(()), Ok(())]);
    assert!(
        matches!(results[2], Err(StoreError::Quota(_))),
        "{results:?}"
    );
    assert_eq!(at_other, Ok(()));
    assert_eq!(store.package(&new[2].id).unwrap(), None);
    assert_eq!(store.packages(&case.id()).unwrap().len(), 2);
    assert!(store.delete_package(&new[0].id).unwrap());
    assert_eq!(store.put_package(&new[2], &limited), Ok(()));
    store.flush().unwrap();
    let mut ids = vec![new[1].id, new[2].id];
    ids.sort();
    assert_eq!(store.packages(&case.id()).unwrap(), ids);
    assert_clean(store);
}

pub(crate) fn a_deleted_package_is_gone_once(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let gone = stored_package(store, &case, RETAINED, b"revoked");
    let kept = stored_package(store, &case, RETAINED, b"kept");

    // Act: deleted twice, the second before the first is flushed.
    let deleted = store.delete_package(&gone.id).unwrap();
    let again = store.delete_package(&gone.id).unwrap();
    store.flush().unwrap();

    // Assert
    assert!(deleted);
    assert!(!again);
    assert_eq!(store.package(&gone.id).unwrap(), None);
    assert_eq!(store.packages(&case.id()).unwrap(), [kept.id]);
    assert!(store.mailbox(&case.id()).unwrap().is_some());
    assert_eq!(
        store.update_package(&gone.id, &keeping(), &mut |_| Ok(Vec::new())),
        Err(StoreError::NotFound)
    );
    assert_eq!(store.check().unwrap().packages, 1);
    assert_clean(store);
}

pub(crate) fn deleting_a_mailbox_deletes_its_packages_and_no_other(h: &mut dyn Harness) {
    // Arrange: two cases with packages, one expiring after its case.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (case, other) = (opened(store, &office), opened(store, &office));
    let mine = [
        stored_package(store, &case, RETAINED, b"mine"),
        stored_package(store, &case, RETAINED + 60 * DAY, b"outlives its case"),
    ];
    let theirs = stored_package(store, &other, RETAINED, b"theirs");

    // Act
    assert!(store.delete_mailbox(&case.id()).unwrap());
    store.flush().unwrap();

    // Assert
    for p in &mine {
        assert_eq!(store.package(&p.id).unwrap(), None);
    }
    assert!(store.packages(&case.id()).unwrap().is_empty());
    assert_eq!(store.package(&theirs.id).unwrap(), Some(theirs.record));
    assert_eq!(store.packages(&other.id()).unwrap(), [theirs.id]);
    assert_eq!(store.check().unwrap().packages, 1);
    assert_clean(store);
}
