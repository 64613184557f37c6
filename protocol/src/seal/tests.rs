//! The sealed-message construction: who can open which stanza, and what each party cannot
//! forge.

use proptest::prelude::*;

use super::*;
use crate::keys::Identity;
use crate::{CaseKeys, Codename};

struct Parties {
    case: CaseKeys,
    office: Identity,
}

fn parties() -> Parties {
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let case = Codename::generate(rng).derive(&office.fingerprint());
    Parties { case, office }
}

/// A visitor's message, with or without the visitor's own copy.
fn from_visitor(p: &Parties, body: &[u8], keep_copy: bool) -> Envelope {
    Sealer::visitor(&p.case, p.office.kem().public_key(), keep_copy)
        .seal(body, &mut rand::rng())
        .unwrap()
}

fn from_office(p: &Parties, body: &[u8]) -> Envelope {
    Sealer::office(&p.office, p.case.kem.public_key(), p.case.mailbox)
        .seal(body, &mut rand::rng())
        .unwrap()
}

fn office_opens(p: &Parties, env: &Envelope) -> Result<Zeroizing<Vec<u8>>, Error> {
    Opener::office(
        &p.office,
        p.case.kem.public_key(),
        p.case.signing.public_key(),
        Direction::ToOffice,
    )
    .unwrap()
    .open(env)
}

fn visitor_rereads(p: &Parties, env: &Envelope) -> Result<Zeroizing<Vec<u8>>, Error> {
    match visitor_opens_own(p, env)? {
        Opened::Body(body) => Ok(body),
        Opened::NotKept => Err(Error::DecryptionFailed),
    }
}

fn visitor_opens_own(p: &Parties, env: &Envelope) -> Result<Opened, Error> {
    Opener::visitor(
        &p.case,
        p.office.kem().public_key(),
        p.office.signing().public_key(),
        Direction::ToOffice,
    )
    .unwrap()
    .open_own(env)
}

#[test]
fn both_sides_open_a_visitor_message_and_no_copy_leaves_only_the_office() {
    // Arrange
    let p = parties();

    // Act
    let kept = from_visitor(&p, b"my concern", true);
    let not_kept = from_visitor(&p, b"my concern", false);

    // Assert
    assert_eq!(&office_opens(&p, &kept).unwrap()[..], b"my concern");
    assert_eq!(&visitor_rereads(&p, &kept).unwrap()[..], b"my concern");
    assert_eq!(&office_opens(&p, &not_kept).unwrap()[..], b"my concern");
    assert!(matches!(
        visitor_opens_own(&p, &not_kept),
        Ok(Opened::NotKept)
    ));
    // The relay sees the same shape either way.
    assert_eq!(kept.to_json().len(), not_kept.to_json().len());
}

#[test]
fn both_sides_open_an_office_reply() {
    let p = parties();
    let env = from_office(&p, b"reply");
    let visitor = Opener::visitor(
        &p.case,
        p.office.kem().public_key(),
        p.office.signing().public_key(),
        env.direction,
    )
    .unwrap();
    let colleague = Opener::office(
        &p.office,
        p.case.kem.public_key(),
        p.case.signing.public_key(),
        env.direction,
    )
    .unwrap();
    assert_eq!(&visitor.open(&env).unwrap()[..], b"reply");
    assert_eq!(&colleague.open(&env).unwrap()[..], b"reply");
}

#[test]
fn the_office_cannot_forge_what_the_visitor_wrote() {
    // The office's KEM secret lets it make HPKE stanzas "from" the case key to itself (key
    // compromise impersonation), but it cannot sign as the case.
    let p = parties();
    let office_pk = p.office.kem().public_key();
    let forged = Sealer {
        sender: p.office.kem(),
        recipient: office_pk.clone(),
        own: p.case.kem.public_key(),
        keep_copy: true,
        author: p.office.signing(),
        mailbox: p.case.mailbox,
        direction: Direction::ToOffice,
    }
    .seal(b"you wrote this", &mut rand::rng())
    .unwrap();
    let as_visitor_wrote = Opener {
        recipient: p.office.kem(),
        role: Role::Other,
        sender: office_pk,
        author: p.case.signing.public_key(),
    };
    assert_eq!(
        as_visitor_wrote.open(&forged).err(),
        Some(Error::DecryptionFailed)
    );
    // Nor does it pass as a message the visitor kept no copy of: the second stanza is not
    // sealed by the case key.
    assert!(visitor_opens_own(&p, &forged).is_err());
}

#[test]
fn a_recipient_cannot_reuse_the_content_key_for_other_text() {
    // Arrange: the office learns the content key from its stanza and seals other text under
    // it, keeping the visitor's own stanza.
    let p = parties();
    let env = from_visitor(&p, b"what I said", true);
    let stanza = &env.stanzas[0];
    let info = seal_info(env.direction, &env.mailbox, Role::Other);
    let mut ctx = setup_receiver(
        p.office.kem(),
        Some(&p.case.kem.public_key()),
        &stanza.enc,
        &info,
    )
    .unwrap();
    let key: [u8; 32] = ctx
        .open(&stanza.key, &stanza_aad(&env, Role::Other))
        .unwrap()
        .try_into()
        .unwrap();
    let (payload_key, _) = payload_keys(&key);
    let mut swapped = env.clone();
    let padded = padding::pad(&[[0u8; 64].as_slice(), b"what I never said"].concat()).unwrap();
    swapped.ct = ChaCha20Poly1305::new(&Key::from(*payload_key))
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &padded,
                aad: &swapped.aad(),
            },
        )
        .unwrap();

    // Act and assert: the visitor's stanza is bound to the original payload.
    assert_eq!(
        visitor_rereads(&p, &swapped).err(),
        Some(Error::DecryptionFailed)
    );
}

#[test]
fn a_sender_cannot_give_the_two_recipients_different_keys() {
    // Arrange: a second envelope's own stanza, rewrapped for this envelope's payload with the
    // other content key, so that only the commitment can tell.
    let p = parties();
    let env = from_visitor(&p, b"to the office", true);
    let mut mixed = env.clone();
    let other_key = [7u8; 32];
    let info = seal_info(env.direction, &env.mailbox, Role::Own);
    let (enc, mut ctx) = setup_sender(
        Some(&p.case.kem),
        &p.case.kem.public_key(),
        &info,
        &mut rand::rng(),
    )
    .unwrap();
    mixed.stanzas[1] = Stanza {
        enc,
        key: ctx
            .seal(&other_key, &stanza_aad(&env, Role::Own))
            .unwrap()
            .try_into()
            .unwrap(),
    };

    // Act and assert
    assert!(office_opens(&p, &mixed).is_ok());
    assert_eq!(
        visitor_rereads(&p, &mixed).err(),
        Some(Error::DecryptionFailed)
    );
}

#[test]
fn tampering_with_any_part_fails_opaquely() {
    let p = parties();
    let env = from_visitor(&p, b"hello", true);
    let mut bad = Vec::new();
    let mut e = env.clone();
    e.ct[10] ^= 1;
    bad.push(e);
    let mut e = env.clone();
    e.mailbox = MailboxId::random(&mut rand::rng());
    bad.push(e);
    let mut e = env.clone();
    e.direction = Direction::FromThirdParty;
    bad.push(e);
    let mut e = env.clone();
    e.commit[0] ^= 1;
    bad.push(e);
    let mut e = env.clone();
    e.stanzas[0].enc[0] ^= 1;
    bad.push(e);
    let mut e = env.clone();
    e.stanzas.swap(0, 1);
    bad.push(e);
    for e in &bad {
        assert_eq!(office_opens(&p, e).err(), Some(Error::DecryptionFailed));
    }
    assert_eq!(&office_opens(&p, &env).unwrap()[..], b"hello");
}

#[test]
fn wrong_recipient_sender_or_author_fail() {
    let p = parties();
    let q = parties();
    let env = from_visitor(&p, b"hello", true);
    let case_pk = p.case.kem.public_key();
    let author = p.case.signing.public_key();
    for opener in [
        Opener {
            recipient: q.office.kem(),
            role: Role::Other,
            sender: case_pk.clone(),
            author,
        },
        Opener {
            recipient: p.office.kem(),
            role: Role::Other,
            sender: q.case.kem.public_key(),
            author,
        },
        Opener {
            recipient: p.office.kem(),
            role: Role::Other,
            sender: case_pk,
            author: q.case.signing.public_key(),
        },
    ] {
        assert_eq!(opener.open(&env).err(), Some(Error::DecryptionFailed));
    }
}

#[test]
fn ciphertext_length_hides_short_message_length() {
    let p = parties();
    assert_eq!(
        from_visitor(&p, b"", true).ct.len(),
        from_visitor(&p, &[b'x'; 400], false).ct.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn seal_open_round_trips(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let p = parties();
        let env = from_visitor(&p, &body, true);
        prop_assert_eq!(&office_opens(&p, &env).unwrap()[..], &body[..]);
        prop_assert_eq!(&visitor_rereads(&p, &env).unwrap()[..], &body[..]);
    }
}
