//! Replaying a captured signed request, inside the window and outside it, and moving its
//! signature to another path or body.

use candor_protocol::{RequestAuth, Signer};

use crate::{assert_problem, relay_with_office};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_request_cannot_be_replayed_inside_or_outside_the_window() {
    // Arrange: a case with one envelope, and an append an eavesdropper captured.
    let (_relay, api, office) = relay_with_office(&[], "replay").await;
    let case = api.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let envelope = case.envelope(&office, "captured");
    let captured = api.sign(&case.keys.signing, Signer::Case, "POST", &path, &envelope);
    let first = api.send("POST", &path, &envelope, &captured).await.unwrap();
    assert_eq!(
        first.status,
        201,
        "{:?}",
        String::from_utf8_lossy(&first.body)
    );

    // Act + Assert: inside the window, the same request again is a replay.
    let again = api.send("POST", &path, &envelope, &captured).await.unwrap();
    assert_problem(&again, 401, "replayed-request");
    // A read, too.
    let read = api.sign(&case.keys.signing, Signer::Case, "GET", &path, b"");
    assert_eq!(
        api.send("GET", &path, b"", &read).await.unwrap().status,
        200
    );
    assert_problem(
        &api.send("GET", &path, b"", &read).await.unwrap(),
        401,
        "replayed-request",
    );

    // Outside the window, in the past or the future: stale.
    for offset in [-3_600_i64, -400, 400, 3_600] {
        let when = api.now().saturating_add_signed(offset);
        let auth = RequestAuth::sign(
            &case.keys.signing,
            Signer::Case,
            "POST",
            &path,
            &envelope,
            when,
            &mut candor_protocol::rand::rng(),
        );
        let answer = api.send("POST", &path, &envelope, &auth).await.unwrap();
        assert_problem(&answer, 401, "stale-request");
    }

    // The captured signature on another body or another mailbox's path verifies nowhere.
    let other_body = case.envelope(&office, "substituted");
    let answer = api
        .send("POST", &path, &other_body, &captured)
        .await
        .unwrap();
    assert_problem(&answer, 404, "not-found");
    let elsewhere = api.open_case(&office).await;
    let other_path = format!("/v1/mailboxes/{}/envelopes", elsewhere.mailbox());
    let answer = api
        .send("POST", &other_path, &envelope, &captured)
        .await
        .unwrap();
    assert_problem(&answer, 404, "not-found");

    // Nothing the attacker sent was stored: each mailbox holds its first envelope, and the
    // captured one only the one genuine append.
    let stored = api.envelopes(&case).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(api.envelopes(&elsewhere).await.unwrap().len(), 1);
}
