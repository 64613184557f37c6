//! Registering, fetching and updating office cards, invites, and the office inbox.

use candor_protocol::api::{EnvelopePage, InboxPage, OfficeSaved};
use candor_protocol::{SignedCard, Signer, encoding, labels};

use crate::helpers::{
    TestOffice, assert_problem, office_card, register_body, spawn_app, spawn_app_in,
};

#[tokio::test]
async fn a_registered_card_is_served_as_signed() {
    let app = spawn_app().await;
    let office = TestOffice::new("ombuds", 90);

    let res = app
        .post_json("/v1/offices", register_body(&app.invite(), &office.signed))
        .await;

    assert_eq!(res.status(), 201);
    let saved: OfficeSaved = res.json().await.unwrap();
    assert_eq!(saved.office, office.id());
    let res = app.get("/v1/offices/ombuds").await;
    assert_eq!(res.status(), 200);
    let served = SignedCard::from_json(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(served, office.signed);
    assert_eq!(
        served
            .verify_office_at(
                &office.card.address().unwrap(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
            )
            .unwrap(),
        office.card
    );
}

#[tokio::test]
async fn an_invite_is_single_use() {
    let app = spawn_app().await;
    let invite = app.invite();
    let first = TestOffice::new("first", 90);
    let second = TestOffice::new("second", 90);
    let res = app
        .post_json("/v1/offices", register_body(&invite, &first.signed))
        .await;
    assert_eq!(res.status(), 201);

    let res = app
        .post_json("/v1/offices", register_body(&invite, &second.signed))
        .await;

    assert_problem(res, 403, "invite-used").await;
    assert_problem(app.get("/v1/offices/second").await, 404, "not-found").await;
}

#[tokio::test]
async fn forged_or_expired_invites_are_refused() {
    let app = spawn_app().await;
    let office = TestOffice::new("ombuds", 90);
    let expired = app.state.invite_key.mint(app.now() - 1);
    let genuine = app.invite();
    let mut forged = genuine.clone();
    forged.replace_range(0..1, if genuine.starts_with('A') { "B" } else { "A" });
    for invite in [expired, forged, "not-a-token".to_owned()] {
        let res = app
            .post_json("/v1/offices", register_body(&invite, &office.signed))
            .await;
        assert_problem(res, 403, "invite-invalid").await;
    }
}

#[tokio::test]
async fn a_taken_office_id_is_a_conflict_and_keeps_the_invite() {
    let app = spawn_app().await;
    app.register("ombuds", 90).await;
    let squatter = TestOffice::new("ombuds", 90);
    let invite = app.invite();

    let res = app
        .post_json("/v1/offices", register_body(&invite, &squatter.signed))
        .await;

    assert_problem(res, 409, "conflict").await;
    // The invite was not consumed by the failed registration.
    let other = TestOffice::new("other", 90);
    let res = app
        .post_json("/v1/offices", register_body(&invite, &other.signed))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_card_with_a_bad_signature_or_version_is_refused() {
    let app = spawn_app().await;
    let office = TestOffice::new("ombuds", 90);
    let mut tampered = office.signed.clone();
    tampered.signature[0] ^= 1;
    let res = app
        .post_json("/v1/offices", register_body(&app.invite(), &tampered))
        .await;
    assert_problem(res, 400, "malformed").await;

    // A genuine card of the first format, and one of a format not yet defined, each signed by
    // the office's key: refused for their version, not for a missing or unknown field.
    let first = format!(
        r#"{{"v":1,"serial":1,"id":"ombuds","name":"Old","relay":"http://127.0.0.1:8080","signing_key":"{}","kem_key":"{}","policy":{{"confidentiality":"c","exception":"e","not_notice":"n","retention":"r"}},"retention_days":90,"categories":[],"resources":[{{"name":"counseling","description":"d","contact":"c","confidential":true}}]}}"#,
        encoding::b64(&office.card.signing_key),
        encoding::b64(&office.card.kem_key),
    );
    let mut later = office.card.clone();
    later.v = 3;
    for bytes in [first.into_bytes(), encoding::to_json(&later)] {
        let signed = SignedCard {
            signature: office.identity.signing().sign(labels::OFFICE_CARD, &bytes),
            card: bytes,
        };
        let res = app
            .post_json("/v1/offices", register_body(&app.invite(), &signed))
            .await;
        assert_problem(res, 400, "unsupported-version").await;
    }
}

/// A change to a card's JSON.
type Change = dyn FnOnce(&mut serde_json::Value);

/// `card`'s JSON with `change` applied, signed by `office` as the wrapper says, whatever the
/// field rules say: what a careless or hostile client could send.
fn signed_raw(office: &TestOffice, change: impl FnOnce(&mut serde_json::Value)) -> SignedCard {
    let mut json: serde_json::Value =
        serde_json::from_slice(&encoding::to_json(&office.card)).unwrap();
    change(&mut json);
    let bytes = serde_json::to_vec(&json).unwrap();
    SignedCard {
        signature: office.identity.signing().sign(labels::OFFICE_CARD, &bytes),
        card: bytes,
    }
}

#[tokio::test]
async fn issue_19_the_relay_refuses_a_card_that_breaks_a_field_rule() {
    // Arrange
    let app = spawn_app().await;
    let office = TestOffice::new("ombuds", 90);
    let breaks: [(&str, Box<Change>); 5] = [
        ("serial 0", Box::new(|c| c["serial"] = 0.into())),
        (
            "a category ID with spaces",
            Box::new(|c| c["categories"] = serde_json::json!([{"id": "Bad Id!", "label": "x"}])),
        ),
        (
            "an empty policy text",
            Box::new(|c| c["policy"]["exception"] = "".into()),
        ),
        (
            "a name with a space at its start",
            Box::new(|c| c["name"] = " Ombuds".into()),
        ),
        (
            "a name with a space at its end",
            Box::new(|c| c["name"] = "Ombuds ".into()),
        ),
    ];

    for (what, change) in breaks {
        // Act
        let signed = signed_raw(&office, change);
        let res = app
            .post_json("/v1/offices", register_body(&app.invite(), &signed))
            .await;

        // Assert
        assert_eq!(res.status(), 400, "{what}");
    }
    // An empty list of categories is valid: the visitor is then not asked.
    let res = app
        .post_json(
            "/v1/offices",
            register_body(
                &app.invite(),
                &signed_raw(&office, |c| c["categories"] = serde_json::json!([])),
            ),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn the_office_updates_its_card_with_a_larger_serial() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let mut card = office_card(&office.identity, "ombuds", 30, 2);
    card.name = "Renamed Office".into();
    let signed = card.sign(&office.identity).unwrap();
    let body = signed.to_json();

    let res = app.update_card(office.key(), &body).await;

    assert_eq!(res.status(), 200);
    let served =
        SignedCard::from_json(&app.get("/v1/offices/ombuds").await.bytes().await.unwrap()).unwrap();
    assert_eq!(served.verify_office().unwrap().name, "Renamed Office");

    // The same serial again is a conflict.
    let res = app.update_card(office.key(), &body).await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn only_the_office_key_updates_the_card() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let thief = TestOffice::new("ombuds", 90);
    let card = office_card(&thief.identity, "ombuds", 90, 5);
    let body = card.sign(&thief.identity).unwrap().to_json();

    let res = app.update_card(thief.key(), &body).await;
    assert_problem(res, 404, "not-found").await;

    // Signed by the office, but the card swaps the identity key: refused.
    let res = app.update_card(office.key(), &body).await;
    assert_problem(res, 400, "malformed").await;
    let served =
        SignedCard::from_json(&app.get("/v1/offices/ombuds").await.bytes().await.unwrap()).unwrap();
    assert_eq!(served, office.signed);
}

/// The mailboxes of an inbox page, in order.
fn order(page: &InboxPage) -> Vec<String> {
    page.mailboxes
        .iter()
        .map(|m| m.mailbox.to_string())
        .collect()
}

#[tokio::test]
async fn the_inbox_lists_mailboxes_by_activity() {
    // Arrange: two cases; the first writes once before any read and once after.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let first = app.open_case(&office).await;
    let second = app.open_case(&office).await;
    let write = |text: &'static str| {
        let (app, office, first) = (&app, &office, &first);
        async move {
            let envelope = first.envelope(office, text);
            let res = app
                .append(
                    &first.keys.signing,
                    Signer::Case,
                    &first.mailbox(),
                    &envelope,
                )
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    write("hello").await;

    // Act: no read had listed the first case, so it kept its place.
    let page = app.inbox(&office, "").await;

    // Assert
    assert_eq!(order(&page), [first.mailbox(), second.mailbox()]);
    assert_eq!(page.mailboxes[0].envelopes, 2);
    assert_eq!(page.mailboxes[0].last_seq, 2);
    assert_eq!(
        page.mailboxes[0].kem_key,
        first.keys.kem.public_key().to_bytes()
    );
    assert_eq!(page.next, page.mailboxes[1].activity);
    // After the cursor there is nothing new; with limit=1 the first page holds one.
    let later = app.inbox(&office, &format!("?after={}", page.next)).await;
    assert!(later.mailboxes.is_empty());
    assert_eq!(later.next, page.next);
    let one = app.inbox(&office, "?limit=1").await;
    assert_eq!(one.mailboxes.len(), 1);
    assert_eq!(one.mailboxes[0].mailbox.to_string(), first.mailbox());
    // Listed now, the first case moves past the cursor when it writes again.
    write("again").await;
    let moved = app.inbox(&office, &format!("?after={}", page.next)).await;
    assert_eq!(moved.mailboxes.len(), 1);
    assert_eq!(moved.mailboxes[0].mailbox.to_string(), first.mailbox());
    assert_eq!(moved.mailboxes[0].envelopes, 3);
    assert!(moved.next > page.next);
}

#[tokio::test]
async fn a_reader_that_polls_from_its_cursor_misses_no_write() {
    // Arrange: three cases, and a reader that pages one at a time.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let mut cases = Vec::new();
    for _ in 0..3 {
        cases.push(app.open_case(&office).await);
    }
    let mut cursor = 0;
    // What the reader has seen of each case: the envelope count at its last listing.
    let mut seen = std::collections::HashMap::new();

    // Act: writes to listed and unlisted cases, between reads of one entry each.
    for i in [0, 0, 1, 2, 2, 0, 1, 1, 0, 2, 1, 0] {
        let case = &cases[i];
        let res = app
            .append(
                &case.keys.signing,
                Signer::Case,
                &case.mailbox(),
                &case.envelope(&office, "note"),
            )
            .await;
        assert_eq!(res.status(), 201);
        let page = app
            .inbox(&office, &format!("?after={cursor}&limit=1"))
            .await;
        for m in &page.mailboxes {
            seen.insert(m.mailbox.to_string(), m.envelopes);
        }
        cursor = page.next;
    }
    // Drain what is left after the cursor.
    loop {
        let page = app
            .inbox(&office, &format!("?after={cursor}&limit=1"))
            .await;
        if page.mailboxes.is_empty() {
            break;
        }
        for m in &page.mailboxes {
            seen.insert(m.mailbox.to_string(), m.envelopes);
        }
        cursor = page.next;
    }

    // Assert: the reader's last listing of every case shows all of its envelopes.
    for case in &cases {
        let res = app
            .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
            .await;
        let listed: EnvelopePage = res.json().await.unwrap();
        assert_eq!(
            seen.get(&case.mailbox()).copied(),
            Some(listed.envelopes.len() as u64),
            "the reader missed a write to {}",
            case.mailbox()
        );
    }
}

#[tokio::test]
async fn after_a_restart_a_write_moves_its_mailbox() {
    // Arrange: two cases, never listed; the relay restarts.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let first = app.open_case(&office).await;
    let second = app.open_case(&office).await;
    let (dir, clock) = app.stop().await;
    let app = spawn_app_in(dir, clock, |_| {}).await;

    // Act: what reads listed before the restart is not known, so the write moves the case.
    let res = app
        .append(
            &first.keys.signing,
            Signer::Case,
            &first.mailbox(),
            &first.envelope(&office, "hello"),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Assert
    let page = app.inbox(&office, "").await;
    assert_eq!(order(&page), [second.mailbox(), first.mailbox()]);
}

#[tokio::test]
async fn the_inbox_needs_the_office_key() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let other = TestOffice::new("ombuds", 90);
    let res = app
        .signed(
            other.key(),
            Signer::Office,
            "GET",
            "/v1/offices/ombuds/inbox",
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = app.get("/v1/offices/ombuds/inbox").await;
    assert_problem(res, 401, "signature-required").await;
    drop(office);
}

#[tokio::test]
async fn an_inbox_holds_only_its_own_office_s_mailboxes() {
    let app = spawn_app().await;
    let ours = app.register("ours", 90).await;
    let theirs = app.register("theirs", 90).await;
    let mine = app.open_case(&ours).await;
    let other = app.open_case(&theirs).await;

    let page = app.inbox(&ours, "").await;

    let listed: Vec<String> = page
        .mailboxes
        .iter()
        .map(|m| m.mailbox.to_string())
        .collect();
    assert_eq!(listed, [mine.mailbox()]);
    assert!(!listed.contains(&other.mailbox()));
    // And one office's key cannot read the other's mailbox.
    let res = app
        .list(theirs.key(), Signer::Office, &mine.mailbox(), "")
        .await;
    assert_problem(res, 404, "not-found").await;
}
