//! Handoff packages in the store: kept with their case, changed atomically, counted against a
//! quota, deleted with the case, swept on their own expiry, and found after a restart. The
//! handoff endpoints will sit on these operations; until then the tests call the store of a
//! real relay whose offices and mailboxes were made over HTTP.

use candor_protocol::{HandoffId, Signer};
use candor_server::store::{Expiry, NewPackage, PackageRecord, Quotas, StoreError};
use candor_server::sweeper;

use crate::helpers::{TestApp, TestCase, spawn_app_in, spawn_app_with};

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn new_id() -> HandoffId {
    HandoffId::random(&mut rand::rng())
}

fn quotas(app: &TestApp) -> Quotas {
    candor_server::routes::quotas(&app.state)
}

/// A package of `case` that expires `hours` from the relay's now, on the hour.
fn package(app: &TestApp, case: &TestCase, hours: u64, body: &[u8]) -> NewPackage {
    NewPackage {
        id: new_id(),
        record: PackageRecord {
            mailbox: case.keys.mailbox,
            expiry: (app.now() + hours * HOUR).div_ceil(HOUR) * HOUR,
            body: body.to_vec(),
        },
    }
}

/// Stores `package` and waits for the group commit, as a handler does before it answers.
async fn put(app: &TestApp, package: &NewPackage) -> Result<(), StoreError> {
    app.state.store.put_package(package, &quotas(app))?;
    app.state.durability.wait().await
}

/// An expiry window that keeps any expiry between `from` and `to` hours from now.
fn window(app: &TestApp, from: u64, to: u64) -> Expiry {
    let at = |h: u64| (app.now() + h * HOUR).div_ceil(HOUR) * HOUR;
    Expiry {
        drawn: at(to),
        earliest: at(from),
        latest: at(to),
    }
}

fn assert_consistent(app: &TestApp) {
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_package_is_stored_listed_changed_and_deleted() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let first = package(&app, &case, 48, b"sealed package, no consent yet");
    let second = package(&app, &case, 48, b"another");
    let store = &app.state.store;

    // Act
    put(&app, &first).await.unwrap();
    put(&app, &second).await.unwrap();

    // Assert: readable, on the mailbox's list, and counted by `check`.
    assert_eq!(
        store.package(&first.id).unwrap(),
        Some(first.record.clone())
    );
    let mut both = vec![first.id, second.id];
    both.sort();
    assert_eq!(store.packages(&case.keys.mailbox).unwrap(), both);
    assert_eq!(store.check().unwrap().packages, 2);
    assert_consistent(&app);

    // A change sees the package as it stands; an expiry inside the window is kept.
    let mut seen = Vec::new();
    let changed = store
        .update_package(&first.id, &window(&app, 24, 72), &mut |rec| {
            seen = rec.body.clone();
            Ok(b"consented".to_vec())
        })
        .unwrap();
    app.state.durability.wait().await.unwrap();
    assert_eq!(seen, first.record.body);
    assert_eq!(changed.body, b"consented");
    assert_eq!(changed.expiry, first.record.expiry);
    assert_eq!(store.package(&first.id).unwrap(), Some(changed.clone()));

    // A change that fails leaves the package as it was.
    let refused = store.update_package(&first.id, &window(&app, 24, 72), &mut |_| {
        Err(StoreError::Conflict("not both signatures"))
    });
    assert_eq!(refused, Err(StoreError::Conflict("not both signatures")));
    app.state.durability.wait().await.unwrap();
    assert_eq!(store.package(&first.id).unwrap(), Some(changed));

    // An expiry outside the window is redrawn, and its index entry moves with it.
    let moved = store
        .update_package(&first.id, &window(&app, 200, 210), &mut |rec| {
            Ok(rec.body.clone())
        })
        .unwrap();
    app.state.durability.wait().await.unwrap();
    assert_eq!(moved.expiry, window(&app, 200, 210).drawn);
    assert_consistent(&app);

    // Deleted (a revocation): gone from every tree, once.
    assert!(store.delete_package(&first.id).unwrap());
    app.state.durability.wait().await.unwrap();
    assert!(!store.delete_package(&first.id).unwrap());
    assert_eq!(store.package(&first.id).unwrap(), None);
    assert_eq!(store.packages(&case.keys.mailbox).unwrap(), vec![second.id]);
    assert_eq!(store.check().unwrap().packages, 1);
    assert_consistent(&app);
}

#[tokio::test]
async fn packages_are_refused_for_a_missing_mailbox_a_taken_id_and_past_the_quota() {
    let app = spawn_app_with(|s| s.max_packages_per_mailbox = 2).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let store = &app.state.store;

    let stranger = TestCase::new(&office);
    assert_eq!(
        put(&app, &package(&app, &stranger, 48, b"x")).await,
        Err(StoreError::NotFound)
    );

    let first = package(&app, &case, 48, b"x");
    put(&app, &first).await.unwrap();
    let same_id = NewPackage {
        id: first.id,
        record: PackageRecord {
            body: b"overwrite".to_vec(),
            ..first.record.clone()
        },
    };
    assert!(matches!(
        put(&app, &same_id).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.package(&first.id).unwrap(), Some(first.record));

    put(&app, &package(&app, &case, 48, b"y")).await.unwrap();
    assert!(matches!(
        put(&app, &package(&app, &case, 48, b"z")).await,
        Err(StoreError::Quota(_))
    ));
    assert_eq!(store.packages(&case.keys.mailbox).unwrap().len(), 2);

    let missing = new_id();
    assert_eq!(
        store.update_package(&missing, &window(&app, 1, 2), &mut |_| Ok(Vec::new())),
        Err(StoreError::NotFound)
    );
    assert!(!store.delete_package(&missing).unwrap());
    assert_consistent(&app);
}

#[tokio::test]
async fn deleting_a_case_deletes_its_packages_and_no_other() {
    // Arrange: two cases with a package each.
    let app = spawn_app_with(|_| {}).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let other = app.open_case(&office).await;
    let mine = package(&app, &case, 48, b"mine");
    let theirs = package(&app, &other, 48, b"theirs");
    put(&app, &mine).await.unwrap();
    put(&app, &theirs).await.unwrap();

    // Act: the visitor destroys the case.
    let res = app
        .delete(&case.keys.signing, Signer::Case, &case.mailbox())
        .await;
    assert_eq!(res.status(), 204);

    // Assert
    let store = &app.state.store;
    assert_eq!(store.package(&mine.id).unwrap(), None);
    assert!(store.packages(&case.keys.mailbox).unwrap().is_empty());
    assert_eq!(store.package(&theirs.id).unwrap(), Some(theirs.record));
    assert_eq!(store.check().unwrap().packages, 1);
    assert_consistent(&app);
}

#[tokio::test]
async fn the_sweeper_deletes_expired_packages_and_keeps_fresh_ones() {
    // Arrange: a case kept 30 days, with a package expiring in 2 hours and one in 60 days,
    // after the case.
    let app = spawn_app_with(|s| s.retention_jitter_hours = 0).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let soon = package(&app, &case, 2, b"expires soon");
    let later = package(&app, &case, 60 * 24, b"expires after its case");
    put(&app, &soon).await.unwrap();
    put(&app, &later).await.unwrap();

    // Act
    app.clock.advance(DAY);
    let swept = sweeper::sweep_once(&app.state).await.unwrap();

    // Assert: only the expired package went; its case stays.
    assert_eq!(swept.packages, 1);
    assert_eq!(swept.mailboxes, 0);
    let store = &app.state.store;
    assert_eq!(store.package(&soon.id).unwrap(), None);
    assert_eq!(store.package(&later.id).unwrap(), Some(later.record));
    assert_eq!(store.packages(&case.keys.mailbox).unwrap(), vec![later.id]);
    assert!(store.mailbox(&case.keys.mailbox).unwrap().is_some());
    assert_consistent(&app);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("candor_swept_packages_total 1"),
        "{metrics}"
    );

    // When the case itself expires, its remaining package goes with it, before its own expiry.
    app.clock.advance(31 * DAY);
    let swept = sweeper::sweep_once(&app.state).await.unwrap();
    assert_eq!(swept.mailboxes, 1);
    assert_eq!(swept.packages, 0);
    assert_eq!(store.package(&later.id).unwrap(), None);
    assert_eq!(store.check().unwrap().packages, 0);
    assert_consistent(&app);
}

#[tokio::test]
async fn an_acknowledged_package_survives_a_restart() {
    let app = spawn_app_with(|_| {}).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let kept = package(&app, &case, 48, b"kept across a restart");
    put(&app, &kept).await.unwrap();
    let (dir, clock) = app.stop().await;

    let app = spawn_app_in(dir, clock, |_| {}).await;

    assert_eq!(
        app.state.store.package(&kept.id).unwrap(),
        Some(kept.record)
    );
    assert_eq!(
        app.state.store.packages(&case.keys.mailbox).unwrap(),
        vec![kept.id]
    );
    assert_consistent(&app);
}

#[tokio::test]
async fn a_damaged_package_is_reported_and_does_not_stop_the_sweeper() {
    // Arrange: a case kept one day with a package due in two hours; the relay stops and the
    // package's record is overwritten behind its back.
    let app = spawn_app_with(|s| s.retention_jitter_hours = 0).await;
    let office = app.register("ombuds", 1).await;
    let case = app.open_case(&office).await;
    let damaged = package(&app, &case, 2, b"to be damaged");
    put(&app, &damaged).await.unwrap();
    let (dir, clock) = app.stop().await;
    {
        let db = sled::open(dir.path().join("store")).unwrap();
        let tree = db.open_tree("relay").unwrap();
        let mut key = vec![b'h'];
        key.extend_from_slice(damaged.id.as_bytes());
        tree.insert(key, b"not a package".to_vec()).unwrap();
        db.flush().unwrap();
    }
    let app = spawn_app_in(dir, clock, |s| s.retention_jitter_hours = 0).await;

    // `check` reports the damage instead of failing.
    let report = app.state.store.check().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("the record does not decode")),
        "{:?}",
        report.problems
    );

    // Act: the package's own expiry comes due, then its case's.
    app.clock.advance(3 * HOUR);
    let first = sweeper::sweep_once(&app.state).await;
    app.clock.advance(DAY);
    let second = sweeper::sweep_once(&app.state).await;

    // Assert: neither sweep failed, and the damaged record went with its case.
    assert_eq!(first.unwrap().packages, 0);
    assert_eq!(second.unwrap().mailboxes, 1);
    assert_consistent(&app);
}
