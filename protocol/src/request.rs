//! Signed relay requests. Every request that reads, appends to or deletes a mailbox is signed by
//! a key registered to that mailbox; there are no bearer secrets.
//!
//! The signature is Ed25519 over
//! `REQUEST || signer || len16(method) || method || len16(path) || path || SHA-256(body)
//!   || timestamp (u64 BE) || request id (16 bytes)`,
//! where `path` includes the query string. It travels in four headers, see [`HEADERS`]; a
//! fifth, [`KEY_HEADER`], may name the key that signed.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::encoding;
use crate::keys::{SigningPublicKey, SigningSecretKey};
use crate::{Error, RequestId, labels};

/// The default accepted clock difference, in seconds, between client and relay.
pub const DEFAULT_WINDOW_SECS: u64 = 120;

/// Header names, in the order signer, timestamp, request id, signature.
pub const HEADERS: [&str; 4] = [
    "candor-signer",
    "candor-timestamp",
    "candor-request-id",
    "candor-signature",
];

/// The optional header that names the public key a request is signed with (`docs/protocol.md`
/// §8), so that the relay can check the signature before it reads the key registered for the
/// mailbox, and read both that key and the mailbox's envelopes in one step. It is not signed:
/// a signature verifies under one key only, and the relay refuses a request whose named key
/// is not the registered one, as it refuses a wrong signature.
pub const KEY_HEADER: &str = "candor-key";

/// Which registered key signed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signer {
    /// The case key registered when the mailbox was opened.
    Case,
    /// The office identity key from the office card.
    Office,
    /// A key the office registered for one handoff: the third party's fetch key for the
    /// package, or its channel key (`docs/protocol.md` §10).
    ThirdParty,
}

impl Signer {
    fn code(self) -> u8 {
        match self {
            Signer::Case => 1,
            Signer::Office => 2,
            Signer::ThirdParty => 3,
        }
    }
}

impl fmt::Display for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signer::Case => "case",
            Signer::Office => "office",
            Signer::ThirdParty => "third-party",
        })
    }
}

impl FromStr for Signer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "case" => Ok(Signer::Case),
            "office" => Ok(Signer::Office),
            "third-party" => Ok(Signer::ThirdParty),
            _ => Err(Error::malformed(
                "candor-signer",
                "expected case, office or third-party",
            )),
        }
    }
}

/// The authentication of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAuth {
    /// Which key signed.
    pub signer: Signer,
    /// Unix seconds when the request was signed.
    pub timestamp: u64,
    /// A random nonce; the relay accepts each once.
    pub request_id: RequestId,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

fn signing_input(
    signer: Signer,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: u64,
    request_id: &RequestId,
) -> Vec<u8> {
    let mut input = Vec::with_capacity(method.len() + path.len() + 64);
    input.push(signer.code());
    for field in [method.as_bytes(), path.as_bytes()] {
        // Methods and paths are far shorter than 64 KiB; longer ones are truncated in the length
        // field only, which still makes the encoding unambiguous for all valid requests.
        input.extend_from_slice(&(field.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        input.extend_from_slice(field);
    }
    input.extend_from_slice(&Sha256::digest(body));
    input.extend_from_slice(&timestamp.to_be_bytes());
    input.extend_from_slice(request_id.as_bytes());
    input
}

impl RequestAuth {
    /// Signs a request at time `now` (Unix seconds).
    pub fn sign(
        key: &SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
        rng: &mut impl rand::CryptoRng,
    ) -> Self {
        Self::sign_with_id(key, signer, method, path, body, now, RequestId::random(rng))
    }

    /// Signs a request with a given request ID, so that a test vector's signature is
    /// reproducible (`docs/vectors/`); [`RequestAuth::sign`] draws the ID at random, as every
    /// real request must.
    #[doc(hidden)]
    pub fn sign_with_id(
        key: &SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
        request_id: RequestId,
    ) -> Self {
        let input = signing_input(signer, method, path, body, now, &request_id);
        Self {
            signer,
            timestamp: now,
            request_id,
            signature: key.sign(labels::REQUEST, &input),
        }
    }

    /// Checks the timestamp against `now` and `window`, then the signature under `key`.
    /// Replays inside the window are the relay's to catch, by `request_id`.
    pub fn verify(
        &self,
        key: &SigningPublicKey,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
        window: u64,
    ) -> Result<(), Error> {
        if !self.is_fresh(now, window) {
            return Err(Error::StaleRequest);
        }
        let input = signing_input(
            self.signer,
            method,
            path,
            body,
            self.timestamp,
            &self.request_id,
        );
        key.verify(labels::REQUEST, &input, &self.signature)
    }

    /// Whether the timestamp is within `window` seconds of `now`.
    pub fn is_fresh(&self, now: u64, window: u64) -> bool {
        self.timestamp.abs_diff(now) <= window
    }

    /// The header values, in the order of [`HEADERS`].
    pub fn header_values(&self) -> [String; 4] {
        [
            self.signer.to_string(),
            self.timestamp.to_string(),
            self.request_id.to_string(),
            encoding::b64(&self.signature),
        ]
    }

    /// The value of [`KEY_HEADER`] for `key`: its 32 bytes, base64url.
    pub fn key_header(key: &SigningPublicKey) -> String {
        encoding::b64(&key.to_bytes())
    }

    /// Parses a [`KEY_HEADER`] value into the 32 bytes it names; whether they are a valid
    /// Ed25519 key is for [`SigningPublicKey::from_bytes`] to say.
    pub fn parse_key_header(value: &str) -> Result<[u8; 32], Error> {
        encoding::unb64_array::<32>(KEY_HEADER, value)
    }

    /// Parses the four headers; `get` looks one up by its lowercase name.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, Error> {
        let need = |name: &'static str| {
            get(name).ok_or_else(|| Error::malformed(name, "missing; this request must be signed"))
        };
        let timestamp = need(HEADERS[1])?;
        if timestamp.is_empty()
            || timestamp.len() > 20
            || !timestamp.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::malformed(
                "candor-timestamp",
                "expected Unix seconds",
            ));
        }
        Ok(Self {
            signer: need(HEADERS[0])?.parse()?,
            timestamp: timestamp
                .parse()
                .map_err(|_| Error::malformed("candor-timestamp", "expected Unix seconds"))?,
            request_id: need(HEADERS[2])?.parse()?,
            signature: encoding::unb64_array::<64>("candor-signature", need(HEADERS[3])?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn signed(key: &SigningSecretKey) -> RequestAuth {
        RequestAuth::sign(
            key,
            Signer::Case,
            "POST",
            "/v1/mailboxes/x",
            b"body",
            NOW,
            &mut rand::rng(),
        )
    }

    #[test]
    fn verifies_and_binds_every_field() {
        let key = SigningSecretKey::generate(&mut rand::rng());
        let pk = key.public_key();
        let auth = signed(&key);
        assert!(
            auth.verify(&pk, "POST", "/v1/mailboxes/x", b"body", NOW + 5, 120)
                .is_ok()
        );
        assert_eq!(
            auth.verify(&pk, "GET", "/v1/mailboxes/x", b"body", NOW, 120),
            Err(Error::BadSignature)
        );
        assert_eq!(
            auth.verify(&pk, "POST", "/v1/mailboxes/y", b"body", NOW, 120),
            Err(Error::BadSignature)
        );
        assert_eq!(
            auth.verify(&pk, "POST", "/v1/mailboxes/x", b"bodY", NOW, 120),
            Err(Error::BadSignature)
        );
        let mut other_signer = auth.clone();
        other_signer.signer = Signer::Office;
        assert_eq!(
            other_signer.verify(&pk, "POST", "/v1/mailboxes/x", b"body", NOW, 120),
            Err(Error::BadSignature)
        );
        let other = SigningSecretKey::generate(&mut rand::rng()).public_key();
        assert_eq!(
            auth.verify(&other, "POST", "/v1/mailboxes/x", b"body", NOW, 120),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn replay_outside_the_window_is_stale() {
        let key = SigningSecretKey::generate(&mut rand::rng());
        let auth = signed(&key);
        let pk = key.public_key();
        assert_eq!(
            auth.verify(&pk, "POST", "/v1/mailboxes/x", b"body", NOW + 121, 120),
            Err(Error::StaleRequest)
        );
        assert_eq!(
            auth.verify(&pk, "POST", "/v1/mailboxes/x", b"body", NOW - 121, 120),
            Err(Error::StaleRequest)
        );
    }

    #[test]
    fn headers_round_trip_and_bad_headers_are_refused() {
        let auth = signed(&SigningSecretKey::generate(&mut rand::rng()));
        let values = auth.header_values();
        let get = |name: &str| {
            HEADERS
                .iter()
                .position(|h| *h == name)
                .map(|i| values[i].as_str())
        };
        assert_eq!(RequestAuth::from_headers(get).unwrap(), auth);
        let bad_ts = |name: &str| {
            if name == HEADERS[1] {
                Some("-5")
            } else {
                get(name)
            }
        };
        assert!(RequestAuth::from_headers(bad_ts).is_err());
        let missing = |name: &str| if name == HEADERS[3] { None } else { get(name) };
        assert!(RequestAuth::from_headers(missing).is_err());
    }

    #[test]
    fn the_key_header_round_trips_and_refuses_other_lengths() {
        let key = SigningSecretKey::generate(&mut rand::rng()).public_key();
        let value = RequestAuth::key_header(&key);
        assert_eq!(value.len(), 43);
        assert_eq!(RequestAuth::parse_key_header(&value), Ok(key.to_bytes()));
        for bad in [
            "",
            &value[..42],
            &format!("{value}A"),
            &value.replace('A', "+"),
        ] {
            if bad != value {
                assert!(RequestAuth::parse_key_header(bad).is_err(), "{bad:?}");
            }
        }
    }
}
