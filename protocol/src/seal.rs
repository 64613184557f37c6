//! HPKE (RFC 9180) with the suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
//! ChaCha20Poly1305, and Candor's sealed-message construction on top of it.
//!
//! A message is sealed once and readable by two recipients, as age's recipient stanzas are:
//! - the author signs `version || direction || mailbox || SHA-256(body)` with Ed25519 (the
//!   case key for a visitor, the office key for the office, a third party's own key);
//! - the signature and body are Padmé-padded and sealed with ChaCha20-Poly1305 (RFC 8439)
//!   under a key derived (HKDF-SHA256, RFC 5869) from a fresh 32-byte content key, with the
//!   envelope header as AAD and a zero nonce, the key being used once;
//! - the header carries a commitment to the content key, so that the payload opens under one
//!   key only (ChaCha20-Poly1305 alone is not key-committing);
//! - the content key is wrapped with HPKE auth mode (RFC 9180 §5.1.3) twice: to the other
//!   party ([`Role::Other`]) and to the sender's own side ([`Role::Own`]). A sender who keeps
//!   no copy wraps 32 zero bytes, a throwaway key, in the second stanza instead: the stanza
//!   looks the same to the relay, and the sender's side learns only that it kept no copy,
//!   which nobody without the sender's KEM secret can claim for it. Each stanza's AAD binds
//!   the header, its role and the payload's SHA-256, so that a recipient who knows the content
//!   key cannot pair the other stanza with a payload of its own.

use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::envelope::{Direction, ENVELOPE_VERSION, Envelope, Stanza, WRAPPED_KEY_LEN};
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

/// Which stanza of an envelope: the other party's, or the sender's own side's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The party the message is for (code 1, the first stanza).
    Other,
    /// The sender's own side: its own copy, or a throwaway key (code 2, the second stanza).
    Own,
}

impl Role {
    /// The byte that stands for the role in `info` and AAD.
    pub fn code(self) -> u8 {
        match self {
            Role::Other => 1,
            Role::Own => 2,
        }
    }

    fn index(self) -> usize {
        match self {
            Role::Other => 0,
            Role::Own => 1,
        }
    }
}

/// The HPKE `info` of a stanza: `SEAL_INFO || direction || mailbox || role`.
pub fn seal_info(direction: Direction, mailbox: &MailboxId, role: Role) -> Vec<u8> {
    let mut info = Vec::with_capacity(labels::SEAL_INFO.len() + 18);
    info.extend_from_slice(labels::SEAL_INFO);
    info.push(direction.code());
    info.extend_from_slice(mailbox.as_bytes());
    info.push(role.code());
    info
}

/// A stanza's AAD: `STANZA_AAD || version || direction || mailbox || role || commit ||
/// SHA-256(ct)`.
fn stanza_aad(envelope: &Envelope, role: Role) -> Vec<u8> {
    let mut aad = Vec::with_capacity(labels::STANZA_AAD.len() + 83);
    aad.extend_from_slice(labels::STANZA_AAD);
    aad.push(ENVELOPE_VERSION);
    aad.push(envelope.direction.code());
    aad.extend_from_slice(envelope.mailbox.as_bytes());
    aad.push(role.code());
    aad.extend_from_slice(&envelope.commit);
    aad.extend_from_slice(&Sha256::digest(&envelope.ct));
    aad
}

/// The bytes an author signs: `version || direction || mailbox || SHA-256(body)` under the
/// `MESSAGE_SIGNATURE` label.
fn signature_input(direction: Direction, mailbox: &MailboxId, body: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(50);
    input.push(ENVELOPE_VERSION);
    input.push(direction.code());
    input.extend_from_slice(mailbox.as_bytes());
    input.extend_from_slice(&Sha256::digest(body));
    input
}

/// Verifies an author's signature over a message body of `mailbox` in `direction`, as
/// [`Opener`] does on opening; a handoff discloses messages with these signatures, so that the
/// third party can check who wrote them.
pub fn verify_signature(
    author: &SigningPublicKey,
    direction: Direction,
    mailbox: &MailboxId,
    body: &[u8],
    signature: &[u8; 64],
) -> Result<(), Error> {
    author.verify(
        labels::MESSAGE_SIGNATURE,
        &signature_input(direction, mailbox, body),
        signature,
    )
}

/// The payload key and the commitment, both derived from the content key.
fn payload_keys(content_key: &[u8; 32]) -> (Zeroizing<[u8; 32]>, [u8; 32]) {
    let hk = Hkdf::<Sha256>::new(None, content_key);
    let mut key = Zeroizing::new([0u8; 32]);
    let mut commit = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit.
    hk.expand(labels::PAYLOAD_KEY, key.as_mut())
        .unwrap_or_else(|_| unreachable!());
    hk.expand(labels::PAYLOAD_COMMIT, &mut commit)
        .unwrap_or_else(|_| unreachable!());
    (key, commit)
}

/// Who seals a message, to whom, and who signs it.
pub struct Sealer<'a> {
    /// The sender's KEM key, which authenticates both stanzas (HPKE auth mode).
    pub sender: &'a KemSecretKey,
    /// The other party's KEM key.
    pub recipient: KemPublicKey,
    /// The sender's own side's KEM key, which the second stanza is sealed to.
    pub own: KemPublicKey,
    /// Whether the second stanza carries the content key (a copy the sender's side can
    /// reopen) or the throwaway all-zero key (no copy).
    pub keep_copy: bool,
    /// The author, who signs the body.
    pub author: &'a SigningSecretKey,
    /// The mailbox.
    pub mailbox: MailboxId,
    /// Who writes to whom.
    pub direction: Direction,
}

impl Sealer<'_> {
    /// Seals `body` into an envelope.
    pub fn seal(&self, body: &[u8], rng: &mut impl rand::CryptoRng) -> Result<Envelope, Error> {
        let content_key = Zeroizing::new(crate::keys::random_bytes::<32>(rng));
        self.seal_with_key(body, &content_key, rng)
    }

    /// Seals `body` with a given content key and given HPKE ephemeral input keying material
    /// (RFC 9180 `ikmE`: the first for the other party's stanza, the second for the sender's
    /// own), so that a test vector's envelope is reproducible (`docs/vectors/`). Never for a
    /// real message: a content key or `ikmE` used twice breaks its confidentiality.
    #[doc(hidden)]
    pub fn seal_deterministic(
        &self,
        body: &[u8],
        content_key: &[u8; 32],
        ikm_e: &[[u8; 32]; 2],
    ) -> Result<Envelope, Error> {
        let mut script = scripted::Scripted::new(ikm_e);
        let envelope = self.seal_with_key(body, content_key, &mut script)?;
        script.finish()?;
        Ok(envelope)
    }

    fn seal_with_key(
        &self,
        body: &[u8],
        content_key: &[u8; 32],
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Envelope, Error> {
        let mut content = Zeroizing::new(Vec::with_capacity(body.len() + 64));
        content.extend_from_slice(&self.author.sign(
            labels::MESSAGE_SIGNATURE,
            &signature_input(self.direction, &self.mailbox, body),
        ));
        content.extend_from_slice(body);
        let framed = Zeroizing::new(padding::pad(&content)?);

        let (payload_key, commit) = payload_keys(content_key);
        let empty = Stanza {
            enc: [0; 32],
            key: [0; WRAPPED_KEY_LEN],
        };
        let mut envelope = Envelope {
            mailbox: self.mailbox,
            direction: self.direction,
            stanzas: [empty.clone(), empty],
            commit,
            ct: Vec::new(),
        };
        envelope.ct = ChaCha20Poly1305::new(&Key::from(*payload_key))
            .encrypt(
                &Nonce::default(),
                Payload {
                    msg: &framed,
                    aad: &envelope.aad(),
                },
            )
            .map_err(|_| Error::SealFailed)?;

        let throwaway = Zeroizing::new([0u8; 32]);
        let own_key = if self.keep_copy {
            content_key
        } else {
            &*throwaway
        };
        for (role, to, key) in [
            (Role::Other, &self.recipient, content_key),
            (Role::Own, &self.own, own_key),
        ] {
            let info = seal_info(self.direction, &self.mailbox, role);
            let (enc, mut ctx) = setup_sender(Some(self.sender), to, &info, rng)?;
            let wrapped = ctx.seal(key.as_ref(), &stanza_aad(&envelope, role))?;
            envelope.stanzas[role.index()] = Stanza {
                enc,
                key: wrapped.try_into().map_err(|_| Error::SealFailed)?,
            };
        }
        Ok(envelope)
    }
}

/// Who opens an envelope, which stanza, and whose signature it must carry.
pub struct Opener<'a> {
    /// The KEM key the stanza was sealed to.
    pub recipient: &'a KemSecretKey,
    /// Which stanza to open: [`Role::Other`] for a message to the opener, [`Role::Own`] for
    /// one the opener's side sent.
    pub role: Role,
    /// The sender's KEM key (HPKE auth mode).
    pub sender: KemPublicKey,
    /// The author's signing key, which must have signed the body.
    pub author: SigningPublicKey,
}

/// What the sender's own side finds in the second stanza.
pub enum Opened {
    /// The body, signed by the author.
    Body(Zeroizing<Vec<u8>>),
    /// The sender kept no copy: the stanza is genuine (sealed by the sender's KEM key) and
    /// carries the throwaway key.
    NotKept,
}

impl Opener<'_> {
    /// Opens an envelope and checks its signature. Every failure, including a bad signature,
    /// a commitment that does not match or bad padding, is [`Error::DecryptionFailed`]; so is
    /// an envelope of which the sender kept no copy ([`Opener::open_own`] tells it apart).
    pub fn open(&self, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.open_signed(envelope).map(|(_, body)| body)
    }

    /// As [`Opener::open`], with the author's signature over the body, which a handoff
    /// discloses with it.
    pub fn open_signed(
        &self,
        envelope: &Envelope,
    ) -> Result<([u8; 64], Zeroizing<Vec<u8>>), Error> {
        match self.open_inner(envelope)? {
            Some(signed) => Ok(signed),
            None => Err(Error::DecryptionFailed),
        }
    }

    /// As [`Opener::open`], telling a genuine second stanza without a copy
    /// ([`Opened::NotKept`]) from a failure.
    pub fn open_own(&self, envelope: &Envelope) -> Result<Opened, Error> {
        Ok(match self.open_inner(envelope)? {
            Some((_, body)) => Opened::Body(body),
            None => Opened::NotKept,
        })
    }

    /// The signature and body, or `None` for a genuine second stanza without a copy.
    #[allow(clippy::type_complexity)]
    fn open_inner(
        &self,
        envelope: &Envelope,
    ) -> Result<Option<([u8; 64], Zeroizing<Vec<u8>>)>, Error> {
        let stanza = &envelope.stanzas[self.role.index()];
        let info = seal_info(envelope.direction, &envelope.mailbox, self.role);
        let mut ctx = setup_receiver(self.recipient, Some(&self.sender), &stanza.enc, &info)?;
        let unwrapped = Zeroizing::new(ctx.open(&stanza.key, &stanza_aad(envelope, self.role))?);
        let content_key: Zeroizing<[u8; 32]> = Zeroizing::new(
            unwrapped
                .as_slice()
                .try_into()
                .map_err(|_| Error::DecryptionFailed)?,
        );
        if self.role == Role::Own && bool::from(content_key.ct_eq(&[0u8; 32])) {
            return Ok(None);
        }
        let (payload_key, commit) = payload_keys(&content_key);
        if !bool::from(commit.ct_eq(&envelope.commit)) {
            return Err(Error::DecryptionFailed);
        }
        let framed = Zeroizing::new(
            ChaCha20Poly1305::new(&Key::from(*payload_key))
                .decrypt(
                    &Nonce::default(),
                    Payload {
                        msg: &envelope.ct,
                        aad: &envelope.aad(),
                    },
                )
                .map_err(|_| Error::DecryptionFailed)?,
        );
        let content = padding::unpad(&framed).map_err(|_| Error::DecryptionFailed)?;
        let (sig, body) = content
            .split_first_chunk::<64>()
            .ok_or(Error::DecryptionFailed)?;
        self.author
            .verify(
                labels::MESSAGE_SIGNATURE,
                &signature_input(envelope.direction, &envelope.mailbox, body),
                sig,
            )
            .map_err(|_| Error::DecryptionFailed)?;
        Ok(Some((*sig, Zeroizing::new(body.to_vec()))))
    }
}

pub(crate) mod scripted;
mod sides;
#[cfg(test)]
mod tests;
