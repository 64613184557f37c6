//! The durability contract: every acknowledged write is found after a restart, byte for byte.

use std::collections::BTreeMap;
use std::sync::Arc;

use candor_protocol::Signer;
use candor_protocol::api::{Appended, EnvelopePage};

use crate::helpers::{spawn_app, spawn_app_in};

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
    let mut acknowledged = BTreeMap::new();
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
        (1..=40).collect::<Vec<_>>()
    );
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
