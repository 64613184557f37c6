//! The office's read marker for a case: the highest sequence number the office has read,
//! sealed by the office to itself with HPKE auth mode (RFC 9180 §5.1.3), so that the relay
//! keeps it without reading it and cannot forge one (it could only replay an older marker,
//! which makes messages look unread again, never read).
//!
//! Form: `enc (32) || ciphertext of the 8-byte big-endian sequence number (24)`, 56 bytes.

use crate::keys::Identity;
use crate::{Error, MailboxId, labels, seal};

/// The sealed marker's length.
pub const MARKER_LEN: usize = 32 + 8 + 16;

fn info(mailbox: &MailboxId) -> Vec<u8> {
    [labels::READ_MARKER, mailbox.as_bytes()].concat()
}

/// Seals "read up to `seq`" for `mailbox`.
pub fn seal(
    office: &Identity,
    mailbox: &MailboxId,
    seq: u64,
    rng: &mut impl rand::CryptoRng,
) -> Result<Vec<u8>, Error> {
    let own = office.kem().public_key();
    let (enc, mut ctx) = seal::setup_sender(Some(office.kem()), &own, &info(mailbox), rng)?;
    let ct = ctx.seal(&seq.to_be_bytes(), b"")?;
    Ok([enc.as_slice(), &ct].concat())
}

/// Opens a marker sealed by [`seal`]. Anything else is [`Error::DecryptionFailed`].
pub fn open(office: &Identity, mailbox: &MailboxId, sealed: &[u8]) -> Result<u64, Error> {
    let (enc, ct) = sealed
        .split_first_chunk::<32>()
        .ok_or(Error::DecryptionFailed)?;
    let own = office.kem().public_key();
    let mut ctx = seal::setup_receiver(office.kem(), Some(&own), enc, &info(mailbox))?;
    let plain = ctx.open(ct, b"")?;
    let seq: [u8; 8] = plain
        .as_slice()
        .try_into()
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(u64::from_be_bytes(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_opens_for_its_office_and_mailbox_only() {
        // Arrange
        let rng = &mut rand::rng();
        let office = Identity::generate(rng);
        let mailbox = MailboxId::random(rng);

        // Act
        let sealed = seal(&office, &mailbox, 7, rng).unwrap();

        // Assert
        assert_eq!(sealed.len(), MARKER_LEN);
        assert_eq!(open(&office, &mailbox, &sealed), Ok(7));
        let other = Identity::generate(rng);
        assert!(open(&other, &mailbox, &sealed).is_err());
        assert!(open(&office, &MailboxId::random(rng), &sealed).is_err());
        // Someone with only the office's public key (the relay) cannot make one.
        let forged = {
            let k = crate::KemSecretKey::generate(rng);
            let (enc, mut ctx) =
                seal::setup_sender(Some(&k), &office.kem().public_key(), &info(&mailbox), rng)
                    .unwrap();
            [
                enc.as_slice(),
                &ctx.seal(&99u64.to_be_bytes(), b"").unwrap(),
            ]
            .concat()
        };
        assert!(open(&office, &mailbox, &forged).is_err());
        assert!(open(&office, &mailbox, &sealed[..40]).is_err());
    }
}
