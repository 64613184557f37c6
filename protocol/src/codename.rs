//! The visitor's codename: 12 BIP-39 English words (128 bits of entropy plus a 4-bit checksum),
//! and the case keys derived from it with HKDF-SHA256 (RFC 5869).
//!
//! The codename is the visitor's only secret. Everything about the case (its KEM key, its
//! signing key) is derived from it and the office fingerprint, so the same codename gives
//! unrelated cases at different offices. The mailbox ID is the hash of the two public keys
//! ([`MailboxId::of_case`]).

use core::str::FromStr;

use bip39::{Language, Mnemonic};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::CodenameTypo;
use crate::keys::{KemSecretKey, SigningSecretKey};
use crate::{Error, Fingerprint, MailboxId, labels};

/// A codename: 16 bytes of entropy. No `Debug`, zeroized on drop.
pub struct Codename {
    entropy: Zeroizing<[u8; 16]>,
}

impl Codename {
    /// A fresh random codename.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        let mut entropy = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(entropy.as_mut());
        Self { entropy }
    }

    /// Builds a codename from its 16 bytes of entropy.
    pub fn from_entropy(entropy: [u8; 16]) -> Self {
        Self {
            entropy: Zeroizing::new(entropy),
        }
    }

    /// The 12 words, separated by single spaces. Show it to the visitor once.
    pub fn words(&self) -> Zeroizing<String> {
        // 16 bytes is a valid BIP-39 entropy length.
        let m = Mnemonic::from_entropy_in(Language::English, self.entropy.as_ref())
            .unwrap_or_else(|_| unreachable!());
        let mut out = Zeroizing::new(String::with_capacity(12 * 9));
        for (i, w) in m.words().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
        out
    }

    /// Derives the case keys at the office with this fingerprint.
    pub fn derive(&self, office: &Fingerprint) -> CaseKeys {
        let hk = Hkdf::<Sha256>::new(Some(office.as_bytes()), self.entropy.as_ref());
        let mut kem_ikm = Zeroizing::new([0u8; 32]);
        let mut sign_seed = Zeroizing::new([0u8; 32]);
        // 32 and 16 bytes are far below HKDF-SHA256's 255 * 32 byte limit.
        hk.expand(labels::CASE_KEM, kem_ikm.as_mut())
            .unwrap_or_else(|_| unreachable!());
        hk.expand(labels::CASE_SIGN, sign_seed.as_mut())
            .unwrap_or_else(|_| unreachable!());
        let kem = KemSecretKey::derive(kem_ikm.as_ref());
        let signing = SigningSecretKey::from_seed(&sign_seed);
        let mailbox = MailboxId::of_case(
            &signing.public_key().to_bytes(),
            &kem.public_key().to_bytes(),
        );
        CaseKeys {
            kem,
            signing,
            mailbox,
        }
    }
}

impl FromStr for Codename {
    type Err = Error;

    /// Parses forgivingly: any case, any whitespace, and each word may be given as its unique
    /// first four letters (or any longer prefix of it). A checksum failure is
    /// [`CodenameTypo::Checksum`].
    fn from_str(s: &str) -> Result<Self, Error> {
        let list = Language::English.word_list();
        let mut indices = Zeroizing::new([0u16; 12]);
        let mut count = 0usize;
        for (pos, raw) in s.split_whitespace().enumerate() {
            if pos >= 12 {
                count = s.split_whitespace().count();
                break;
            }
            let token = Zeroizing::new(raw.to_lowercase());
            let idx = resolve_word(list, &token).ok_or(Error::CodenameTypo(
                CodenameTypo::UnknownWord { position: pos + 1 },
            ))?;
            indices[pos] = idx;
            count = pos + 1;
        }
        if count != 12 {
            return Err(Error::CodenameTypo(CodenameTypo::WordCount(count)));
        }
        // 12 words * 11 bits = 128 bits of entropy followed by a 4-bit checksum.
        let mut bits = Zeroizing::new([0u8; 17]);
        for (i, &idx) in indices.iter().enumerate() {
            for b in 0..11 {
                if idx & (1 << (10 - b)) != 0 {
                    let bit = i * 11 + b;
                    bits[bit / 8] |= 1 << (7 - bit % 8);
                }
            }
        }
        let mut entropy = [0u8; 16];
        entropy.copy_from_slice(&bits[..16]);
        let codename = Codename::from_entropy(entropy);
        entropy.zeroize();
        let expected = {
            use sha2::Digest;
            Sha256::digest(codename.entropy.as_ref())[0] & 0xf0
        };
        if bits[16] & 0xf0 != expected {
            return Err(Error::CodenameTypo(CodenameTypo::Checksum));
        }
        Ok(codename)
    }
}

/// Maps a lowercase token to its word index: an exact word, or a prefix of at least four letters
/// that names exactly one word.
fn resolve_word(list: &[&'static str; 2048], token: &str) -> Option<u16> {
    if let Ok(i) = list.binary_search(&token) {
        return u16::try_from(i).ok();
    }
    if token.chars().count() < 4 {
        return None;
    }
    let mut found = None;
    for (i, w) in list.iter().enumerate() {
        if w.starts_with(token) {
            if found.is_some() {
                return None;
            }
            found = u16::try_from(i).ok();
        }
    }
    found
}

/// The keys of one case at one office, derived from the codename.
pub struct CaseKeys {
    /// The case's HPKE key: visitors seal with it (auth mode) and open office replies.
    pub kem: KemSecretKey,
    /// The case's signing key: it signs the visitor's relay requests and handoff consents.
    pub signing: SigningSecretKey,
    /// The case's mailbox on the relay: [`MailboxId::of_case`] of the two public keys.
    pub mailbox: MailboxId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Identity;

    fn fixed() -> Codename {
        Codename::from_entropy([0x5a; 16])
    }

    #[test]
    fn words_parse_back() {
        let c = fixed();
        let parsed: Codename = c.words().parse().unwrap();
        assert_eq!(*parsed.entropy, *c.entropy);
    }

    #[test]
    fn forgiving_input_is_accepted() {
        let c = fixed();
        let words = c.words();
        let sloppy: Vec<String> = words
            .split(' ')
            .map(|w| w.chars().take(4).collect::<String>().to_uppercase())
            .collect();
        let sloppy = format!("  {}\n", sloppy.join(" \t "));
        let parsed: Codename = sloppy.parse().unwrap();
        assert_eq!(*parsed.entropy, *c.entropy);
    }

    #[test]
    fn one_changed_word_is_a_typo_not_an_unknown_case() {
        // The 12-word checksum has 4 bits, so 15 in 16 single-word changes are caught here; the
        // other 1 in 16 are themselves valid codenames (docs/protocol.md says so).
        let c = fixed();
        let words: Vec<String> = c.words().split(' ').map(str::to_owned).collect();
        let list = Language::English.word_list();
        let (mut typos, mut valid) = (0, 0);
        for w in list.iter().filter(|w| **w != words[3]) {
            let mut changed = words.clone();
            changed[3] = (*w).to_owned();
            match changed.join(" ").parse::<Codename>() {
                Err(Error::CodenameTypo(CodenameTypo::Checksum)) => typos += 1,
                Ok(other) => {
                    assert_ne!(*other.entropy, *c.entropy);
                    valid += 1;
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        assert_eq!(typos + valid, 2047);
        assert!(typos > 2047 * 14 / 16, "{typos} typos of 2047");
        let err = Error::CodenameTypo(CodenameTypo::Checksum);
        assert!(err.to_string().contains("typo"));
    }

    #[test]
    fn unknown_word_and_wrong_count_are_typos() {
        let words = fixed().words();
        let bad = words.replacen(words.split(' ').next().unwrap(), "qqqq", 1);
        assert_eq!(
            bad.parse::<Codename>().err(),
            Some(Error::CodenameTypo(CodenameTypo::UnknownWord {
                position: 1
            }))
        );
        assert_eq!(
            "abandon abandon".parse::<Codename>().err(),
            Some(Error::CodenameTypo(CodenameTypo::WordCount(2)))
        );
    }

    #[test]
    fn same_codename_gives_unrelated_cases_at_different_offices() {
        let c = fixed();
        let a = c.derive(&Identity::generate(&mut rand::rng()).fingerprint());
        let b = c.derive(&Identity::generate(&mut rand::rng()).fingerprint());
        assert_ne!(a.mailbox, b.mailbox);
        assert_ne!(a.kem.public_key(), b.kem.public_key());
        assert_ne!(a.signing.public_key(), b.signing.public_key());
    }

    #[test]
    fn the_mailbox_id_certifies_the_case_keys() {
        let case = fixed().derive(&Identity::generate(&mut rand::rng()).fingerprint());
        let signing = case.signing.public_key().to_bytes();
        let kem = case.kem.public_key().to_bytes();
        assert!(case.mailbox.certifies(&signing, &kem));
        // A relay that lists another key for the mailbox is caught.
        let other = KemSecretKey::generate(&mut rand::rng())
            .public_key()
            .to_bytes();
        assert!(!case.mailbox.certifies(&signing, &other));
        assert!(!case.mailbox.certifies(&other, &kem));
    }

    proptest::proptest! {
        #[test]
        fn codename_display_parse_round_trips(entropy in proptest::array::uniform16(proptest::prelude::any::<u8>())) {
            let c = Codename::from_entropy(entropy);
            let parsed: Codename = c.words().parse().unwrap();
            proptest::prop_assert_eq!(*parsed.entropy, entropy);
        }
    }
}
