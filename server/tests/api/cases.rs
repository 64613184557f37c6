//! What the office does to a case besides replying: close it, with a last message the visitor
//! still reads, after which nobody writes and the case is swept at the end of its grace
//! period; and keep its sealed read marker, which moves nothing in the inbox.

use candor_protocol::api::{CloseMailbox, Closed, EnvelopePage, Marker};
use candor_protocol::seal::Opener;
use candor_protocol::{Envelope, Message, Signer, SigningSecretKey, marker};
use candor_server::routes::cases::DEFAULT_CLOSE_GRACE_DAYS;
use candor_server::sweeper;

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, spawn_app, spawn_app_with};

/// `POST /v1/mailboxes/{mailbox}/close` with `last`, signed by `key` as `signer`.
async fn close(
    app: &TestApp,
    key: &SigningSecretKey,
    signer: Signer,
    case: &TestCase,
    last: Option<Envelope>,
) -> reqwest::Response {
    let path = format!("/v1/mailboxes/{}/close", case.mailbox());
    let body = serde_json::to_vec(&CloseMailbox {
        v: 2,
        envelope: last,
        tally: None,
    })
    .unwrap();
    app.signed(key, signer, "POST", &path, Some(&body)).await
}

/// `PUT /v1/mailboxes/{mailbox}/marker` with `sealed`, signed by `key` as `signer`.
async fn set_marker(
    app: &TestApp,
    key: &SigningSecretKey,
    signer: Signer,
    case: &TestCase,
    sealed: Vec<u8>,
) -> reqwest::Response {
    let path = format!("/v1/mailboxes/{}/marker", case.mailbox());
    let body = serde_json::to_vec(&Marker { sealed }).unwrap();
    app.signed(key, signer, "PUT", &path, Some(&body)).await
}

/// The case's envelopes as the visitor reads them.
async fn visitor_page(app: &TestApp, case: &TestCase) -> EnvelopePage {
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_office_closes_with_a_last_message_the_visitor_then_reads() {
    // Arrange: a case with a note after its first envelope.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let note = case.envelope(&office, "one more detail");
    let res = app
        .append(&case.keys.signing, Signer::Case, &case.mailbox(), &note)
        .await;
    assert_eq!(res.status(), 201);
    let last = case.reply(&office, "We have done what we can; this case is closed.");

    // Act
    let res = close(
        &app,
        office.key(),
        Signer::Office,
        &case,
        Some(last.clone()),
    )
    .await;

    // Assert: the last message is numbered after the note; the visitor reads all three,
    // opens the last one, and sees the case closed, as the office's inbox does.
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Closed>().await.unwrap(), Closed { seq: Some(3) });
    let page = visitor_page(&app, &case).await;
    let seen: Vec<(u64, &Envelope)> = page
        .envelopes
        .iter()
        .map(|e| (e.seq, &e.envelope))
        .collect();
    assert_eq!(seen, [(1, &case.first), (2, &note), (3, &last)]);
    assert!(page.closed);
    let opener = Opener::visitor(
        &case.keys,
        office.identity.kem().public_key(),
        office.identity.signing().public_key(),
        last.direction,
    )
    .unwrap();
    let read = Message::open(&opener, &page.envelopes[2].envelope).unwrap();
    assert_eq!(read.text, "We have done what we can; this case is closed.");
    let inbox = app.inbox(&office, "").await;
    assert_eq!(
        (inbox.mailboxes[0].closed, inbox.mailboxes[0].last_seq),
        (true, 3)
    );
}

#[tokio::test]
async fn after_closing_nobody_appends_and_the_case_cannot_close_again() {
    // Arrange: a case closed without a last message.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let res = close(&app, office.key(), Signer::Office, &case, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Closed>().await.unwrap(), Closed { seq: None });

    // Act
    let visitor = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "are you still there?"),
        )
        .await;
    let office_reply = app
        .append(
            office.key(),
            Signer::Office,
            &case.mailbox(),
            &case.reply(&office, "one more thing"),
        )
        .await;
    let again = close(
        &app,
        office.key(),
        Signer::Office,
        &case,
        Some(case.reply(&office, "closing again")),
    )
    .await;

    // Assert: each a conflict; the case holds its first envelope only.
    assert_problem(visitor, 409, "conflict").await;
    assert_problem(office_reply, 409, "conflict").await;
    assert_problem(again, 409, "conflict").await;
    let page = visitor_page(&app, &case).await;
    assert_eq!(page.envelopes.len(), 1);
    assert_eq!(page.envelopes[0].envelope, case.first);
    assert!(page.closed);
}

#[tokio::test]
async fn only_the_office_closes_a_case() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let stranger = TestOffice::new("stranger", 90);

    // Act: the visitor's own key, and another office's key claiming to be the office.
    let by_visitor = close(&app, &case.keys.signing, Signer::Case, &case, None).await;
    let by_stranger = close(&app, stranger.key(), Signer::Office, &case, None).await;

    // Assert: refused; the case is open and takes the visitor's messages.
    assert_problem(by_visitor, 401, "signature-required").await;
    assert_problem(by_stranger, 404, "not-found").await;
    assert!(!visitor_page(&app, &case).await.closed);
    let rec = app
        .state
        .store
        .mailbox(&case.keys.mailbox)
        .unwrap()
        .unwrap();
    assert!(!rec.closed);
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "still open"),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_last_message_must_be_the_office_s_to_this_case() {
    // Arrange: a visitor's envelope, and a reply of another case.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let other = TestCase::new(&office);

    // Act
    let to_office = close(
        &app,
        office.key(),
        Signer::Office,
        &case,
        Some(case.envelope(&office, "as if from the visitor")),
    )
    .await;
    let misfiled = close(
        &app,
        office.key(),
        Signer::Office,
        &case,
        Some(other.reply(&office, "for someone else")),
    )
    .await;

    // Assert: refused; the case is still open.
    assert_problem(to_office, 400, "malformed").await;
    assert_problem(misfiled, 400, "malformed").await;
    assert!(!visitor_page(&app, &case).await.closed);
}

#[tokio::test]
async fn a_closed_case_is_swept_at_the_end_of_its_grace_period() {
    // Arrange: a case at an office that keeps cases 90 days, closed; no jitter, so that the
    // grace period's expiry is exactly known.
    let app = spawn_app_with(|s| s.retention_jitter_hours = 0).await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let kept = app.open_case(&office).await;
    let res = close(
        &app,
        office.key(),
        Signer::Office,
        &case,
        Some(case.reply(&office, "closed")),
    )
    .await;
    assert_eq!(res.status(), 200);
    let grace_ends =
        (app.now() + u64::from(DEFAULT_CLOSE_GRACE_DAYS) * 86_400).div_ceil(3600) * 3600;
    let expiry = app
        .state
        .store
        .mailbox(&case.keys.mailbox)
        .unwrap()
        .unwrap()
        .expiry;

    // Act: a sweep just before the grace period ends, and one when it does.
    app.clock.advance(grace_ends - 1 - app.now());
    let before = sweeper::sweep_once(&app.state).await.unwrap();
    let readable = visitor_page(&app, &case).await;
    app.clock.advance(1);
    let at = sweeper::sweep_once(&app.state).await.unwrap();

    // Assert: readable until then, gone from every tree after; the open case stays.
    assert_eq!(DEFAULT_CLOSE_GRACE_DAYS, 14);
    assert_eq!(expiry, grace_ends);
    assert_eq!((before.mailboxes, at.mailboxes), (0, 1));
    assert!(readable.closed);
    assert_eq!(readable.envelopes.len(), 2);
    let store = &app.state.store;
    assert_eq!(store.mailbox(&case.keys.mailbox).unwrap(), None);
    assert!(
        store
            .envelopes(&case.keys.mailbox, 0, 500)
            .unwrap()
            .is_empty()
    );
    let inbox = store.inbox(&office.id(), 0, 500).unwrap();
    let listed: Vec<_> = inbox.iter().map(|e| e.mailbox).collect();
    assert_eq!(listed, [kept.keys.mailbox]);
    let report = store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.mailboxes, report.envelopes), (1, 1));
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn the_office_s_marker_appears_in_its_inbox_and_moves_nothing() {
    // Arrange: two cases, listed by the office.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let (first, second) = (app.open_case(&office).await, app.open_case(&office).await);
    let listed = app.inbox(&office, "").await;
    let expiry = app
        .state
        .store
        .mailbox(&first.keys.mailbox)
        .unwrap()
        .unwrap()
        .expiry;
    let read = marker::ReadMarker {
        read_up_to: 1,
        digest: None,
    };
    let sealed = marker::MarkerKey::new(&office.identity)
        .seal(&first.keys.mailbox, &read, &mut rand::rng())
        .unwrap();

    // Act
    let res = set_marker(&app, office.key(), Signer::Office, &first, sealed.clone()).await;

    // Assert: set; the entry carries it, in its place and at its activity; nothing is past
    // the office's cursor; the office opens it; the expiry stayed.
    assert_eq!(res.status(), 204);
    let inbox = app.inbox(&office, "").await;
    let order: Vec<_> = inbox
        .mailboxes
        .iter()
        .map(|e| (e.mailbox, e.activity))
        .collect();
    let before: Vec<_> = listed
        .mailboxes
        .iter()
        .map(|e| (e.mailbox, e.activity))
        .collect();
    assert_eq!(order, before);
    assert_eq!(order[0].0, first.keys.mailbox);
    assert_eq!(order[1].0, second.keys.mailbox);
    assert_eq!(
        inbox.mailboxes[0].marker.as_deref(),
        Some(sealed.as_slice())
    );
    assert_eq!(inbox.mailboxes[1].marker, None);
    let read = inbox.mailboxes[0].marker.as_deref().unwrap();
    assert_eq!(
        marker::MarkerKey::new(&office.identity)
            .open(&first.keys.mailbox, read)
            .map(|m| m.read_up_to),
        Ok(1)
    );
    let later = app.inbox(&office, &format!("?after={}", listed.next)).await;
    assert!(later.mailboxes.is_empty(), "{:?}", later.mailboxes);
    let rec = app
        .state
        .store
        .mailbox(&first.keys.mailbox)
        .unwrap()
        .unwrap();
    assert_eq!(rec.expiry, expiry);
}

#[tokio::test]
async fn only_the_office_sets_a_marker_of_1_to_256_bytes() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;

    // Act
    let by_visitor = set_marker(&app, &case.keys.signing, Signer::Case, &case, vec![1; 56]).await;
    let empty = set_marker(&app, office.key(), Signer::Office, &case, Vec::new()).await;
    let oversize = set_marker(&app, office.key(), Signer::Office, &case, vec![1; 257]).await;
    let largest = set_marker(&app, office.key(), Signer::Office, &case, vec![2; 256]).await;

    // Assert: only the office's marker within bounds is kept.
    assert_problem(by_visitor, 401, "signature-required").await;
    assert_problem(empty, 400, "malformed").await;
    assert_problem(oversize, 400, "malformed").await;
    assert_eq!(largest.status(), 204);
    let rec = app
        .state
        .store
        .mailbox(&case.keys.mailbox)
        .unwrap()
        .unwrap();
    assert_eq!(rec.marker, Some(vec![2; 256]));
}
