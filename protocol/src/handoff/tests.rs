//! The handoff's promises, each tried: both halves are needed, the identity stays behind its
//! commitment, approvals bind the exact bytes, and the third party checks authorship.

use super::*;
use crate::card::ThirdPartyCard;
use crate::keys::{Identity, KemSecretKey};
use crate::message::Day;
use crate::seal::Sealer;
use crate::{Codename, Message, RelayUrl};

struct World {
    case: crate::CaseKeys,
    office: Identity,
    third: Identity,
    draft: Proposal,
}

fn card(third: &Identity) -> crate::SignedCard {
    ThirdPartyCard {
        v: 2,
        name: "Head of Chemistry".into(),
        relay: "http://127.0.0.1:1".parse::<RelayUrl>().unwrap(),
        mandatory_reporter: true,
        signing_key: third.signing().public_key().to_bytes(),
        kem_key: third.kem().public_key().to_bytes(),
    }
    .sign(third)
    .unwrap()
}

/// A visitor message of the case, disclosed with its signature.
fn disclosed(case: &crate::CaseKeys, office: &Identity, text: &str) -> Item {
    let rng = &mut rand::rng();
    let env = Message::text(text, Day(20_000))
        .seal(
            &Sealer::visitor(case, office.kem().public_key(), false),
            rng,
        )
        .unwrap();
    let opener = crate::seal::Opener::office(
        office,
        case.kem.public_key(),
        case.signing.public_key(),
        env.direction,
    )
    .unwrap();
    let (signature, body) = opener.open_signed(&env).unwrap();
    Item::Message {
        seq: 1,
        direction: env.direction,
        body: body.to_vec(),
        signature,
    }
}

fn world() -> World {
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let third = Identity::generate(rng);
    let case = Codename::generate(rng).derive(&office.fingerprint());
    let draft = Proposal {
        v: 2,
        id: HandoffId::random(rng),
        drafted_by: Party::Office,
        case: CaseRef {
            mailbox: case.mailbox,
            signing_key: case.signing.public_key().to_bytes(),
            kem_key: case.kem.public_key().to_bytes(),
        },
        office: OfficeRef {
            id: "ombuds-office".parse().unwrap(),
            signing_key: office.signing().public_key().to_bytes(),
            kem_key: office.kem().public_key().to_bytes(),
        },
        third_party: card(&third),
        purpose: "resolve the lab schedule".into(),
        items: vec![
            disclosed(&case, &office, "the lab schedule excludes me"),
            Item::text("a summary for the department head"),
        ],
        identity_included: true,
        identity: None,
        expires: Day(30_000),
    };
    World {
        case,
        office,
        third,
        draft,
    }
}

/// The visitor's consent with `identity`: the package, the visitor's share and the consented
/// proposal's bytes.
fn consent(w: &World, identity: Option<&str>) -> (Package, KeyShare, Vec<u8>, [u8; 64]) {
    let rng = &mut rand::rng();
    let opening = identity.map(|t| IdentityOpening::new(t, rng));
    let consented = w.draft.consented(opening.as_ref()).unwrap();
    let bytes = consented.to_json();
    let sig = Proposal::approve(&bytes, Party::Visitor, &w.case.signing);
    let disclosure = Disclosure {
        v: 2,
        proposal: bytes.clone(),
        consent: sig,
        identity: opening,
    };
    let (package, k_v) =
        Package::seal(&disclosure, &w.draft.id, &w.office.kem().public_key(), rng).unwrap();
    let share = KeyShare::seal(
        &k_v,
        &w.draft.id,
        Party::Visitor,
        &w.case.kem,
        &w.third.kem().public_key(),
        rng,
    )
    .unwrap();
    (package, share, bytes, sig)
}

#[test]
fn the_third_party_opens_with_both_shares_and_sees_the_identity() {
    // Arrange
    let w = world();
    let rng = &mut rand::rng();
    let (package, visitor_share, bytes, _) = consent(&w, Some("Jane Roe, lab 4"));
    let k_o = package.office_key(&w.draft.id, w.office.kem()).unwrap();
    let office_share = KeyShare::seal(
        &k_o,
        &w.draft.id,
        Party::Office,
        w.office.kem(),
        &w.third.kem().public_key(),
        rng,
    )
    .unwrap();
    let agreement = Proposal::approve(&bytes, Party::Office, w.office.signing());

    // Act
    let id = &w.draft.id;
    let k_v = visitor_share
        .open(id, w.third.kem(), &w.case.kem.public_key())
        .unwrap();
    let k_o2 = office_share
        .open(id, w.third.kem(), &w.office.kem().public_key())
        .unwrap();
    let disclosure = package.open(id, &k_v, &k_o2).unwrap();
    let own = w.third.signing().public_key().to_bytes();
    let proposal = disclosure.verify(id, &own, &agreement).unwrap();

    // Assert
    assert_eq!(
        disclosure.identity.as_ref().unwrap().text,
        "Jane Roe, lab 4"
    );
    assert!(proposal.is_consent_of(&w.draft));
    assert_eq!(proposal.items, w.draft.items);
}

#[test]
fn one_share_alone_does_not_open_the_package() {
    let w = world();
    let (package, visitor_share, _, _) = consent(&w, None);
    let id = &w.draft.id;
    let k_v = visitor_share
        .open(id, w.third.kem(), &w.case.kem.public_key())
        .unwrap();
    // Without the office's half, any guess of it fails; the visitor's half twice fails too.
    assert!(package.open(id, &k_v, &[0; 32]).is_err());
    assert!(package.open(id, &k_v, &k_v).is_err());
    // Another key cannot recover the office's half.
    let other = KemSecretKey::generate(&mut rand::rng());
    let wrong = package.office_key(id, &other).unwrap();
    assert!(package.open(id, &k_v, &wrong).is_err());
}

#[test]
fn the_office_sees_only_a_salted_commitment() {
    let w = world();
    let rng = &mut rand::rng();
    let a = IdentityOpening::new("Jane Roe", rng);
    let consented = w.draft.consented(Some(&a)).unwrap();
    let json = String::from_utf8(consented.to_json()).unwrap();
    assert!(!json.contains("Jane"));
    // The same name under another salt gives another commitment: guesses cannot be tested.
    let b = IdentityOpening::new("Jane Roe", rng);
    assert_ne!(a.commit(&w.draft.id), b.commit(&w.draft.id));
    assert!(a.opens(&w.draft.id, &a.commit(&w.draft.id)));
    assert!(!b.opens(&w.draft.id, &a.commit(&w.draft.id)));
}

#[test]
fn a_consent_without_the_identity_leaves_it_out() {
    let w = world();
    let consented = w.draft.consented(None).unwrap();
    assert!(!consented.identity_included && consented.identity.is_none());
    assert!(consented.is_consent_of(&w.draft));
}

#[test]
fn a_proposal_changed_after_consent_is_not_the_consented_one() {
    // Arrange
    let w = world();
    let (_, _, bytes, sig) = consent(&w, None);
    let mut changed = Proposal::from_json(&bytes).unwrap();
    changed.purpose.push_str(" and disciplinary action");

    // Act
    let changed_sha = Proposal::sha256(&changed.to_json());

    // Assert
    let case_key = w.case.signing.public_key();
    let sha = Proposal::sha256(&bytes);
    assert!(Proposal::verify_approval(&sha, Party::Visitor, &case_key, &sig).is_ok());
    assert!(Proposal::verify_approval(&changed_sha, Party::Visitor, &case_key, &sig).is_err());
    assert!(Proposal::verify_approval(&sha, Party::Office, &case_key, &sig).is_err());
    assert!(!changed.is_consent_of(&w.draft));
}

#[test]
fn a_consent_by_another_key_is_refused_by_the_third_party() {
    let w = world();
    let rng = &mut rand::rng();
    let (_, _, bytes, _) = consent(&w, None);
    let other = crate::SigningSecretKey::generate(rng);
    let disclosure = Disclosure {
        v: 2,
        proposal: bytes.clone(),
        consent: Proposal::approve(&bytes, Party::Visitor, &other),
        identity: None,
    };
    let agreement = Proposal::approve(&bytes, Party::Office, w.office.signing());
    let own = w.third.signing().public_key().to_bytes();
    assert!(disclosure.verify(&w.draft.id, &own, &agreement).is_err());
    // And another third party's key is refused even with genuine signatures.
    let mut genuine = disclosure.clone();
    genuine.consent = Proposal::approve(&bytes, Party::Visitor, &w.case.signing);
    assert!(genuine.verify(&w.draft.id, &own, &agreement).is_ok());
    assert!(genuine.verify(&w.draft.id, &[9; 32], &agreement).is_err());
}

#[test]
fn a_visitor_message_not_signed_by_the_case_key_is_refused() {
    // Arrange: the office fabricates a "visitor message" from a sham case's key.
    let w = world();
    let rng = &mut rand::rng();
    let sham = Codename::generate(rng).derive(&w.office.fingerprint());
    let mut p = w.draft.clone();
    p.items = vec![disclosed(&sham, &w.office, "words the visitor never wrote")];

    // Act
    let decoded = Proposal::from_json(&p.to_json());

    // Assert
    assert!(matches!(decoded, Err(Error::Handoff(_))));
}

#[test]
fn decoding_checks_hashes_identity_mailbox_and_version() {
    let w = world();
    let mut p = w.draft.clone();
    p.items[1] = Item::Text {
        text: "changed".into(),
        sha256: [0; 32],
    };
    assert!(Proposal::from_json(&p.to_json()).is_err());
    let mut p = w.draft.clone();
    p.identity_included = false;
    p.identity = Some(IdentityCommitment {
        commitment: [1; 32],
    });
    assert!(Proposal::from_json(&p.to_json()).is_err());
    let mut p = w.draft.clone();
    p.case.kem_key = [7; 32];
    assert!(Proposal::from_json(&p.to_json()).is_err());
    let v1 = String::from_utf8(w.draft.to_json())
        .unwrap()
        .replacen("\"v\":2", "\"v\":1", 1);
    assert!(matches!(
        Proposal::from_json(v1.as_bytes()),
        Err(Error::UnsupportedVersion { found: 1, .. })
    ));
    assert!(Proposal::from_json(&w.draft.to_json()).is_ok());
}

#[test]
fn notice_and_channel_keys_agree_between_office_and_third_party() {
    // Arrange
    let w = world();
    let rng = &mut rand::rng();
    let seed = NoticeSeed::of_office(w.office.kem(), &w.draft.id);
    let keys = (&w.case.kem.public_key(), &w.office.kem().public_key());
    let notice = Notice::seal(&w.draft.id, &seed, keys, &w.third.kem().public_key(), rng).unwrap();

    // Act
    let opened = notice.open(w.third.kem()).unwrap();

    // Assert
    assert_eq!(opened.id, w.draft.id);
    assert!(opened.case_kem == w.case.kem.public_key());
    assert!(opened.office_kem == w.office.kem().public_key());
    let (a, b) = (seed.keys(), opened.seed.keys());
    assert_eq!(a.channel, b.channel);
    assert_eq!(a.fetch.public_key(), b.fetch.public_key());
    assert_ne!(a.fetch.public_key(), a.channel_key.public_key());
    assert!(notice.open(w.office.kem()).is_none());
    // Another handoff gets an unrelated channel.
    let other = NoticeSeed::of_office(w.office.kem(), &HandoffId::random(rng)).keys();
    assert_ne!(other.channel, a.channel);
}

#[test]
fn revocation_verifies_only_for_its_party_key() {
    let w = world();
    let r = Revocation::sign(w.draft.id, Party::Office, w.office.signing());
    assert!(r.verify(&w.office.signing().public_key()).is_ok());
    assert!(r.verify(&w.case.signing.public_key()).is_err());
    let mut other_party = r.clone();
    other_party.by = Party::Visitor;
    assert!(
        other_party
            .verify(&w.office.signing().public_key())
            .is_err()
    );
}
