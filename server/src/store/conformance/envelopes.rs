//! Envelopes: appended in sequence within a mailbox's quotas, moving its expiry as the write's
//! window says, and read back in pages, byte for byte.

use super::{
    DAY, HOUR, Harness, RETAINED, TestCase, all_envelopes, appended, assert_clean, keeping, opened,
    quotas, registered,
};
use crate::store::{Expiry, KeyedPage, Later, Quotas, Remembered, StoreError};
use candor_protocol::Signer;

pub(crate) fn appends_are_numbered_after_the_first_envelope_and_counted(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let envelopes: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|text| case.envelope(text))
        .collect();

    // Act: no flush between them; each numbers after the one queued before it.
    let seqs: Vec<u64> = envelopes
        .iter()
        .map(|e| store.append(&case.id(), e, &keeping(), &quotas()).unwrap())
        .collect();
    let missing = store.append(
        &TestCase::new(&office).id(),
        &envelopes[0],
        &keeping(),
        &quotas(),
    );
    store.flush().unwrap();

    // Assert: the first envelope is 1, so appends number from 2, and it is counted too.
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(missing, Err(StoreError::NotFound));
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    let bytes: usize = std::iter::once(&case.first)
        .chain(&envelopes)
        .map(|e| e.to_json().len())
        .sum();
    assert_eq!((rec.last_seq, rec.count, rec.bytes), (4, 4, bytes as u64));
    assert_eq!(store.check().unwrap().envelopes, 4);
    assert_clean(store);
}

pub(crate) fn the_envelope_quota_refuses_an_append_and_changes_nothing(h: &mut dyn Harness) {
    // Arrange: a mailbox that may hold three envelopes, and holds them: its first and two.
    let store = h.store();
    let limited = Quotas {
        envelopes_per_mailbox: 3,
        ..quotas()
    };
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    for text in ["one", "two"] {
        store
            .append(&case.id(), &case.envelope(text), &keeping(), &limited)
            .unwrap();
    }
    store.flush().unwrap();
    let (before, held) = (
        store.mailbox(&case.id()).unwrap(),
        all_envelopes(store, &case.id()),
    );

    // Act
    let refused = store.append(&case.id(), &case.envelope("three"), &keeping(), &limited);
    store.flush().unwrap();

    // Assert
    assert!(matches!(refused, Err(StoreError::Quota(_))), "{refused:?}");
    assert_eq!(held.len(), 3);
    assert_eq!(store.mailbox(&case.id()).unwrap(), before);
    assert_eq!(all_envelopes(store, &case.id()), held);
    assert_clean(store);
}

pub(crate) fn the_byte_quota_counts_envelope_json(h: &mut dyn Harness) {
    // Arrange: a byte quota of exactly the first envelope's and two more envelopes' JSON.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let (first, second) = (case.envelope("first"), case.envelope("second"));
    let exact = [&case.first, &first, &second]
        .map(|e| e.to_json().len() as u64)
        .iter()
        .sum();
    let limited = Quotas {
        bytes_per_mailbox: exact,
        ..quotas()
    };

    // Act
    let fits = [&first, &second].map(|e| store.append(&case.id(), e, &keeping(), &limited));
    let over = store.append(&case.id(), &case.envelope("x"), &keeping(), &limited);
    store.flush().unwrap();

    // Assert: the quota may be filled exactly, not passed.
    assert_eq!(fits, [Ok(2), Ok(3)]);
    assert!(matches!(over, Err(StoreError::Quota(_))), "{over:?}");
    let rec = store.mailbox(&case.id()).unwrap().unwrap();
    assert_eq!((rec.count, rec.bytes), (3, exact));
    assert_clean(store);
}

pub(crate) fn envelopes_page_after_a_sequence_number_byte_for_byte(h: &mut dyn Harness) {
    // Arrange: five envelopes (the first and four more), and one in another mailbox.
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let sent: Vec<(u64, Vec<u8>)> = std::iter::once(case.first_stored())
        .chain(
            (0..4)
                .map(|i| appended(store, &case, &format!("message {i}")))
                .map(|(seq, envelope)| (seq, envelope.to_json())),
        )
        .collect();
    appended(store, &opened(store, &office), "elsewhere");
    let page = |after: u64, limit: usize| -> Vec<(u64, Vec<u8>)> {
        let got = store.envelopes(&case.id(), after, limit).unwrap();
        got.into_iter().map(|e| (e.seq, e.json)).collect()
    };

    // Act
    let pages = [page(0, 2), page(2, 2), page(4, 2), page(5, 2)];

    // Assert: in order, after the cursor, at most `limit`, the stored JSON as it was sent.
    assert_eq!(pages.concat(), sent);
    assert_eq!(pages.map(|p| p.len()), [2, 2, 1, 0]);
    assert_eq!(page(1, 100), sent[1..]);
    assert!(page(0, 0).is_empty());
    assert!(page(u64::MAX, 10).is_empty());
}

pub(crate) fn a_page_stops_before_its_byte_cap_but_always_moves_on(h: &mut dyn Harness) {
    // Arrange: the first envelope and three more, all of one size (one padding bucket).
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    for text in ["one", "two", "six"] {
        appended(store, &case, text);
    }
    store.flush().unwrap();
    let one = all_envelopes(store, &case.id())[0].1.len();

    // Act
    let two = store
        .envelopes_within(&case.id(), 0, 100, 2 * one + 100)
        .unwrap();
    let tiny = store.envelopes_within(&case.id(), 2, 100, 1).unwrap();
    let all = store
        .envelopes_within(&case.id(), 0, 100, usize::MAX)
        .unwrap();

    // Assert: about two envelopes' worth; a cap below one still returns one.
    assert_eq!(two.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(tiny.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(all.len(), 4);
}

pub(crate) fn an_append_keeps_an_expiry_in_its_window_and_redraws_another(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    let later = Expiry {
        drawn: RETAINED + 2 * DAY + 5 * HOUR,
        earliest: RETAINED + 2 * DAY,
        latest: RETAINED + 3 * DAY,
    };
    let shorter = Expiry {
        drawn: RETAINED - 20 * DAY,
        earliest: RETAINED - 21 * DAY,
        latest: RETAINED - 19 * DAY,
    };
    let mut expiries = Vec::new();

    // Act: a window holding the expiry, one after it, one before it (a shortened retention).
    for expiry in [keeping(), later, shorter] {
        store
            .append(&case.id(), &case.envelope("note"), &expiry, &quotas())
            .unwrap();
        store.flush().unwrap();
        expiries.push(store.mailbox(&case.id()).unwrap().unwrap().expiry);
    }

    // Assert
    assert_eq!(expiries, [RETAINED, later.drawn, shorter.drawn]);
    assert_clean(store);
}

/// A future store call's answer, on a runtime of its own.
fn wait<T>(later: Later<T>) -> Result<T, StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(later)
}

/// A replay entry no request has made.
fn fresh_entry() -> Remembered {
    Remembered {
        id: rand::random(),
        expires: super::NOW + 120,
    }
}

pub(crate) fn a_page_for_a_named_key_is_read_only_for_the_key_registered_for_its_signer(
    h: &mut dyn Harness,
) {
    // Arrange: a case with three envelopes and a closed case, at one office; whether this
    // store keeps replay entries (one that several instances share does).
    let store = h.store();
    let office = registered(store, "ombuds");
    let case = opened(store, &office);
    appended(store, &case, "two");
    appended(store, &case, "three");
    let shut = opened(store, &office);
    store
        .close_mailbox(&shut.id(), None, RETAINED, &quotas())
        .unwrap();
    store.flush().unwrap();
    let probe = fresh_entry();
    let shared = store.remember_request(&probe.id, probe.expires).unwrap()
        && !store.remember_request(&probe.id, probe.expires).unwrap();
    let case_key = case.keys.signing.public_key().to_bytes();
    let office_key = office.identity.signing().public_key().to_bytes();
    let page = |entry, id, signer, key| {
        wait(store.page_for_key(entry, id, signer, key, 1, 10, usize::MAX)).unwrap()
    };
    let seqs = |page: &KeyedPage| match page {
        KeyedPage::Page { envelopes, closed } => {
            Some((envelopes.iter().map(|e| e.seq).collect::<Vec<_>>(), *closed))
        }
        _ => None,
    };

    // Act
    let (first, refused) = (fresh_entry(), fresh_entry());
    let by_case = page(Some(first), case.id(), Signer::Case, case_key);
    let again = page(Some(first), case.id(), Signer::Case, case_key);
    let by_office = page(Some(fresh_entry()), case.id(), Signer::Office, office_key);
    let wrong = [
        (
            case.id(),
            Signer::Case,
            shut.keys.signing.public_key().to_bytes(),
        ),
        (case.id(), Signer::Office, case_key),
        (case.id(), Signer::Case, office_key),
        (case.id(), Signer::ThirdParty, case_key),
        (TestCase::new(&office).id(), Signer::Case, case_key),
    ]
    .map(|(id, signer, key)| page(Some(refused), id, signer, key));
    let closed = page(
        None,
        shut.id(),
        Signer::Case,
        shut.keys.signing.public_key().to_bytes(),
    );

    // Assert: the case's key and its office's read the page after the cursor; a replay reads
    // nothing where entries are kept; any other key, another signer's, or an unknown mailbox
    // is not found and remembers nothing; a closed case says so.
    assert_eq!(seqs(&by_case), Some((vec![2, 3], false)));
    assert_eq!(seqs(&by_office), Some((vec![2, 3], false)));
    if shared {
        assert_eq!(again, KeyedPage::Replayed);
    } else {
        assert_eq!(seqs(&again), Some((vec![2, 3], false)));
    }
    assert_eq!(wrong, [const { KeyedPage::NotFound }; 5]);
    assert!(
        store
            .remember_request(&refused.id, refused.expires)
            .unwrap()
    );
    assert_eq!(seqs(&closed), Some((vec![], true)));
}
