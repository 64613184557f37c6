//! The envelope: what the relay stores. A version, the mailbox, the direction, the HPKE
//! encapsulated key and the ciphertext; nothing else.
//!
//! Wire form (JSON, unknown fields refused, binary fields as unpadded base64url):
//! `{"v":1,"mailbox":"…","direction":"to-office","enc":"…","ct":"…"}`.

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

use crate::encoding::{self, b64_array, b64_vec};
use crate::{Error, MailboxId, labels, padding};

/// The envelope format version.
pub const ENVELOPE_VERSION: u8 = 1;

/// The AEAD tag length.
const TAG_LEN: usize = 16;

/// Who wrote an envelope to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Visitor to office (code 1).
    ToOffice,
    /// Office to visitor (code 2).
    ToVisitor,
    /// Office to third party (code 3).
    ToThirdParty,
    /// Third party to office (code 4).
    FromThirdParty,
}

impl Direction {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Direction::ToOffice => "to-office",
            Direction::ToVisitor => "to-visitor",
            Direction::ToThirdParty => "to-third-party",
            Direction::FromThirdParty => "from-third-party",
        }
    }

    /// The byte that stands for the direction in `info`, AAD and signatures.
    pub fn code(self) -> u8 {
        match self {
            Direction::ToOffice => 1,
            Direction::ToVisitor => 2,
            Direction::ToThirdParty => 3,
            Direction::FromThirdParty => 4,
        }
    }
}

/// A sealed message as the relay stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The mailbox the envelope belongs to.
    pub mailbox: MailboxId,
    /// Who wrote it to whom.
    pub direction: Direction,
    /// HPKE encapsulated key.
    pub enc: [u8; 32],
    /// HPKE ciphertext of the padded content, tag included.
    pub ct: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wire {
    v: u64,
    mailbox: MailboxId,
    direction: Direction,
    #[serde(with = "b64_array")]
    enc: [u8; 32],
    #[serde(with = "b64_vec")]
    ct: Vec<u8>,
}

impl Envelope {
    /// The header bound as AAD: `ENVELOPE_AAD || version || direction || mailbox || enc`.
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(labels::ENVELOPE_AAD.len() + 50);
        aad.extend_from_slice(labels::ENVELOPE_AAD);
        aad.push(ENVELOPE_VERSION);
        aad.push(self.direction.code());
        aad.extend_from_slice(self.mailbox.as_bytes());
        aad.extend_from_slice(&self.enc);
        aad
    }

    /// The wire form: the same bytes as serializing it with serde (a test holds them equal),
    /// written directly. The relay stores every envelope it accepts in this form, and serde's
    /// string escaping scanned every byte of the base64url ciphertext, which needs none.
    pub fn to_json(&self) -> Vec<u8> {
        let mailbox = self.mailbox.to_string();
        let mut out = Vec::with_capacity(
            96 + mailbox.len() + BASE64URL_NOPAD.encode_len(self.enc.len() + self.ct.len()),
        );
        out.extend_from_slice(b"{\"v\":");
        out.extend_from_slice(ENVELOPE_VERSION.to_string().as_bytes());
        for (name, value) in [
            ("mailbox", mailbox.as_bytes()),
            ("direction", self.direction.name().as_bytes()),
        ] {
            push_key(&mut out, name);
            // Base64url and kebab-case names: nothing to escape.
            out.push(b'"');
            out.extend_from_slice(value);
            out.push(b'"');
        }
        for (name, bytes) in [("enc", &self.enc[..]), ("ct", &self.ct[..])] {
            push_key(&mut out, name);
            out.push(b'"');
            let start = out.len();
            out.resize(start + BASE64URL_NOPAD.encode_len(bytes.len()), 0);
            BASE64URL_NOPAD.encode_mut(bytes, &mut out[start..]);
            out.push(b'"');
        }
        out.push(b'}');
        out
    }

    /// Parses the wire form. Refuses unknown versions and fields, trailing data, non-canonical
    /// base64url, and ciphertexts whose length is not a Padmé bucket (so a relay can enforce
    /// padding without being able to read anything).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let wire: Wire = match encoding::from_json("envelope", bytes) {
            Ok(w) => w,
            Err(e) => {
                // Only a document that does not parse is read a second time, for its version.
                return Err(match peek_version(bytes) {
                    Some(v) if v != u64::from(ENVELOPE_VERSION) => Error::UnsupportedVersion {
                        what: "envelope",
                        found: v,
                        supported: ENVELOPE_VERSION,
                    },
                    _ => e,
                });
            }
        };
        encoding::check_version("envelope", wire.v, ENVELOPE_VERSION)?;
        let env = Envelope {
            mailbox: wire.mailbox,
            direction: wire.direction,
            enc: wire.enc,
            ct: wire.ct,
        };
        env.check_padded()?;
        Ok(env)
    }

    /// Checks that the ciphertext length is one that Padmé padding produces.
    pub fn check_padded(&self) -> Result<(), Error> {
        let framed = self.ct.len().checked_sub(TAG_LEN);
        match framed {
            Some(n) if n >= padding::MIN_BUCKET && padding::padme(n) == n => Ok(()),
            _ => Err(Error::malformed(
                "envelope.ct",
                "the ciphertext length is not a padding bucket",
            )),
        }
    }
}

/// `,"name":` after the previous field.
fn push_key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// [`Wire`], borrowed, for serializing.
#[derive(Serialize)]
struct WireRef<'a> {
    v: u64,
    mailbox: MailboxId,
    direction: Direction,
    #[serde(with = "b64_array")]
    enc: &'a [u8; 32],
    #[serde(with = "b64_vec")]
    ct: &'a [u8],
}

impl Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            v: ENVELOPE_VERSION.into(),
            mailbox: self.mailbox,
            direction: self.direction,
            enc: &self.enc,
            ct: &self.ct,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    /// Deserializes with the same checks as [`Envelope::from_json`] (except the version
    /// peeking, which needs the raw bytes).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let wire = Wire::deserialize(d)?;
        encoding::check_version("envelope", wire.v, ENVELOPE_VERSION).map_err(D::Error::custom)?;
        let env = Envelope {
            mailbox: wire.mailbox,
            direction: wire.direction,
            enc: wire.enc,
            ct: wire.ct,
        };
        env.check_padded().map_err(D::Error::custom)?;
        Ok(env)
    }
}

/// Reads `v` from an object that may not otherwise parse, so that a future version is reported
/// as such rather than as an unknown field.
fn peek_version(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct V {
        v: u64,
    }
    serde_json::from_slice::<V>(bytes).ok().map(|v| v.v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KemSecretKey;
    use crate::seal;
    use proptest::prelude::*;

    fn sample(body: &[u8]) -> Envelope {
        let rng = &mut rand::rng();
        let a = KemSecretKey::generate(rng);
        let b = KemSecretKey::generate(rng);
        seal::seal(
            &a,
            &b.public_key(),
            MailboxId::random(rng),
            Direction::ToOffice,
            body,
            None,
            rng,
        )
        .unwrap()
    }

    #[test]
    fn truncated_envelope_is_refused() {
        let json = sample(b"x").to_json();
        for cut in [1, 10, json.len() / 2, json.len() - 1] {
            assert!(Envelope::from_json(&json[..cut]).is_err(), "cut at {cut}");
        }
        let mut env = sample(b"x");
        env.ct.truncate(env.ct.len() - 1);
        assert!(Envelope::from_json(&env.to_json()).is_err());
    }

    #[test]
    fn wrong_version_is_refused_as_such() {
        let json = String::from_utf8(sample(b"x").to_json()).unwrap();
        let v2 = json.replace("\"v\":1", "\"v\":2");
        assert!(matches!(
            Envelope::from_json(v2.as_bytes()),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
    }

    #[test]
    fn trailing_data_unknown_fields_and_bad_lengths_are_refused() {
        let json = String::from_utf8(sample(b"x").to_json()).unwrap();
        assert!(Envelope::from_json(format!("{json}{{}}").as_bytes()).is_err());
        let extra = json.replacen('{', "{\"x\":1,", 1);
        assert!(Envelope::from_json(extra.as_bytes()).is_err());
        let short_enc = json.replacen("\"enc\":\"", "\"enc\":\"AA", 1);
        assert!(Envelope::from_json(short_enc.as_bytes()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn envelope_json_round_trips(body in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let env = sample(&body);
            prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
        }

        #[test]
        fn the_written_json_is_serdes(
            ct in proptest::collection::vec(any::<u8>(), 0..600),
            enc in any::<[u8; 32]>(),
            direction in 0usize..4,
        ) {
            let env = Envelope {
                mailbox: MailboxId::random(&mut rand::rng()),
                direction: [
                    Direction::ToOffice,
                    Direction::ToVisitor,
                    Direction::ToThirdParty,
                    Direction::FromThirdParty,
                ][direction],
                enc,
                ct,
            };
            prop_assert_eq!(env.to_json(), serde_json::to_vec(&env).unwrap());
        }
    }
}
