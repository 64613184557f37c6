//! Someone else's key: another office's identity key, another case's key, or none registered
//! anywhere. Every such answer is byte-identical to the answer for a mailbox that does not
//! exist, so a stranger cannot tell which mailbox IDs are in use.

use candor_protocol::{Signer, SigningSecretKey};
use candor_tests::api::{Answer, Api, TestCase, TestOffice};

use crate::relay_with_office;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_keys_open_nothing_and_look_exactly_like_an_unknown_mailbox() {
    // Arrange: office A with two cases, office B with one, and a mailbox nobody opened.
    let (relay, api, a) = relay_with_office(&[], "office-a").await;
    let invite = tokio::task::block_in_place(|| relay.invite());
    let b = api.register(&invite, "office-b", 90).await;
    let victim = api.open_case(&a).await;
    let neighbour = api.open_case(&a).await;
    let elsewhere = api.open_case(&b).await;
    let unknown = TestCase::new(&a);
    let stranger = SigningSecretKey::generate(&mut candor_protocol::rand::rng());
    let secret = victim.envelope(&a, "the victim's words");
    assert!(api.append(&victim, &secret).await.unwrap().is_ok());

    for (method, suffix) in [
        ("GET", "/envelopes"),
        ("POST", "/envelopes"),
        ("DELETE", ""),
    ] {
        // Act: the victim's mailbox with each wrong key, then the unknown mailbox.
        let attempts: [(&TestCase, &SigningSecretKey, Signer); 6] = [
            (&victim, b.key(), Signer::Office),
            (&victim, b.key(), Signer::Case),
            (&victim, &neighbour.keys.signing, Signer::Case),
            (&victim, &elsewhere.keys.signing, Signer::Case),
            (&victim, &stranger, Signer::Office),
            (&unknown, b.key(), Signer::Office),
        ];
        let mut answers = Vec::new();
        for (case, key, signer) in attempts {
            answers.push(attempt(&api, &a, case, key, signer, method, suffix).await);
        }
        // An unknown mailbox, signed by its own (never registered) key.
        answers.push(
            attempt(
                &api,
                &a,
                &unknown,
                &unknown.keys.signing,
                Signer::Case,
                method,
                suffix,
            )
            .await,
        );

        // Assert: one 404, byte for byte, whatever the key and whether the mailbox exists.
        assert_eq!(answers[0].status, 404, "{method}");
        for (i, other) in answers.iter().enumerate().skip(1) {
            assert_eq!(&answers[0], other, "{method}: attempt {i} differs");
        }
    }

    // Another office's key cannot read this office's inbox, which looks like no office at all.
    let inbox = |office: &str| format!("/v1/offices/{office}/inbox");
    let foreign = api
        .signed(b.key(), Signer::Office, "GET", &inbox("office-a"), b"")
        .await
        .unwrap();
    let missing = api
        .signed(
            b.key(),
            Signer::Office,
            "GET",
            &inbox("no-such-office"),
            b"",
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 404);
    assert_eq!(foreign, missing);

    // Nothing was deleted or added: the victim's mailbox holds exactly its first envelope and
    // the one appended.
    let stored = api.envelopes(&victim).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[1].1,
        serde_json::from_slice::<serde_json::Value>(&secret).unwrap()
    );
    assert!(api.inbox(&a).await.contains(&victim.mailbox()));
}

/// One request at `case`'s mailbox signed by `key`. A POST carries an envelope that names that
/// mailbox, in the direction the signer may write.
async fn attempt(
    api: &Api,
    office: &TestOffice,
    case: &TestCase,
    key: &SigningSecretKey,
    signer: Signer,
    method: &str,
    suffix: &str,
) -> Answer {
    let path = format!("/v1/mailboxes/{}{suffix}", case.mailbox());
    let body = if method == "POST" {
        case.envelope(office, "an intruder's words")
    } else {
        Vec::new()
    };
    api.signed(key, signer, method, &path, &body).await.unwrap()
}
