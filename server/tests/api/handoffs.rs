//! The handoff endpoints, driven with real protocol objects: consent, agreement, the third
//! party's one fetch (after which the package opens with both shares), state, revocation, and
//! each refusal, answered as unknown wherever it could probe existence.

use candor_protocol::api::handoffs::{Agreement, Fetched, HandoffStatus, PutHandoff};
use candor_protocol::card::ThirdPartyCard;
use candor_protocol::handoff::{
    CaseRef, Disclosure, IdentityOpening, Item, KeyShare, Notice, NoticeSeed, OfficeRef, Package,
    Party, Proposal, Revocation,
};
use candor_protocol::{Day, HandoffId, Identity, Signer, SigningSecretKey, encoding};

use crate::helpers::{TestApp, TestCase, TestOffice, assert_problem, files_under, spawn_app};

const IDENTITY: &str = "Jane Roe, lab 4 marker";
const PURPOSE: &str = "purpose marker: the lab schedule";
const SUMMARY: &str = "summary marker for the department head";
const THIRD_PARTY: &str = "Head of Chemistry marker";

pub(crate) struct Handoff {
    pub(crate) office: TestOffice,
    pub(crate) case: TestCase,
    pub(crate) third: Identity,
    pub(crate) id: HandoffId,
    pub(crate) bytes: Vec<u8>,
    pub(crate) put: PutHandoff,
}

pub(crate) fn path(id: &HandoffId, tail: &str) -> String {
    format!("/v1/handoffs/{id}{tail}")
}

/// A registered office, an open case and a consented proposal (not yet uploaded).
pub(crate) async fn consented(app: &TestApp) -> Handoff {
    let rng = &mut rand::rng();
    let office = app.register("ombuds", 30).await;
    let case = app.open_case(&office).await;
    let third = Identity::generate(rng);
    let card = ThirdPartyCard {
        v: 2,
        name: THIRD_PARTY.into(),
        relay: app.url.parse().unwrap(),
        mandatory_reporter: false,
        signing_key: third.signing().public_key().to_bytes(),
        kem_key: third.kem().public_key().to_bytes(),
    };
    let today = Day::from_unix(app.now());
    let draft = Proposal {
        v: 2,
        id: HandoffId::random(rng),
        drafted_by: Party::Office,
        case: CaseRef {
            mailbox: case.keys.mailbox,
            signing_key: case.keys.signing.public_key().to_bytes(),
            kem_key: case.keys.kem.public_key().to_bytes(),
        },
        office: OfficeRef {
            id: office.id(),
            signing_key: office.identity.signing().public_key().to_bytes(),
            kem_key: office.identity.kem().public_key().to_bytes(),
        },
        third_party: card.sign(&third).unwrap(),
        purpose: PURPOSE.into(),
        items: vec![Item::text(SUMMARY)],
        identity_included: true,
        identity: None,
        expires: today.plus(10),
    };
    let opening = IdentityOpening::new(IDENTITY, rng);
    let proposal = draft.consented(Some(&opening)).unwrap();
    let bytes = proposal.to_json();
    let consent = Proposal::approve(&bytes, Party::Visitor, &case.keys.signing);
    let disclosure = Disclosure {
        v: 2,
        proposal: bytes.clone(),
        consent,
        identity: Some(opening),
    };
    let kem = office.identity.kem().public_key();
    let (package, k_v) = Package::seal(&disclosure, &draft.id, &kem, rng).unwrap();
    let share = KeyShare::seal(
        &k_v,
        &draft.id,
        Party::Visitor,
        &case.keys.kem,
        &third.kem().public_key(),
        rng,
    )
    .unwrap();
    let put = PutHandoff {
        v: 2,
        mailbox: case.keys.mailbox,
        proposal_sha256: Proposal::sha256(&bytes),
        consent,
        expires: draft.expires,
        package,
        share,
    };
    Handoff {
        office,
        case,
        third,
        id: draft.id,
        bytes,
        put,
    }
}

pub(crate) async fn upload(app: &TestApp, h: &Handoff) -> reqwest::Response {
    let body = serde_json::to_vec(&h.put).unwrap();
    app.signed(
        &h.case.keys.signing,
        Signer::Case,
        "PUT",
        &path(&h.id, ""),
        Some(&body),
    )
    .await
}

/// The office's agreement body, and the notice it gives the third party.
fn agreement(h: &Handoff) -> (Vec<u8>, Notice) {
    let rng = &mut rand::rng();
    let k_o = h
        .put
        .package
        .office_key(&h.id, h.office.identity.kem())
        .unwrap();
    let share = KeyShare::seal(
        &k_o,
        &h.id,
        Party::Office,
        h.office.identity.kem(),
        &h.third.kem().public_key(),
        rng,
    )
    .unwrap();
    let seed = NoticeSeed::of_office(h.office.identity.kem(), &h.id);
    let body = Agreement {
        v: 2,
        agreement: Proposal::approve(&h.bytes, Party::Office, h.office.identity.signing()),
        share,
        fetch_key: seed.keys().fetch.public_key().to_bytes(),
    };
    let keys = (
        &h.case.keys.kem.public_key(),
        &h.office.identity.kem().public_key(),
    );
    let notice = Notice::seal(&h.id, &seed, keys, &h.third.kem().public_key(), rng).unwrap();
    (serde_json::to_vec(&body).unwrap(), notice)
}

pub(crate) async fn agree(app: &TestApp, h: &Handoff) -> (reqwest::Response, Notice) {
    let (body, notice) = agreement(h);
    let res = app
        .signed(
            h.office.key(),
            Signer::Office,
            "POST",
            &path(&h.id, "/agreement"),
            Some(&body),
        )
        .await;
    (res, notice)
}

async fn fetch(app: &TestApp, id: &HandoffId, key: &SigningSecretKey) -> reqwest::Response {
    app.signed(
        key,
        Signer::ThirdParty,
        "POST",
        &path(id, "/fetch"),
        Some(b"{\"v\":2}"),
    )
    .await
}

async fn state(
    app: &TestApp,
    h: &Handoff,
    key: &SigningSecretKey,
    signer: Signer,
) -> HandoffStatus {
    let res = app.signed(key, signer, "GET", &path(&h.id, ""), None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn consent_agreement_and_one_fetch_release_exactly_the_consented_package() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let before = state(&app, &h, &h.case.keys.signing, Signer::Case).await;

    // Act
    let (res, notice) = agree(&app, &h).await;
    assert_eq!(res.status(), 200);
    let opened = notice.open(h.third.kem()).unwrap();
    let (id, seed) = (opened.id, opened.seed);
    let res = fetch(&app, &id, &seed.keys().fetch).await;
    assert_eq!(res.status(), 200);
    let fetched: Fetched = res.json().await.unwrap();

    // Assert: the third party opens both shares and checks both signatures.
    let k_v = fetched
        .visitor_share
        .open(&id, h.third.kem(), &h.case.keys.kem.public_key())
        .unwrap();
    let k_o = fetched
        .office_share
        .open(&id, h.third.kem(), &h.office.identity.kem().public_key())
        .unwrap();
    let disclosure = fetched.package.open(&id, &k_v, &k_o).unwrap();
    let own = h.third.signing().public_key().to_bytes();
    let proposal = disclosure.verify(&id, &own, &fetched.agreement).unwrap();
    assert_eq!(proposal.purpose, PURPOSE);
    assert_eq!(disclosure.identity.as_ref().unwrap().text, IDENTITY);
    assert_eq!(
        before.state,
        candor_protocol::api::handoffs::HandoffState::Consented
    );
    let after = state(&app, &h, h.office.key(), Signer::Office).await;
    assert_eq!(
        after.state,
        candor_protocol::api::handoffs::HandoffState::Fetched
    );
    // One fetch only: the second is answered as unknown.
    assert_problem(fetch(&app, &id, &seed.keys().fetch).await, 404, "not-found").await;
}

#[tokio::test]
async fn a_fetch_before_agreement_or_by_another_key_is_answered_as_unknown() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let seed = NoticeSeed::of_office(h.office.identity.kem(), &h.id);
    let unknown = HandoffId::random(&mut rand::rng());

    // Act
    let early = fetch(&app, &h.id, &seed.keys().fetch).await;
    let (res, _) = agree(&app, &h).await;
    assert_eq!(res.status(), 200);
    let other = SigningSecretKey::generate(&mut rand::rng());
    let wrong_key = fetch(&app, &h.id, &other).await;
    let card_key = fetch(&app, &h.id, h.third.signing()).await;
    let none = fetch(&app, &unknown, &seed.keys().fetch).await;

    // Assert: byte-identical answers.
    let mut bodies = Vec::new();
    for res in [early, wrong_key, card_key, none] {
        assert_eq!(res.status(), 404);
        bodies.push(res.bytes().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn a_consent_signed_by_another_key_is_answered_as_unknown() {
    let app = spawn_app().await;
    let mut h = consented(&app).await;
    let other = SigningSecretKey::generate(&mut rand::rng());
    h.put.consent = Proposal::approve(&h.bytes, Party::Visitor, &other);
    assert_problem(upload(&app, &h).await, 404, "not-found").await;
    // And a request signed by another key for the case, likewise.
    let body = serde_json::to_vec(&h.put).unwrap();
    let res = app
        .signed(&other, Signer::Case, "PUT", &path(&h.id, ""), Some(&body))
        .await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn a_revoked_handoff_cannot_be_agreed_fetched_or_brought_back_by_a_replayed_consent() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let revocation = Revocation::sign(h.id, Party::Visitor, &h.case.keys.signing);
    let body = serde_json::to_vec(&revocation).unwrap();

    // Act
    let res = app
        .signed(
            &h.case.keys.signing,
            Signer::Case,
            "POST",
            &path(&h.id, "/revocation"),
            Some(&body),
        )
        .await;

    // Assert
    assert_eq!(res.status(), 200);
    let s: HandoffStatus = res.json().await.unwrap();
    assert_eq!(
        s.state,
        candor_protocol::api::handoffs::HandoffState::Revoked
    );
    assert_problem(agree(&app, &h).await.0, 409, "conflict").await;
    assert_problem(upload(&app, &h).await, 409, "conflict").await;
    let seed = NoticeSeed::of_office(h.office.identity.kem(), &h.id);
    assert_problem(
        fetch(&app, &h.id, &seed.keys().fetch).await,
        404,
        "not-found",
    )
    .await;
    // The stored record is a tombstone: the package and the shares are gone from it.
    let stored = app.state.store.package(&h.id).unwrap().unwrap();
    let text = String::from_utf8(stored.body).unwrap();
    assert!(
        !text.contains(&encoding::b64(&h.put.package.ct[..16])),
        "{text}"
    );
}

#[tokio::test]
async fn the_office_revokes_after_agreement_and_the_third_party_gets_nothing() {
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    assert_eq!(agree(&app, &h).await.0.status(), 200);
    let revocation = Revocation::sign(h.id, Party::Office, h.office.identity.signing());
    let body = serde_json::to_vec(&revocation).unwrap();
    // A revocation that names the other party is refused.
    let wrong = Revocation::sign(h.id, Party::Visitor, h.office.identity.signing());
    let res = app
        .signed(
            h.office.key(),
            Signer::Office,
            "POST",
            &path(&h.id, "/revocation"),
            Some(&serde_json::to_vec(&wrong).unwrap()),
        )
        .await;
    assert_problem(res, 400, "malformed").await;
    let res = app
        .signed(
            h.office.key(),
            Signer::Office,
            "POST",
            &path(&h.id, "/revocation"),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), 200);
    let seed = NoticeSeed::of_office(h.office.identity.kem(), &h.id);
    assert_problem(
        fetch(&app, &h.id, &seed.keys().fetch).await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn an_agreement_over_another_proposal_is_refused() {
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let (body, _) = agreement(&h);
    let mut a: Agreement = serde_json::from_slice(&body).unwrap();
    let mut changed = h.bytes.clone();
    changed.push(b' ');
    a.agreement = Proposal::approve(&changed, Party::Office, h.office.identity.signing());
    let res = app
        .signed(
            h.office.key(),
            Signer::Office,
            "POST",
            &path(&h.id, "/agreement"),
            Some(&serde_json::to_vec(&a).unwrap()),
        )
        .await;
    assert_problem(res, 400, "malformed").await;
    // The case key cannot agree.
    let res = app
        .signed(
            &h.case.keys.signing,
            Signer::Case,
            "POST",
            &path(&h.id, "/agreement"),
            Some(&body),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn no_plaintext_marker_reaches_the_relays_disk() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;

    // Act
    assert_eq!(upload(&app, &h).await.status(), 201);
    assert_eq!(agree(&app, &h).await.0.status(), 200);
    app.state.store.flush().unwrap();

    // Assert
    for file in files_under(app.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for marker in [IDENTITY, PURPOSE, SUMMARY, THIRD_PARTY, "marker"] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} in {}",
                file.display()
            );
        }
    }
}

/// The names of a schema's properties in the OpenAPI document.
fn property_names(doc: &serde_json::Value, name: &str) -> Vec<String> {
    let mut names: Vec<String> = doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn json_keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn the_openapi_schemas_name_exactly_the_fields_of_the_real_bodies() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;
    let put = serde_json::to_value(&h.put).unwrap();
    let (agreement_body, _) = agreement(&h);
    let agreement: serde_json::Value = serde_json::from_slice(&agreement_body).unwrap();
    assert_eq!(upload(&app, &h).await.status(), 201);
    let status: serde_json::Value = app
        .signed(
            h.office.key(),
            Signer::Office,
            "GET",
            &path(&h.id, ""),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let revocation =
        serde_json::to_value(Revocation::sign(h.id, Party::Office, h.office.key())).unwrap();

    // Act
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();

    // Assert
    assert_eq!(property_names(&doc, "PutHandoff"), json_keys(&put));
    assert_eq!(property_names(&doc, "Package"), json_keys(&put["package"]));
    assert_eq!(property_names(&doc, "KeyShare"), json_keys(&put["share"]));
    assert_eq!(property_names(&doc, "Agreement"), json_keys(&agreement));
    assert_eq!(property_names(&doc, "HandoffStatus"), json_keys(&status));
    assert_eq!(property_names(&doc, "Revocation"), json_keys(&revocation));
    assert_eq!(property_names(&doc, "Fetch"), ["v"]);
    assert_eq!(
        property_names(&doc, "Fetched"),
        [
            "agreement",
            "consent",
            "mailbox",
            "office_share",
            "package",
            "visitor_share"
        ]
    );
}

#[tokio::test]
async fn after_its_last_day_a_handoff_is_neither_agreed_nor_fetched_and_the_sweeper_removes_it() {
    // Arrange
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let seed = NoticeSeed::of_office(h.office.identity.kem(), &h.id);

    // Act: the proposal's last day is ten days ahead; twelve days pass.
    app.clock.advance(12 * 86_400);
    let late_agreement = agree(&app, &h).await.0;
    let late_fetch = fetch(&app, &h.id, &seed.keys().fetch).await;
    let swept = candor_server::sweeper::sweep_once(&app.state).await;

    // Assert
    assert_problem(late_agreement, 404, "not-found").await;
    assert_problem(late_fetch, 404, "not-found").await;
    assert!(swept.is_ok());
    assert!(app.state.store.package(&h.id).unwrap().is_none());
}

#[tokio::test]
async fn the_relays_whole_store_and_the_third_partys_key_do_not_open_a_package_before_agreement() {
    // Arrange: the visitor consented; the office has not agreed.
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    app.state.store.flush().unwrap();

    // Act: read back what the relay stored, as someone holding its data directory would, and
    // add the third party's own key.
    let stored = app.state.store.package(&h.id).unwrap().unwrap();
    let record: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
    // (From text: the binary fields borrow their base64url strings.)
    let package: Package = serde_json::from_str(&record["live"]["package"].to_string()).unwrap();
    let share: KeyShare =
        serde_json::from_str(&record["live"]["visitor_share"].to_string()).unwrap();
    let k_v = share
        .open(&h.id, h.third.kem(), &h.case.keys.kem.public_key())
        .unwrap();
    // The best the holder can do for the office's half: recover it with a key they hold.
    let guesses = [
        *package.office_key(&h.id, h.third.kem()).unwrap(),
        *k_v,
        [0; 32],
    ];

    // Assert
    for k_o in guesses {
        assert!(package.open(&h.id, &k_v, &k_o).is_err());
    }
    // The genuine office half opens it: the test would notice a package that never opens.
    let k_o = package.office_key(&h.id, h.office.identity.kem()).unwrap();
    assert!(package.open(&h.id, &k_v, &k_o).is_ok());
}

#[tokio::test]
async fn closing_the_case_revokes_its_unfetched_handoffs() {
    // Arrange: a consented handoff of an open case.
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let body = serde_json::to_vec(&candor_protocol::api::CloseMailbox {
        v: candor_protocol::api::CLOSE_VERSION.into(),
        envelope: None,
        tally: None,
    })
    .unwrap();

    // Act
    let path = format!("/v1/mailboxes/{}/close", h.case.mailbox());
    let res = app
        .signed(h.office.key(), Signer::Office, "POST", &path, Some(&body))
        .await;

    // Assert
    assert_eq!(res.status(), 200);
    let s = state(&app, &h, &h.case.keys.signing, Signer::Case).await;
    assert_eq!(
        s.state,
        candor_protocol::api::handoffs::HandoffState::Revoked
    );
    assert_problem(agree(&app, &h).await.0, 409, "conflict").await;
}
