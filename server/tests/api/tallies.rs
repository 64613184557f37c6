//! Tallies: written only in the signed request that closes a case, listed by the office a
//! page at a time, kept when the case is deleted or swept, and to anyone else answered as if
//! the office had none to show.

use candor_protocol::api::{CloseMailbox, TallyPage};
use candor_protocol::tally::SEALED_TALLY_LEN;
use candor_protocol::{Quarter, RecordsKey, Signer, SigningSecretKey, Tally};

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, spawn_app};

/// A tally sealed under `key` for `office`.
fn sealed(key: &RecordsKey, office: &TestOffice, outcome: &str) -> Vec<u8> {
    Tally::new(
        vec!["conduct".parse().unwrap()],
        Quarter::new(2026, 4).unwrap(),
        None,
        outcome.parse().unwrap(),
    )
    .unwrap()
    .seal(key, &office.id(), &mut rand::rng())
    .unwrap()
}

/// Closes `case` with `tally`, signed by the office.
async fn close(
    app: &TestApp,
    office: &TestOffice,
    case: &TestCase,
    tally: Option<Vec<u8>>,
) -> reqwest::Response {
    let path = format!("/v1/mailboxes/{}/close", case.mailbox());
    let body = serde_json::to_vec(&CloseMailbox {
        v: 2,
        envelope: None,
        tally,
    })
    .unwrap();
    app.signed(office.key(), Signer::Office, "POST", &path, Some(&body))
        .await
}

/// `GET /v1/offices/{office}/tallies{query}` signed by `key` as `signer`.
async fn list(
    app: &TestApp,
    office: &TestOffice,
    key: &SigningSecretKey,
    signer: Signer,
    query: &str,
) -> reqwest::Response {
    let path = format!("/v1/offices/{}/tallies{query}", office.id());
    app.signed(key, signer, "GET", &path, None).await
}

#[tokio::test]
async fn a_tally_sent_with_the_closing_outlives_the_case() {
    // Arrange: a case, and the office's records key.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let key = RecordsKey::generate(&mut rand::rng());
    let tally = sealed(&key, &office, "resolved");

    // Act: closed with the tally, then deleted at once.
    let closed = close(&app, &office, &case, Some(tally.clone())).await;
    let deleted = app
        .delete(office.key(), Signer::Office, &case.mailbox())
        .await;
    let res = list(&app, &office, office.key(), Signer::Office, "").await;

    // Assert: the tally is listed as sent and opens under the records key.
    assert_eq!(closed.status(), 200);
    assert_eq!(deleted.status(), 204);
    assert_eq!(res.status(), 200);
    let page: TallyPage = res.json().await.unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.tallies.len(), 1);
    assert_eq!(page.tallies[0].sealed, tally);
    let opened = Tally::open(&key, &office.id(), &page.tallies[0].sealed).unwrap();
    assert_eq!(opened.outcome().as_str(), "resolved");
}

#[tokio::test]
async fn tallies_page_in_id_order_until_next_is_null() {
    // Arrange: three cases closed with tallies.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let key = RecordsKey::generate(&mut rand::rng());
    for _ in 0..3 {
        let case = app.open_case(&office).await;
        let res = close(
            &app,
            &office,
            &case,
            Some(sealed(&key, &office, "resolved")),
        )
        .await;
        assert_eq!(res.status(), 200);
    }

    // Act: pages of two.
    let first: TallyPage = list(&app, &office, office.key(), Signer::Office, "?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let after = first.next.unwrap();
    let second: TallyPage = list(
        &app,
        &office,
        office.key(),
        Signer::Office,
        &format!("?limit=2&after={after}"),
    )
    .await
    .json()
    .await
    .unwrap();

    // Assert: two, then one, in ID order, and the second page is the last.
    assert_eq!((first.tallies.len(), second.tallies.len()), (2, 1));
    assert_eq!(second.next, None);
    let ids: Vec<_> = first
        .tallies
        .iter()
        .chain(&second.tallies)
        .map(|t| t.id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[tokio::test]
async fn a_close_of_the_first_version_or_with_a_bad_tally_is_refused_and_closes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/close", case.mailbox());

    // Act
    let v1 = app
        .signed(
            office.key(),
            Signer::Office,
            "POST",
            &path,
            Some(br#"{"v":1,"envelope":null}"#),
        )
        .await;
    let short = close(&app, &office, &case, Some(vec![0; SEALED_TALLY_LEN - 1])).await;

    // Assert: both refused; the case is still open and no tally was stored.
    assert_problem(v1, 400, "unsupported-version").await;
    assert_problem(short, 400, "malformed").await;
    let entry = &app.inbox(&office, "").await.mailboxes[0];
    assert!(!entry.closed);
    let page: TallyPage = list(&app, &office, office.key(), Signer::Office, "")
        .await
        .json()
        .await
        .unwrap();
    assert!(page.tallies.is_empty());
}

#[tokio::test]
async fn only_the_office_key_lists_tallies_and_anyone_else_sees_no_office() {
    // Arrange: an office with a tally, a case of it, and another office.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let stranger = app.register("other-office", 90).await;
    let case = app.open_case(&office).await;
    let key = RecordsKey::generate(&mut rand::rng());
    let res = close(
        &app,
        &office,
        &case,
        Some(sealed(&key, &office, "resolved")),
    )
    .await;
    assert_eq!(res.status(), 200);

    // Act
    let by_stranger = list(&app, &office, stranger.key(), Signer::Office, "").await;
    let by_case = list(&app, &office, &case.keys.signing, Signer::Case, "").await;
    let unknown = app
        .signed(
            office.key(),
            Signer::Office,
            "GET",
            "/v1/offices/no-such-office/tallies",
            None,
        )
        .await;
    let bad_cursor = list(&app, &office, office.key(), Signer::Office, "?after=x").await;

    // Assert: a wrong key and an unknown office answer alike.
    assert_problem(by_stranger, 404, "not-found").await;
    assert_problem(by_case, 404, "not-found").await;
    assert_problem(unknown, 404, "not-found").await;
    assert_problem(bad_cursor, 400, "malformed").await;
}
