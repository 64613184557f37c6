//! Retention: expiries are coarse and jittered, and the sweeper deletes what expired from every
//! tree while fresh data stays.

use candor_protocol::Signer;
use candor_server::sweeper;

use crate::helpers::{assert_problem, office_card, spawn_app_with};

#[tokio::test]
async fn expiry_is_retention_plus_jitter_rounded_up_to_the_hour() {
    let app = spawn_app_with(|s| s.retention_jitter_hours = 24).await;
    let office = app.register("ombuds", 3).await;
    let case = app.open_case(&office).await;
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "x"),
        )
        .await;
    assert_eq!(res.status(), 201);

    let rec = app
        .state
        .store
        .mailbox(&case.keys.mailbox)
        .unwrap()
        .unwrap();

    assert_eq!(rec.expiry % 3600, 0);
    let base = app.now() + 3 * 86_400;
    assert!(rec.expiry >= base, "{} < {base}", rec.expiry);
    assert!(rec.expiry <= base + 24 * 3600 + 3600);
}

#[tokio::test]
async fn a_write_keeps_an_expiry_it_could_have_drawn_and_redraws_any_other() {
    let app = spawn_app_with(|s| s.retention_jitter_hours = 24).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let expiry = || {
        app.state
            .store
            .mailbox(&case.keys.mailbox)
            .unwrap()
            .unwrap()
            .expiry
    };
    let append = |text: &'static str| {
        let envelope = case.envelope(&office, text);
        let case = &case;
        let app = &app;
        async move {
            let res = app
                .append(&case.keys.signing, Signer::Case, &case.mailbox(), &envelope)
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    let in_window = |at: u64, days: u64| {
        let base = app.now() + days * 86_400;
        assert!(
            at >= base && at <= base + 25 * 3600,
            "{at} is not within retention plus jitter of now ({base})"
        );
    };

    // Writes while the expiry is one they could have drawn keep it (the index entry stays).
    let opened = expiry();
    for text in ["one", "two", "three", "four", "five"] {
        append(text).await;
        assert_eq!(expiry(), opened);
    }

    // Two days on, it is less than the retention period away: the next write redraws it.
    app.clock.advance(2 * 86_400);
    append("six").await;
    in_window(expiry(), 30);

    // The office shortens its retention: the next write pulls the expiry in.
    let card = office_card(&office.identity, "ombuds", 3, 2);
    let body = card.sign(&office.identity).unwrap().to_json();
    let res = app.update_card(office.key(), &body).await;
    assert_eq!(res.status(), 200);
    append("seven").await;
    in_window(expiry(), 3);
}

#[tokio::test]
async fn the_sweeper_deletes_expired_mailboxes_and_keeps_fresh_ones() {
    // Arrange: an old case with envelopes, then two days later a fresh one.
    let app = spawn_app_with(|s| s.retention_jitter_hours = 0).await;
    let office = app.register("ombuds", 1).await;
    let old = app.open_case(&office).await;
    for text in ["first", "second"] {
        let res = app
            .append(
                &old.keys.signing,
                Signer::Case,
                &old.mailbox(),
                &old.envelope(&office, text),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    app.clock.advance(2 * 86_400);
    let fresh = app.open_case(&office).await;
    let res = app
        .append(
            &fresh.keys.signing,
            Signer::Case,
            &fresh.mailbox(),
            &fresh.envelope(&office, "still here"),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Act
    let swept = sweeper::sweep_once(&app.state).await.unwrap();

    // Assert: the old case is gone from every tree, the fresh one stays.
    assert_eq!(swept.mailboxes, 1);
    assert!(swept.tokens >= 1, "the old PoW entry expired too");
    let store = &app.state.store;
    assert_eq!(store.mailbox(&old.keys.mailbox).unwrap(), None);
    assert!(
        store
            .envelopes(&old.keys.mailbox, 0, 500)
            .unwrap()
            .is_empty()
    );
    let inbox = store.inbox(&office.id(), 0, 500).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].mailbox, fresh.keys.mailbox);
    let report = store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.mailboxes, report.envelopes), (1, 2));
    let res = app
        .list(&old.keys.signing, Signer::Case, &old.mailbox(), "")
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = app
        .list(&fresh.keys.signing, Signer::Case, &fresh.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
    let metrics = app.metrics().await;
    assert!(metrics.contains("candor_sweeps_total 1"));
    assert!(metrics.contains("candor_swept_mailboxes_total 1"));
}

#[tokio::test]
async fn writing_postpones_expiry() {
    let app = spawn_app_with(|s| s.retention_jitter_hours = 0).await;
    let office = app.register("ombuds", 1).await;
    let case = app.open_case(&office).await;
    app.clock.advance(20 * 3600);
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "still talking"),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.clock.advance(10 * 3600);

    let swept = sweeper::sweep_once(&app.state).await.unwrap();

    assert_eq!(swept.mailboxes, 0);
    assert!(
        app.state
            .store
            .mailbox(&case.keys.mailbox)
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_sweep_works_through_many_batches() {
    let app = spawn_app_with(|s| {
        s.retention_jitter_hours = 0;
        s.sweep_batch = 2;
    })
    .await;
    let office = app.register("ombuds", 1).await;
    let mut cases = Vec::new();
    for _ in 0..5 {
        cases.push(app.open_case(&office).await);
    }
    app.clock.advance(3 * 86_400);

    let swept = sweeper::sweep_once(&app.state).await.unwrap();

    assert_eq!(swept.mailboxes, 5);
    for case in &cases {
        assert_eq!(app.state.store.mailbox(&case.keys.mailbox).unwrap(), None);
    }
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.mailboxes, 0);
}
