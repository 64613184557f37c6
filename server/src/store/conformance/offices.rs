//! Offices: registered once per ID and per invite, updated only to a larger card serial.

use super::{Harness, TestOffice, assert_clean, invite, registered};
use crate::store::StoreError;

pub(crate) fn a_registered_office_is_found_as_stored(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = TestOffice::new("ombuds");

    // Act
    store.register_office(&office.record, &invite()).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!(store.office(&office.id()).unwrap(), Some(office.record));
    assert_eq!(store.office(&"elsewhere".parse().unwrap()).unwrap(), None);
    assert_eq!(store.check().unwrap().offices, 1);
    assert_clean(store);
}

pub(crate) fn an_invite_registers_one_office(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let first = TestOffice::new("first");
    let second = TestOffice::new("second");
    let used = invite();
    store.register_office(&first.record, &used).unwrap();

    // Act: the same invite again, before the first registration is flushed.
    let again = store.register_office(&second.record, &used);
    store.flush().unwrap();

    // Assert
    assert_eq!(again, Err(StoreError::InviteUsed));
    assert_eq!(store.office(&second.id()).unwrap(), None);
    assert_eq!(store.office(&first.id()).unwrap(), Some(first.record));
    assert_clean(store);
}

pub(crate) fn a_taken_office_id_is_a_conflict_and_keeps_the_invite(h: &mut dyn Harness) {
    // Arrange: "ombuds" is taken; an impostor with another identity wants the same ID.
    let store = h.store();
    let office = registered(store, "ombuds");
    let impostor = TestOffice::new("ombuds");
    let unspent = invite();

    // Act
    let taken = store.register_office(&impostor.record, &unspent);
    store.flush().unwrap();

    // Assert: refused, the stored card unchanged, and the invite still good for another ID.
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(store.office(&office.id()).unwrap(), Some(office.record));
    let other = TestOffice::new("other");
    store.register_office(&other.record, &unspent).unwrap();
    store.flush().unwrap();
    assert_eq!(store.office(&other.id()).unwrap(), Some(other.record));
    assert_clean(store);
}

pub(crate) fn an_update_needs_a_larger_serial(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let second = office.card(2, 7);

    // Act
    store.update_office(&second).unwrap();
    let same = store.update_office(&office.card(2, 9));
    let older = store.update_office(&office.card(1, 9));
    store.flush().unwrap();

    // Assert: the larger serial replaced the card; an equal or smaller one changed nothing.
    assert!(matches!(same, Err(StoreError::Conflict(_))), "{same:?}");
    assert!(matches!(older, Err(StoreError::Conflict(_))), "{older:?}");
    let stored = store.office(&office.id()).unwrap().unwrap();
    assert_eq!(stored, second);
    assert_eq!((stored.serial, stored.retention_days), (2, 7));
    assert_clean(store);
}

pub(crate) fn updating_an_unknown_office_is_not_found(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = TestOffice::new("ombuds");

    // Act
    let updated = store.update_office(&office.card(2, 30));
    store.flush().unwrap();

    // Assert: refused, and no office was created by it.
    assert_eq!(updated, Err(StoreError::NotFound));
    assert_eq!(store.office(&office.id()).unwrap(), None);
    assert_eq!(store.check().unwrap().offices, 0);
}

pub(crate) fn a_stored_card_of_the_first_format_is_not_damage(h: &mut dyn Harness) {
    // Arrange: a store written before office cards had version 2 holds the office's genuine
    // card of the first format.
    let store = h.store();
    let office = TestOffice::new("ombuds");
    let old = format!(
        r#"{{"v":1,"serial":1,"id":"ombuds","signing_key":"{}"}}"#,
        candor_protocol::encoding::b64(&office.record.signing_key)
    )
    .into_bytes();
    let mut record = office.record.clone();
    record.card = candor_protocol::SignedCard {
        signature: office
            .identity
            .signing()
            .sign(candor_protocol::labels::OFFICE_CARD, &old),
        card: old,
    };

    // Act
    store.register_office(&record, &invite()).unwrap();
    store.flush().unwrap();

    // Assert: `check` does not call it damaged, and the office can still publish over it.
    assert_clean(store);
    store.update_office(&office.card(2, 30)).unwrap();
    assert_clean(store);
}
