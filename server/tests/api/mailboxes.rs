//! Opening mailboxes with a proof of work; appending, listing and deleting envelopes; who may
//! write what; quotas; and the byte-identical answer for unknown mailboxes and wrong keys.

use candor_protocol::api::{Appended, EnvelopePage, MailboxOpened, OpenMailbox};
use candor_protocol::pow::Challenge;
use candor_protocol::{MailboxId, Message, Signer, SigningSecretKey};

use crate::helpers::{
    TestCase, TestOffice, assert_problem, headers_without_date, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn a_case_opens_writes_reads_and_the_office_replies() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let body = app.open_body(&office, &case).await;

    // Act: open, write, reply, read.
    let res = app.open_with(&case, &body).await;
    assert_eq!(res.status(), 201);
    let opened: MailboxOpened = res.json().await.unwrap();
    assert_eq!(opened.mailbox, case.keys.mailbox);
    let concern = case.envelope(&office, "The lab schedule keeps excluding me.");
    let res = app
        .append(&case.keys.signing, Signer::Case, &case.mailbox(), &concern)
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Appended>().await.unwrap().seq, 2);
    let reply = case.reply(&office, "Thank you; let us talk.");
    let res = app
        .append(office.key(), Signer::Office, &case.mailbox(), &reply)
        .await;
    assert_eq!(res.json::<Appended>().await.unwrap().seq, 3);

    // Assert: both parties read the first envelope and both others, and they open.
    for (key, signer) in [
        (&case.keys.signing, Signer::Case),
        (office.key(), Signer::Office),
    ] {
        let res = app.list(key, signer, &case.mailbox(), "").await;
        assert_eq!(res.status(), 200);
        let page: EnvelopePage = res.json().await.unwrap();
        assert_eq!(page.next, 3);
        let seqs: Vec<u64> = page.envelopes.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(page.envelopes[0].envelope, case.first);
        assert_eq!(page.envelopes[1].envelope, concern);
        assert_eq!(page.envelopes[2].envelope, reply);
        assert!(!page.closed);
    }
    let opener = candor_protocol::seal::Opener::office(
        &office.identity,
        case.keys.kem.public_key(),
        case.keys.signing.public_key(),
        concern.direction,
    )
    .unwrap();
    let opened = Message::open(&opener, &concern).unwrap();
    assert_eq!(opened.text, "The lab schedule keeps excluding me.");
    // Cursor and limit.
    let page: EnvelopePage = app
        .list(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            "?after=1&limit=1",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.envelopes.len(), 1);
    assert_eq!(page.envelopes[0].seq, 2);
    let page: EnvelopePage = app
        .list(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            "?after=3",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(page.envelopes.is_empty());
    assert_eq!(page.next, 3);
}

#[tokio::test]
async fn each_party_writes_only_its_own_direction() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.reply(&office, "forged reply"),
        )
        .await;
    assert_problem(res, 400, "malformed").await;
    let res = app
        .append(
            office.key(),
            Signer::Office,
            &case.mailbox(),
            &case.envelope(&office, "as if from the visitor"),
        )
        .await;
    assert_problem(res, 400, "malformed").await;
}

#[tokio::test]
async fn an_envelope_for_another_mailbox_is_refused() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let other = TestCase::new(&office);
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &other.envelope(&office, "misfiled"),
        )
        .await;
    assert_problem(res, 400, "malformed").await;
}

#[tokio::test]
async fn the_case_or_the_office_deletes_the_mailbox_at_once() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    for signer in [Signer::Case, Signer::Office] {
        let case = app.open_case(&office).await;
        let res = app
            .append(
                &case.keys.signing,
                Signer::Case,
                &case.mailbox(),
                &case.envelope(&office, "hello"),
            )
            .await;
        assert_eq!(res.status(), 201);
        let key = match signer {
            Signer::Case => &case.keys.signing,
            Signer::Office | Signer::ThirdParty => office.key(),
        };
        let res = app.delete(key, signer, &case.mailbox()).await;

        assert_eq!(res.status(), 204);
        assert!(res.bytes().await.unwrap().is_empty());
        // Gone from every tree.
        let id = case.keys.mailbox;
        assert_eq!(app.state.store.mailbox(&id).unwrap(), None);
        assert!(app.state.store.envelopes(&id, 0, 500).unwrap().is_empty());
        let inbox = app.state.store.inbox(&office.id(), 0, 500).unwrap();
        assert!(inbox.iter().all(|m| m.mailbox != id));
        let report = app.state.store.check().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        // And it answers as unknown.
        let res = app.delete(key, signer, &case.mailbox()).await;
        assert_problem(res, 404, "not-found").await;
    }
}

#[tokio::test]
async fn unknown_mailbox_and_wrong_key_answers_are_byte_identical() {
    // Arrange: a real mailbox, another case's key, and a mailbox that does not exist.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let intruder = app.open_case(&office).await;
    let unknown = MailboxId::random(&mut rand::rng()).to_string();
    let stranger = SigningSecretKey::generate(&mut rand::rng());
    let envelope = |mailbox: &str| {
        let mut e = case.envelope(&office, "x");
        e.mailbox = mailbox.parse().unwrap();
        e.to_json()
    };

    for (method, suffix) in [
        ("GET", "/envelopes"),
        ("POST", "/envelopes"),
        ("DELETE", ""),
    ] {
        let mut answers = Vec::new();
        for (mailbox, key, signer) in [
            (case.mailbox(), &intruder.keys.signing, Signer::Case),
            (case.mailbox(), &stranger, Signer::Case),
            (case.mailbox(), &intruder.keys.signing, Signer::Office),
            (unknown.clone(), &intruder.keys.signing, Signer::Case),
            (unknown.clone(), &stranger, Signer::Office),
        ] {
            let path = format!("/v1/mailboxes/{mailbox}{suffix}");
            let body = (method == "POST").then(|| envelope(&mailbox));
            // Act
            let res = app
                .signed(key, signer, method, &path, body.as_deref())
                .await;
            answers.push((
                res.status(),
                headers_without_date(res.headers()),
                res.bytes().await.unwrap(),
            ));
        }
        // Assert
        assert_eq!(answers[0].0, 404, "{method}");
        for other in &answers[1..] {
            assert_eq!(&answers[0], other, "{method}");
        }
    }
    // The real owner still gets in.
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn opening_needs_a_fresh_valid_proof_of_work() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;

    // Missing.
    let case = TestCase::new(&office);
    let raw = app.open_body(&office, &case).await;
    let body: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("pow");
    let res = app
        .open_with(&case, &serde_json::to_vec(&missing).unwrap())
        .await;
    assert_problem(res, 403, "pow-invalid").await;

    // Wrong nonce.
    let mut open: OpenMailbox = serde_json::from_slice(&raw).unwrap();
    let good_nonce = open.pow.nonce;
    open.pow.nonce = (0..u64::MAX)
        .find(|n| {
            let mut s = open.pow.clone();
            s.nonce = *n;
            s.verify(
                &app.state.pow_key,
                case.keys.mailbox.as_bytes(),
                app.now(),
                8,
            )
            .is_err()
        })
        .unwrap();
    let res = app
        .open_with(&case, &serde_json::to_vec(&open).unwrap())
        .await;
    assert_problem(res, 403, "pow-invalid").await;

    // Forged: lowered difficulty breaks the MAC.
    let mut forged = open.clone();
    forged.pow.challenge.difficulty = 1;
    forged.pow = forged.pow.challenge.solve(case.keys.mailbox.as_bytes());
    let res = app
        .open_with(&case, &serde_json::to_vec(&forged).unwrap())
        .await;
    assert_problem(res, 403, "pow-invalid").await;

    // Too easy: a genuine challenge at a difficulty below the relay's minimum.
    let easy = Challenge::issue(&app.state.pow_key, 2, app.now(), 600, &mut rand::rng());
    let mut too_easy = open.clone();
    too_easy.pow = easy.solve(case.keys.mailbox.as_bytes());
    let res = app
        .open_with(&case, &serde_json::to_vec(&too_easy).unwrap())
        .await;
    assert_problem(res, 403, "pow-invalid").await;

    // Expired.
    let old = Challenge::issue(
        &app.state.pow_key,
        8,
        app.now() - 700,
        600,
        &mut rand::rng(),
    );
    let mut expired = open.clone();
    expired.pow = old.solve(case.keys.mailbox.as_bytes());
    let res = app
        .open_with(&case, &serde_json::to_vec(&expired).unwrap())
        .await;
    assert_problem(res, 403, "pow-invalid").await;

    // A solution for another mailbox does not transfer.
    let other = TestCase::new(&office);
    let mut moved: OpenMailbox =
        serde_json::from_slice(&app.open_body(&office, &other).await).unwrap();
    moved.pow.nonce = good_nonce;
    moved.pow.challenge = open.pow.challenge.clone();
    let verifies_for_other = moved
        .pow
        .verify(
            &app.state.pow_key,
            other.keys.mailbox.as_bytes(),
            app.now(),
            8,
        )
        .is_ok();
    if !verifies_for_other {
        let res = app
            .open_with(&other, &serde_json::to_vec(&moved).unwrap())
            .await;
        assert_problem(res, 403, "pow-invalid").await;
    }

    // The good one works once; reused for another mailbox it is refused.
    open.pow.nonce = good_nonce;
    let res = app
        .open_with(&case, &serde_json::to_vec(&open).unwrap())
        .await;
    assert_eq!(res.status(), 201);
    let third = TestCase::new(&office);
    let mut reuse: OpenMailbox =
        serde_json::from_slice(&app.open_body(&office, &third).await).unwrap();
    reuse.pow = open.pow.challenge.solve(third.keys.mailbox.as_bytes());
    let res = app
        .open_with(&third, &serde_json::to_vec(&reuse).unwrap())
        .await;
    assert_problem(res, 403, "pow-used").await;
}

#[tokio::test]
async fn opening_twice_or_at_an_unknown_office_fails() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let again = app.open_body(&office, &case).await;
    assert_problem(app.open_with(&case, &again).await, 409, "conflict").await;

    let nowhere = TestOffice::new("nowhere", 90);
    let lost = TestCase::new(&nowhere);
    let body = app.open_body(&nowhere, &lost).await;
    assert_problem(app.open_with(&lost, &body).await, 404, "not-found").await;
}

#[tokio::test]
async fn opening_must_be_signed_by_the_key_being_registered() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let body = app.open_body(&office, &case).await;
    let other = SigningSecretKey::generate(&mut rand::rng());
    let res = app
        .signed(&other, Signer::Case, "POST", "/v1/mailboxes", Some(&body))
        .await;
    assert_problem(res, 401, "signature-required").await;
    let res = app
        .signed(
            &case.keys.signing,
            Signer::Office,
            "POST",
            "/v1/mailboxes",
            Some(&body),
        )
        .await;
    assert_problem(res, 401, "signature-required").await;
}

#[tokio::test]
async fn quotas_are_enforced_per_mailbox_and_per_office() {
    // A mailbox holds its first envelope and two more.
    let app = spawn_app_with(|s| {
        s.max_envelopes_per_mailbox = 3;
        s.max_mailboxes_per_office = 2;
    })
    .await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    for _ in 0..2 {
        let res = app
            .append(
                &case.keys.signing,
                Signer::Case,
                &case.mailbox(),
                &case.envelope(&office, "x"),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "x"),
        )
        .await;
    assert_problem(res, 429, "quota-exceeded").await;

    app.open_case(&office).await;
    let third = TestCase::new(&office);
    let body = app.open_body(&office, &third).await;
    assert_problem(app.open_with(&third, &body).await, 429, "quota-exceeded").await;
}

#[tokio::test]
async fn the_byte_quota_counts_envelope_bytes() {
    let app = spawn_app_with(|s| {
        s.max_envelope_bytes = 4096;
        s.max_bytes_per_mailbox = 4096;
    })
    .await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let envelope = case.envelope(&office, "x");
    let per = envelope.to_json().len();
    // The first envelope counts against the quota too.
    let fits = (4096 - case.first.to_json().len()) / per;
    assert!(fits >= 1, "the quota must leave room for an append");
    for _ in 0..fits {
        let res = app
            .append(&case.keys.signing, Signer::Case, &case.mailbox(), &envelope)
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .append(&case.keys.signing, Signer::Case, &case.mailbox(), &envelope)
        .await;
    assert_problem(res, 429, "quota-exceeded").await;
}

/// Issue 20, finding 3: opening a mailbox put its request ID in the replay cache before the
/// proof of work was checked, so anyone could fill the cache with bogus opens, without a key
/// or a proof of work, and genuine signed requests got 503. An open that spends no fresh proof
/// of work must now leave nothing there.
#[tokio::test]
async fn issue_20_opens_without_a_fresh_proof_of_work_leave_nothing_in_the_replay_cache() {
    // Arrange: one genuine open, whose solution the flood then reuses; and forged solutions.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let spent = app.open_body(&office, &case).await;
    assert_eq!(app.open_with(&case, &spent).await.status(), 201);
    let before = app.state.replay.len();

    // Act: fresh signatures (new request IDs) over a spent solution, and over forged ones.
    let mut refused = Vec::new();
    for _ in 0..10 {
        refused.push(app.open_with(&case, &spent).await.status());
        let other = TestCase::new(&office);
        let mut open: OpenMailbox =
            serde_json::from_slice(&app.open_body(&office, &other).await).unwrap();
        open.pow.challenge.difficulty = 1;
        let body = serde_json::to_vec(&open).unwrap();
        refused.push(app.open_with(&other, &body).await.status());
    }

    // Assert
    assert!(refused.iter().all(|s| s.is_client_error()), "{refused:?}");
    assert_eq!(app.state.replay.len(), before);
}
