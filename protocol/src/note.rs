//! An ombuds' note on a case: text the office keeps beside the case for itself, sealed by the
//! office to its own KEM key with HPKE auth mode (RFC 9180 §5.1.3), as the read marker is
//! (`crate::marker`), so that the relay keeps it without reading it and cannot forge one.
//!
//! Form: `enc (32) || ciphertext of the Padmé-framed text (crate::padding)`. The `info` is
//! [`labels::CASE_NOTE`] followed by the mailbox ID, so a note opens only on its own case. The
//! relay numbers notes; it could withhold or reorder them, never change or add one.

use crate::keys::Identity;
use crate::{Error, MailboxId, labels, padding, seal};

/// The AEAD tag's length.
const TAG_LEN: usize = 16;

fn info(mailbox: &MailboxId) -> Vec<u8> {
    [labels::CASE_NOTE, mailbox.as_bytes()].concat()
}

/// The sealed length of a note of `text_len` bytes: what the relay sees of it.
pub fn sealed_len(text_len: usize) -> usize {
    32 + padding::padded_len(text_len) + TAG_LEN
}

/// Seals `text` as a note of `mailbox`, by and for `office`.
pub fn seal(
    office: &Identity,
    mailbox: &MailboxId,
    text: &str,
    rng: &mut impl rand::CryptoRng,
) -> Result<Vec<u8>, Error> {
    let framed = padding::pad(text.as_bytes())?;
    let own = office.kem().public_key();
    let (enc, mut ctx) = seal::setup_sender(Some(office.kem()), &own, &info(mailbox), rng)?;
    let ct = ctx.seal(&framed, b"")?;
    Ok([enc.as_slice(), &ct].concat())
}

/// Opens a note sealed by [`seal()`]. Anything else is [`Error::DecryptionFailed`] (or a
/// malformed padding or text error, which only the office's own key could have sealed).
pub fn open(office: &Identity, mailbox: &MailboxId, sealed: &[u8]) -> Result<String, Error> {
    let (enc, ct) = sealed
        .split_first_chunk::<32>()
        .ok_or(Error::DecryptionFailed)?;
    let own = office.kem().public_key();
    let mut ctx = seal::setup_receiver(office.kem(), Some(&own), enc, &info(mailbox))?;
    let framed = ctx.open(ct, b"")?;
    let text = padding::unpad(&framed)?;
    String::from_utf8(text.to_vec()).map_err(|_| Error::malformed("note", "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_opens_for_its_office_and_case_only() {
        // Arrange
        let rng = &mut rand::rng();
        let office = Identity::generate(rng);
        let mailbox = MailboxId::random(rng);

        // Act
        let sealed = seal(&office, &mailbox, "called HR, no answer yet", rng).unwrap();

        // Assert
        assert_eq!(
            open(&office, &mailbox, &sealed).unwrap(),
            "called HR, no answer yet"
        );
        assert!(open(&Identity::generate(rng), &mailbox, &sealed).is_err());
        assert!(open(&office, &MailboxId::random(rng), &sealed).is_err());
        assert!(open(&office, &mailbox, &sealed[..sealed.len() - 1]).is_err());
        // Someone with only the office's public key (the relay) cannot make one.
        let forged = {
            let k = crate::KemSecretKey::generate(rng);
            let (enc, mut ctx) =
                seal::setup_sender(Some(&k), &office.kem().public_key(), &info(&mailbox), rng)
                    .unwrap();
            let framed = padding::pad(b"forged").unwrap();
            [enc.as_slice(), &ctx.seal(&framed, b"").unwrap()].concat()
        };
        assert!(open(&office, &mailbox, &forged).is_err());
    }

    #[test]
    fn notes_are_padded_so_short_ones_all_look_the_same() {
        // Arrange
        let rng = &mut rand::rng();
        let office = Identity::generate(rng);
        let mailbox = MailboxId::random(rng);

        // Act
        let short = seal(&office, &mailbox, "ok", rng).unwrap();
        let longer = seal(&office, &mailbox, &"x".repeat(400), rng).unwrap();
        let long = seal(&office, &mailbox, &"y".repeat(5000), rng).unwrap();

        // Assert
        assert_eq!(short.len(), longer.len());
        assert_eq!(short.len(), sealed_len(0));
        assert_eq!(long.len(), sealed_len(5000));
        assert!(long.len() > short.len());
    }
}
