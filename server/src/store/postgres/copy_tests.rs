//! `candor-server copy`: a sled store holding every kind of record arrives whole in
//! PostgreSQL, and `check` agrees on both before and after.

use candor_protocol::tally::SEALED_TALLY_LEN;
use candor_protocol::{MailboxId, TallyId};

use super::tests::{Schema, skipped};
use crate::store::conformance::{
    RETAINED, all_envelopes, appended, assert_clean, inbox_order, opened, quotas, registered,
    sealed_marker, stored_package,
};
use crate::store::sled::SledStore;
use crate::store::{NewChannel, NewTally, Store, StoreError};

fn tally() -> NewTally {
    let mut sealed = vec![0u8; SEALED_TALLY_LEN];
    rand::fill(sealed.as_mut_slice());
    NewTally {
        id: TallyId::random(&mut rand::rng()),
        keep_until: 2031,
        sealed,
    }
}

fn channel(office: &crate::store::conformance::TestOffice, notice: &[u8]) -> NewChannel {
    NewChannel {
        id: MailboxId::random(&mut rand::rng()),
        office: office.id(),
        expiry: RETAINED,
        notice: notice.to_vec(),
        body: b"a channel's body".to_vec(),
    }
}

/// The counts `check` reports, which must agree across backends.
fn counts(store: &dyn Store) -> (u64, u64, u64, u64, u64, u64, u64) {
    let r = store.check().unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    (
        r.offices,
        r.mailboxes,
        r.envelopes,
        r.packages,
        r.used_tokens,
        r.channels,
        r.notes,
    )
}

#[test]
fn a_sled_store_with_every_kind_of_record_is_copied_whole_and_serves_the_same() {
    if skipped() {
        return;
    }
    // Arrange: two offices; open, appended-to, closed (with a tally) and read-marked cases;
    // a handoff package; two notes of a case; two handoff channels and a third, the newest,
    // deleted; spent invites and proofs of work.
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path(), 8 << 20).unwrap();
    let a = registered(&sled, "copy-a");
    let b = registered(&sled, "copy-b");
    let first = opened(&sled, &a);
    let second = opened(&sled, &a);
    let third = opened(&sled, &b);
    appended(&sled, &first, "more from the first case");
    appended(&sled, &second, "more from the second case");
    appended(&sled, &first, "the first case again, now last in the inbox");
    sled.set_marker(&first.id(), &sealed_marker(&a, &first, 2))
        .unwrap();
    let closed_with = tally();
    sled.close_recording(
        &second.id(),
        Some(&second.reply(&a, "closing")),
        Some(&closed_with),
        RETAINED - 3600,
        &quotas(),
    )
    .unwrap();
    let package = stored_package(&sled, &third, RETAINED, b"a sealed package");
    for note in [b"first note".as_slice(), b"second note"] {
        sled.put_note(&second.id(), note, &quotas()).unwrap();
    }
    let channels = [channel(&a, b"notice a"), channel(&b, b"notice b")];
    for c in &channels {
        sled.open_channel(c, &quotas()).unwrap();
    }
    let newest = channel(&a, b"deleted");
    let deleted_cursor = sled.open_channel(&newest, &quotas()).unwrap();
    assert!(sled.delete_channel(&newest.id).unwrap());
    sled.flush().unwrap();
    let before = counts(&sled);
    let schema = Schema::migrated();
    let pg = schema.open();

    // Act
    let copied = pg.copy_from(&sled).unwrap();

    // Assert: the same counts, every record alike, in the same inbox order.
    assert_eq!(counts(&sled), before);
    assert_eq!(counts(&pg), before);
    assert_eq!(
        (
            copied.offices,
            copied.mailboxes,
            copied.packages,
            copied.tallies,
            copied.channels,
            copied.notes
        ),
        (2, 3, 1, 1, 2, 2)
    );
    assert_eq!(copied.envelopes, before.2);
    assert_eq!(copied.tokens, before.4);
    for office in [&a, &b] {
        assert_eq!(
            pg.office(&office.id()).unwrap(),
            sled.office(&office.id()).unwrap()
        );
        assert_eq!(inbox_order(&pg, office), inbox_order(&sled, office));
        assert_eq!(
            pg.tallies(&office.id(), None, 100).unwrap(),
            sled.tallies(&office.id(), None, 100).unwrap()
        );
    }
    // The closing was the office's last write, so the closed case is last.
    assert_eq!(inbox_order(&pg, &a), vec![first.id(), second.id()]);
    for case in [&first, &second, &third] {
        assert_eq!(
            pg.mailbox(&case.id()).unwrap(),
            sled.mailbox(&case.id()).unwrap()
        );
        assert_eq!(
            all_envelopes(&pg, &case.id()),
            all_envelopes(&sled, &case.id())
        );
    }
    assert!(pg.mailbox(&second.id()).unwrap().unwrap().closed);
    assert!(pg.mailbox(&first.id()).unwrap().unwrap().marker.is_some());
    assert_eq!(pg.packages(&third.id()).unwrap(), vec![package.id]);
    assert_eq!(
        pg.package(&package.id).unwrap(),
        sled.package(&package.id).unwrap()
    );
    assert_eq!(pg.tallies(&a.id(), None, 100).unwrap().len(), 1);
    assert_eq!(pg.notes(&second.id(), 0, 100).unwrap().len(), 2);
    assert_eq!(
        pg.notes(&second.id(), 0, 100).unwrap(),
        sled.notes(&second.id(), 0, 100).unwrap()
    );
    for c in &channels {
        assert_eq!(pg.channel(&c.id).unwrap(), sled.channel(&c.id).unwrap());
    }
    assert_eq!(pg.notices(0, 100).unwrap(), sled.notices(0, 100).unwrap());
    assert_eq!(pg.notices(0, 100).unwrap().len(), 2);
    // The board goes on above every cursor sled handed out, the deleted newest one's too,
    // and a note's numbering goes on.
    let next = pg.open_channel(&channel(&b, b"after"), &quotas()).unwrap();
    assert_eq!(next, deleted_cursor + 1);
    assert_eq!(pg.put_note(&second.id(), b"third note", &quotas()), Ok(3));
    // The office's activity counter came along: a new write goes to the end of the inbox,
    // and the counters agree with what is stored.
    appended(&pg, &third, "after the move");
    assert_eq!(inbox_order(&pg, &b), vec![third.id()]);
    let fourth = opened(&pg, &a);
    assert_eq!(
        inbox_order(&pg, &a),
        vec![first.id(), second.id(), fourth.id()]
    );
    assert_clean(&pg);
}

#[test]
fn a_database_that_holds_a_relay_already_is_refused_and_left_alone() {
    if skipped() {
        return;
    }
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path(), 8 << 20).unwrap();
    let office = registered(&sled, "copy-source");
    opened(&sled, &office);
    let schema = Schema::migrated();
    let pg = schema.open();
    let there = registered(&pg, "copy-there");

    // Act
    let refused = pg.copy_from(&sled);

    // Assert
    assert!(
        matches!(refused, Err(StoreError::Conflict(what)) if what.contains("already holds")),
        "{refused:?}"
    );
    assert!(pg.office(&office.id()).unwrap().is_none());
    assert!(pg.office(&there.id()).unwrap().is_some());
    assert_eq!(counts(&pg), (1, 0, 0, 0, 1, 0, 0));
}
