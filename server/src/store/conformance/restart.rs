//! Durability: what was flushed is found after a restart as it was, spent tokens stay spent,
//! deleted data stays deleted, inbox cursors stay meaningful, and compaction loses nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use candor_protocol::api::InboxEntry;
use candor_protocol::{HandoffId, MailboxId};

use super::{
    DAY, HOUR, Harness, RETAINED, TestCase, TestOffice, all_envelopes, appended, appended_within,
    assert_clean, assert_no_envelopes, hours, inbox_order, invite, keeping, opened,
    opened_expiring, pow, quotas, registered, stored_package, window,
};
use crate::store::{CheckReport, MailboxRecord, OfficeRecord, PackageRecord, Store, StoreError};

/// Everything a store says about one office, its cases and their packages.
#[derive(Debug, PartialEq)]
struct Snapshot {
    office: Option<OfficeRecord>,
    mailboxes: Vec<Option<MailboxRecord>>,
    envelopes: Vec<Vec<(u64, Vec<u8>)>>,
    package_lists: Vec<Vec<HandoffId>>,
    packages: Vec<Option<PackageRecord>>,
    inbox: Vec<InboxEntry>,
    check: CheckReport,
}

fn snapshot(
    store: &dyn Store,
    office: &TestOffice,
    cases: &[MailboxId],
    packages: &[HandoffId],
) -> Snapshot {
    Snapshot {
        office: store.office(&office.id()).unwrap(),
        mailboxes: cases.iter().map(|id| store.mailbox(id).unwrap()).collect(),
        envelopes: cases.iter().map(|id| all_envelopes(store, id)).collect(),
        package_lists: cases.iter().map(|id| store.packages(id).unwrap()).collect(),
        packages: packages
            .iter()
            .map(|id| store.package(id).unwrap())
            .collect(),
        inbox: store.inbox(&office.id(), 0, 100).unwrap(),
        check: store.check().unwrap(),
    }
}

pub(crate) fn flushed_writes_survive_a_restart(h: &mut dyn Harness) {
    // Arrange: an updated card, two cases with envelopes, a package stored and one changed.
    let store = h.store();
    let office = registered(store, "ombuds");
    store.update_office(&office.card(2, 14)).unwrap();
    let (case, other) = (opened(store, &office), opened(store, &office));
    for text in ["one", "two", "three"] {
        appended(store, &case, text);
    }
    appended(store, &other, "theirs");
    let stored = stored_package(store, &case, RETAINED, b"stored");
    let changed = stored_package(store, &other, RETAINED, b"before");
    store
        .update_package(&changed.id, &keeping(), &mut |_| Ok(b"after".to_vec()))
        .unwrap();
    store.flush().unwrap();
    let (cases, packages) = ([case.id(), other.id()], [stored.id, changed.id]);
    let before = snapshot(store, &office, &cases, &packages);

    // Act
    h.restart();

    // Assert: all of it, as it was.
    let after = snapshot(h.store(), &office, &cases, &packages);
    assert_eq!(after, before);
    assert_eq!(before.office.map(|o| o.serial), Some(2));
    assert_eq!(
        before.envelopes.iter().map(Vec::len).collect::<Vec<_>>(),
        [4, 2]
    );
    assert_eq!(before.packages[1].as_ref().unwrap().body, b"after");
    assert_eq!(before.inbox.len(), 2);
    assert!(
        before.check.problems.is_empty(),
        "{:?}",
        before.check.problems
    );
}

pub(crate) fn used_tokens_stay_used_after_a_restart(h: &mut dyn Harness) {
    // Arrange: an office registered with an invite, a mailbox opened with a proof of work.
    let store = h.store();
    let (spent_invite, spent_pow) = (invite(), pow());
    let office = TestOffice::new("ombuds");
    store
        .register_office(&office.record, &spent_invite)
        .unwrap();
    let case = TestCase::new(&office);
    store
        .open_mailbox(&case.new_mailbox(&office, RETAINED), &spent_pow, &quotas())
        .unwrap();
    store.flush().unwrap();

    // Act
    h.restart();

    // Assert
    let store = h.store();
    let impostor = TestOffice::new("other");
    let late = TestCase::new(&office);
    assert_eq!(
        store.register_office(&impostor.record, &spent_invite),
        Err(StoreError::InviteUsed)
    );
    assert_eq!(
        store.open_mailbox(&late.new_mailbox(&office, RETAINED), &spent_pow, &quotas()),
        Err(StoreError::PowUsed)
    );
    store.flush().unwrap();
    assert_eq!(store.office(&impostor.id()).unwrap(), None);
    assert_eq!(store.mailbox(&late.id()).unwrap(), None);
    assert_clean(store);
}

pub(crate) fn a_deleted_mailbox_stays_deleted_after_a_restart(h: &mut dyn Harness) {
    // Arrange: a case deleted, one swept, and a package deleted from a third.
    let store = h.store();
    let office = registered(store, "ombuds");
    let deleted = opened(store, &office);
    let swept = opened_expiring(store, &office, hours(1));
    let kept = opened(store, &office);
    appended(store, &deleted, "note");
    appended_within(store, &swept, "note", &window(hours(1), hours(2)));
    appended(store, &kept, "note");
    let with_deleted = stored_package(store, &deleted, RETAINED, b"with its case");
    let revoked = stored_package(store, &kept, RETAINED, b"revoked");
    assert!(store.delete_mailbox(&deleted.id()).unwrap());
    assert!(store.delete_package(&revoked.id).unwrap());
    assert_eq!(store.sweep(hours(1), 100).unwrap().mailboxes, 1);
    store.flush().unwrap();

    // Act
    h.restart();

    // Assert
    let store = h.store();
    for case in [&deleted, &swept] {
        assert_eq!(store.mailbox(&case.id()).unwrap(), None);
        assert_no_envelopes(store, &case.id());
        assert!(store.packages(&case.id()).unwrap().is_empty());
    }
    assert_eq!(store.package(&with_deleted.id).unwrap(), None);
    assert_eq!(store.package(&revoked.id).unwrap(), None);
    assert!(store.packages(&kept.id()).unwrap().is_empty());
    assert_eq!(inbox_order(store, &office), [kept.id()]);
    assert_eq!(all_envelopes(store, &kept.id()).len(), 2);
    let report = store.check().unwrap();
    assert_eq!((report.mailboxes, report.envelopes), (1, 2));
    assert_clean(store);
}

pub(crate) fn a_listed_mailbox_moves_when_written_after_a_restart(h: &mut dyn Harness) {
    // Arrange: two cases listed by a reader, who keeps its cursor over a restart.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (first, second) = (opened(store, &office), opened(store, &office));
    let cursor = store
        .inbox(&office.id(), 0, 100)
        .unwrap()
        .last()
        .unwrap()
        .activity;

    // Act: after the restart the first case writes, then a new case opens.
    h.restart();
    let store = h.store();
    appended(store, &first, "after the restart");
    let third = opened(store, &office);

    // Assert: both are past the reader's old cursor, in the order they happened.
    let after: Vec<MailboxId> = (store.inbox(&office.id(), cursor, 100).unwrap())
        .iter()
        .map(|e| e.mailbox)
        .collect();
    assert_eq!(after, [first.id(), third.id()]);
    assert_eq!(
        inbox_order(store, &office),
        [second.id(), first.id(), third.id()]
    );
    assert_clean(store);
}

pub(crate) fn flush_covering_calls_back_once_and_makes_earlier_writes_durable(h: &mut dyn Harness) {
    // Arrange: an append not yet flushed.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let envelope = case.envelope("waiting for the group commit");
    let seq = store
        .append(&case.id(), &envelope, &keeping(), &quotas())
        .unwrap();
    let mut calls = 0;

    // Act
    store.flush_covering(&mut || calls += 1).unwrap();

    // Assert: visible now, and durable.
    assert_eq!(calls, 1);
    let expected = [case.first_stored(), (seq, envelope.to_json())];
    assert_eq!(all_envelopes(store, &case.id()), expected);
    h.restart();
    assert_eq!(all_envelopes(h.store(), &case.id()), expected);
    assert_clean(h.store());
}

pub(crate) fn compaction_keeps_live_envelopes_and_drops_deleted_ones(h: &mut dyn Harness) {
    // Arrange: a kept case and a deleted one, their envelopes written in turn, so that what
    // a backend keeps of them is interleaved. Compaction takes the relay's clock, so the
    // times are the machine's.
    let store = h.store();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let office = registered(store, "ombuds");
    let (kept, gone) = (opened(store, &office), opened(store, &office));
    let mut sent = vec![kept.first_stored()];
    for i in 0..20 {
        let (seq, envelope) = appended(store, &kept, &format!("kept {i}"));
        sent.push((seq, envelope.to_json()));
        appended(store, &gone, &format!("deleted {i}"));
    }
    assert!(store.delete_mailbox(&gone.id()).unwrap());
    store.flush().unwrap();

    // Act and assert: compactions as the sweeper runs them, up to a month later.
    for later in [0, DAY + HOUR, 2 * DAY, 30 * DAY] {
        store.compact(now + later).unwrap();
        assert_eq!(all_envelopes(store, &kept.id()), sent, "{later} s later");
        assert_no_envelopes(store, &gone.id());
        assert_clean(store);
    }
    let (seq, envelope) = appended(store, &kept, "after the compaction");
    sent.push((seq, envelope.to_json()));
    assert_eq!(seq, 22);

    // And after a restart.
    h.restart();
    let store = h.store();
    assert_eq!(all_envelopes(store, &kept.id()), sent);
    assert_no_envelopes(store, &gone.id());
    assert_eq!(store.check().unwrap().envelopes, 22);
    assert_clean(store);
}
