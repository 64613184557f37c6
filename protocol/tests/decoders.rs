//! Property tests for every decoder the fuzz targets cover (`fuzz/`), inside `cargo test`:
//! arbitrary bytes and single-byte mutations of valid encodings never panic, and forged
//! signatures, MACs and ciphertexts never verify.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use candor_protocol::card::{OfficeCard, Policy};
use candor_protocol::handoff::{Disclosure, Notice, Package, Proposal, Revocation};
use candor_protocol::pow::{Challenge, PowKey, Solution};
use candor_protocol::request::HEADERS;
use candor_protocol::seal::{Opener, Role, Sealer};
use candor_protocol::{
    Codename, Day, Envelope, Identity, KemSecretKey, Message, OfficeAddress, RequestAuth,
    SignedCard, Signer, SigningSecretKey,
};
use proptest::prelude::*;

struct Valid {
    envelope: Vec<u8>,
    card: Vec<u8>,
    address: String,
    codename: String,
    solution: Vec<u8>,
}

fn valid() -> Valid {
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let card = OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial: 1,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: "ombuds".parse().unwrap(),
        name: "Office".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        signing_key: office.signing().public_key().to_bytes(),
        kem_key: office.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "c".into(),
            exception: "e".into(),
            not_notice: "n".into(),
            retention: "r".into(),
        },
        retention_days: 90,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    };
    let codename = Codename::from_entropy([1; 16]);
    let case = codename.derive(&office.fingerprint());
    let envelope = Message::text("hi", Day(1))
        .seal(
            &Sealer::visitor(&case, office.kem().public_key(), true),
            rng,
        )
        .unwrap()
        .to_json();
    let pow_key = PowKey::from_bytes([8; 32]);
    let solution = Challenge::issue(&pow_key, 2, 100, 600, rng).solve(b"m");
    Valid {
        envelope,
        card: card.sign(&office).unwrap().to_json(),
        address: card.address().unwrap().to_string(),
        codename: codename.words().to_string(),
        solution: serde_json::to_vec(&solution).unwrap(),
    }
}

fn mutate(mut bytes: Vec<u8>, at: usize, value: u8) -> Vec<u8> {
    if !bytes.is_empty() {
        let i = at % bytes.len();
        bytes[i] = value;
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn envelope_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048), at in any::<usize>(), value in any::<u8>()) {
        let v = valid();
        let recipient = KemSecretKey::from_bytes(&[7; 32]);
        let sender = KemSecretKey::from_bytes(&[9; 32]).public_key();
        let author = SigningSecretKey::from_seed(&[3; 32]).public_key();
        for input in [bytes, mutate(v.envelope.clone(), at, value)] {
            if let Ok(env) = Envelope::from_json(&input) {
                prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env.clone());
                // Not sealed to these keys: must fail, and opaquely.
                for role in [Role::Other, Role::Own] {
                    let opener = Opener { recipient: &recipient, role, sender: sender.clone(), author };
                    prop_assert!(opener.open(&env).is_err());
                }
            }
        }
    }

    #[test]
    fn card_and_address_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..2048), at in any::<usize>(), value in any::<u8>()) {
        let v = valid();
        let original = SignedCard::from_json(&v.card).unwrap().verify_office().unwrap();
        let mutated = mutate(v.card.clone(), at, value);
        for input in [bytes.clone(), mutated.clone()] {
            if let Ok(card) = SignedCard::from_json(&input) {
                // A mutated card verifies only if the mutation did not change the signed bytes.
                if let Ok(c) = card.verify_office() {
                    prop_assert_eq!(c, original.clone());
                }
                let _ = card.verify_third_party();
            }
        }
        let text = String::from_utf8_lossy(&mutate(v.address.clone().into_bytes(), at, value)).into_owned();
        if let Ok(a) = text.parse::<OfficeAddress>() {
            prop_assert_eq!(a.to_string().parse::<OfficeAddress>().unwrap(), a);
        }
        let _ = String::from_utf8_lossy(&bytes).parse::<OfficeAddress>();
    }

    #[test]
    fn codename_decoder(text in "\\PC{0,200}", at in any::<usize>(), value in any::<u8>()) {
        let v = valid();
        let mutated = String::from_utf8_lossy(&mutate(v.codename.clone().into_bytes(), at, value)).into_owned();
        for input in [text, mutated] {
            if let Ok(c) = input.parse::<Codename>() {
                prop_assert_eq!(c.words().parse::<Codename>().unwrap().words(), c.words());
            }
        }
    }

    #[test]
    fn request_signature_decoder(values in proptest::collection::vec("\\PC{0,100}", 4), body in any::<Vec<u8>>()) {
        let get = |name: &str| HEADERS.iter().position(|h| *h == name).map(|i| values[i].as_str());
        if let Ok(auth) = RequestAuth::from_headers(get) {
            let key = SigningSecretKey::from_seed(&[3; 32]).public_key();
            prop_assert!(auth.verify(&key, "POST", "/v1/x", &body, auth.timestamp, 120).is_err());
        }
        // A genuine signature over one body never verifies over another.
        let signer = SigningSecretKey::from_seed(&[4; 32]);
        let auth = RequestAuth::sign(&signer, Signer::Case, "POST", "/v1/x", b"original", 10, &mut rand::rng());
        if body != b"original" {
            prop_assert!(auth.verify(&signer.public_key(), "POST", "/v1/x", &body, 10, 120).is_err());
        }
    }

    #[test]
    fn handoff_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(p) = Proposal::from_json(&bytes) {
            prop_assert_eq!(Proposal::from_json(&p.to_json()).unwrap(), p);
        }
        if let Ok(r) = serde_json::from_slice::<Revocation>(&bytes) {
            prop_assert!(r.verify(&SigningSecretKey::from_seed(&[5; 32]).public_key()).is_err());
        }
        let id = candor_protocol::HandoffId::from_bytes([1; 16]);
        if let Ok(p) = serde_json::from_slice::<Package>(&bytes) {
            prop_assert!(p.open(&id, &[6; 32], &[7; 32]).is_err());
        }
        if let Ok(d) = serde_json::from_slice::<Disclosure>(&bytes) {
            prop_assert!(d.verify(&id, &[9; 32], &[0; 64]).is_err());
        }
        if let Ok(n) = serde_json::from_slice::<Notice>(&bytes) {
            prop_assert!(n.open(&KemSecretKey::from_bytes(&[2; 32])).is_none());
        }
    }

    #[test]
    fn pow_decoder(at in any::<usize>(), value in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let v = valid();
        let key = PowKey::from_bytes([8; 32]);
        let original: Solution = serde_json::from_slice(&v.solution).unwrap();
        prop_assert!(original.verify(&key, b"m", 100, 2).is_ok());
        for input in [bytes, mutate(v.solution.clone(), at, value)] {
            if let Ok(s) = serde_json::from_slice::<Solution>(&input) {
                // Anything that still verifies must be the issued challenge, unchanged.
                if s.verify(&key, b"m", 100, 2).is_ok() {
                    prop_assert_eq!(&s.challenge, &original.challenge);
                }
            }
            let _ = Challenge::from_json(&input);
        }
    }
}
