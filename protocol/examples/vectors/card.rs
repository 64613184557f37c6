//! `card.json`: the signed office card, genuine and tampered in every way a verifier must
//! notice (`docs/protocol.md` §3). Each tampered card is built from the genuine one by one
//! change, re-signed where the case is about the card and not the signature.

use candor_protocol::card::OfficeCard;
use candor_protocol::{Day, Error, Identity, SignedCard, encoding, labels};

use super::fixtures::{self, RELAY, keys_of};
use super::format::{Case, Group, VectorFile};

/// The order of the edwards25519 group, little-endian (RFC 8032 §5.1).
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

pub fn file() -> VectorFile {
    let office = fixtures::office();
    let card = fixtures::card(&office);
    let address = card.address().unwrap();
    let mut group = Group::new("OfficeCardTest")
        .with("office", keys_of(&office))
        .with("address", address.to_string())
        .with("now", fixtures::NOW);
    for (case, signed) in cases(&office, &card) {
        let verified = signed.verify_office_at(&address, fixtures::NOW);
        let case = match verified {
            Ok(ok) => {
                assert!(case.is_valid(), "{ok:?}");
                case.with("serial", ok.serial).with("id", ok.id.to_string())
            }
            Err(err) => {
                assert!(!case.is_valid(), "{err}");
                case
            }
        };
        group = group.case(case.with("signedCard", String::from_utf8(signed.to_json()).unwrap()));
    }
    let group = wire_cases(group);
    VectorFile::new(
        "card.json",
        "candor-office-card",
        &[
            "`signedCard` is the wire form {\"card\": base64url(card JSON), \"signature\": \
             base64url(64 bytes)}; the signature is Ed25519 over \"candor/v1/office-card\" || \
             card bytes, by the card's `signing_key`.",
            "Verify it against the group's `address` on the day of `now` (docs/protocol.md \
             section 3): fingerprint and office ID, signature (strict: canonical S, R not of \
             small order), every field rule, then the relay and the expiry.",
            "A valid case also gives the card's `serial` and `id`.",
        ],
    )
    .note(
        "EmptyLists",
        "No categories, constituencies or resources: still a valid card.",
    )
    .note("ModifiedCard", "The card's bytes changed after signing.")
    .note("ModifiedSignature", "The signature changed.")
    .note(
        "NonCanonicalS",
        "The signature's S is S + L, not reduced modulo the group order.",
    )
    .note(
        "SmallOrderR",
        "The signature's R is a point of small order.",
    )
    .note(
        "WrongLabel",
        "Signed under the third-party card's label, not the office card's.",
    )
    .note(
        "WrongKey",
        "Signed by another key than the card's `signing_key`.",
    )
    .note(
        "UnknownField",
        "The card carries a field the format does not have, validly signed.",
    )
    .note("MissingField", "The card lacks a field, validly signed.")
    .note("OldVersion", "A validly signed card of format version 1.")
    .note(
        "UnknownVersion",
        "A validly signed card of a format version this client does not know.",
    )
    .note(
        "FieldRule",
        "A validly signed card that breaks a field rule of docs/protocol.md section 3.",
    )
    .note("Expired", "A validly signed card past its `expires` day.")
    .note(
        "ValidTooLong",
        "A validly signed card that claims to stay valid more than 732 days ahead.",
    )
    .note(
        "FingerprintMismatch",
        "A genuine card of another identity, under the address's office ID.",
    )
    .note("TrailingData", "Bytes after the wire form's JSON object.")
    .note("SignatureLength", "A signature that is not 64 bytes.")
    .group(group)
}

fn cases(office: &Identity, card: &OfficeCard) -> Vec<(Case, SignedCard)> {
    let genuine = card.sign(office).unwrap();
    let text = String::from_utf8(genuine.card.clone()).unwrap();
    let resign = |bytes: String| sign_raw(office, labels::OFFICE_CARD, bytes.into_bytes());
    let edited = |edit: &dyn Fn(&mut OfficeCard)| {
        let mut c = card.clone();
        edit(&mut c);
        sign_raw(office, labels::OFFICE_CARD, encoding::to_json(&c))
    };
    let mut cases = vec![(Case::valid("the genuine card"), genuine.clone())];
    let mut empty = card.clone();
    empty.categories.clear();
    empty.constituencies.clear();
    empty.resources.clear();
    cases.push((
        Case::valid("a card with empty lists").flag("EmptyLists"),
        empty.sign(office).unwrap(),
    ));

    let mut modified = genuine.clone();
    modified.card = text.replace("serial\":7", "serial\":8").into_bytes();
    cases.push((
        Case::invalid("serial 7 changed to 8", "ModifiedCard"),
        modified,
    ));
    let mut modified = genuine.clone();
    modified.card = text
        .replace(RELAY, "https://relay.example.org/candor")
        .into_bytes();
    cases.push((Case::invalid("the relay changed", "ModifiedCard"), modified));
    let mut flipped = genuine.clone();
    flipped.signature[40] ^= 0x01;
    cases.push((
        Case::invalid("one bit of S flipped", "ModifiedSignature"),
        flipped,
    ));
    let mut flipped = genuine.clone();
    flipped.signature[3] ^= 0x80;
    cases.push((
        Case::invalid("one bit of R flipped", "ModifiedSignature"),
        flipped,
    ));
    let mut unreduced = genuine.clone();
    add_l(&mut unreduced.signature);
    cases.push((Case::invalid("S + L", "NonCanonicalS"), unreduced));
    let mut small = genuine.clone();
    small.signature[..32].copy_from_slice(&{
        let mut identity = [0u8; 32];
        identity[0] = 1;
        identity
    });
    cases.push((
        Case::invalid("R is the identity point", "SmallOrderR"),
        small,
    ));
    cases.push((
        Case::invalid("signed as a third-party card", "WrongLabel"),
        sign_raw(office, labels::THIRD_PARTY_CARD, genuine.card.clone()),
    ));
    cases.push((
        Case::invalid("signed by another key", "WrongKey"),
        sign_raw(
            &fixtures::impostor(),
            labels::OFFICE_CARD,
            genuine.card.clone(),
        ),
    ));
    cases.push((
        Case::invalid("an extra field \"admin\"", "UnknownField"),
        resign(text.replacen('{', "{\"admin\":true,", 1)),
    ));
    let outcomes = format!(
        "\"outcomes\":{},",
        serde_json::to_string(&card.outcomes).unwrap()
    );
    assert!(text.contains(&outcomes));
    cases.push((
        Case::invalid("no outcomes field", "MissingField"),
        resign(text.replace(&outcomes, "")),
    ));
    cases.push((
        Case::invalid("format version 1", "OldVersion"),
        resign(text.replacen("{\"v\":2,", "{\"v\":1,", 1)),
    ));
    cases.push((
        Case::invalid("format version 3", "UnknownVersion"),
        resign(text.replacen("{\"v\":2,", "{\"v\":3,", 1)),
    ));
    cases.push((
        Case::invalid("reply_within_days 0", "FieldRule"),
        edited(&|c| c.reply_within_days = 0),
    ));
    cases.push((
        Case::invalid("a category listed twice", "FieldRule"),
        edited(&|c| {
            let again = c.categories[0].clone();
            c.categories.push(again);
        }),
    ));
    cases.push((
        Case::invalid("an audience that is not a constituency", "FieldRule"),
        edited(&|c| c.resources[0].audience = vec!["alumni".parse().unwrap()]),
    ));
    cases.push((
        Case::invalid("serial 0", "FieldRule"),
        edited(&|c| c.serial = 0),
    ));
    cases.push((
        Case::invalid("a name that ends with a space", "FieldRule"),
        edited(&|c| c.name.push(' ')),
    ));
    cases.push((
        Case::invalid("an empty policy text", "FieldRule"),
        edited(&|c| c.policy.exception.clear()),
    ));
    cases.push((
        Case::invalid("a control character in the name", "FieldRule"),
        edited(&|c| c.name = "Ombuds\u{1b}[2J".into()),
    ));
    cases.push((
        Case::invalid("expired the day before now", "Expired"),
        edited(&|c| c.expires = Day(Day::from_unix(fixtures::NOW).0 - 1)),
    ));
    cases.push((
        Case::invalid("valid until 733 days after now", "ValidTooLong"),
        edited(&|c| c.expires = Day::from_unix(fixtures::NOW).plus(733)),
    ));
    let impostor = fixtures::impostor();
    cases.push((
        Case::invalid(
            "another office's genuine card with the same ID",
            "FingerprintMismatch",
        ),
        fixtures::card(&impostor).sign(&impostor).unwrap(),
    ));
    cases
}

fn sign_raw(identity: &Identity, label: &[u8], card: Vec<u8>) -> SignedCard {
    SignedCard {
        signature: identity.signing().sign(label, &card),
        card,
    }
}

/// `signature[32..] += L`: the same S modulo L, not reduced.
fn add_l(signature: &mut [u8; 64]) {
    let mut carry = 0u16;
    for (s, l) in signature[32..].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
}

/// Cases on the wire form itself, which never reaches the signature.
fn wire_cases(group: Group) -> Group {
    let office = fixtures::office();
    let genuine =
        String::from_utf8(fixtures::card(&office).sign(&office).unwrap().to_json()).unwrap();
    let short = {
        let signed = fixtures::card(&office).sign(&office).unwrap();
        format!(
            "{{\"card\":\"{}\",\"signature\":\"{}\"}}",
            encoding::b64(&signed.card),
            encoding::b64(&signed.signature[..63])
        )
    };
    let mut group = group;
    for (case, wire) in [
        (
            Case::invalid("a second object after the first", "TrailingData"),
            format!("{genuine}{{}}"),
        ),
        (
            Case::invalid("a 63-byte signature", "SignatureLength"),
            short,
        ),
    ] {
        assert!(matches!(
            SignedCard::from_json(wire.as_bytes()),
            Err(Error::Malformed { .. })
        ));
        group = group.case(case.with("signedCard", wire));
    }
    group
}
