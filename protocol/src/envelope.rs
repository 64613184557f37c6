//! The envelope: what the relay stores. A version, the mailbox, the direction, two key stanzas,
//! the payload's key commitment and the payload; nothing else.
//!
//! Wire form (JSON, unknown fields refused, binary fields as unpadded base64url):
//! `{"v":2,"mailbox":"…","direction":"to-office","stanzas":[{"enc":"…","key":"…"},{…}],
//! "commit":"…","ct":"…"}`. Version 1 (one HPKE ciphertext, no stanzas) is refused as
//! [`Error::UnsupportedVersion`]; [`crate::seal`] says how the parts fit together.

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

use crate::encoding::{self, b64_array, b64_vec};
use crate::{Error, MailboxId, labels, padding};

/// The envelope format version.
pub const ENVELOPE_VERSION: u8 = 2;

/// How many key stanzas every envelope carries: one for the other party, one for the sender's
/// own side (or a throwaway key, so that the relay cannot tell whether the sender kept a copy).
pub const STANZAS: usize = 2;

/// The AEAD tag length.
const TAG_LEN: usize = 16;

/// Bytes of a stanza's wrapped content key: 32 bytes of key and the tag.
pub const WRAPPED_KEY_LEN: usize = 32 + TAG_LEN;

/// Who wrote an envelope to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One recipient's wrapping of the envelope's content key: an HPKE encapsulated key and the
/// HPKE ciphertext of the 32-byte content key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Stanza {
    /// HPKE encapsulated key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub enc: [u8; 32],
    /// The content key, sealed.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes48, inline))]
    pub key: [u8; WRAPPED_KEY_LEN],
}

/// A sealed message as the relay stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The mailbox the envelope belongs to.
    pub mailbox: MailboxId,
    /// Who wrote it to whom.
    pub direction: Direction,
    /// The content key for the other party (first) and for the sender's own side (second).
    pub stanzas: [Stanza; STANZAS],
    /// The commitment to the content key, so that the payload opens under one key only.
    pub commit: [u8; 32],
    /// ChaCha20-Poly1305 ciphertext of the padded, signed content, tag included.
    pub ct: Vec<u8>,
}

/// A sealed message in its wire form (docs/protocol.md §6), which an [`Envelope`] parses from
/// and whose schema it has.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct Wire {
    /// Format version: 2.
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    v: u64,
    /// The mailbox; must equal the path's.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    mailbox: MailboxId,
    /// Who wrote it to whom.
    direction: Direction,
    /// The content key wrapped for the other party, then for the sender's own side.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 2))]
    stanzas: [Stanza; STANZAS],
    /// The commitment to the content key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    commit: [u8; 32],
    /// ChaCha20-Poly1305 ciphertext; its length minus 16 must be a Padmé bucket of at least
    /// 512 bytes.
    #[serde(with = "b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
            min_length = 704
        )
    )]
    ct: Vec<u8>,
}

/// The envelope's schema is its wire form's, under the envelope's name: the envelope itself
/// serializes by hand ([`Envelope::to_json`]) and parses through `Wire`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Envelope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Wire as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Envelope {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Envelope")
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <Wire as utoipa::ToSchema>::schemas(schemas);
    }
}

impl Wire {
    fn into_envelope(self) -> Result<Envelope, Error> {
        encoding::check_version("envelope", self.v, ENVELOPE_VERSION)?;
        let env = Envelope {
            mailbox: self.mailbox,
            direction: self.direction,
            stanzas: self.stanzas,
            commit: self.commit,
            ct: self.ct,
        };
        env.check_padded()?;
        Ok(env)
    }
}

impl Envelope {
    /// The header: `ENVELOPE_AAD || version || direction || mailbox || commit`. It is the
    /// payload's AAD, and each stanza's AAD begins with the same fields.
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(labels::ENVELOPE_AAD.len() + 50);
        aad.extend_from_slice(labels::ENVELOPE_AAD);
        aad.push(ENVELOPE_VERSION);
        aad.push(self.direction.code());
        aad.extend_from_slice(self.mailbox.as_bytes());
        aad.extend_from_slice(&self.commit);
        aad
    }

    /// The wire form: the same bytes as serializing it with serde (a test holds them equal),
    /// written directly. The relay stores every envelope it accepts in this form, and serde's
    /// string escaping scanned every byte of the base64url ciphertext, which needs none.
    pub fn to_json(&self) -> Vec<u8> {
        let mailbox = self.mailbox.to_string();
        let mut out =
            Vec::with_capacity(240 + mailbox.len() + BASE64URL_NOPAD.encode_len(self.ct.len()));
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
        push_key(&mut out, "stanzas");
        out.push(b'[');
        for (i, stanza) in self.stanzas.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"enc\":");
            push_b64(&mut out, &stanza.enc);
            push_key(&mut out, "key");
            push_b64(&mut out, &stanza.key);
            out.push(b'}');
        }
        out.push(b']');
        push_key(&mut out, "commit");
        push_b64(&mut out, &self.commit);
        push_key(&mut out, "ct");
        push_b64(&mut out, &self.ct);
        out.push(b'}');
        out
    }

    /// Parses the wire form. Refuses unknown versions and fields, trailing data, non-canonical
    /// base64url, a stanza count other than [`STANZAS`], and ciphertexts whose length is not a
    /// Padmé bucket (so a relay can enforce padding without being able to read anything).
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
        wire.into_envelope()
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

/// `"base64url"`.
fn push_b64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + BASE64URL_NOPAD.encode_len(bytes.len()), 0);
    BASE64URL_NOPAD.encode_mut(bytes, &mut out[start..]);
    out.push(b'"');
}

/// [`Wire`], borrowed, for serializing.
#[derive(Serialize)]
struct WireRef<'a> {
    v: u64,
    mailbox: MailboxId,
    direction: Direction,
    stanzas: &'a [Stanza; STANZAS],
    #[serde(with = "b64_array")]
    commit: &'a [u8; 32],
    #[serde(with = "b64_vec")]
    ct: &'a [u8],
}

impl Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            v: ENVELOPE_VERSION.into(),
            mailbox: self.mailbox,
            direction: self.direction,
            stanzas: &self.stanzas,
            commit: &self.commit,
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
        Wire::deserialize(d)?
            .into_envelope()
            .map_err(D::Error::custom)
    }
}

/// Reads `v` from an object that may not otherwise parse, so that a former or future version is
/// reported as such rather than as an unknown field.
fn peek_version(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct V {
        v: u64,
    }
    serde_json::from_slice::<V>(bytes).ok().map(|v| v.v)
}

#[cfg(test)]
mod tests;
