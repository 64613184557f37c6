//! `envelope.json`: sealed envelopes of version 2 with both stanzas and the author's signature,
//! sealed from given content keys and HPKE `ikmE` so that an implementation can reproduce them
//! byte for byte, then tampered field by field (`docs/protocol.md` §5 and §6).

use candor_protocol::envelope::{Direction, ENVELOPE_VERSION};
use candor_protocol::seal::{Opener, Sealer};
use candor_protocol::{
    CaseKeys, Day, Envelope, Error, Identity, KemPublicKey, KemSecretKey, MailboxId, Message,
    SigningSecretKey, encoding,
};
use hkdf::Hkdf;
use serde_json::{Value, json};
use sha2::Sha256;

use super::fixtures::{self, b64, hex, keys_of};
use super::format::{Case, Group, VectorFile};

/// Who opens an envelope in a case.
#[derive(Clone, Copy)]
enum Side {
    Office,
    Visitor,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Office => "office",
            Side::Visitor => "visitor",
        }
    }
}

/// What was sealed, from which inputs.
struct Sealed {
    inputs: Value,
    body: Vec<u8>,
    envelope: Envelope,
}

pub fn file() -> VectorFile {
    let office = fixtures::office();
    let codename = fixtures::codename();
    let case = codename.derive(&office.fingerprint());
    let mut group = Group::new("EnvelopeTest")
        .with("office", keys_of(&office))
        .with("codename", codename.words().as_str())
        .with(
            "case",
            json!({
                "kemPublicKey": hex(&case.kem.public_key().to_bytes()),
                "signingPublicKey": hex(&case.signing.public_key().to_bytes()),
                "mailboxId": b64(case.mailbox.as_bytes()),
            }),
        );
    for (test, side, envelope) in cases(&office, &case) {
        group = group.case(check(test, side, &envelope, &office, &case));
    }
    VectorFile::new(
        "envelope.json",
        "candor-envelope-v2",
        &[
            "The group's office keys and codename (its case keys and mailbox, as in \
             codename.json) are both sides of one case.",
            "A case with `seal` was sealed by its sender from `seal.body`, `seal.contentKey` \
             and `seal.ikmE` (RFC 9180 ikmE: the first for the other party's stanza, the second \
             for the sender's own); sealing the same inputs gives `envelope` byte for byte. \
             `payloadKey` and `framedLength` are intermediate values to debug with.",
            "Open `envelope` as `opener` (docs/protocol.md section 6): a to-office envelope as \
             the office from the first stanza, as the visitor from the second; a to-visitor \
             envelope the other way round. A valid case opens to `body`.",
        ],
    )
    .note("OwnCopy", "Opened by the sender's side from the second stanza.")
    .note("NoCopy", "The sender kept no copy: the second stanza wraps the all-zero throwaway key, and there is nothing for the sender's side to open.")
    .note("ModifiedMailbox", "The mailbox ID changed.")
    .note("ModifiedDirection", "The direction changed.")
    .note("ModifiedStanza", "A bit of a stanza's encapsulated key or wrapped key changed.")
    .note("SwappedStanzas", "The two stanzas change places.")
    .note("ModifiedCommit", "A bit of the key commitment changed.")
    .note("ModifiedCiphertext", "A bit of the payload ciphertext or its tag changed.")
    .note("NotPadded", "The ciphertext's length is not a Padme bucket plus the tag.")
    .note("OldVersion", "Envelope version 1.")
    .note("UnknownVersion", "An envelope version this client does not know.")
    .note("UnknownField", "A field the format does not have.")
    .note("StanzaCount", "One stanza instead of two.")
    .note("NonCanonicalBase64", "Base64url whose unused trailing bits are not zero.")
    .note("WrongRecipient", "Sealed to another KEM key than the opener's.")
    .note("WrongSenderKey", "HPKE auth mode with another sender KEM key than the case's.")
    .note("WrongAuthor", "Signed by another key than the author's.")
    .note("ReencryptedPayload", "A payload encrypted under the genuine content key, for other text, beside the genuine stanzas: a recipient who knows the content key cannot reuse the other stanza.")
    .group(group)
}

fn cases(office: &Identity, case: &CaseKeys) -> Vec<(Case, Side, Value)> {
    let to_office = seal(
        &Sealer::visitor(case, office.kem().public_key(), true),
        "to-office",
    );
    let reply = seal(
        &Sealer::office(office, case.kem.public_key(), case.mailbox),
        "to-visitor",
    );
    let no_copy = seal(
        &Sealer::visitor(case, office.kem().public_key(), false),
        "no-copy",
    );
    let with_seal = |test: Case, sealed: &Sealed| {
        test.with("seal", sealed.inputs.clone())
            .with("body", String::from_utf8(sealed.body.clone()).unwrap())
    };
    let mut out = vec![
        (
            with_seal(
                Case::valid("the visitor's message, opened by the office"),
                &to_office,
            ),
            Side::Office,
            wire(&to_office.envelope),
        ),
        (
            with_seal(
                Case::valid("the visitor's message, opened by the visitor").flag("OwnCopy"),
                &to_office,
            ),
            Side::Visitor,
            wire(&to_office.envelope),
        ),
        (
            with_seal(
                Case::valid("the office's reply, opened by the visitor"),
                &reply,
            ),
            Side::Visitor,
            wire(&reply.envelope),
        ),
        (
            with_seal(
                Case::valid("the office's reply, opened by the office").flag("OwnCopy"),
                &reply,
            ),
            Side::Office,
            wire(&reply.envelope),
        ),
        (
            with_seal(
                Case::valid("a message without a copy, opened by the office").flag("NoCopy"),
                &no_copy,
            ),
            Side::Office,
            wire(&no_copy.envelope),
        ),
        (
            Case::invalid("a message without a copy, opened by the visitor", "NoCopy"),
            Side::Visitor,
            wire(&no_copy.envelope),
        ),
    ];
    let genuine = &to_office.envelope;
    let tamper = |comment: &str, flag: &'static str, edit: &dyn Fn(&mut Envelope)| {
        let mut e = genuine.clone();
        edit(&mut e);
        (Case::invalid(comment, flag), Side::Office, wire(&e))
    };
    out.push(tamper("another mailbox", "ModifiedMailbox", &|e| {
        e.mailbox = MailboxId::from_bytes(fixtures::bytes16("another mailbox"));
    }));
    out.push(tamper(
        "to-visitor instead of to-office",
        "ModifiedDirection",
        &|e| {
            e.direction = Direction::ToVisitor;
        },
    ));
    out.push(tamper(
        "a bit of the first stanza's enc",
        "ModifiedStanza",
        &|e| {
            e.stanzas[0].enc[5] ^= 0x04;
        },
    ));
    out.push(tamper(
        "a bit of the first stanza's wrapped key",
        "ModifiedStanza",
        &|e| {
            e.stanzas[0].key[10] ^= 0x01;
        },
    ));
    out.push(tamper("the stanzas swapped", "SwappedStanzas", &|e| {
        e.stanzas.swap(0, 1);
    }));
    out.push(tamper("a bit of the commitment", "ModifiedCommit", &|e| {
        e.commit[0] ^= 0x80;
    }));
    out.push(tamper(
        "a bit of the ciphertext",
        "ModifiedCiphertext",
        &|e| {
            e.ct[100] ^= 0x10;
        },
    ));
    out.push(tamper("a bit of the tag", "ModifiedCiphertext", &|e| {
        let last = e.ct.len() - 1;
        e.ct[last] ^= 0x01;
    }));
    out.push(tamper("the ciphertext one byte short", "NotPadded", &|e| {
        e.ct.pop();
    }));
    let text = String::from_utf8(genuine.to_json()).unwrap();
    let version = format!("{{\"v\":{ENVELOPE_VERSION},");
    let edit = |comment: &str, flag: &'static str, json: String| {
        assert_ne!(json, text);
        (
            Case::invalid(comment, flag),
            Side::Office,
            Value::from(json),
        )
    };
    out.push(edit(
        "version 1",
        "OldVersion",
        text.replacen(&version, "{\"v\":1,", 1),
    ));
    out.push(edit(
        "version 3",
        "UnknownVersion",
        text.replacen(&version, "{\"v\":3,", 1),
    ));
    out.push(edit(
        "an extra field",
        "UnknownField",
        text.replacen(&version, &format!("{version}\"sender\":\"office\","), 1),
    ));
    let second = format!(",{}", serde_json::to_string(&genuine.stanzas[1]).unwrap());
    out.push(edit(
        "one stanza",
        "StanzaCount",
        text.replacen(&second, "", 1),
    ));
    let commit = encoding::b64(&genuine.commit);
    out.push(edit(
        "the commitment's last character with trailing bits set",
        "NonCanonicalBase64",
        text.replacen(&commit, &non_canonical(&commit), 1),
    ));

    let impostor = fixtures::impostor();
    let body = body();
    let custom =
        |recipient: KemPublicKey, sender: &KemSecretKey, author: &SigningSecretKey, name: &str| {
            Sealer {
                sender,
                recipient,
                own: case.kem.public_key(),
                keep_copy: true,
                author,
                mailbox: case.mailbox,
                direction: Direction::ToOffice,
            }
            .seal_deterministic(
                &body,
                &fixtures::bytes32(&format!("envelope/{name}/content-key")),
                &ikm(name),
            )
            .unwrap()
        };
    out.push((
        Case::invalid("sealed to another office's KEM key", "WrongRecipient"),
        Side::Office,
        wire(&custom(
            impostor.kem().public_key(),
            &case.kem,
            &case.signing,
            "wrong-recipient",
        )),
    ));
    out.push((
        Case::invalid(
            "sealed from another KEM key, signed by the case key",
            "WrongSenderKey",
        ),
        Side::Office,
        wire(&custom(
            office.kem().public_key(),
            impostor.kem(),
            &case.signing,
            "wrong-sender",
        )),
    ));
    out.push((
        Case::invalid("signed by another key", "WrongAuthor"),
        Side::Office,
        wire(&custom(
            office.kem().public_key(),
            &case.kem,
            impostor.signing(),
            "wrong-author",
        )),
    ));
    // The office, which knows the content key, encrypts other text under it and keeps the
    // visitor's genuine stanzas: the same content key and commitment, another payload.
    let other = Message::text("I withdraw my concern.", day());
    let forged = Sealer::visitor(case, office.kem().public_key(), true)
        .seal_deterministic(
            &encoding::to_json(&other),
            &fixtures::bytes32("envelope/to-office/content-key"),
            &ikm("reencrypted"),
        )
        .unwrap();
    let mut spliced = genuine.clone();
    assert_eq!(forged.commit, spliced.commit);
    spliced.ct = forged.ct;
    out.push((
        Case::invalid(
            "other text under the genuine content key and stanzas",
            "ReencryptedPayload",
        ),
        Side::Visitor,
        wire(&spliced),
    ));
    out
}

/// Opens the envelope as the case says, and checks that the crate agrees with the case.
fn check(test: Case, side: Side, envelope: &Value, office: &Identity, case: &CaseKeys) -> Case {
    let opened = Envelope::from_json(envelope.as_str().unwrap().as_bytes()).and_then(|e| {
        let opener = match side {
            Side::Office => Opener::office(
                office,
                case.kem.public_key(),
                case.signing.public_key(),
                e.direction,
            ),
            Side::Visitor => Opener::visitor(
                case,
                office.kem().public_key(),
                office.signing().public_key(),
                e.direction,
            ),
        }
        .ok_or(Error::DecryptionFailed)?;
        opener.open(&e).map(|b| b.to_vec())
    });
    assert_eq!(opened.is_ok(), test.is_valid(), "{opened:?}");
    test.with("opener", side.name())
        .with("envelope", envelope.clone())
}

fn seal(sealer: &Sealer<'_>, name: &str) -> Sealed {
    let body = body();
    let content_key = fixtures::bytes32(&format!("envelope/{name}/content-key"));
    let ikm_e = ikm(name);
    let envelope = sealer
        .seal_deterministic(&body, &content_key, &ikm_e)
        .unwrap();
    let mut payload_key = [0u8; 32];
    Hkdf::<Sha256>::new(None, &content_key)
        .expand(candor_protocol::labels::PAYLOAD_KEY, &mut payload_key)
        .unwrap();
    let inputs = json!({
        "direction": sealer.direction.name(),
        "keepCopy": sealer.keep_copy,
        "body": String::from_utf8(body.clone()).unwrap(),
        "contentKey": hex(&content_key),
        "ikmE": [hex(&ikm_e[0]), hex(&ikm_e[1])],
        "payloadKey": hex(&payload_key),
        "framedLength": candor_protocol::padding::padded_len(64 + body.len()),
    });
    Sealed {
        inputs,
        body,
        envelope,
    }
}

fn ikm(name: &str) -> [[u8; 32]; 2] {
    [
        fixtures::bytes32(&format!("envelope/{name}/ikmE/other")),
        fixtures::bytes32(&format!("envelope/{name}/ikmE/own")),
    ]
}

fn day() -> Day {
    Day::from_unix(fixtures::NOW)
}

fn body() -> Vec<u8> {
    encoding::to_json(&Message::text(
        "The lab schedule keeps excluding me from the night shifts.",
        day(),
    ))
}

fn wire(envelope: &Envelope) -> Value {
    Value::from(String::from_utf8(envelope.to_json()).unwrap())
}

/// The same base64url text with the last character's unused low bits set (32 bytes leave two).
fn non_canonical(b64: &str) -> String {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = b64.chars().last().unwrap();
    let value = ALPHABET.find(last).unwrap();
    let changed = ALPHABET.as_bytes()[value ^ 0b01] as char;
    format!("{}{changed}", &b64[..b64.len() - 1])
}
