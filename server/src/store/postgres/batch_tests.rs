//! The group commit of appends against a real PostgreSQL: concurrent appends at two instances
//! share transactions, and each still gets its own number, its own refusal and its place in its
//! office's activity order.

use std::collections::BTreeMap;

use super::tests::{Schema, skipped};
use crate::store::conformance::{self, quotas};
use crate::store::{Store, StoreError};

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
