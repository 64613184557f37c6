//! Tests of office cards: verification at their address, tampering, versions, expiry and the fields' rules.

use super::*;
use crate::limits;

/// 2026-12-01, in Unix seconds.
pub(crate) const NOW: u64 = 1_796_083_200;

pub(crate) fn sample_card(identity: &Identity) -> OfficeCard {
    OfficeCard {
        v: OFFICE_CARD_VERSION.into(),
        serial: 1,
        expires: Day(Day::from_unix(NOW).0 + 365),
        id: "ombuds".parse().unwrap(),
        name: "Example Ombuds".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "c".into(),
            exception: "e".into(),
            not_notice: "n".into(),
            retention: "r".into(),
        },
        retention_days: 90,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![Choice::new("career", "Career progression").unwrap()],
        constituencies: vec![
            Choice::new("student", "Student").unwrap(),
            Choice::new("staff", "Staff").unwrap(),
        ],
        outcomes: vec![Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![Resource {
            id: "idhr".parse().unwrap(),
            name: "Institute Discrimination & Harassment Response Office (IDHR)".into(),
            description: "For concerns about discrimination, harassment and bias.".into(),
            contact: None,
            url: Some("https://idhr.example.edu".into()),
            confidential: false,
            audience: vec!["student".parse().unwrap()],
            urgent: true,
        }],
    }
}

fn signed_anyway(card: &OfficeCard, identity: &Identity) -> SignedCard {
    SignedCard::sign(encoding::to_json(card), labels::OFFICE_CARD, identity)
}

#[test]
fn card_verifies_at_its_address() {
    let id = Identity::generate(&mut rand::rng());
    let card = sample_card(&id);
    let signed = card.sign(&id).unwrap();
    let wire = SignedCard::from_json(&signed.to_json()).unwrap();
    assert_eq!(
        wire.verify_office_at(&card.address().unwrap(), NOW)
            .unwrap(),
        card
    );
}

#[test]
fn wrong_office_card_is_refused() {
    let ours = Identity::generate(&mut rand::rng());
    let theirs = Identity::generate(&mut rand::rng());
    let address = sample_card(&ours).address().unwrap();
    // A genuine card of another office, served under our address.
    let signed = sample_card(&theirs).sign(&theirs).unwrap();
    assert_eq!(
        signed.verify_office_at(&address, NOW),
        Err(Error::CardMismatch)
    );
}

#[test]
fn a_genuine_card_under_another_relays_address_is_refused() {
    // Arrange: the office's own card, and an address that names a relay that copied it.
    let id = Identity::generate(&mut rand::rng());
    let card = sample_card(&id);
    let signed = card.sign(&id).unwrap();
    let mut address = card.address().unwrap();
    address.relay = "http://127.0.0.1:8081".parse().unwrap();

    // Act
    let refused = signed.verify_office_at(&address, NOW).unwrap_err();

    // Assert
    assert_eq!(
        refused,
        Error::RelayMismatch {
            card: card.relay.clone(),
            address: address.relay.clone(),
        }
    );
    address.relay = "http://127.0.0.1:80/".parse().unwrap();
    assert!(signed.verify_office_at(&address, NOW).is_err());
    address.relay = "http://127.0.0.1:8080/".parse().unwrap();
    assert_eq!(signed.verify_office_at(&address, NOW), Ok(card));
}

#[test]
fn tampered_card_is_refused() {
    let id = Identity::generate(&mut rand::rng());
    let card = sample_card(&id);
    let mut signed = card.sign(&id).unwrap();
    let text = String::from_utf8(signed.card.clone()).unwrap();
    signed.card = text.replace("Example", "Exemple").into_bytes();
    assert_eq!(
        signed.verify_office_at(&card.address().unwrap(), NOW),
        Err(Error::BadSignature)
    );
}

#[test]
fn unknown_card_version_is_refused() {
    let id = Identity::generate(&mut rand::rng());
    let mut card = sample_card(&id);
    card.v = 3;
    assert!(matches!(
        card.sign(&id),
        Err(Error::UnsupportedVersion { .. })
    ));
    let signed = signed_anyway(&card, &id);
    assert!(matches!(
        signed.verify_office(),
        Err(Error::UnsupportedVersion { found: 3, .. })
    ));
}

#[test]
fn a_version_1_card_is_refused_as_an_old_version() {
    // Arrange: a genuine card of the first format, signed by the office's key.
    let id = Identity::generate(&mut rand::rng());
    let old = format!(
        r#"{{"v":1,"serial":4,"id":"ombuds","name":"Example Ombuds","relay":"http://127.0.0.1:8080","signing_key":"{}","kem_key":"{}","policy":{{"confidentiality":"c","exception":"e","not_notice":"n","retention":"r"}},"retention_days":90,"categories":[],"resources":[{{"name":"counseling","description":"d","contact":"c","confidential":true}}]}}"#,
        encoding::b64(&id.signing().public_key().to_bytes()),
        encoding::b64(&id.kem().public_key().to_bytes()),
    );
    let signed = SignedCard::sign(old.into_bytes(), labels::OFFICE_CARD, &id);
    let address = sample_card(&id).address().unwrap();

    // Act
    let refused = signed.verify_office_at(&address, NOW).unwrap_err();

    // Assert: the version, not a missing field, is what the reader is told.
    assert_eq!(
        refused,
        Error::UnsupportedVersion {
            what: "office card",
            found: 1,
            supported: OFFICE_CARD_VERSION,
        }
    );
    assert!(refused.to_string().contains("version 1"), "{refused}");
}

#[test]
fn an_expired_card_is_refused_after_its_last_day() {
    let id = Identity::generate(&mut rand::rng());
    let mut card = sample_card(&id);
    card.expires = Day::from_unix(NOW);
    let signed = card.sign(&id).unwrap();
    let address = card.address().unwrap();
    assert!(
        signed
            .verify_office_at(&address, NOW + 86_399 - NOW % 86_400)
            .is_ok()
    );
    let next_day = NOW + 86_400;
    let refused = signed.verify_office_at(&address, next_day).unwrap_err();
    assert_eq!(
        refused,
        Error::CardExpired {
            expires: card.expires
        }
    );
    assert!(refused.to_string().contains("2026-12-01"), "{refused}");
    // The relay stores cards without a clock, and still can.
    assert!(signed.verify_office().is_ok());
}

#[test]
fn a_card_cannot_claim_to_stay_valid_for_ever() {
    let id = Identity::generate(&mut rand::rng());
    let mut card = sample_card(&id);
    card.expires = Day(Day::from_unix(NOW).0 + limits::MAX_CARD_VALID_DAYS + 1);
    let signed = card.sign(&id).unwrap();
    let refused = signed
        .verify_office_at(&card.address().unwrap(), NOW)
        .unwrap_err();
    assert!(refused.to_string().contains("days ahead"), "{refused}");
}

#[test]
fn field_rules_are_checked_when_signing_and_verifying() {
    let id = Identity::generate(&mut rand::rng());
    type Breaker = fn(&mut OfficeCard);
    let cases: [(&str, Breaker); 8] = [
        ("not one of the card's constituencies", |c| {
            c.resources[0].audience = vec!["postdoc".parse().unwrap()];
        }),
        ("twice", |c| {
            let again = c.categories[0].clone();
            c.categories.push(again);
        }),
        ("outcomes", |c| c.outcomes.clear()),
        ("close_grace_days", |c| c.close_grace_days = 91),
        ("reply_within_days", |c| c.reply_within_days = 0),
        ("control character", |c| {
            c.resources[0].name = "IDHR\u{1b}[2J".into();
        }),
        ("url", |c| {
            c.resources[0].url = Some("idhr.example.edu".into())
        }),
        ("blank", |c| c.constituencies[0].label = " ".into()),
    ];
    for (why, break_it) in cases {
        let mut card = sample_card(&id);
        break_it(&mut card);
        let refused = card.sign(&id).unwrap_err();
        assert!(refused.to_string().contains(why), "{why}: {refused}");
        let verified = signed_anyway(&card, &id).verify_office().unwrap_err();
        assert_eq!(verified, refused, "{why}");
    }
}

#[test]
fn names_may_be_any_words() {
    let id = Identity::generate(&mut rand::rng());
    let mut card = sample_card(&id);
    card.resources[0].name = "MIT Police: Anonymous Sexual Assault Form".into();
    card.resources[0].contact = Some("Dial 100 from campus phones, or 617-253-1212".into());
    assert!(card.sign(&id).unwrap().verify_office().is_ok());
}
