//! `handoff.json`: consented handoff proposals of version 2 with the visitor's consent, the
//! ombuds' agreement and the opening of the identity commitment, genuine and tampered in each way
//! a third party's client or the relay must notice (`docs/protocol.md` §10). Signatures are
//! Ed25519, so every value here is reproducible from the group's keys.

use candor_protocol::card::{THIRD_PARTY_CARD_VERSION, ThirdPartyCard};
use candor_protocol::handoff::{
    CaseRef, HANDOFF_VERSION, IdentityOpening, Item, OfficeRef, Party, Proposal, Revocation,
};
use candor_protocol::seal::{Opener, Sealer};
use candor_protocol::{CaseKeys, Day, Error, HandoffId, Identity, Message, SigningSecretKey};
use serde_json::json;

use super::fixtures::{self, RELAY, b64, hex, keys_of};
use super::format::{Case, Group, VectorFile};

pub fn file() -> VectorFile {
    let office = fixtures::office();
    let third = fixtures::identity("third-party");
    let case = fixtures::codename().derive(&office.fingerprint());
    let opening = opening();
    let draft = draft_for(&office, &third, &case);
    let consented = draft.consented(Some(&opening)).unwrap();
    let mut group = Group::new("HandoffProposalTest")
        .with("office", keys_of(&office))
        .with("thirdParty", keys_of(&third))
        .with("codename", fixtures::codename().words().as_str())
        .with(
            "case",
            json!({
                "signingPublicKey": hex(&case.signing.public_key().to_bytes()),
                "kemPublicKey": hex(&case.kem.public_key().to_bytes()),
                "mailboxId": b64(case.mailbox.as_bytes()),
            }),
        )
        .with("draft", text(&draft.to_json()));
    for built in cases(&office, &case, &draft, &consented, &opening) {
        group = group.case(check(built, &office, &case));
    }
    VectorFile::new(
        "handoff.json",
        "candor-handoff-v2",
        &[
            "The group's office keys and codename (its case keys, as in codename.json) are the \
             two parties; `thirdParty` is the recipient named by the proposal's card. `draft` is \
             the office's draft, asking for the identity.",
            "`proposal` is the consented proposal's exact bytes. `sha256` is SHA-256 of them. \
             `consent` is Ed25519 by the case key over \"candor/v1/handoff-consent\" || sha256; \
             `agreement` is Ed25519 by the office key over \"candor/v1/handoff-agreement\" || \
             sha256.",
            "Verify as a third party does (docs/protocol.md section 10): parse the proposal \
             (version, purpose, items with their hashes and author signatures, the case's \
             mailbox ID certifying its keys, the card); its case and office keys are the \
             group's; both signatures verify; `identityOpening` {salt, text} opens the \
             commitment SHA-256(\"candor/v2/handoff-identity\" || handoff id || salt || text).",
            "A RevocationTest case's `revocation` is {id, by, signature}: verify the signature, \
             Ed25519 over \"candor/v1/handoff-revocation\" || id (16 bytes) || party byte \
             (visitor 1, office 2), under the case key when `by` is visitor and the office key \
             when it is office.",
        ],
    )
    .note(
        "WithoutIdentity",
        "The visitor consented without the identity: no commitment and no opening.",
    )
    .note(
        "ModifiedAfterConsent",
        "The purpose changed after both signed.",
    )
    .note(
        "WrongConsentKey",
        "The consent is signed by another key than the case key.",
    )
    .note(
        "WrongAgreementKey",
        "The agreement is signed by another key than the office key.",
    )
    .note(
        "SwappedLabels",
        "The office signed its agreement under the consent's label.",
    )
    .note("WrongOpening", "The identity's opening has another salt.")
    .note("ItemHash", "A text item's hash does not match its text.")
    .note(
        "ForgedVisitorMessage",
        "A disclosed visitor message is signed by another key than the case key.",
    )
    .note(
        "CommitmentWithoutFlag",
        "An identity commitment with identity_included false.",
    )
    .note(
        "OtherCase",
        "A self-consistent proposal of another case than the group's.",
    )
    .note(
        "OldVersion",
        "Handoff version 1, whose identity was plaintext.",
    )
    .note("UnknownField", "A field the format does not have.")
    .note(
        "RevokedByOffice",
        "The office revokes, with the office key.",
    )
    .note(
        "WrongRevocationKey",
        "Signed by another key than the revoking party's.",
    )
    .note("ModifiedParty", "The revoking party changed after signing.")
    .note("ModifiedId", "The handoff ID changed after signing.")
    .group(group)
    .group(revocations(&office, &case, &draft.id))
}

/// `RevocationTest`: a revocation verifies under the key of the party named in its `by`
/// (the case key for `visitor`, the office key for `office`).
fn revocations(office: &Identity, case: &CaseKeys, id: &HandoffId) -> Group {
    let impostor = fixtures::impostor();
    let wire = |r: &Revocation| serde_json::to_string(r).unwrap();
    let mut by_office = Revocation::sign(*id, Party::Visitor, &case.signing);
    by_office.by = Party::Office;
    let mut other_id = Revocation::sign(*id, Party::Visitor, &case.signing);
    other_id.id = HandoffId::from_bytes(fixtures::bytes16("handoff/other-id"));
    let genuine = wire(&Revocation::sign(*id, Party::Visitor, &case.signing));
    let cases = [
        (Case::valid("the visitor revokes"), genuine.clone()),
        (
            Case::valid("the office revokes").flag("RevokedByOffice"),
            wire(&Revocation::sign(*id, Party::Office, office.signing())),
        ),
        (
            Case::invalid(
                "the visitor's revocation signed by another key",
                "WrongRevocationKey",
            ),
            wire(&Revocation::sign(*id, Party::Visitor, impostor.signing())),
        ),
        (
            Case::invalid(
                "the visitor's signature, claimed by the office",
                "ModifiedParty",
            ),
            wire(&by_office),
        ),
        (
            Case::invalid("another handoff ID", "ModifiedId"),
            wire(&other_id),
        ),
        (
            Case::invalid("an extra field", "UnknownField"),
            genuine.replacen('{', "{\"reason\":\"none\",", 1),
        ),
    ];
    let mut group = Group::new("RevocationTest")
        .with("office", keys_of(office))
        .with("codename", fixtures::codename().words().as_str());
    for (test, revocation) in cases {
        let verified =
            candor_protocol::encoding::from_json::<Revocation>("revocation", revocation.as_bytes())
                .and_then(|r| match r.by {
                    Party::Visitor => r.verify(&case.signing.public_key()),
                    Party::Office => r.verify(&office.signing().public_key()),
                });
        assert_eq!(verified.is_ok(), test.is_valid(), "{verified:?}");
        group = group.case(test.with("revocation", revocation));
    }
    group
}

/// One case as built: its proposal bytes, signatures and opening.
struct Built {
    test: Case,
    proposal: Vec<u8>,
    consent: [u8; 64],
    agreement: [u8; 64],
    opening: Option<IdentityOpening>,
}

fn cases(
    office: &Identity,
    case: &CaseKeys,
    draft: &Proposal,
    consented: &Proposal,
    opening: &IdentityOpening,
) -> Vec<Built> {
    let signed = |test: Case, p: &[u8], opening: Option<&IdentityOpening>| Built {
        test,
        proposal: p.to_vec(),
        consent: Proposal::approve(p, Party::Visitor, &case.signing),
        agreement: Proposal::approve(p, Party::Office, office.signing()),
        opening: opening.cloned(),
    };
    let genuine = consented.to_json();
    let mut out = vec![
        signed(
            Case::valid("consented with the identity"),
            &genuine,
            Some(opening),
        ),
        signed(
            Case::valid("consented without the identity").flag("WithoutIdentity"),
            &draft.consented(None).unwrap().to_json(),
            None,
        ),
    ];
    let mut changed = consented.clone();
    changed.purpose = "dismiss the complaint".into();
    let mut after = signed(
        Case::invalid("the purpose changed after consent", "ModifiedAfterConsent"),
        &genuine,
        Some(opening),
    );
    after.proposal = changed.to_json();
    out.push(after);
    let impostor = fixtures::impostor();
    let mut wrong = signed(
        Case::invalid("consent by another key", "WrongConsentKey"),
        &genuine,
        Some(opening),
    );
    wrong.consent = Proposal::approve(&genuine, Party::Visitor, impostor.signing());
    out.push(wrong);
    let mut wrong = signed(
        Case::invalid("agreement by another key", "WrongAgreementKey"),
        &genuine,
        Some(opening),
    );
    wrong.agreement = Proposal::approve(&genuine, Party::Office, impostor.signing());
    out.push(wrong);
    let mut wrong = signed(
        Case::invalid("agreement under the consent label", "SwappedLabels"),
        &genuine,
        Some(opening),
    );
    wrong.agreement = Proposal::approve(&genuine, Party::Visitor, office.signing());
    out.push(wrong);
    let mut other_salt = opening.clone();
    other_salt.salt = fixtures::bytes32("handoff/identity/other-salt");
    out.push(signed(
        Case::invalid("the identity opened with another salt", "WrongOpening"),
        &genuine,
        Some(&other_salt),
    ));

    let mut edited = consented.clone();
    if let Item::Text { sha256, .. } = &mut edited.items[1] {
        sha256[0] ^= 0x01;
    }
    out.push(signed(
        Case::invalid("a text item's hash changed", "ItemHash"),
        &edited.to_json(),
        Some(opening),
    ));
    let mut edited = consented.clone();
    edited.items[0] = visitor_message(case, office, impostor.signing(), "forged");
    out.push(signed(
        Case::invalid(
            "a visitor message signed by another key",
            "ForgedVisitorMessage",
        ),
        &edited.to_json(),
        Some(opening),
    ));
    let mut edited = consented.clone();
    edited.identity_included = false;
    out.push(signed(
        Case::invalid(
            "a commitment without identity_included",
            "CommitmentWithoutFlag",
        ),
        &edited.to_json(),
        Some(opening),
    ));
    // Another case, whole and signed by its own key: it verifies by itself, but is not the
    // group's case, as a sham case an office could make would not be.
    let sham = fixtures::identity("sham-codename-source");
    let sham_case = candor_protocol::Codename::from_entropy(fixtures::bytes16("sham codename"))
        .derive(&office.fingerprint());
    let sham_draft = draft_for(office, &sham, &sham_case);
    let sham_bytes = sham_draft.consented(None).unwrap().to_json();
    out.push(Built {
        test: Case::invalid("a proposal of another case", "OtherCase"),
        consent: Proposal::approve(&sham_bytes, Party::Visitor, &sham_case.signing),
        agreement: Proposal::approve(&sham_bytes, Party::Office, office.signing()),
        proposal: sham_bytes,
        opening: None,
    });
    let text = String::from_utf8(genuine.clone()).unwrap();
    let version = format!("{{\"v\":{HANDOFF_VERSION},");
    for (comment, flag, edit) in [
        (
            "version 1",
            "OldVersion",
            text.replacen(&version, "{\"v\":1,", 1),
        ),
        (
            "an extra field",
            "UnknownField",
            text.replacen(&version, &format!("{version}\"released\":true,"), 1),
        ),
    ] {
        assert_ne!(edit, text);
        out.push(signed(
            Case::invalid(comment, flag),
            edit.as_bytes(),
            Some(opening),
        ));
    }
    out
}

/// Verifies the case as a third party would, and checks that the crate agrees with it.
fn check(built: Built, office: &Identity, case: &CaseKeys) -> Case {
    let sha = Proposal::sha256(&built.proposal);
    let verified = (|| -> Result<(), Error> {
        let p = Proposal::from_json(&built.proposal)?;
        if p.case_signing_key()? != case.signing.public_key()
            || p.office_signing_key()? != office.signing().public_key()
        {
            return Err(Error::Handoff("not the group's case or office"));
        }
        Proposal::verify_approval(&sha, Party::Visitor, &p.case_signing_key()?, &built.consent)?;
        Proposal::verify_approval(
            &sha,
            Party::Office,
            &p.office_signing_key()?,
            &built.agreement,
        )?;
        match (&p.identity, &built.opening) {
            (Some(c), Some(o)) if o.opens(&p.id, c) => Ok(()),
            (None, None) => Ok(()),
            _ => Err(Error::Handoff("the identity's opening does not open it")),
        }
    })();
    assert_eq!(verified.is_ok(), built.test.is_valid(), "{verified:?}");
    let mut test = built
        .test
        .with("proposal", text(&built.proposal))
        .with("sha256", hex(&sha))
        .with("consent", hex(&built.consent))
        .with("agreement", hex(&built.agreement));
    if let Some(o) = &built.opening {
        test = test.with(
            "identityOpening",
            json!({ "salt": hex(&o.salt), "text": o.text }),
        );
    }
    test
}

pub(super) fn opening() -> IdentityOpening {
    IdentityOpening {
        salt: fixtures::bytes32("handoff/identity/salt"),
        text: "Dana Reyes, postdoc, room 4.12".into(),
    }
}

pub(super) fn draft_for(office: &Identity, third: &Identity, case: &CaseKeys) -> Proposal {
    let card = ThirdPartyCard {
        v: THIRD_PARTY_CARD_VERSION.into(),
        name: "Head of Chemistry".into(),
        relay: RELAY.parse().unwrap(),
        mandatory_reporter: true,
        signing_key: third.signing().public_key().to_bytes(),
        kem_key: third.kem().public_key().to_bytes(),
    }
    .sign(third)
    .unwrap();
    Proposal {
        v: HANDOFF_VERSION.into(),
        id: HandoffId::from_bytes(fixtures::bytes16("handoff/id")),
        drafted_by: Party::Office,
        case: CaseRef {
            mailbox: case.mailbox,
            signing_key: case.signing.public_key().to_bytes(),
            kem_key: case.kem.public_key().to_bytes(),
        },
        office: OfficeRef {
            id: "ombuds".parse().unwrap(),
            signing_key: office.signing().public_key().to_bytes(),
            kem_key: office.kem().public_key().to_bytes(),
        },
        third_party: card,
        purpose: "an informal talk about the lab's night-shift schedule".into(),
        items: vec![
            visitor_message(case, office, &case.signing, "genuine"),
            Item::text("The visitor reports being left off the night-shift rota since May."),
        ],
        identity_included: true,
        identity: None,
        expires: Day::from_unix(fixtures::NOW).plus(30),
    }
}

/// A visitor message of the case, sealed from fixed inputs and signed by `author`.
fn visitor_message(
    case: &CaseKeys,
    office: &Identity,
    author: &SigningSecretKey,
    name: &str,
) -> Item {
    let body = candor_protocol::encoding::to_json(&Message::text(
        "The lab schedule keeps excluding me from the night shifts.",
        Day::from_unix(fixtures::NOW),
    ));
    let mut sealer = Sealer::visitor(case, office.kem().public_key(), false);
    sealer.author = author;
    let env = sealer
        .seal_deterministic(
            &body,
            &fixtures::bytes32(&format!("handoff/{name}/content-key")),
            &[
                fixtures::bytes32(&format!("handoff/{name}/ikmE/other")),
                fixtures::bytes32(&format!("handoff/{name}/ikmE/own")),
            ],
        )
        .unwrap();
    // The opener checks the signature under the key it is given: the author's, forged or not.
    let opener = Opener::office(
        office,
        case.kem.public_key(),
        author.public_key(),
        env.direction,
    )
    .unwrap();
    let (signature, opened) = opener.open_signed(&env).unwrap();
    assert_eq!(opened.to_vec(), body);
    Item::Message {
        seq: 1,
        direction: env.direction,
        body,
        signature,
    }
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}
