//! A "random" source that hands out given bytes, for [`super::Sealer::seal_deterministic`] and
//! the handoff's scripted sealing: the 32-byte values a test vector names (HPKE ephemeral input
//! keying material, one `ikmE` per encapsulation, and a key half), in order.
//!
//! HPKE asks for each `ikmE` with one fill of 32 bytes. Anything else (another length, a third
//! request, a request for a number) means the sealing does not follow the script, and
//! [`Scripted::finish`] refuses it rather than seal with bytes the vector does not name.

use core::convert::Infallible;

use rand::{TryCryptoRng, TryRng};

use crate::Error;

pub(crate) struct Scripted<'a> {
    script: &'a [[u8; 32]],
    next: usize,
    off_script: bool,
}

impl<'a> Scripted<'a> {
    pub(crate) fn new(script: &'a [[u8; 32]]) -> Self {
        Self {
            script,
            next: 0,
            off_script: false,
        }
    }

    /// Checks that every scripted value, and nothing else, was handed out.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.off_script || self.next != self.script.len() {
            return Err(Error::SealFailed);
        }
        Ok(())
    }
}

impl TryRng for Scripted<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.off_script = true;
        Ok(0)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.off_script = true;
        Ok(0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match self.script.get(self.next) {
            Some(value) if value.len() == dst.len() => {
                dst.copy_from_slice(value);
                self.next += 1;
            }
            _ => {
                dst.fill(0);
                self.off_script = true;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for Scripted<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::Sealer;
    use crate::{Codename, Identity};

    #[test]
    fn the_same_inputs_seal_the_same_envelope_and_other_ikm_another() {
        // Arrange
        let office = Identity::from_secret_bytes(&[7; 64]);
        let case = Codename::from_entropy([9; 16]).derive(&office.fingerprint());
        let sealer = Sealer::visitor(&case, office.kem().public_key(), true);
        let ikm = [[1; 32], [2; 32]];

        // Act
        let first = sealer.seal_deterministic(b"body", &[3; 32], &ikm).unwrap();
        let again = sealer.seal_deterministic(b"body", &[3; 32], &ikm).unwrap();
        let other = sealer
            .seal_deterministic(b"body", &[3; 32], &[[1; 32], [4; 32]])
            .unwrap();

        // Assert: the payload depends on the content key only, the second stanza on its ikmE.
        assert_eq!(first, again);
        assert_eq!(first.ct, other.ct);
        assert_eq!(first.stanzas[0], other.stanzas[0]);
        assert_ne!(first.stanzas[1], other.stanzas[1]);
    }

    #[test]
    fn a_request_off_the_script_is_refused() {
        let script = [[1; 32], [2; 32]];
        let mut short = Scripted::new(&script);
        short.try_fill_bytes(&mut [0; 32]).unwrap();
        assert_eq!(short.finish(), Err(Error::SealFailed));
        let mut wrong = Scripted::new(&script);
        wrong.try_fill_bytes(&mut [0; 16]).unwrap();
        wrong.try_fill_bytes(&mut [0; 32]).unwrap();
        assert_eq!(wrong.finish(), Err(Error::SealFailed));
        let mut number = Scripted::new(&script);
        for _ in 0..2 {
            number.try_fill_bytes(&mut [0; 32]).unwrap();
        }
        number.try_next_u32().unwrap();
        assert_eq!(number.finish(), Err(Error::SealFailed));
    }
}
