//! The office's batches: the envelopes of many of its cases after a cursor each, in a page
//! bounded by bytes, and many cases' read markers in one durable write; another office's case
//! and an unknown one are left out alike, and a batch is refused when malformed, of another
//! version, or signed by any key but the office's.

use candor_protocol::api::batch::{
    BatchFetch, BatchMarkers, BatchPage, CaseCursor, CaseMarker, MarkersSet,
};
use candor_protocol::{MailboxId, Signer, SigningSecretKey};

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, spawn_app, spawn_app_with};
use crate::openapi::{json_keys, property_names};

async fn fetch(
    app: &TestApp,
    office: &TestOffice,
    key: &SigningSecretKey,
    signer: Signer,
    body: &serde_json::Value,
) -> reqwest::Response {
    let path = format!("/v1/offices/{}/envelopes", office.id());
    let body = serde_json::to_vec(body).unwrap();
    app.signed(key, signer, "POST", &path, Some(&body)).await
}

fn cursors(cases: &[(MailboxId, u64)]) -> serde_json::Value {
    serde_json::to_value(BatchFetch {
        v: 1,
        cases: cases
            .iter()
            .map(|&(mailbox, after)| CaseCursor { mailbox, after })
            .collect(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_batch_gives_each_of_the_offices_cases_after_its_cursor_and_leaves_out_the_rest() {
    // Arrange: two cases of one office, the first with a second envelope; one of another.
    let app = spawn_app().await;
    let office = app.register("batch", 90).await;
    let other = app.register("other", 90).await;
    let (a, b) = (app.open_case(&office).await, app.open_case(&office).await);
    let theirs = app.open_case(&other).await;
    let more = a.envelope(&office, "more");
    let res = app
        .append(&a.keys.signing, Signer::Case, &a.mailbox(), &more)
        .await;
    assert_eq!(res.status(), 201);
    let unknown = MailboxId::random(&mut rand::rng());

    // Act
    let asked = cursors(&[
        (a.keys.mailbox, 0),
        (theirs.keys.mailbox, 0),
        (b.keys.mailbox, 1),
        (unknown, 0),
    ]);
    let res = fetch(&app, &office, office.key(), Signer::Office, &asked).await;

    // Assert: the office's two, in order, each after its cursor; nothing of the others.
    assert_eq!(res.status(), 200);
    let page: BatchPage = res.json().await.unwrap();
    assert_eq!(page.done, 4);
    let got: Vec<_> = page
        .cases
        .iter()
        .map(|c| (c.mailbox, c.envelopes.len(), c.next, c.closed))
        .collect();
    assert_eq!(
        got,
        vec![(a.keys.mailbox, 2, 2, false), (b.keys.mailbox, 0, 1, false)]
    );
    assert_eq!(page.cases[0].envelopes[0].envelope, a.first);
    assert_eq!(page.cases[0].envelopes[1].envelope, more);
}

#[tokio::test]
async fn a_page_out_of_budget_says_how_far_it_reached_and_the_rest_follows() {
    // Arrange: a page budget smaller than two first envelopes.
    let app = spawn_app_with(|s| s.fetch_page_bytes = 1024).await;
    let office = app.register("budget", 90).await;
    let mut cases = Vec::new();
    for _ in 0..3 {
        cases.push(app.open_case(&office).await);
    }
    let all: Vec<_> = cases.iter().map(|c| (c.keys.mailbox, 0)).collect();

    // Act: ask for all three, then for what was not reached, until every one is.
    let mut got = Vec::new();
    let mut left = all.clone();
    let mut requests = 0;
    while !left.is_empty() && requests < 10 {
        requests += 1;
        let res = fetch(&app, &office, office.key(), Signer::Office, &cursors(&left)).await;
        assert_eq!(res.status(), 200);
        let page: BatchPage = res.json().await.unwrap();
        assert!(page.done >= 1 && page.done <= left.len(), "{}", page.done);
        got.extend(page.cases.iter().map(|c| (c.mailbox, c.envelopes.len())));
        left.drain(..page.done);
    }

    // Assert: more than one request, and each case once with its envelope.
    assert!(requests > 1, "the budget did not bound the page");
    let expected: Vec<_> = all.iter().map(|&(m, _)| (m, 1)).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn markers_are_set_on_the_offices_cases_only_and_move_nothing() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("markers", 90).await;
    let other = app.register("elsewhere", 90).await;
    let mine = app.open_case(&office).await;
    let theirs = app.open_case(&other).await;
    let before = app.inbox(&office, "").await;
    let body = serde_json::to_vec(&BatchMarkers {
        v: 1,
        markers: [
            mine.keys.mailbox,
            theirs.keys.mailbox,
            MailboxId::random(&mut rand::rng()),
        ]
        .into_iter()
        .map(|mailbox| CaseMarker {
            mailbox,
            sealed: vec![7; 232],
        })
        .collect(),
    })
    .unwrap();
    let path = format!("/v1/offices/{}/markers", office.id());

    // Act
    let res = app
        .signed(office.key(), Signer::Office, "PUT", &path, Some(&body))
        .await;

    // Assert: only the office's own case was set; its place in the inbox did not move.
    assert_eq!(res.status(), 200);
    let set: MarkersSet = res.json().await.unwrap();
    assert_eq!(set.set, vec![mine.keys.mailbox]);
    let after = app.inbox(&office, "").await;
    assert_eq!(after.next, before.next);
    assert_eq!(after.mailboxes[0].activity, before.mailboxes[0].activity);
    assert_eq!(
        after.mailboxes[0].marker.as_deref(),
        Some([7u8; 232].as_slice())
    );
    let record = app
        .state
        .store
        .mailbox(&theirs.keys.mailbox)
        .unwrap()
        .unwrap();
    assert_eq!(record.marker, None);
}

#[tokio::test]
async fn a_malformed_batch_or_another_key_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("refusing", 90).await;
    let case: TestCase = app.open_case(&office).await;
    let one = cursors(&[(case.keys.mailbox, 0)]);
    let twice = cursors(&[(case.keys.mailbox, 0), (case.keys.mailbox, 1)]);
    let many: Vec<_> = (0..101)
        .map(|_| (MailboxId::random(&mut rand::rng()), 0))
        .collect();
    let mut v2 = one.clone();
    v2["v"] = 2.into();

    // Act and assert
    let beyond = cursors(&[(case.keys.mailbox, u64::MAX)]);
    for body in [cursors(&[]), cursors(&many), twice, beyond] {
        let res = fetch(&app, &office, office.key(), Signer::Office, &body).await;
        assert_problem(res, 400, "malformed").await;
    }
    let res = fetch(&app, &office, office.key(), Signer::Office, &v2).await;
    assert_problem(res, 400, "unsupported-version").await;
    // The case's key, and another office's, get the answer an unknown office gets.
    let res = fetch(&app, &office, &case.keys.signing, Signer::Case, &one).await;
    assert_problem(res, 404, "not-found").await;
    let stranger = TestOffice::new("stranger", 90);
    let res = fetch(&app, &office, stranger.key(), Signer::Office, &one).await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn the_batch_bodies_match_their_schemas() {
    // Arrange: each body as the relay and the client write it.
    let app = spawn_app().await;
    let office = app.register("schemas", 90).await;
    let case = app.open_case(&office).await;
    let asked = cursors(&[(case.keys.mailbox, 0)]);
    let res = fetch(&app, &office, office.key(), Signer::Office, &asked).await;
    let page: serde_json::Value = res.json().await.unwrap();
    let markers = serde_json::to_value(BatchMarkers {
        v: 1,
        markers: vec![CaseMarker {
            mailbox: case.keys.mailbox,
            sealed: vec![1; 232],
        }],
    })
    .unwrap();
    let set = serde_json::to_value(MarkersSet { set: vec![] }).unwrap();

    // Act
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();

    // Assert
    for (name, body) in [
        ("BatchFetch", &asked),
        ("CaseCursor", &asked["cases"][0]),
        ("BatchPage", &page),
        ("CasePage", &page["cases"][0]),
        ("BatchMarkers", &markers),
        ("CaseMarker", &markers["markers"][0]),
        ("MarkersSet", &set),
    ] {
        assert_eq!(property_names(&doc, name), json_keys(body), "{name}");
    }
}
