//! Hashcash-style proof of work for opening a mailbox.
//!
//! The relay issues a stateless challenge: a random value, a difficulty and an expiry,
//! authenticated with HMAC-SHA256 (RFC 2104) under a relay secret. The client finds a nonce for
//! which `SHA-256(POW_SOLUTION || challenge || context || nonce)` has `difficulty` leading zero
//! bits, where `context` is the mailbox ID being opened (so a solution cannot be moved to another
//! mailbox). Verification costs one HMAC and one hash whatever the difficulty.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{self, b64_array};
use crate::error::PowError;
use crate::{Error, labels};

/// The challenge format version.
pub const POW_VERSION: u8 = 1;

/// The highest difficulty a challenge may carry.
pub const MAX_DIFFICULTY: u8 = 40;

/// The relay's secret for MACing challenges. No `Debug`; zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PowKey([u8; 32]);

impl PowKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// A fresh random key.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        Self(crate::keys::random_bytes(rng))
    }
    fn mac(&self, random: &[u8; 16], difficulty: u8, expires: u64) -> [u8; 32] {
        // HMAC accepts keys of any length.
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(labels::POW_MAC);
        mac.update(random);
        mac.update(&[difficulty]);
        mac.update(&expires.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A proof-of-work challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Format version, [`POW_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1))]
    pub v: u64,
    /// 16 random bytes; each challenge is accepted once.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub random: [u8; 16],
    /// Required leading zero bits.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 40))]
    pub difficulty: u8,
    /// Unix seconds after which the challenge is refused.
    pub expires: u64,
    /// HMAC-SHA256 by the relay.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub mac: [u8; 32],
}

/// A solved challenge, as sent when opening a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Solution {
    /// The challenge as issued.
    pub challenge: Challenge,
    /// The nonce found.
    pub nonce: u64,
}

impl Challenge {
    /// Issues a challenge valid for `ttl` seconds from `now`.
    pub fn issue(
        key: &PowKey,
        difficulty: u8,
        now: u64,
        ttl: u64,
        rng: &mut impl rand::CryptoRng,
    ) -> Self {
        Self::issue_with_random(key, difficulty, now, ttl, crate::keys::random_bytes(rng))
    }

    /// Issues a challenge with a given random value, so that a test vector's challenge is
    /// reproducible (`docs/vectors/`); [`Challenge::issue`] draws it, as every real challenge
    /// must, since the relay accepts each random value once.
    #[doc(hidden)]
    pub fn issue_with_random(
        key: &PowKey,
        difficulty: u8,
        now: u64,
        ttl: u64,
        random: [u8; 16],
    ) -> Self {
        let expires = now.saturating_add(ttl);
        Self {
            v: POW_VERSION.into(),
            random,
            difficulty,
            expires,
            mac: key.mac(&random, difficulty, expires),
        }
    }

    /// Parses the wire form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let c: Challenge = encoding::from_json("pow challenge", bytes)?;
        encoding::check_version("pow challenge", c.v, POW_VERSION)?;
        if c.difficulty > MAX_DIFFICULTY {
            return Err(Error::malformed("pow challenge", "difficulty above 40"));
        }
        Ok(c)
    }

    fn hasher(&self, context: &[u8]) -> Sha256 {
        let mut h = Sha256::new();
        h.update(labels::POW_SOLUTION);
        h.update(self.random);
        h.update([self.difficulty]);
        h.update(self.expires.to_be_bytes());
        h.update(self.mac);
        h.update(context);
        h
    }

    /// Searches `count` nonces from `start`. Callers that want progress or cancellation call
    /// this in slices.
    pub fn solve_range(&self, context: &[u8], start: u64, count: u64) -> Option<u64> {
        let prefix = self.hasher(context);
        (start..start.saturating_add(count)).find(|nonce| {
            let mut h = prefix.clone();
            h.update(nonce.to_be_bytes());
            leading_zero_bits(&h.finalize().into()) >= u32::from(self.difficulty)
        })
    }

    /// Finds a solution. Expected work is `2^difficulty` hashes.
    pub fn solve(&self, context: &[u8]) -> Solution {
        let mut start = 0u64;
        loop {
            if let Some(nonce) = self.solve_range(context, start, 1 << 20) {
                return Solution {
                    challenge: self.clone(),
                    nonce,
                };
            }
            start += 1 << 20;
        }
    }
}

impl Solution {
    /// Checks the solution: issued by this relay, not expired, at least `min_difficulty`, and
    /// enough leading zero bits. Whether it was used before is the relay's to check, by
    /// `challenge.random`.
    pub fn verify(
        &self,
        key: &PowKey,
        context: &[u8],
        now: u64,
        min_difficulty: u8,
    ) -> Result<(), Error> {
        let c = &self.challenge;
        encoding::check_version("pow challenge", c.v, POW_VERSION)?;
        let expected = key.mac(&c.random, c.difficulty, c.expires);
        if !bool::from(expected.ct_eq(&c.mac)) {
            return Err(Error::Pow(PowError::NotIssued));
        }
        if now > c.expires {
            return Err(Error::Pow(PowError::Expired));
        }
        if c.difficulty < min_difficulty {
            return Err(Error::Pow(PowError::TooEasy));
        }
        let mut h = c.hasher(context);
        h.update(self.nonce.to_be_bytes());
        if leading_zero_bits(&h.finalize().into()) < u32::from(c.difficulty) {
            return Err(Error::Pow(PowError::Insufficient));
        }
        Ok(())
    }
}

fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &b in hash {
        if b == 0 {
            bits += 8;
        } else {
            return bits + b.leading_zeros();
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn setup(difficulty: u8) -> (PowKey, Challenge) {
        let key = PowKey::generate(&mut rand::rng());
        let c = Challenge::issue(&key, difficulty, NOW, 300, &mut rand::rng());
        (key, c)
    }

    #[test]
    fn solved_challenge_verifies() {
        let (key, c) = setup(10);
        let s = c.solve(b"mailbox");
        assert!(s.verify(&key, b"mailbox", NOW + 10, 10).is_ok());
    }

    #[test]
    fn expired_challenge_is_refused() {
        let (key, c) = setup(8);
        let s = c.solve(b"m");
        assert_eq!(
            s.verify(&key, b"m", NOW + 301, 8),
            Err(Error::Pow(PowError::Expired))
        );
    }

    #[test]
    fn solution_for_another_challenge_or_context_is_refused() {
        let (key, c) = setup(12);
        let other = Challenge::issue(&key, 12, NOW, 300, &mut rand::rng());
        let mut s = c.solve(b"m");
        assert_eq!(
            s.verify(&key, b"other mailbox", NOW, 12),
            Err(Error::Pow(PowError::Insufficient))
        );
        s.challenge = other;
        assert_eq!(
            s.verify(&key, b"m", NOW, 12),
            Err(Error::Pow(PowError::Insufficient))
        );
    }

    #[test]
    fn forged_or_lowered_difficulty_is_refused() {
        let (key, c) = setup(12);
        let mut lowered = c.clone();
        lowered.difficulty = 1;
        let s = lowered.solve(b"m");
        assert_eq!(
            s.verify(&key, b"m", NOW, 12),
            Err(Error::Pow(PowError::NotIssued))
        );
        let (key, easy) = setup(4);
        let s = easy.solve(b"m");
        assert_eq!(
            s.verify(&key, b"m", NOW, 12),
            Err(Error::Pow(PowError::TooEasy))
        );
        let other_key = PowKey::generate(&mut rand::rng());
        assert_eq!(
            s.verify(&other_key, b"m", NOW, 4),
            Err(Error::Pow(PowError::NotIssued))
        );
    }

    #[test]
    fn leading_zero_bits_counts() {
        let mut h = [0u8; 32];
        h[2] = 0b0001_0000;
        assert_eq!(leading_zero_bits(&h), 19);
        assert_eq!(leading_zero_bits(&[0; 32]), 256);
    }
}
