//! The durability contract: every acknowledged write is found after a restart, byte for byte.

use std::collections::BTreeMap;
use std::sync::Arc;

use candor_protocol::api::{Appended, EnvelopePage};
use candor_protocol::{Envelope, Signer};
use candor_server::sweeper;

use crate::helpers::{TestApp, TestCase, spawn_app, spawn_app_in};

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    // Arrange
    let app = Arc::new(spawn_app().await);
    let office = Arc::new(app.register("ombuds", 90).await);
    let case = Arc::new(app.open_case(&office).await);

    // Act: 40 concurrent appends, each acknowledged.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, office, case) = (app.clone(), office.clone(), case.clone());
        tasks.push(tokio::spawn(async move {
            let envelope = case.envelope(&office, &format!("message number {i}"));
            let res = app
                .append(&case.keys.signing, Signer::Case, &case.mailbox(), &envelope)
                .await;
            assert_eq!(res.status(), 201);
            let seq = res.json::<Appended>().await.unwrap().seq;
            (seq, envelope.to_json())
        }));
    }
    // The first envelope was acknowledged with the opening.
    let mut acknowledged = BTreeMap::from([(1, case.first.to_json())]);
    for t in tasks {
        let (seq, json) = t.await.unwrap();
        assert!(
            acknowledged.insert(seq, json).is_none(),
            "duplicate seq {seq}"
        );
    }
    let app = Arc::into_inner(app).expect("all tasks done");
    let (fsyncs, acked) = app.state.durability.counts();
    assert!(
        acked >= 40 && (1..=acked).contains(&fsyncs),
        "{fsyncs} fsyncs for {acked}"
    );
    let (dir, clock) = app.stop().await;

    // Assert: a new relay on the same directory has every write, byte for byte.
    let app = spawn_app_in(dir, clock, |_| {}).await;
    let res = app
        .list(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            "?limit=500",
        )
        .await;
    assert_eq!(res.status(), 200, "{}", crate::helpers::logs());
    let page: EnvelopePage = res.json().await.unwrap();
    let found: BTreeMap<u64, Vec<u8>> = page
        .envelopes
        .into_iter()
        .map(|e| (e.seq, e.envelope.to_json()))
        .collect();
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        acknowledged.keys().collect::<Vec<_>>()
    );
    assert!(found == acknowledged, "an acknowledged envelope changed");
    assert_eq!(
        found.keys().copied().collect::<Vec<_>>(),
        (1..=41).collect::<Vec<_>>()
    );
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn appends_during_a_compaction_all_survive_it_and_a_restart() {
    // Arrange: one case with envelopes to keep, one deleted, so its segment has dead records;
    // a day later the next sweep will compact that segment.
    let app = Arc::new(spawn_app().await);
    let office = app.register("ombuds", 90).await;
    let kept = app.open_case(&office).await;
    let gone = app.open_case(&office).await;
    let mut sent = vec![kept.first.clone()];
    for i in 0..20 {
        let envelope = kept.envelope(&office, &format!("before {i}"));
        let res = app
            .append(&kept.keys.signing, Signer::Case, &kept.mailbox(), &envelope)
            .await;
        assert_eq!(res.status(), 201);
        sent.push(envelope);
        let res = app
            .append(
                &gone.keys.signing,
                Signer::Case,
                &gone.mailbox(),
                &gone.envelope(&office, "to be deleted"),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .delete(&gone.keys.signing, Signer::Case, &gone.mailbox())
        .await;
    assert_eq!(res.status(), 204);
    app.clock.advance(25 * 3600);

    // Act: the sweep (and its compaction) runs while the kept case appends.
    let sweeping = {
        let app = app.clone();
        tokio::spawn(async move { sweeper::sweep_once(&app.state).await })
    };
    for i in 0..30 {
        let envelope = kept.envelope(&office, &format!("during {i}"));
        let res = app
            .append(&kept.keys.signing, Signer::Case, &kept.mailbox(), &envelope)
            .await;
        assert_eq!(res.status(), 201);
        sent.push(envelope);
    }
    sweeping.await.unwrap().unwrap();
    // The compaction did run: the first log segment, which held the deleted case, is gone.
    let first = app.dir.path().join("store/candor-log/0000000000000001.seg");
    assert!(!first.exists(), "{} is still there", first.display());

    // Assert: every envelope, in order, before and after a restart; the store checks.
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let app = Arc::into_inner(app).expect("the sweep task is done");
    assert_eq!(all_envelopes(&app, &kept).await, sent);
    let (dir, clock) = app.stop().await;
    let app = spawn_app_in(dir, clock, |_| {}).await;
    assert_eq!(all_envelopes(&app, &kept).await, sent);
}

/// Every envelope of `case`, in order.
async fn all_envelopes(app: &TestApp, case: &TestCase) -> Vec<Envelope> {
    let res = app
        .list(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            "?limit=500",
        )
        .await;
    assert_eq!(res.status(), 200);
    let page: EnvelopePage = res.json().await.unwrap();
    page.envelopes.into_iter().map(|s| s.envelope).collect()
}
