//! Opening a case with the wire's version 2: the mailbox ID certifies the case keys, the body
//! carries the case's first to-office envelope, and a refused opening leaves nothing behind
//! and spends nothing.

use candor_protocol::api::{EnvelopePage, OpenMailbox};
use candor_protocol::{MailboxId, Signer};

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, spawn_app, spawn_app_with};

/// The `detail` of a problem answer with `status`.
async fn problem_detail(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let body: serde_json::Value = res.json().await.unwrap();
    body["detail"].as_str().unwrap().to_owned()
}

/// Asserts that the relay holds no mailbox and no envelope at all.
fn assert_nothing_stored(app: &TestApp) {
    let report = app.state.store.check().unwrap();
    assert_eq!((report.mailboxes, report.envelopes), (0, 0));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// The open body of `case`, parsed, for a test to change one field of.
async fn open_body(app: &TestApp, office: &TestOffice, case: &TestCase) -> OpenMailbox {
    serde_json::from_slice(&app.open_body(office, case).await).unwrap()
}

#[tokio::test]
async fn an_opened_case_holds_its_first_envelope_as_sequence_number_one() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;

    // Act
    let case = app.open_case(&office).await;

    // Assert: both parties read it; the office's inbox counts it.
    for (key, signer) in [
        (&case.keys.signing, Signer::Case),
        (office.key(), Signer::Office),
    ] {
        let res = app.list(key, signer, &case.mailbox(), "").await;
        assert_eq!(res.status(), 200);
        let page: EnvelopePage = res.json().await.unwrap();
        assert_eq!(page.envelopes.len(), 1);
        assert_eq!(page.envelopes[0].seq, 1);
        assert_eq!(page.envelopes[0].envelope, case.first);
        assert_eq!((page.next, page.closed), (1, false));
    }
    let inbox = app.inbox(&office, "").await;
    let entry = &inbox.mailboxes[0];
    assert_eq!((entry.envelopes, entry.last_seq), (1, 1));
    assert_eq!((entry.closed, entry.marker.as_deref()), (false, None));
}

#[tokio::test]
async fn a_mailbox_id_that_does_not_certify_the_case_keys_is_refused() {
    // Arrange: a random mailbox ID with the case's keys (its first envelope and proof of
    // work made for that ID), and the case's ID with another case's KEM key.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let good = open_body(&app, &office, &case).await;
    let random = MailboxId::random(&mut rand::rng());
    let mut made_up = good.clone();
    made_up.mailbox = random;
    made_up.envelope.mailbox = random;
    made_up.pow = good.pow.challenge.solve(random.as_bytes());
    let mut swapped = good.clone();
    swapped.kem_key = TestCase::new(&office).keys.kem.public_key().to_bytes();

    // Act
    let mut details = Vec::new();
    for body in [&made_up, &swapped] {
        let res = app
            .open_with(&case, &serde_json::to_vec(body).unwrap())
            .await;
        details.push(problem_detail(res, 400).await);
    }

    // Assert: refused as malformed, for that reason; nothing stored, the proof of work not
    // spent: the honest body still opens the case.
    for detail in &details {
        assert!(detail.contains("hash of the case keys"), "{detail}");
    }
    assert_eq!(app.state.store.mailbox(&random).unwrap(), None);
    assert_nothing_stored(&app);
    let res = app
        .open_with(&case, &serde_json::to_vec(&good).unwrap())
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_first_envelope_of_another_mailbox_or_to_the_visitor_is_refused() {
    // Arrange: the first envelope replaced by another case's, and by an office reply.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let good = open_body(&app, &office, &case).await;
    let mut misfiled = good.clone();
    misfiled.envelope = TestCase::new(&office).first;
    let mut to_visitor = good.clone();
    to_visitor.envelope = case.reply(&office, "as if the office had written first");

    // Act
    let mut details = Vec::new();
    for body in [&misfiled, &to_visitor] {
        let res = app
            .open_with(&case, &serde_json::to_vec(body).unwrap())
            .await;
        details.push(problem_detail(res, 400).await);
    }

    // Assert: each refused for its reason; nothing stored; the proof of work not spent.
    assert!(details[0].contains("mailbox"), "{}", details[0]);
    assert!(details[1].contains("to the office"), "{}", details[1]);
    assert_nothing_stored(&app);
    let res = app
        .open_with(&case, &serde_json::to_vec(&good).unwrap())
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_version_1_open_body_is_an_unsupported_version() {
    // Arrange: the body a version 1 client sends: `v: 1` and no first envelope; and the
    // same with one.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let good: serde_json::Value =
        serde_json::from_slice(&app.open_body(&office, &case).await).unwrap();
    let mut with_envelope = good.clone();
    with_envelope["v"] = 1.into();
    let mut v1 = with_envelope.clone();
    v1.as_object_mut().unwrap().remove("envelope");

    // Act and assert
    for body in [&v1, &with_envelope] {
        let res = app
            .open_with(&case, &serde_json::to_vec(body).unwrap())
            .await;
        assert_problem(res, 400, "unsupported-version").await;
    }
    assert_nothing_stored(&app);
}

#[tokio::test]
async fn an_oversize_first_envelope_is_too_large_and_opens_nothing() {
    // Arrange: a relay whose largest envelope is one byte short of this first envelope
    // (sizes depend only on the message's length, so a probe case measures it).
    let long = "a concern described at length. ".repeat(40);
    let probe_office = TestOffice::new("probe", 90);
    let probe = TestCase::new(&probe_office).envelope(&probe_office, &long);
    let size = probe.to_json().len();
    let app = spawn_app_with(|s| s.max_envelope_bytes = size - 1).await;
    let office = app.register("ombuds", 90).await;
    let mut case = TestCase::new(&office);
    case.first = case.envelope(&office, &long);
    assert_eq!(case.first.to_json().len(), size);
    let body = app.open_body(&office, &case).await;

    // Act
    let res = app.open_with(&case, &body).await;

    // Assert: refused, and the mailbox does not exist, to the store or to its owner.
    assert_problem(res, 413, "too-large").await;
    assert_eq!(app.state.store.mailbox(&case.keys.mailbox).unwrap(), None);
    assert_nothing_stored(&app);
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_problem(res, 404, "not-found").await;
}
