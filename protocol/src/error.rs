//! The one error type of the protocol crate.
//!
//! Decoding errors say which field was wrong so that a caller can tell the user what to fix;
//! every authentication failure collapses into [`Error::DecryptionFailed`] or
//! [`Error::BadSignature`] so that nothing leaks about *why* a check failed.

use thiserror::Error;

use crate::message::Day;

/// Everything that can go wrong in the protocol crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A sealed message could not be opened: wrong key, wrong sender, tampered ciphertext,
    /// tampered header or bad padding. Deliberately opaque.
    #[error("the message could not be decrypted")]
    DecryptionFailed,

    /// A signature did not verify under the expected key.
    #[error("the signature does not verify")]
    BadSignature,

    /// An encoded value was malformed.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// The field or object that was malformed, such as `envelope.ct`.
        what: &'static str,
        /// What was wrong with it.
        why: String,
    },

    /// An object carried a format version this implementation does not speak.
    #[error("unsupported {what} version {found} (this client speaks version {supported})")]
    UnsupportedVersion {
        /// The kind of object.
        what: &'static str,
        /// The version found.
        found: u64,
        /// The version supported.
        supported: u8,
    },

    /// The codename was mistyped.
    #[error("the codename has a typo: {0}")]
    CodenameTypo(CodenameTypo),

    /// An office card does not match the fingerprint in the office address, or names another
    /// office.
    #[error("the office card does not match the office address")]
    CardMismatch,

    /// A genuine office card, of the office the address names, that names another relay than
    /// the address does: the relay serving it may have copied it, to receive the office's
    /// concerns in its place.
    #[error(
        "the office card names the relay {card}, but the address names {address}: a relay \
         that serves an office's card under another relay's name may have copied it"
    )]
    RelayMismatch {
        /// The relay the card names.
        card: crate::RelayUrl,
        /// The relay the address names.
        address: crate::RelayUrl,
    },

    /// An office card is past its last valid day. Its office must publish a new one.
    #[error(
        "the office card expired on {expires}: the office has to publish a new card before you \
         can use it (tell them, if you can)"
    )]
    CardExpired {
        /// The card's last valid day.
        expires: Day,
    },

    /// A signed request's timestamp is outside the accepted window.
    #[error("the request timestamp is outside the accepted window")]
    StaleRequest,

    /// A proof of work was refused.
    #[error("proof of work refused: {0}")]
    Pow(PowError),

    /// A handoff object did not check out.
    #[error("handoff refused: {0}")]
    Handoff(&'static str),

    /// Sealing failed; only possible with an invalid public key.
    #[error("the message could not be sealed to this key")]
    SealFailed,
}

/// Why a codename is a typo. Never reported as "case not found".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodenameTypo {
    /// The codename did not have 12 words.
    #[error("expected 12 words, found {0}")]
    WordCount(usize),
    /// A word is not in the list and is not a unique four-letter prefix of one.
    #[error("word {position} is not a codename word")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
    },
    /// All words are valid but the checksum does not match.
    #[error("the words do not check out (one of them is probably wrong)")]
    Checksum,
}

/// Why a proof of work was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PowError {
    /// The challenge has expired.
    #[error("the challenge has expired; fetch a new one")]
    Expired,
    /// The challenge was not issued by this relay (bad MAC).
    #[error("the challenge was not issued by this relay")]
    NotIssued,
    /// The solution does not have enough leading zero bits.
    #[error("the solution does not meet the difficulty")]
    Insufficient,
    /// The challenge's difficulty is below what the relay requires.
    #[error("the challenge difficulty is below the relay's minimum")]
    TooEasy,
}

impl Error {
    pub(crate) fn malformed(what: &'static str, why: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            why: why.into(),
        }
    }
}
