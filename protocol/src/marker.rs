//! The office's read marker for a case: the highest sequence number the office has read, and
//! a digest of the thread up to some sequence number (what `candor inbox` shows of the case),
//! so that the inbox need not fetch and open a case that has not moved since. The office seals
//! it to itself; the relay keeps it without reading it and cannot forge one (it could only
//! replay an older marker, which makes messages look unread again, never read, and makes the
//! inbox fetch the case again).
//!
//! Form 3, [`MARKER_LEN`] bytes whatever it holds: `nonce (24) || XChaCha20-Poly1305(key,
//! nonce, aad = READ_MARKER_AAD || mailbox_id, plaintext (192))`, with the key derived by
//! HKDF-SHA256 from the office identity's 64 secret bytes and [`labels::READ_MARKER_KEY`]. The
//! plaintext is [`ReadMarker::encode`]'s. One symmetric key for every case, derived once: an
//! office lists thousands of cases, and opening each marker costs one AEAD, not two X25519.
//!
//! Form 2 (56 bytes, HPKE auth mode to the office's own KEM key, holding only the sequence
//! number) is what earlier clients wrote. It still opens, for its read position and no digest,
//! so that an upgrade does not make every case look unread; it is never written.

mod digest;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use self::digest::{Digest, MARKER_PLAIN_LEN, ReadMarker};
use crate::keys::Identity;
use crate::{Error, MailboxId, labels, seal};

/// The sealed marker's length (form 3).
pub const MARKER_LEN: usize = 24 + MARKER_PLAIN_LEN + 16;
// The relay takes markers of up to 256 bytes.
const _: () = assert!(MARKER_LEN <= crate::api::MAX_MARKER_BYTES);
/// The length of a marker of form 2, which still opens.
pub const MARKER_V2_LEN: usize = 32 + 8 + 16;

/// The office's marker key, derived once from its identity. Cleared on drop.
pub struct MarkerKey<'a> {
    identity: &'a Identity,
    key: Zeroizing<[u8; 32]>,
}

impl<'a> MarkerKey<'a> {
    /// The marker key of the office whose identity this is.
    pub fn new(identity: &'a Identity) -> Self {
        let secret = identity.to_secret_bytes();
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        Hkdf::<Sha256>::new(None, secret.as_ref())
            .expand(labels::READ_MARKER_KEY, key.as_mut())
            .unwrap_or_else(|_| unreachable!());
        Self { identity, key }
    }

    /// Seals `marker` for `mailbox`, with a random nonce.
    pub fn seal(
        &self,
        mailbox: &MailboxId,
        marker: &ReadMarker,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Vec<u8>, Error> {
        self.seal_with_nonce(mailbox, marker, crate::keys::random_bytes(rng))
    }

    /// As [`MarkerKey::seal`], with the nonce given: for test vectors. A nonce must never
    /// repeat under one key.
    #[doc(hidden)]
    pub fn seal_with_nonce(
        &self,
        mailbox: &MailboxId,
        marker: &ReadMarker,
        nonce: [u8; 24],
    ) -> Result<Vec<u8>, Error> {
        let plain = marker.encode()?;
        let ct = XChaCha20Poly1305::new(&Key::from(*self.key))
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_ref(),
                    aad: &aad(mailbox),
                },
            )
            .map_err(|_| Error::DecryptionFailed)?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    /// Opens a marker of form 3, or of form 2 (read position only). Anything else, a marker of
    /// another mailbox or office included, is [`Error::DecryptionFailed`].
    pub fn open(&self, mailbox: &MailboxId, sealed: &[u8]) -> Result<ReadMarker, Error> {
        match sealed.len() {
            MARKER_LEN => {
                let (nonce, ct) = sealed
                    .split_first_chunk::<24>()
                    .ok_or(Error::DecryptionFailed)?;
                let plain = XChaCha20Poly1305::new(&Key::from(*self.key))
                    .decrypt(
                        &XNonce::from(*nonce),
                        Payload {
                            msg: ct,
                            aad: &aad(mailbox),
                        },
                    )
                    .map_err(|_| Error::DecryptionFailed)?;
                ReadMarker::decode(&Zeroizing::new(plain))
            }
            MARKER_V2_LEN => Ok(ReadMarker {
                read_up_to: open_v2(self.identity, mailbox, sealed)?,
                digest: None,
            }),
            _ => Err(Error::DecryptionFailed),
        }
    }
}

fn aad(mailbox: &MailboxId) -> Vec<u8> {
    [labels::READ_MARKER_AAD, mailbox.as_bytes()].concat()
}

fn v2_info(mailbox: &MailboxId) -> Vec<u8> {
    [labels::READ_MARKER, mailbox.as_bytes()].concat()
}

/// Opens a marker of form 2: `enc (32) || SetupAuthS(office KEM key, info = READ_MARKER ||
/// mailbox_id, office KEM key).Seal("", u64 seq)`.
fn open_v2(office: &Identity, mailbox: &MailboxId, sealed: &[u8]) -> Result<u64, Error> {
    let (enc, ct) = sealed
        .split_first_chunk::<32>()
        .ok_or(Error::DecryptionFailed)?;
    let own = office.kem().public_key();
    let mut ctx = seal::setup_receiver(office.kem(), Some(&own), enc, &v2_info(mailbox))?;
    let plain = ctx.open(ct, b"")?;
    let seq: [u8; 8] = plain
        .as_slice()
        .try_into()
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(u64::from_be_bytes(seq))
}

#[cfg(test)]
mod tests;
