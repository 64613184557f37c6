//! HPKE (RFC 9180) with the suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
//! ChaCha20Poly1305, and Candor's sealed-message construction on top of it.
//!
//! Messages are sealed in auth mode (RFC 9180 §5.1.3), so the recipient learns which KEM key
//! sent them. The HPKE `info` binds the direction and the mailbox; the envelope header is the
//! AAD. Inside the ciphertext the content is Padmé-padded, and messages written by an office or
//! third party carry an Ed25519 signature by its identity key, so that a leaked codename (which
//! gives away the case's KEM secret) cannot be used to forge "office" replies.

use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::envelope::{Direction, Envelope};
use crate::keys::{Aead, Kdf, Kem, KemPublicKey, KemSecretKey, SigningPublicKey, SigningSecretKey};
use crate::{Error, MailboxId, labels, padding};

/// A sender's HPKE context, as returned by RFC 9180 `SetupBaseS` / `SetupAuthS`.
pub struct SenderContext(hpke::aead::AeadCtxS<Aead, Kdf, Kem>);

impl SenderContext {
    /// RFC 9180 `ContextS.Seal`.
    pub fn seal(&mut self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        self.0.seal(plaintext, aad).map_err(|_| Error::SealFailed)
    }
    /// RFC 9180 `Context.Export`.
    pub fn export(&self, context: &[u8], out: &mut [u8]) -> Result<(), Error> {
        self.0.export(context, out).map_err(|_| Error::SealFailed)
    }
}

/// A recipient's HPKE context, as returned by RFC 9180 `SetupBaseR` / `SetupAuthR`.
pub struct ReceiverContext(hpke::aead::AeadCtxR<Aead, Kdf, Kem>);

impl ReceiverContext {
    /// RFC 9180 `ContextR.Open`. Every failure is [`Error::DecryptionFailed`].
    pub fn open(&mut self, ciphertext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        self.0
            .open(ciphertext, aad)
            .map_err(|_| Error::DecryptionFailed)
    }
    /// RFC 9180 `Context.Export`.
    pub fn export(&self, context: &[u8], out: &mut [u8]) -> Result<(), Error> {
        self.0
            .export(context, out)
            .map_err(|_| Error::DecryptionFailed)
    }
}

/// RFC 9180 `SetupBaseS` (no `sender`) or `SetupAuthS` (with `sender`). Returns the
/// encapsulated key and the context.
pub fn setup_sender(
    sender: Option<&KemSecretKey>,
    recipient: &KemPublicKey,
    info: &[u8],
    rng: &mut impl rand::CryptoRng,
) -> Result<([u8; 32], SenderContext), Error> {
    let mode = match sender {
        Some(sk) => OpModeS::Auth((sk.sk.clone(), sk.pk.0.clone())),
        None => OpModeS::Base,
    };
    let (enc, ctx) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(&mode, &recipient.0, info, rng)
        .map_err(|_| Error::SealFailed)?;
    Ok((enc.to_bytes().into(), SenderContext(ctx)))
}

/// RFC 9180 `SetupBaseR` (no `sender`) or `SetupAuthR` (with `sender`).
pub fn setup_receiver(
    recipient: &KemSecretKey,
    sender: Option<&KemPublicKey>,
    enc: &[u8; 32],
    info: &[u8],
) -> Result<ReceiverContext, Error> {
    let mode = match sender {
        Some(pk) => OpModeR::Auth(pk.0.clone()),
        None => OpModeR::Base,
    };
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| Error::DecryptionFailed)?;
    hpke::setup_receiver::<Aead, Kdf, Kem>(&mode, &recipient.sk, &enc, info)
        .map(ReceiverContext)
        .map_err(|_| Error::DecryptionFailed)
}

/// The HPKE `info` of an envelope: `SEAL_INFO || direction || mailbox`.
pub fn seal_info(direction: Direction, mailbox: &MailboxId) -> Vec<u8> {
    let mut info = Vec::with_capacity(labels::SEAL_INFO.len() + 17);
    info.extend_from_slice(labels::SEAL_INFO);
    info.push(direction.code());
    info.extend_from_slice(mailbox.as_bytes());
    info
}

/// The bytes an author signs: `direction || mailbox || SHA-256(body)` under the
/// `MESSAGE_SIGNATURE` label.
fn signature_input(direction: Direction, mailbox: &MailboxId, body: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(49);
    input.push(direction.code());
    input.extend_from_slice(mailbox.as_bytes());
    input.extend_from_slice(&Sha256::digest(body));
    input
}

/// Seals `body` from `sender` to `recipient` into an envelope for `mailbox`. `author`, when
/// given, signs the body (offices and third parties always sign).
#[allow(clippy::too_many_arguments)]
pub fn seal(
    sender: &KemSecretKey,
    recipient: &KemPublicKey,
    mailbox: MailboxId,
    direction: Direction,
    body: &[u8],
    author: Option<&SigningSecretKey>,
    rng: &mut impl rand::CryptoRng,
) -> Result<Envelope, Error> {
    let mut content = Zeroizing::new(Vec::with_capacity(body.len() + 65));
    match author {
        Some(key) => {
            content.push(1);
            content.extend_from_slice(&key.sign(
                labels::MESSAGE_SIGNATURE,
                &signature_input(direction, &mailbox, body),
            ));
        }
        None => content.push(0),
    }
    content.extend_from_slice(body);
    let framed = Zeroizing::new(padding::pad(&content)?);

    let info = seal_info(direction, &mailbox);
    let (enc, mut ctx) = setup_sender(Some(sender), recipient, &info, rng)?;
    let mut envelope = Envelope {
        mailbox,
        direction,
        enc,
        ct: Vec::new(),
    };
    envelope.ct = ctx.seal(&framed, &envelope.aad())?;
    Ok(envelope)
}

/// Opens an envelope sealed by `sender` to `recipient`. If `author` is given, the body must carry
/// a valid signature by it; if not, the body must be unsigned. Every failure, including a bad
/// signature or bad padding, is [`Error::DecryptionFailed`].
pub fn open(
    recipient: &KemSecretKey,
    sender: &KemPublicKey,
    author: Option<&SigningPublicKey>,
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let info = seal_info(envelope.direction, &envelope.mailbox);
    let mut ctx = setup_receiver(recipient, Some(sender), &envelope.enc, &info)?;
    let framed = Zeroizing::new(ctx.open(&envelope.ct, &envelope.aad())?);
    let content = padding::unpad(&framed).map_err(|_| Error::DecryptionFailed)?;
    let (&flag, rest) = content.split_first().ok_or(Error::DecryptionFailed)?;
    let body = match (flag, author) {
        (0, None) => rest,
        (1, Some(key)) => {
            let (sig, body) = rest
                .split_first_chunk::<64>()
                .ok_or(Error::DecryptionFailed)?;
            key.verify(
                labels::MESSAGE_SIGNATURE,
                &signature_input(envelope.direction, &envelope.mailbox, body),
                sig,
            )
            .map_err(|_| Error::DecryptionFailed)?;
            body
        }
        _ => return Err(Error::DecryptionFailed),
    };
    Ok(Zeroizing::new(body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Identity;
    use proptest::prelude::*;

    struct Parties {
        visitor: KemSecretKey,
        office: Identity,
        mailbox: MailboxId,
    }

    fn parties() -> Parties {
        let rng = &mut rand::rng();
        Parties {
            visitor: KemSecretKey::generate(rng),
            office: Identity::generate(rng),
            mailbox: MailboxId::random(rng),
        }
    }

    fn to_office(p: &Parties, body: &[u8]) -> Envelope {
        seal(
            &p.visitor,
            &p.office.kem().public_key(),
            p.mailbox,
            Direction::ToOffice,
            body,
            None,
            &mut rand::rng(),
        )
        .unwrap()
    }

    fn open_at_office(p: &Parties, env: &Envelope) -> Result<Zeroizing<Vec<u8>>, Error> {
        open(p.office.kem(), &p.visitor.public_key(), None, env)
    }

    #[test]
    fn office_reply_is_signed_and_checked() {
        let p = parties();
        let env = seal(
            p.office.kem(),
            &p.visitor.public_key(),
            p.mailbox,
            Direction::ToVisitor,
            b"reply",
            Some(p.office.signing()),
            &mut rand::rng(),
        )
        .unwrap();
        let office_pk = p.office.signing().public_key();
        let body = open(
            &p.visitor,
            &p.office.kem().public_key(),
            Some(&office_pk),
            &env,
        )
        .unwrap();
        assert_eq!(&body[..], b"reply");
        // A reply forged with the visitor's own KEM key (as a codename thief could) is refused,
        // because the thief cannot sign as the office.
        let forged = seal(
            &p.visitor,
            &p.visitor.public_key(),
            p.mailbox,
            Direction::ToVisitor,
            b"forged",
            None,
            &mut rand::rng(),
        )
        .unwrap();
        assert_eq!(
            open(
                &p.visitor,
                &p.visitor.public_key(),
                Some(&office_pk),
                &forged
            )
            .err(),
            Some(Error::DecryptionFailed)
        );
    }

    #[test]
    fn tampered_ciphertext_header_and_aad_fail_opaquely() {
        let p = parties();
        let env = to_office(&p, b"hello");
        let mut ct = env.clone();
        ct.ct[10] ^= 1;
        let mut other_mailbox = env.clone();
        other_mailbox.mailbox = MailboxId::random(&mut rand::rng());
        let mut other_direction = env.clone();
        other_direction.direction = Direction::FromThirdParty;
        let mut enc = env.clone();
        enc.enc[0] ^= 1;
        for bad in [ct, other_mailbox, other_direction, enc] {
            assert_eq!(
                open_at_office(&p, &bad).err(),
                Some(Error::DecryptionFailed)
            );
        }
        assert_eq!(&open_at_office(&p, &env).unwrap()[..], b"hello");
    }

    #[test]
    fn wrong_recipient_and_wrong_sender_fail() {
        let p = parties();
        let env = to_office(&p, b"hello");
        let q = parties();
        assert_eq!(
            open(q.office.kem(), &p.visitor.public_key(), None, &env).err(),
            Some(Error::DecryptionFailed)
        );
        assert_eq!(
            open(p.office.kem(), &q.visitor.public_key(), None, &env).err(),
            Some(Error::DecryptionFailed)
        );
    }

    #[test]
    fn ciphertext_length_hides_short_message_length() {
        let p = parties();
        assert_eq!(
            to_office(&p, b"").ct.len(),
            to_office(&p, &[b'x'; 400]).ct.len()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn seal_open_round_trips(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let p = parties();
            let env = to_office(&p, &body);
            prop_assert_eq!(&open_at_office(&p, &env).unwrap()[..], &body[..]);
        }
    }
}
