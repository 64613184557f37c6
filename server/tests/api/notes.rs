//! The ombuds' notes on a case: the office stores and lists them; to the case key, as to any
//! other, the mailbox answers as unknown; they are not envelopes, count against their own
//! quota, move neither the case's expiry nor its inbox place, and go with the case.

use candor_protocol::Signer;
use candor_protocol::api::EnvelopePage;
use candor_protocol::api::notes::{NotePage, NoteStored, PutNote};

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, spawn_app, spawn_app_with};

fn notes_path(case: &TestCase) -> String {
    format!("/v1/mailboxes/{}/notes", case.mailbox())
}

fn note_body(sealed: Vec<u8>) -> Vec<u8> {
    serde_json::to_vec(&PutNote { v: 1, sealed }).unwrap()
}

async fn put_note(
    app: &TestApp,
    key: &candor_protocol::SigningSecretKey,
    signer: Signer,
    case: &TestCase,
    sealed: Vec<u8>,
) -> reqwest::Response {
    let body = note_body(sealed);
    app.signed(key, signer, "POST", &notes_path(case), Some(&body))
        .await
}

async fn notes(app: &TestApp, office: &TestOffice, case: &TestCase, query: &str) -> NotePage {
    let path = format!("{}{query}", notes_path(case));
    let res = app
        .signed(office.key(), Signer::Office, "GET", &path, None)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_office_stores_notes_and_reads_them_back_in_order() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;

    // Act
    let mut numbers = Vec::new();
    for fill in [1u8, 2, 3] {
        let res = put_note(&app, office.key(), Signer::Office, &case, vec![fill; 600]).await;
        assert_eq!(res.status(), 201);
        numbers.push(res.json::<NoteStored>().await.unwrap().note);
    }
    let all = notes(&app, &office, &case, "").await;
    let after_first = notes(&app, &office, &case, "?after=1&limit=1").await;

    // Assert
    assert_eq!(numbers, [1, 2, 3]);
    let got: Vec<(u64, u8)> = all.notes.iter().map(|n| (n.note, n.sealed[0])).collect();
    assert_eq!(got, [(1, 1), (2, 2), (3, 3)]);
    assert_eq!(all.next, 3);
    assert_eq!(after_first.notes.len(), 1);
    assert_eq!(after_first.notes[0].note, 2);
    assert_eq!(after_first.next, 2);
}

#[tokio::test]
async fn the_case_key_and_an_unknown_mailbox_get_the_same_not_found() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let unknown = TestCase::new(&office);
    assert_eq!(
        put_note(&app, office.key(), Signer::Office, &case, vec![1; 600])
            .await
            .status(),
        201
    );

    // Act
    let by_case = put_note(&app, &case.keys.signing, Signer::Case, &case, vec![1; 600]).await;
    let list_by_case = app
        .signed(
            &case.keys.signing,
            Signer::Case,
            "GET",
            &notes_path(&case),
            None,
        )
        .await;
    let to_unknown = put_note(&app, office.key(), Signer::Office, &unknown, vec![1; 600]).await;
    let list_unknown = app
        .signed(
            office.key(),
            Signer::Office,
            "GET",
            &notes_path(&unknown),
            None,
        )
        .await;

    // Assert
    for res in [by_case, list_by_case, to_unknown, list_unknown] {
        assert_problem(res, 404, "not-found").await;
    }
}

#[tokio::test]
async fn notes_are_not_envelopes_and_move_neither_expiry_nor_inbox() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 30).await;
    let first = app.open_case(&office).await;
    let second = app.open_case(&office).await;
    let id = first.keys.mailbox;
    let before = app.state.store.mailbox(&id).unwrap().unwrap();
    let inbox_before = app.inbox(&office, "").await;

    // Act
    app.clock.advance(3 * 86_400);
    let res = put_note(&app, office.key(), Signer::Office, &first, vec![9; 600]).await;
    assert_eq!(res.status(), 201);

    // Assert
    let after = app.state.store.mailbox(&id).unwrap().unwrap();
    assert_eq!(after.expiry, before.expiry);
    let inbox_after = app.inbox(&office, "").await;
    assert_eq!(inbox_after, inbox_before);
    assert_eq!(inbox_after.mailboxes.len(), 2);
    assert_eq!(inbox_after.mailboxes[1].mailbox, second.keys.mailbox);
    let res = app
        .list(&first.keys.signing, Signer::Case, &first.mailbox(), "")
        .await;
    let page: EnvelopePage = res.json().await.unwrap();
    assert_eq!(page.envelopes.len(), 1, "only the case's first envelope");
}

#[tokio::test]
async fn a_case_holds_at_most_its_quota_of_notes_each_at_most_an_envelopes_size() {
    // Arrange
    let app = spawn_app_with(|s| s.max_notes_per_mailbox = 2).await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let max = app.state.settings.max_envelope_bytes;

    // Act
    let too_large = put_note(&app, office.key(), Signer::Office, &case, vec![1; max + 1]).await;
    let empty = put_note(&app, office.key(), Signer::Office, &case, vec![]).await;
    let largest = put_note(
        &app,
        office.key(),
        Signer::Office,
        &case,
        vec![1; max - 200],
    )
    .await;
    let second = put_note(&app, office.key(), Signer::Office, &case, vec![2; 600]).await;
    let third = put_note(&app, office.key(), Signer::Office, &case, vec![3; 600]).await;

    // Assert
    assert_problem(too_large, 413, "too-large").await;
    assert_problem(empty, 400, "malformed").await;
    assert_eq!(largest.status(), 201);
    assert_eq!(second.status(), 201);
    assert_problem(third, 429, "quota-exceeded").await;
}

#[tokio::test]
async fn deleting_the_case_deletes_its_notes() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let res = put_note(&app, office.key(), Signer::Office, &case, vec![4; 600]).await;
    assert_eq!(res.status(), 201);

    // Act
    let res = app
        .delete(&case.keys.signing, Signer::Case, &case.mailbox())
        .await;
    assert_eq!(res.status(), 204);

    // Assert
    let res = app
        .signed(
            office.key(),
            Signer::Office,
            "GET",
            &notes_path(&case),
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    let left = app.state.store.notes(&case.keys.mailbox, 0, 10).unwrap();
    assert!(left.is_empty());
}
