//! The anonymous tally a closed case leaves behind: the office's only permanent record.
//!
//! A tally holds the case's categories (up to three), the quarter it closed, the constituency
//! the visitor chose (if any) and the outcome, by their IDs on the card, and nothing else: no
//! day, no case, no text. It is sealed with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha)
//! under a key derived with HKDF-SHA256 (RFC 5869) from the office's **records key**, a random
//! symmetric key kept apart from the identity, so that tallies stay readable when the identity
//! key changes.
//!
//! Plaintext ([`TALLY_PLAIN_LEN`] bytes, always):
//!
//! ```text
//! version (1) = 1 | year (2, big-endian) | quarter (1, 1..=4)
//! | outcome length (1, 1..=32) | outcome
//! | constituency length (1, 0 = none) | constituency
//! | category count (1, 0..=3) | (length (1) | category) per category, sorted, distinct
//! | zeros up to 192 bytes
//! ```
//!
//! Sealed: `nonce (24) || ciphertext (192 + 16)`, [`SEALED_TALLY_LEN`] bytes whatever it holds.
//! The AAD is [`labels::TALLY_AAD`] followed by the office ID.

mod quarter;

use core::str::FromStr;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use self::quarter::Quarter;
use crate::{Error, ItemId, OfficeId, labels};

/// The tally plaintext's format version.
pub const TALLY_VERSION: u8 = 1;
/// The most categories a tally holds.
pub const MAX_TALLY_CATEGORIES: usize = 3;
/// Every tally plaintext is padded to this length: the longest tally (three categories and a
/// constituency of 32-character IDs) takes 170 bytes.
pub const TALLY_PLAIN_LEN: usize = 192;
/// The length of every sealed tally.
pub const SEALED_TALLY_LEN: usize = 24 + TALLY_PLAIN_LEN + 16;

/// The office's records key: 32 random bytes. Never printed; cleared on drop.
pub struct RecordsKey(Zeroizing<[u8; 32]>);

impl RecordsKey {
    /// A fresh random key.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        Self(Zeroizing::new(crate::keys::random_bytes(rng)))
    }

    /// The key from its 32 bytes, as a keystore holds them.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(Zeroizing::new(*bytes))
    }

    /// The 32 secret bytes, for an encrypted keystore.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.0.clone()
    }

    /// The XChaCha20-Poly1305 key for tallies.
    fn tally_key(&self) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(None, self.0.as_ref());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        hk.expand(labels::TALLY_KEY, key.as_mut())
            .unwrap_or_else(|_| unreachable!());
        key
    }
}

/// One closed case, as the statistics see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tally {
    categories: Vec<ItemId>,
    quarter: Quarter,
    constituency: Option<ItemId>,
    outcome: ItemId,
}

impl Tally {
    /// A tally; the categories are sorted and deduplicated, and at most
    /// [`MAX_TALLY_CATEGORIES`] may remain.
    pub fn new(
        mut categories: Vec<ItemId>,
        quarter: Quarter,
        constituency: Option<ItemId>,
        outcome: ItemId,
    ) -> Result<Self, Error> {
        categories.sort();
        categories.dedup();
        if categories.len() > MAX_TALLY_CATEGORIES {
            return Err(Error::malformed(
                "tally",
                format!("a tally holds at most {MAX_TALLY_CATEGORIES} categories"),
            ));
        }
        Ok(Self {
            categories,
            quarter,
            constituency,
            outcome,
        })
    }

    /// The case's categories, sorted.
    pub fn categories(&self) -> &[ItemId] {
        &self.categories
    }
    /// The quarter the case closed.
    pub fn quarter(&self) -> Quarter {
        self.quarter
    }
    /// The constituency the visitor chose, if any.
    pub fn constituency(&self) -> Option<&ItemId> {
        self.constituency.as_ref()
    }
    /// How the case ended.
    pub fn outcome(&self) -> &ItemId {
        &self.outcome
    }

    /// The padded plaintext.
    pub fn encode(&self) -> Zeroizing<[u8; TALLY_PLAIN_LEN]> {
        // IDs are at most 32 bytes and categories at most three (checked when made), so the
        // whole fits in 170 bytes and every length in one byte.
        fn id(buf: &mut Vec<u8>, id: Option<&ItemId>) {
            let s = id.map_or("", ItemId::as_str);
            buf.push(s.len() as u8);
            buf.extend_from_slice(s.as_bytes());
        }
        let mut buf = Zeroizing::new(Vec::with_capacity(TALLY_PLAIN_LEN));
        buf.push(TALLY_VERSION);
        buf.extend_from_slice(&self.quarter.year().to_be_bytes());
        buf.push(self.quarter.number());
        id(&mut buf, Some(&self.outcome));
        id(&mut buf, self.constituency.as_ref());
        buf.push(self.categories.len() as u8);
        for c in &self.categories {
            id(&mut buf, Some(c));
        }
        let mut out = Zeroizing::new([0u8; TALLY_PLAIN_LEN]);
        out[..buf.len()].copy_from_slice(&buf);
        out
    }

    /// Parses a padded plaintext, refusing anything that [`Tally::encode`] would not write.
    pub fn decode(plain: &[u8]) -> Result<Self, Error> {
        let bad = |why: &str| Error::malformed("tally", why.to_owned());
        if plain.len() != TALLY_PLAIN_LEN {
            return Err(bad("a tally plaintext is 192 bytes"));
        }
        let mut r = Reader(plain);
        let version = r.byte()?;
        if version != TALLY_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "tally",
                found: u64::from(version),
                supported: TALLY_VERSION,
            });
        }
        let year = u16::from_be_bytes([r.byte()?, r.byte()?]);
        let quarter = Quarter::new(year, r.byte()?)?;
        let outcome = r.id()?.ok_or_else(|| bad("a tally has an outcome"))?;
        let constituency = r.id()?;
        let n = usize::from(r.byte()?);
        if n > MAX_TALLY_CATEGORIES {
            return Err(bad("a tally holds at most 3 categories"));
        }
        let mut categories = Vec::with_capacity(n);
        for _ in 0..n {
            categories.push(r.id()?.ok_or_else(|| bad("an empty category"))?);
        }
        if categories.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("a tally's categories are sorted and distinct"));
        }
        if r.0.iter().any(|&b| b != 0) {
            return Err(bad("a tally's padding is zeros"));
        }
        Ok(Self {
            categories,
            quarter,
            constituency,
            outcome,
        })
    }

    /// Seals the tally for `office` under `key`, with a random nonce.
    pub fn seal(
        &self,
        key: &RecordsKey,
        office: &OfficeId,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Vec<u8>, Error> {
        self.seal_with_nonce(key, office, crate::keys::random_bytes(rng))
    }

    /// As [`Tally::seal`], with the nonce given: for test vectors. A nonce must never repeat
    /// under one key.
    #[doc(hidden)]
    pub fn seal_with_nonce(
        &self,
        key: &RecordsKey,
        office: &OfficeId,
        nonce: [u8; 24],
    ) -> Result<Vec<u8>, Error> {
        let plain = self.encode();
        let ct = XChaCha20Poly1305::new(&Key::from(*key.tally_key()))
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_ref(),
                    aad: &aad(office),
                },
            )
            .map_err(|_| Error::SealFailed)?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    /// Opens a sealed tally. Anything but a tally sealed for `office` under `key` is
    /// [`Error::DecryptionFailed`].
    pub fn open(key: &RecordsKey, office: &OfficeId, sealed: &[u8]) -> Result<Self, Error> {
        if sealed.len() != SEALED_TALLY_LEN {
            return Err(Error::DecryptionFailed);
        }
        let (nonce, ct) = sealed
            .split_first_chunk::<24>()
            .ok_or(Error::DecryptionFailed)?;
        let plain = XChaCha20Poly1305::new(&Key::from(*key.tally_key()))
            .decrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: ct,
                    aad: &aad(office),
                },
            )
            .map_err(|_| Error::DecryptionFailed)?;
        let plain = Zeroizing::new(plain);
        Self::decode(&plain)
    }
}

fn aad(office: &OfficeId) -> Vec<u8> {
    [labels::TALLY_AAD, office.as_str().as_bytes()].concat()
}

/// Reads the plaintext front to back.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Error> {
        let (&b, rest) = self
            .0
            .split_first()
            .ok_or_else(|| Error::malformed("tally", "truncated".to_owned()))?;
        self.0 = rest;
        Ok(b)
    }

    /// A length-prefixed ID; length 0 is none.
    fn id(&mut self) -> Result<Option<ItemId>, Error> {
        let len = usize::from(self.byte()?);
        if len == 0 {
            return Ok(None);
        }
        let (raw, rest) = self
            .0
            .split_at_checked(len)
            .ok_or_else(|| Error::malformed("tally", "truncated".to_owned()))?;
        self.0 = rest;
        let s = core::str::from_utf8(raw)
            .map_err(|_| Error::malformed("tally", "an ID is ASCII".to_owned()))?;
        ItemId::from_str(s).map(Some)
    }
}

#[cfg(test)]
mod tests;
