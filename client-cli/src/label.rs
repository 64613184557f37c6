//! Case labels: what the office calls a case in the inbox, in its notes and in its e-mails.
//!
//! A label is eight characters of lowercase base32 in Crockford's alphabet, which leaves out
//! the letters easily misread as others (i, l, o, u), so that a person can read it aloud and
//! type it in any case. It is HMAC-SHA256 (RFC 2104) of the mailbox ID under a key that only
//! the office holds, derived with HKDF-SHA256 (RFC 5869) from its identity secret: a label
//! written in a note or an e-mail cannot be matched to the relay's records, which know
//! mailboxes only by ID. Colleagues who import the office's key bundle see the same labels;
//! a new identity key gives every case a new label.

use anyhow::{Result, bail};
use candor_protocol::{Identity, MailboxId};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

/// How many characters a label has: 40 bits, enough to tell apart the cases of an office.
pub const LABEL_CHARS: usize = 8;

/// The HKDF `info` of the label key.
const LABEL_KEY_INFO: &[u8] = b"candor/v1/case-label-key";

/// Crockford's base32 symbols, lowercase.
const SYMBOLS: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The first 40 bits of `bytes` in [`SYMBOLS`], most significant bit first.
fn base32_40(bytes: &[u8; 5]) -> String {
    let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    (0..LABEL_CHARS)
        .rev()
        .map(|i| char::from(SYMBOLS[((bits >> (5 * i)) & 31) as usize]))
        .collect()
}

/// Computes the office's labels. Holds a secret key, so it has no `Debug`.
pub struct Labeler {
    key: Zeroizing<[u8; 32]>,
}

impl Labeler {
    /// The labeler of the office whose identity this is.
    pub fn new(identity: &Identity) -> Self {
        let secret = identity.to_secret_bytes();
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, secret.as_ref())
            .expand(LABEL_KEY_INFO, key.as_mut())
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
        Self { key }
    }

    /// The label of a case.
    pub fn label(&self, mailbox: &MailboxId) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(mailbox.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut first = [0u8; 5];
        first.copy_from_slice(&tag[..5]);
        base32_40(&first)
    }
}

/// What a person typed as a label, made comparable: any case, spaces and dashes ignored, and
/// the letters that Crockford's alphabet reads as digits taken as those (i and l as 1, o as 0).
/// An empty label, or one with a character no label has, is refused with what to type.
pub fn normalize(typed: &str) -> Result<String> {
    let mut label = String::with_capacity(LABEL_CHARS);
    for c in typed.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let c = match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        };
        if !c.is_ascii() || !SYMBOLS.contains(&(c as u8)) {
            bail!(
                "{typed:?} is not a case label: labels have {LABEL_CHARS} letters and digits, \
                 such as 7k2m9qdx; run `candor inbox` to see them"
            );
        }
        label.push(c);
    }
    if label.is_empty() {
        bail!("name a case by its label from `candor inbox`, such as 7k2m9qdx");
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(seed: u8) -> Identity {
        Identity::from_secret_bytes(&[seed; 64])
    }

    #[test]
    fn a_label_is_eight_lowercase_unambiguous_characters() {
        let labeler = Labeler::new(&identity(1));
        for n in 0..200u8 {
            let label = labeler.label(&MailboxId::from_bytes([n; 16]));
            assert_eq!(label.len(), LABEL_CHARS);
            assert!(label.bytes().all(|c| SYMBOLS.contains(&c)), "{label}");
            assert!(!label.contains(['i', 'l', 'o', 'u']), "{label}");
        }
    }

    #[test]
    fn issue_15_labels_depend_on_the_office_key_not_only_the_mailbox() {
        let mailbox = MailboxId::from_bytes([7; 16]);
        let ours = Labeler::new(&identity(1)).label(&mailbox);
        let theirs = Labeler::new(&identity(2)).label(&mailbox);
        assert_ne!(ours, theirs);
        assert_eq!(ours, Labeler::new(&identity(1)).label(&mailbox));
        assert!(!mailbox.to_string().to_lowercase().starts_with(&ours));
    }

    #[test]
    fn the_base32_is_crockfords_most_significant_bit_first() {
        assert_eq!(base32_40(&[0; 5]), "00000000");
        assert_eq!(base32_40(&[0xff; 5]), "zzzzzzzz");
        assert_eq!(base32_40(&[0x08, 0, 0, 0, 0x01]), "10000001");
    }

    #[test]
    fn issue_15_a_typed_label_is_read_in_any_case() {
        assert_eq!(normalize(" 7K2M-9QDX ").unwrap(), "7k2m9qdx");
        assert_eq!(normalize("OIl").unwrap(), "011");
        assert!(normalize("").is_err());
        let err = normalize("c__AB4PR").unwrap_err().to_string();
        assert!(err.contains("not a case label"), "{err}");
        assert!(normalize("7k2u").is_err());
    }
}
