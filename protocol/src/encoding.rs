//! Binary encodings used on the wire: unpadded base64url (RFC 4648 §5) for binary fields and
//! lowercase unpadded base32 (RFC 4648 §6) for fingerprints.
//!
//! Decoding is strict: padding, non-alphabet characters, non-canonical trailing bits and wrong
//! lengths are all refused.

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD, Encoding};
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

use crate::Error;

/// Encodes bytes as unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

/// Decodes unpadded, canonical base64url.
pub fn unb64(what: &'static str, s: &str) -> Result<Vec<u8>, Error> {
    BASE64URL_NOPAD
        .decode(s.as_bytes())
        .map_err(|e| Error::malformed(what, format!("not canonical unpadded base64url ({e})")))
}

/// Decodes unpadded base64url into exactly `N` bytes.
pub fn unb64_array<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], Error> {
    let v = unb64(what, s)?;
    <[u8; N]>::try_from(v.as_slice())
        .map_err(|_| Error::malformed(what, format!("expected {N} bytes, found {}", v.len())))
}

fn base32_lower() -> Encoding {
    let mut spec = BASE32_NOPAD.specification();
    spec.symbols = "abcdefghijklmnopqrstuvwxyz234567".to_owned();
    // The specification above is a constant, valid base32 alphabet.
    #[allow(clippy::expect_used)]
    spec.encoding().expect("valid base32 specification")
}

/// Encodes bytes as lowercase unpadded base32.
pub fn b32(bytes: &[u8]) -> String {
    base32_lower().encode(bytes)
}

/// Decodes lowercase (or uppercase) unpadded base32.
pub fn unb32(what: &'static str, s: &str) -> Result<Vec<u8>, Error> {
    base32_lower()
        .decode(s.to_ascii_lowercase().as_bytes())
        .map_err(|e| Error::malformed(what, format!("not canonical base32 ({e})")))
}

/// Serde adapter for fixed-size byte arrays as unpadded base64url.
pub mod b64_array {
    use super::*;

    /// Serializes a byte array as base64url.
    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64(v))
    }

    /// Deserializes base64url into exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <&str>::deserialize(d)?;
        unb64_array::<N>("field", s).map_err(D::Error::custom)
    }
}

/// Serde adapter for variable-length bytes as unpadded base64url.
/// Serde adapter for optional bytes as unpadded base64url or `null`.
pub mod b64_opt {
    use super::*;

    /// Serializes optional bytes as base64url or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_str(&b64(bytes)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes base64url bytes or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<&str>::deserialize(d)? {
            Some(s) => unb64("field", s).map(Some).map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

pub mod b64_vec {
    use super::*;

    /// Serializes bytes as base64url.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64(v))
    }

    /// Deserializes base64url bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d)?;
        unb64("field", s).map_err(D::Error::custom)
    }
}

/// Parses a strict JSON document: unknown fields are refused by the target type, trailing data by
/// this function.
pub fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::malformed(what, e.to_string()))
}

/// Serializes to compact JSON. Serialization of the crate's own types cannot fail.
pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Our types have string keys and no fallible Serialize impls.
    #[allow(clippy::expect_used)]
    serde_json::to_vec(value).expect("protocol types always serialize")
}

/// Checks a `v` field against the supported version.
pub fn check_version(what: &'static str, found: u64, supported: u8) -> Result<(), Error> {
    if found == u64::from(supported) {
        Ok(())
    } else {
        Err(Error::UnsupportedVersion {
            what,
            found,
            supported,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_refuses_padding_and_noncanonical_bits() {
        assert_eq!(unb64("x", "AQ").unwrap(), vec![1]);
        assert!(unb64("x", "AQ==").is_err());
        assert!(unb64("x", "AR").is_err(), "non-zero trailing bits");
        assert!(unb64("x", "A+").is_err(), "standard alphabet");
    }

    #[test]
    fn base32_round_trips_and_accepts_uppercase() {
        let b = [7u8; 32];
        let s = b32(&b);
        assert_eq!(s.len(), 52);
        assert_eq!(unb32("x", &s).unwrap(), b);
        assert_eq!(unb32("x", &s.to_uppercase()).unwrap(), b);
    }

    #[test]
    fn array_length_is_enforced() {
        let err = unb64_array::<4>("key", &b64(&[1, 2, 3])).unwrap_err();
        assert!(err.to_string().contains("expected 4 bytes"));
    }
}
