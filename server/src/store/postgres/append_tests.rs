//! A batch of appends against a real PostgreSQL, where one statement writes them all: several
//! appends to one mailbox are numbered in the batch's order, the first that would pass the
//! mailbox's quota is held back with every one after it, and each office's activity follows
//! the batch's order.

use std::sync::atomic::Ordering;

use super::append::{FELL_BACK, Job, batch};
use super::batch_tests::entry;
use super::tests::{Schema, skipped};
use crate::store::conformance::{self, quotas};
use crate::store::{Quotas, Remembered, Store, StoreError};

#[test]
fn one_statement_numbers_a_mailboxs_appends_in_order_and_holds_back_those_past_its_quota() {
    if skipped() {
        return;
    }
    // Arrange: two cases of one office, each holding its first envelope, and a quota of three
    // envelopes a mailbox: room for two more in each.
    let schema = Schema::migrated();
    let store = schema.open();
    let office = conformance::registered(&store, "office");
    let (a, b) = (
        conformance::opened(&store, &office),
        conformance::opened(&store, &office),
    );
    let quotas = Quotas {
        envelopes_per_mailbox: 3,
        ..quotas()
    };
    let entries: Vec<Remembered> = (0..6).map(entry).collect();
    let order = [&a, &b, &a, &a, &b, &b];
    let jobs: Vec<Job> = order
        .iter()
        .zip(&entries)
        .enumerate()
        .map(|(i, (case, entry))| {
            let envelope = case.envelope(&format!("batched {i}"));
            Job::new(&case.id(), &envelope, &conformance::keeping(), &quotas)
                .unwrap()
                .remembering(Some(*entry))
        })
        .collect();

    // Act: all six in one batch.
    let answers = batch(&store.pool, jobs);

    // Assert: each mailbox's first two are numbered 2 and 3 in the batch's order; its third is
    // refused for the mailbox's envelopes, and still keeps its entry; the case whose last
    // append came last in the batch is last in the inbox; the statement did not fall back.
    let full = |answer: &Result<u64, StoreError>| matches!(answer, Err(StoreError::Quota(why)) if why.contains("envelopes"));
    assert_eq!(answers[..3], [Ok(2), Ok(2), Ok(3)]);
    assert!(full(&answers[3]), "{answers:?}");
    assert_eq!(answers[4], Ok(3));
    assert!(full(&answers[5]), "{answers:?}");
    for case in [&a, &b] {
        let seqs: Vec<u64> = conformance::all_envelopes(&store, &case.id())
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
    }
    for entry in &entries {
        assert!(!store.remember_request(&entry.id, entry.expires).unwrap());
    }
    let inbox = store.inbox(&office.id(), 0, 10).unwrap();
    let listed: Vec<_> = inbox.iter().map(|e| e.mailbox).collect();
    assert_eq!(listed, [a.id(), b.id()]);
    assert!(inbox[0].activity < inbox[1].activity);
    assert_eq!(FELL_BACK.load(Ordering::Relaxed), 0);
}
