//! Batches against a real PostgreSQL: concurrent appends at two instances share transactions,
//! and each still gets its own number, its own refusal and its place in its office's activity
//! order; concurrent reads share statements, and each gets its own answer, whatever the
//! batch's size.

use std::collections::BTreeMap;

use candor_protocol::Signer;

use super::PageJob;
use super::tests::{Schema, skipped};
use crate::store::conformance::{self, quotas};
use crate::store::{KeyedPage, Store, StoreError};

#[test]
fn concurrent_appends_at_two_instances_share_commits_and_each_keeps_its_own_answer() {
    if skipped() {
        return;
    }
    // Arrange: two instances on one database; two offices with three open cases each, and a
    // closed case at the first.
    let schema = Schema::migrated();
    let instances = [schema.open(), schema.open()];
    let offices = [
        conformance::registered(&instances[0], "office-a"),
        conformance::registered(&instances[0], "office-b"),
    ];
    let cases: Vec<_> = (0..6)
        .map(|i| conformance::opened(&instances[0], &offices[i % 2]))
        .collect();
    let shut = conformance::opened(&instances[0], &offices[0]);
    instances[0]
        .close_mailbox(&shut.id(), None, conformance::RETAINED, &quotas())
        .unwrap();

    // Act: sixteen writers at each instance, each appending eight envelopes to the cases in
    // turn, and once to the closed case.
    let answers: Vec<(usize, Result<u64, StoreError>)> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..32)
            .map(|w| {
                let (store, cases, shut) = (&instances[w % 2], &cases, &shut);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..8 {
                        let case = (w + i) % cases.len();
                        let envelope = cases[case].envelope(&format!("writer {w}, {i}"));
                        let seq = store.append(
                            &cases[case].id(),
                            &envelope,
                            &conformance::keeping(),
                            &quotas(),
                        );
                        mine.push((case, seq));
                    }
                    let refused = store.append(
                        &shut.id(),
                        &shut.envelope("too late"),
                        &conformance::keeping(),
                        &quotas(),
                    );
                    mine.push((usize::MAX, refused));
                    mine
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });

    // Assert: appends shared commits; every append to a closed case was refused as closed;
    // each case's numbers are 2 to 1 + its appends, each given once; each office's inbox lists
    // its cases with distinct activity numbers, and a case's envelopes are all there.
    assert!(
        instances.iter().map(|s| s.appends.shared()).sum::<u64>() > 0,
        "no two appends ever shared a transaction"
    );
    assert_eq!(
        super::append::FELL_BACK.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "a batch failed and ran again one append at a time"
    );
    let mut numbers: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for (case, answer) in answers {
        if case == usize::MAX {
            assert_eq!(answer, Err(StoreError::Closed));
        } else {
            numbers.entry(case).or_default().push(answer.unwrap());
        }
    }
    for (case, mut seqs) in numbers {
        seqs.sort_unstable();
        let count = seqs.len() as u64;
        assert_eq!(seqs, (2..=count + 1).collect::<Vec<u64>>(), "case {case}");
        let stored = conformance::all_envelopes(&instances[1], &cases[case].id());
        assert_eq!(stored.len() as u64, count + 1, "case {case}");
    }
    for office in &offices {
        let inbox = instances[1].inbox(&office.id(), 0, 100).unwrap();
        let mut activity: Vec<u64> = inbox.iter().map(|e| e.activity).collect();
        activity.dedup();
        assert_eq!(activity.len(), inbox.len(), "{activity:?}");
        assert!(activity.windows(2).all(|w| w[0] < w[1]), "{activity:?}");
    }
    assert_eq!(instances[0].check().unwrap().mailboxes, 7);
}

#[test]
fn an_office_quota_that_holds_one_of_a_batchs_appends_takes_that_one_and_refuses_the_other() {
    if skipped() {
        return;
    }
    // Arrange: an office with two cases, and a byte quota with room for one more envelope of
    // the two but not for both.
    let schema = Schema::migrated();
    let store = schema.open();
    let office = conformance::registered(&store, "office");
    let (a, b) = (
        conformance::TestCase::new(&office),
        conformance::TestCase::new(&office),
    );
    let mut held = 0;
    for case in [&a, &b] {
        let new = case.new_mailbox(&office, conformance::RETAINED);
        held += new.first.to_json().len() as u64;
        store
            .open_mailbox(&new, &conformance::pow(), &quotas())
            .unwrap();
    }
    let (first, second) = (a.envelope("first"), b.envelope("second"));
    let quotas = crate::store::Quotas {
        bytes_per_office: held + first.to_json().len() as u64 + 10,
        ..quotas()
    };
    let jobs = [(&a, &first), (&b, &second)].map(|(case, envelope)| {
        super::append::Job::new(&case.id(), envelope, &conformance::keeping(), &quotas).unwrap()
    });

    // Act: both in one batch.
    let answers = super::append::batch(&store.pool, jobs.into());

    // Assert: the first fits and is appended; the second is refused for the office's bytes;
    // the batch's statement ran (it held both back for their sum) rather than failing.
    assert_eq!(answers[0], Ok(2));
    assert!(
        matches!(&answers[1], Err(StoreError::Quota(why)) if why.contains("office")),
        "{answers:?}"
    );
    assert_eq!(conformance::all_envelopes(&store, &b.id()).len(), 1);
    assert_eq!(
        super::append::FELL_BACK.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

/// Four open cases, case `i` holding `i + 2` envelopes (its first and `i + 1` appended).
fn filled(store: &super::PostgresStore) -> Vec<conformance::TestCase> {
    let office = conformance::registered(store, "office");
    (0..4)
        .map(|i| {
            let case = conformance::opened(store, &office);
            for n in 0..=i {
                let envelope = case.envelope(&format!("{i}: {n}"));
                store
                    .append(&case.id(), &envelope, &conformance::keeping(), &quotas())
                    .unwrap();
            }
            case
        })
        .collect()
}

/// A page's sequence numbers; `None` for a replay or a mailbox not found.
fn seqs(page: &KeyedPage) -> Option<Vec<u64>> {
    match page {
        KeyedPage::Page { envelopes, .. } => Some(envelopes.iter().map(|e| e.seq).collect()),
        _ => None,
    }
}

/// A replay entry no request has made.
pub(super) fn entry(n: u64) -> crate::store::Remembered {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    id[8..16].copy_from_slice(&rand::random::<[u8; 8]>());
    crate::store::Remembered {
        id,
        expires: conformance::NOW + 120,
    }
}

#[test]
fn concurrent_reads_share_statements_and_each_gets_its_own_answer() {
    if skipped() {
        return;
    }
    // Arrange: one instance, four cases of different lengths.
    let schema = Schema::migrated();
    let store = schema.open();
    let cases = filled(&store);

    // Act: thirty-two readers, each looking up a case and an unknown mailbox, remembering a
    // fresh entry twice, and fetching a page of the case after a cursor, remembering another.
    std::thread::scope(|scope| {
        for r in 0..32u64 {
            let (store, cases) = (&store, &cases);
            scope.spawn(move || {
                for i in 0..16u64 {
                    let n = ((r + i) % 4) as usize;
                    let case = &cases[n];
                    let (mailbox, office) = store.mailbox_with_office(&case.id()).unwrap().unwrap();
                    assert_eq!(mailbox.count, n as u64 + 2);
                    assert!(office.is_some());
                    let unknown = candor_protocol::MailboxId::from_bytes(rand::random());
                    assert_eq!(store.mailbox_with_office(&unknown).unwrap(), None);

                    let fresh = entry(r * 100 + i);
                    assert!(store.remember_request(&fresh.id, fresh.expires).unwrap());
                    assert!(!store.remember_request(&fresh.id, fresh.expires).unwrap());

                    // Assert: the envelopes after the cursor, at most two of them.
                    let after = i % 3;
                    let job = PageJob::new(
                        Some(entry(r * 100 + i + 50)),
                        &case.id(),
                        after,
                        2,
                        usize::MAX,
                    );
                    let KeyedPage::Page { envelopes, .. } = store.reads.page(job).wait().unwrap()
                    else {
                        panic!("a fresh entry reads its page");
                    };
                    let seqs: Vec<u64> = envelopes.iter().map(|e| e.seq).collect();
                    let expected: Vec<u64> = (after + 1..=(n as u64 + 2)).take(2).collect();
                    assert_eq!(seqs, expected, "case {n} after {after}");
                }
            });
        }
    });

    // Assert: every kind of read shared statements.
    let [lookups, replays, pages] = store.reads.shared();
    assert!(
        lookups > 0 && replays > 0 && pages > 0,
        "{lookups} {replays} {pages}"
    );
}

#[test]
fn a_batch_of_pages_remembers_each_entry_once_and_reads_no_page_for_a_replay() {
    if skipped() {
        return;
    }
    // Arrange: four cases; an entry another request already made.
    let schema = Schema::migrated();
    let store = schema.open();
    let cases = filled(&store);
    let (once, made, other) = (entry(1), entry(2), entry(3));
    assert!(store.remember_request(&made.id, made.expires).unwrap());
    let job = |entry, case: &conformance::TestCase, after, max_bytes| {
        PageJob::new(entry, &case.id(), after, 100, max_bytes)
    };
    let jobs = [
        job(Some(once), &cases[3], 0, usize::MAX),
        job(Some(once), &cases[3], 0, usize::MAX),
        job(Some(made), &cases[2], 0, usize::MAX),
        job(None, &cases[1], 1, usize::MAX),
        job(Some(other), &cases[3], 1, 1),
        job(None, &cases[0], u64::MAX, usize::MAX),
    ];

    // Act: all in one statement.
    let pages = super::reads::pages(&store.pool, &jobs).unwrap();

    // Assert: the first of a repeated entry reads its page and the second is a replay, as is
    // the entry made before; a job without an entry reads its page; a page's byte cap still
    // takes its first envelope; a cursor past the end reads an empty page.
    let seqs = |i: usize| seqs(&pages[i]);
    assert_eq!(seqs(0), Some(vec![1, 2, 3, 4, 5]));
    assert_eq!(seqs(1), None);
    assert_eq!(seqs(2), None);
    assert_eq!(seqs(3), Some(vec![2, 3]));
    assert_eq!(seqs(4), Some(vec![2]));
    assert_eq!(seqs(5), Some(vec![]));
    assert!(!store.remember_request(&once.id, once.expires).unwrap());
    assert!(!store.remember_request(&other.id, other.expires).unwrap());
    let KeyedPage::Page { envelopes, .. } = &pages[0] else {
        panic!("the first job reads its page");
    };
    let read: Vec<(u64, Vec<u8>)> = envelopes.iter().map(|e| (e.seq, e.json.clone())).collect();
    assert_eq!(read, conformance::all_envelopes(&store, &cases[3].id()));
}

#[test]
fn a_batch_of_pages_for_named_keys_checks_each_key_before_it_remembers_or_reads() {
    if skipped() {
        return;
    }
    // Arrange: four cases at one office, the last closed.
    let schema = Schema::migrated();
    let store = schema.open();
    let cases = filled(&store);
    let office_key = store
        .mailbox_with_office(&cases[0].id())
        .unwrap()
        .and_then(|(_, office)| office)
        .unwrap()
        .signing_key;
    store
        .close_mailbox(&cases[3].id(), None, conformance::RETAINED, &quotas())
        .unwrap();
    let key = |n: usize| cases[n].keys.signing.public_key().to_bytes();
    let (once, wrong, twice) = (entry(1), entry(2), entry(3));
    let job = |entry, n: usize, signer, key| {
        PageJob::new(entry, &cases[n].id(), 0, 100, usize::MAX).for_key(signer, key)
    };
    let jobs = [
        job(Some(once), 1, Signer::Case, key(1)),
        job(Some(once), 1, Signer::Case, key(1)),
        job(Some(wrong), 1, Signer::Case, key(2)),
        job(Some(wrong), 1, Signer::Case, key(2)),
        job(Some(twice), 2, Signer::Office, office_key),
        job(None, 2, Signer::ThirdParty, key(2)),
        job(None, 3, Signer::Case, key(3)),
        PageJob::new(None, &cases[0].id(), 0, 100, usize::MAX),
    ];

    // Act: all in one statement.
    let pages = super::reads::pages(&store.pool, &jobs).unwrap();

    // Assert: the case's key reads its page, and the same entry again is a replay; another
    // case's key is not found, again, and its entry is not kept; the office's key reads the
    // page; a third party's key is never a mailbox's; the closed case says so; a job without
    // a key is not checked.
    assert_eq!(seqs(&pages[0]), Some(vec![1, 2, 3]));
    assert_eq!(pages[1], KeyedPage::Replayed);
    assert_eq!(pages[2], KeyedPage::NotFound);
    assert_eq!(pages[3], KeyedPage::NotFound);
    assert!(store.remember_request(&wrong.id, wrong.expires).unwrap());
    assert_eq!(seqs(&pages[4]), Some(vec![1, 2, 3, 4]));
    assert!(!store.remember_request(&twice.id, twice.expires).unwrap());
    assert_eq!(pages[5], KeyedPage::NotFound);
    let KeyedPage::Page { envelopes, closed } = &pages[6] else {
        panic!("the closed case's own key reads its page");
    };
    assert_eq!((envelopes.len(), *closed), (5, true));
    assert_eq!(seqs(&pages[7]), Some(vec![1, 2]));
}

#[test]
fn a_batch_of_appends_stores_each_replay_entry_once_and_appends_nothing_for_a_replay() {
    if skipped() {
        return;
    }
    // Arrange: four cases, the last of them closed; an entry another request already made.
    let schema = Schema::migrated();
    let store = schema.open();
    let cases = filled(&store);
    store
        .close_mailbox(&cases[3].id(), None, conformance::RETAINED, &quotas())
        .unwrap();
    let (once, made, closed) = (entry(1), entry(2), entry(3));
    assert!(store.remember_request(&made.id, made.expires).unwrap());
    let job = |case: &conformance::TestCase, entry| {
        let envelope = case.envelope("batched");
        super::append::Job::new(&case.id(), &envelope, &conformance::keeping(), &quotas())
            .unwrap()
            .remembering(entry)
    };
    let jobs = vec![
        job(&cases[0], Some(once)),
        job(&cases[1], Some(once)),
        job(&cases[1], Some(made)),
        job(&cases[2], None),
        job(&cases[3], Some(closed)),
    ];

    // Act: all in one batch.
    let answers = super::append::batch(&store.pool, jobs);

    // Assert: the first of a repeated entry appends and the second is a replay, as is the
    // entry made before, and neither appended; an append without an entry appends; the closed
    // case refuses its append and still keeps its entry; no batch fell back.
    assert_eq!(answers[0], Ok(3));
    assert_eq!(answers[1], Err(StoreError::Replayed));
    assert_eq!(answers[2], Err(StoreError::Replayed));
    assert_eq!(answers[3], Ok(5));
    assert_eq!(answers[4], Err(StoreError::Closed));
    assert_eq!(conformance::all_envelopes(&store, &cases[1].id()).len(), 3);
    for entry in [once, closed] {
        assert!(!store.remember_request(&entry.id, entry.expires).unwrap());
    }
    assert_eq!(
        super::append::FELL_BACK.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

#[test]
fn a_lookup_batch_of_any_size_answers_each_id_in_its_place() {
    if skipped() {
        return;
    }
    // Arrange: four cases, case `i` numbered up to `i + 2`, and an ID no mailbox has.
    let schema = Schema::migrated();
    let store = schema.open();
    let cases = filled(&store);
    let unknown = [0x77u8; 16];
    let known: Vec<[u8; 16]> = cases.iter().map(|c| *c.id().as_bytes()).collect();

    for size in [1, 2, 3, 5, 17, 64] {
        // Act: a batch of `size` IDs, known ones (repeated) and the unknown one in turn, which
        // pads to the next statement size with a repeat of its last ID.
        let ids: Vec<[u8; 16]> = (0..size)
            .map(|i| if i % 5 == 1 { unknown } else { known[i % 4] })
            .collect();
        let found = super::reads::lookups(&store.pool, &ids).unwrap();

        // Assert: one answer per ID, in order: each known mailbox with its office, the
        // unknown one not found.
        assert_eq!(found.len(), size);
        for (id, answer) in ids.iter().zip(&found) {
            match known.iter().position(|k| k == id) {
                Some(i) => {
                    let (mailbox, office) = answer.as_ref().expect("a known mailbox is found");
                    assert_eq!(mailbox.last_seq, i as u64 + 2, "batch of {size}");
                    assert!(office.is_some(), "batch of {size}");
                }
                None => assert!(answer.is_none(), "batch of {size}"),
            }
        }
    }
}
