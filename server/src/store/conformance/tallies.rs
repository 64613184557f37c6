//! Tallies: stored with the closing that carries them and only then, listed by their office in
//! ID order a page at a time, untouched by case deletion and the sweep, dropped by the
//! statistics retention once their keep-until year is over, and kept across a restart.

use candor_protocol::TallyId;
use candor_protocol::api::StoredTally;
use candor_protocol::tally::SEALED_TALLY_LEN;

use super::{DAY, Harness, RETAINED, assert_clean, opened, quotas, registered};
use crate::store::{NewTally, Store, StoreError};

/// The expiry the tests close cases with.
const GRACE: u64 = RETAINED - 16 * DAY;

/// A tally of random bytes, as the store sees one, kept until `keep_until`.
fn tally(keep_until: u16) -> NewTally {
    let mut sealed = vec![0u8; SEALED_TALLY_LEN];
    rand::fill(sealed.as_mut_slice());
    NewTally {
        id: TallyId::random(&mut rand::rng()),
        keep_until,
        sealed,
    }
}

fn stored(t: &NewTally) -> StoredTally {
    StoredTally {
        id: t.id,
        sealed: t.sealed.clone(),
    }
}

/// Every tally of `office`, a page of `page` at a time.
fn all_tallies(
    store: &dyn Store,
    office: &candor_protocol::OfficeId,
    page: usize,
) -> Vec<StoredTally> {
    let mut out: Vec<StoredTally> = Vec::new();
    loop {
        let after = out.last().map(|t| t.id);
        let got = store.tallies(office, after.as_ref(), page).unwrap();
        assert!(got.len() <= page);
        let short = got.len() < page;
        out.extend(got);
        if short {
            return out;
        }
    }
}

pub(crate) fn a_tally_is_stored_with_its_closing_and_listed_by_its_office(h: &mut dyn Harness) {
    // Arrange: two offices, a case at the first.
    let store = h.store();
    let office = registered(store, "ombuds");
    let other = registered(store, "other-office");
    let case = opened(store, &office);
    let t = tally(2036);

    // Act
    store
        .close_recording(&case.id(), None, Some(&t), GRACE, &quotas())
        .unwrap();
    store.flush().unwrap();

    // Assert: the case is closed, the tally listed at its office only, as sent.
    assert!(store.mailbox(&case.id()).unwrap().unwrap().closed);
    assert_eq!(store.tallies(&office.id(), None, 10).unwrap(), [stored(&t)]);
    assert_eq!(store.tallies(&other.id(), None, 10).unwrap(), []);
    assert_clean(store);
}

pub(crate) fn a_refused_closing_stores_no_tally(h: &mut dyn Harness) {
    // Arrange: a case closed once with a tally, and a mailbox never opened.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let first = tally(2036);
    store
        .close_recording(&case.id(), None, Some(&first), GRACE, &quotas())
        .unwrap();
    let never = super::TestCase::new(&office);

    // Act: closed again, before the flush and after; and the missing mailbox closed.
    let queued = store.close_recording(&case.id(), None, Some(&tally(2036)), GRACE, &quotas());
    store.flush().unwrap();
    let flushed = store.close_recording(&case.id(), None, Some(&tally(2036)), GRACE, &quotas());
    let missing = store.close_recording(&never.id(), None, Some(&tally(2036)), GRACE, &quotas());
    store.flush().unwrap();

    // Assert: only the first closing's tally exists.
    assert_eq!(queued, Err(StoreError::Closed));
    assert_eq!(flushed, Err(StoreError::Closed));
    assert_eq!(missing, Err(StoreError::NotFound));
    assert_eq!(
        store.tallies(&office.id(), None, 10).unwrap(),
        [stored(&first)]
    );
    assert_clean(store);
}

pub(crate) fn deleting_and_sweeping_cases_leave_their_tallies(h: &mut dyn Harness) {
    // Arrange: two cases closed with tallies.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (deleted, swept) = (opened(store, &office), opened(store, &office));
    let (a, b) = (tally(2036), tally(2036));
    for (case, t) in [(&deleted, &a), (&swept, &b)] {
        store
            .close_recording(&case.id(), None, Some(t), GRACE, &quotas())
            .unwrap();
    }
    store.flush().unwrap();

    // Act: one deleted at once, the other swept at the end of its grace period.
    assert!(store.delete_mailbox(&deleted.id()).unwrap());
    assert_eq!(store.sweep(GRACE, 100).unwrap().mailboxes, 1);
    store.flush().unwrap();

    // Assert: both cases are gone, both tallies stay.
    assert_eq!(store.mailbox(&deleted.id()).unwrap(), None);
    assert_eq!(store.mailbox(&swept.id()).unwrap(), None);
    let mut want = vec![stored(&a), stored(&b)];
    want.sort_by_key(|t| t.id);
    assert_eq!(all_tallies(store, &office.id(), 10), want);
    assert_clean(store);
}

pub(crate) fn tallies_are_listed_in_id_order_a_page_at_a_time(h: &mut dyn Harness) {
    // Arrange: seven cases closed with tallies.
    let store = h.store();
    let office = registered(store, "ombuds");
    let mut want = Vec::new();
    for _ in 0..7 {
        let case = opened(store, &office);
        let t = tally(2036);
        store
            .close_recording(&case.id(), None, Some(&t), GRACE, &quotas())
            .unwrap();
        want.push(stored(&t));
    }
    store.flush().unwrap();
    want.sort_by_key(|t| t.id);

    // Act
    let paged = all_tallies(store, &office.id(), 3);
    let from_fifth = store.tallies(&office.id(), Some(&want[4].id), 10).unwrap();

    // Assert: every tally once, in ID order; a cursor lists what comes after it.
    assert_eq!(paged, want);
    assert_eq!(from_fifth, want[5..]);
}

pub(crate) fn the_statistics_retention_drops_tallies_past_their_year(h: &mut dyn Harness) {
    // Arrange: tallies kept until 2030, 2031 and 2031 at two offices.
    let store = h.store();
    let office = registered(store, "ombuds");
    let other = registered(store, "other-office");
    let (old, kept, elsewhere) = (tally(2030), tally(2031), tally(2030));
    for (o, t) in [(&office, &old), (&office, &kept), (&other, &elsewhere)] {
        let case = opened(store, o);
        store
            .close_recording(&case.id(), None, Some(t), GRACE, &quotas())
            .unwrap();
    }
    store.flush().unwrap();

    // Act: the retention in 2030 (nothing is over), then in 2031 a batch at a time.
    let in_2030 = store.expire_tallies(2030, 10).unwrap();
    let first_batch = store.expire_tallies(2031, 1).unwrap();
    store.flush().unwrap();
    let second_batch = store.expire_tallies(2031, 10).unwrap();
    store.flush().unwrap();
    let again = store.expire_tallies(2031, 10).unwrap();

    // Assert: the two tallies of 2030 went, one per batch; the one of 2031 stays.
    assert_eq!((in_2030, first_batch, second_batch, again), (0, 1, 1, 0));
    assert_eq!(
        store.tallies(&office.id(), None, 10).unwrap(),
        [stored(&kept)]
    );
    assert_eq!(store.tallies(&other.id(), None, 10).unwrap(), []);
    assert_clean(store);
}

pub(crate) fn tallies_are_kept_across_a_restart(h: &mut dyn Harness) {
    // Arrange
    let office = registered(h.store(), "ombuds");
    let case = opened(h.store(), &office);
    let t = tally(2036);
    h.store()
        .close_recording(&case.id(), None, Some(&t), GRACE, &quotas())
        .unwrap();
    h.store().flush().unwrap();

    // Act
    h.restart();

    // Assert
    assert_eq!(
        h.store().tallies(&office.id(), None, 10).unwrap(),
        [stored(&t)]
    );
    assert_clean(h.store());
}
