//! Requests that name their signing key (`Candor-Key`, `docs/protocol.md` §8): the relay
//! checks the signature under the named key before it reads the mailbox, and answers exactly
//! as for a request that names none. A named key that is not the registered one is
//! `not-found`, byte for byte as an unknown mailbox.

use candor_protocol::request::KEY_HEADER;
use candor_protocol::{MailboxId, RequestAuth, Signer, SigningSecretKey};

use crate::helpers::{TestApp, assert_problem, headers_without_date, spawn_app};

/// Signs with `key` and sends with `Candor-Key: named` (any text).
async fn naming(
    app: &TestApp,
    key: &SigningSecretKey,
    signer: Signer,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    named: &str,
) -> reqwest::Response {
    let auth = app.sign(key, signer, method, path, body.unwrap_or(b""));
    send(app, method, path, body, &auth, named).await
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    auth: &RequestAuth,
    named: &str,
) -> reqwest::Response {
    let req = app.request_signed(method, path, body, auth);
    req.header(KEY_HEADER, named).send().await.unwrap()
}

/// A `GET` of `path` signed by `key`, naming it.
async fn fetch_naming_its_key(
    app: &TestApp,
    key: &SigningSecretKey,
    signer: Signer,
    path: &str,
) -> reqwest::Response {
    naming(app, key, signer, "GET", path, None, &name(key)).await
}

fn name(key: &SigningSecretKey) -> String {
    RequestAuth::key_header(&key.public_key())
}

#[tokio::test]
async fn a_fetch_that_names_its_key_reads_what_one_that_names_none_reads() {
    // Arrange: a case with a reply from the office.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let reply = case.reply(&office, "we hear you");
    let res = app
        .append(office.key(), Signer::Office, &case.mailbox(), &reply)
        .await;
    assert_eq!(res.status(), 201);
    let path = format!(
        "/v1/mailboxes/{}/envelopes?after=0&limit=10",
        case.mailbox()
    );

    // Act: the case and the office fetch, naming their keys and not; one named fetch is sent
    // twice.
    let unnamed = app
        .list(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            "?after=0&limit=10",
        )
        .await;
    let by_case = fetch_naming_its_key(&app, &case.keys.signing, Signer::Case, &path).await;
    let by_office = fetch_naming_its_key(&app, office.key(), Signer::Office, &path).await;
    let auth = app.sign(&case.keys.signing, Signer::Case, "GET", &path, b"");
    let once = send(&app, "GET", &path, None, &auth, &name(&case.keys.signing)).await;
    let again = send(&app, "GET", &path, None, &auth, &name(&case.keys.signing)).await;

    // Assert: the same page, both envelopes; the second of the same request is a replay.
    assert_eq!(unnamed.status(), 200);
    let page = unnamed.bytes().await.unwrap();
    for res in [by_case, by_office, once] {
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap(), page);
    }
    let parsed: candor_protocol::api::EnvelopePage = serde_json::from_slice(&page).unwrap();
    assert_eq!(parsed.envelopes.len(), 2);
    assert_problem(again, 401, "replayed-request").await;
}

#[tokio::test]
async fn a_named_key_that_is_not_the_registered_one_answers_as_an_unknown_mailbox() {
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
        ("GET", "/envelopes?after=0&limit=5"),
        ("POST", "/envelopes"),
        ("DELETE", ""),
    ] {
        let mut answers = Vec::new();
        for (mailbox, key, signer, named) in [
            // Unnamed, for reference: an unknown mailbox.
            (unknown.clone(), &stranger, Signer::Case, None),
            // Another key, named truly.
            (
                case.mailbox(),
                &intruder.keys.signing,
                Signer::Case,
                Some(&intruder.keys.signing),
            ),
            (case.mailbox(), &stranger, Signer::Office, Some(&stranger)),
            (
                case.mailbox(),
                &case.keys.signing,
                Signer::Office,
                Some(&case.keys.signing),
            ),
            (
                case.mailbox(),
                &case.keys.signing,
                Signer::ThirdParty,
                Some(&case.keys.signing),
            ),
            // The registered key named, but another key signed.
            (
                case.mailbox(),
                &intruder.keys.signing,
                Signer::Case,
                Some(&case.keys.signing),
            ),
            // Another key named, and the registered key signed.
            (
                case.mailbox(),
                &case.keys.signing,
                Signer::Case,
                Some(&intruder.keys.signing),
            ),
            (unknown.clone(), &stranger, Signer::Case, Some(&stranger)),
        ] {
            let path = format!("/v1/mailboxes/{mailbox}{suffix}");
            let body = (method == "POST").then(|| envelope(&mailbox));
            // Act
            let res = match named {
                Some(named) => {
                    naming(
                        &app,
                        key,
                        signer,
                        method,
                        &path,
                        body.as_deref(),
                        &name(named),
                    )
                    .await
                }
                None => {
                    app.signed(key, signer, method, &path, body.as_deref())
                        .await
                }
            };
            answers.push((
                res.status(),
                headers_without_date(res.headers()),
                res.bytes().await.unwrap(),
            ));
        }
        // Assert
        assert_eq!(answers[0].0, 404, "{method}");
        for (i, other) in answers.iter().enumerate().skip(1) {
            assert_eq!(&answers[0], other, "{method} {i}");
        }
    }
    // The owner, naming its key, still gets in: nothing above deleted or appended.
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let res = fetch_naming_its_key(&app, &case.keys.signing, Signer::Case, &path).await;
    let page: candor_protocol::api::EnvelopePage = res.json().await.unwrap();
    assert_eq!(page.envelopes.len(), 1);
}

#[tokio::test]
async fn a_named_key_that_is_no_key_is_refused_with_what_to_send() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let key = name(&case.keys.signing);

    for named in [
        "",
        "not base64!",
        &key[..42],
        &format!("{key}AA"),
        &"A".repeat(43),
    ] {
        // Act
        let res = naming(
            &app,
            &case.keys.signing,
            Signer::Case,
            "GET",
            &path,
            None,
            named,
        )
        .await;

        // Assert: refused, before any read, with the header named in the detail.
        assert_eq!(res.status(), 401, "{named:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["type"], "urn:candor:problem:signature-required");
        assert!(
            body["detail"].as_str().unwrap().contains("Candor-Key"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_open_that_names_another_key_than_the_one_registered_is_refused() {
    // Arrange: a case's open body, signed by its key.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = crate::helpers::TestCase::new(&office);
    let other = SigningSecretKey::generate(&mut rand::rng());
    let body = app.open_body(&office, &case).await;
    let path = "/v1/mailboxes";
    let sign = || naming_open(&app, &case, &body, path);

    // Act: naming another key, then naming the case's own.
    let wrong = sign()
        .header(KEY_HEADER, name(&other))
        .send()
        .await
        .unwrap();
    let right = sign()
        .header(KEY_HEADER, name(&case.keys.signing))
        .send()
        .await
        .unwrap();

    // Assert: the first is refused and opens nothing, so the second opens the mailbox.
    assert_problem(wrong, 401, "signature-required").await;
    assert_eq!(right.status(), 201);
}

/// The open request, signed by the case key, without `Candor-Key`.
fn naming_open(
    app: &TestApp,
    case: &crate::helpers::TestCase,
    body: &[u8],
    path: &str,
) -> reqwest::RequestBuilder {
    let auth = app.sign(&case.keys.signing, Signer::Case, "POST", path, body);
    app.request_signed("POST", path, Some(body), &auth)
}
