//! Identifiers that travel in URLs: mailbox IDs, office IDs, handoff IDs and request IDs.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::{Error, encoding};

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// Wraps 16 raw bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
            /// The raw 16 bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
            /// A fresh random ID.
            pub fn random(rng: &mut impl rand::CryptoRng) -> Self {
                Self(crate::keys::random_bytes(rng))
            }
            /// A short label for display: the first 8 characters of the ID. Never the full ID.
            pub fn short_label(&self) -> String {
                let s = self.to_string();
                s[..8].to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&encoding::b64(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                if s.len() != 22 {
                    return Err(Error::malformed(
                        $what,
                        "expected 22 base64url characters (16 bytes)",
                    ));
                }
                encoding::unb64_array::<16>($what, s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <&str>::deserialize(d)?.parse().map_err(D::Error::custom)
            }
        }
    };
}

random_id!(
    /// A mailbox on the relay: 16 bytes, derived from the codename (visitor cases) or random.
    MailboxId,
    "mailbox id"
);
random_id!(
    /// A handoff package: 16 random bytes.
    HandoffId,
    "handoff id"
);
random_id!(
    /// A stored tally: 16 random bytes the relay draws, tied to nothing else.
    TallyId,
    "tally id"
);
random_id!(
    /// A signed request's nonce: 16 random bytes, each accepted once.
    RequestId,
    "request id"
);

impl MailboxId {
    /// The mailbox ID of the case with these public keys: the first 16 bytes of
    /// `SHA-256(MAILBOX_ID || signing key || KEM key)`. The ID certifies the keys, so that a
    /// relay cannot list another key for a mailbox without the ID giving it away: the relay
    /// checks it when a mailbox is opened, and the office's client on every inbox entry.
    pub fn of_case(signing_key: &[u8; 32], kem_key: &[u8; 32]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(crate::labels::MAILBOX_ID)
            .chain_update(signing_key)
            .chain_update(kem_key)
            .finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Self(id)
    }

    /// Whether this is the ID of the case with these keys ([`MailboxId::of_case`]).
    pub fn certifies(&self, signing_key: &[u8; 32], kem_key: &[u8; 32]) -> bool {
        *self == Self::of_case(signing_key, kem_key)
    }
}

/// An office's ID: 3 to 32 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OfficeId(String);

impl OfficeId {
    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Derives a valid ID from a display name: lowercase, runs of other characters become `-`.
    pub fn slug(name: &str) -> Result<Self, Error> {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out = out.trim_end_matches('-');
        let out: String = out.chars().take(32).collect();
        out.trim_end_matches('-').parse()
    }
}

impl fmt::Display for OfficeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OfficeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficeId({})", self.0)
    }
}

impl FromStr for OfficeId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let ok_len = (3..=32).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_ends = !s.starts_with('-') && !s.ends_with('-');
        if ok_len && ok_chars && ok_ends {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::malformed(
                "office id",
                "use 3 to 32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            ))
        }
    }
}

impl Serialize for OfficeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OfficeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&str>::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_id_parses_only_canonical_form() {
        let id = MailboxId::from_bytes([9; 16]);
        assert_eq!(id.to_string().parse::<MailboxId>().unwrap(), id);
        assert!("short".parse::<MailboxId>().is_err());
        assert!("CQkJCQkJCQkJCQkJCQkJCQ==".parse::<MailboxId>().is_err());
        assert_eq!(id.short_label().len(), 8);
    }

    #[test]
    fn office_id_rules() {
        assert!("ombuds-1".parse::<OfficeId>().is_ok());
        for bad in ["ab", "-abc", "abc-", "ABC", "a b c", &"x".repeat(33)] {
            assert!(bad.parse::<OfficeId>().is_err(), "{bad}");
        }
        assert_eq!(
            OfficeId::slug("Example University — Ombuds Office!")
                .unwrap()
                .as_str(),
            "example-university-ombuds-office"
        );
    }
}
