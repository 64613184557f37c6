//! A channel as the relay keeps it (the opaque body of a store channel): the third party's
//! channel key and the envelopes, each change a pure function run by the store under the
//! channel's lock.

use candor_protocol::Envelope;
use candor_protocol::api::StoredEnvelope;
use candor_protocol::encoding::b64_array;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The record format version.
const BODY_VERSION: u64 = 1;

/// What one channel may hold: the relay's per-mailbox limits.
pub struct Limits {
    /// Envelopes.
    pub envelopes: u64,
    /// Bytes of envelope JSON.
    pub bytes: u64,
}

/// The stored body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    v: u64,
    /// The third party's channel key.
    #[serde(with = "b64_array")]
    pub third_party_key: [u8; 32],
    /// The envelopes, in order, numbered from 1.
    pub envelopes: Vec<StoredEnvelope>,
}

impl Body {
    /// A new, empty channel.
    pub fn new(third_party_key: [u8; 32]) -> Self {
        Self {
            v: BODY_VERSION,
            third_party_key,
            envelopes: Vec::new(),
        }
    }

    /// Parses a stored body.
    pub fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let b: Body =
            serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt("channel record"))?;
        if b.v != BODY_VERSION {
            return Err(StoreError::Corrupt("channel record"));
        }
        Ok(b)
    }

    /// The stored body.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn bytes(&self) -> u64 {
        self.envelopes
            .iter()
            .map(|e| e.envelope.to_json().len() as u64)
            .sum()
    }

    /// Appends an envelope within `limits`; returns its number.
    pub fn push(&mut self, envelope: Envelope, limits: &Limits) -> Result<u64, StoreError> {
        if self.envelopes.len() as u64 >= limits.envelopes {
            return Err(StoreError::Quota("envelopes per channel"));
        }
        if self.bytes() + envelope.to_json().len() as u64 > limits.bytes {
            return Err(StoreError::Quota("bytes per channel"));
        }
        let seq = self.envelopes.last().map_or(1, |e| e.seq + 1);
        self.envelopes.push(StoredEnvelope { seq, envelope });
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        let rng = &mut candor_protocol::rand::rng();
        let third = candor_protocol::Identity::generate(rng);
        let office = candor_protocol::Identity::generate(rng);
        let channel = candor_protocol::MailboxId::from_bytes([7; 16]);
        let sealer = candor_protocol::handoff::third_party_sealer(
            &third,
            office.kem().public_key(),
            channel,
        );
        candor_protocol::Message::text("the schedule is fixed", candor_protocol::Day(20_000))
            .seal(&sealer, rng)
            .unwrap()
    }

    #[test]
    fn envelopes_are_numbered_from_one_and_kept_within_the_limits() {
        // Arrange
        let mut b = Body::new([1; 32]);
        let e = envelope();
        let limits = Limits {
            envelopes: 2,
            bytes: 1 << 20,
        };

        // Act
        let first = b.push(e.clone(), &limits).unwrap();
        let second = b.push(e.clone(), &limits).unwrap();
        let third = b.push(e.clone(), &limits);

        // Assert
        assert_eq!((first, second), (1, 2));
        assert_eq!(third, Err(StoreError::Quota("envelopes per channel")));
        assert_eq!(Body::decode(&b.encode()).unwrap(), b);
        let tight = Limits {
            envelopes: 10,
            bytes: 10,
        };
        assert!(Body::new([1; 32]).push(e, &tight).is_err());
        assert!(Body::decode(b"{\"v\":2,\"third_party_key\":\"\",\"envelopes\":[]}").is_err());
    }
}
