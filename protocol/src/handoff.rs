//! Handoff for informal resolution (2-of-2): the visitor consents, the ombuds agrees, and only
//! then can the third party open what both signed (`docs/protocol.md` §10).
//!
//! 1. The ombuds drafts a [`Proposal`]: the case's and the office's public keys, the third
//!    party's signed card, the purpose, the exact [`Item`]s (thread messages with their authors'
//!    signatures, or a summary), whether the visitor's identity is asked for, and an expiry.
//!    It reaches the visitor inside an ordinary message ([`crate::message::HandoffNote`]).
//! 2. The visitor consents: if the identity was asked for and they give it, the proposal gets a
//!    salted commitment to it ([`IdentityOpening`]), so that the ombuds agrees to "identity
//!    included" without reading it. The visitor signs `HANDOFF_CONSENT || SHA-256(proposal)`
//!    with the case key and seals a [`Disclosure`] (the proposal bytes, the consent and the
//!    identity's opening) into a [`Package`] under a key that needs two halves: `K_v`, random,
//!    sent to the third party as the visitor's [`KeyShare`], and `K_o`, exported from an HPKE
//!    base-mode encapsulation to the office's KEM key. The relay keeps the package, the share
//!    and the consent.
//! 3. The ombuds agrees: it signs `HANDOFF_AGREEMENT || SHA-256(proposal)`, recovers `K_o`
//!    from the package's encapsulation and seals it to the third party as the office's share,
//!    with a [`Notice`] that tells the third party where to fetch.
//! 4. Either side may [`Revocation`] revoke before the fetch; the relay deletes the shares.

mod channel;
mod package;
mod proposal;

use serde::{Deserialize, Serialize};

use crate::keys::{SigningPublicKey, SigningSecretKey};
use crate::{Error, HandoffId, labels};

pub use self::channel::{
    ChannelKeys, Notice, NoticeSeed, Opened as NoticeOpened, office_opener, office_sealer,
    third_party_opener, third_party_sealer,
};
pub use self::package::{Disclosure, KeyShare, Package, content_key, office_half};
pub use self::proposal::{CaseRef, IdentityCommitment, IdentityOpening, Item, OfficeRef, Proposal};

/// The handoff format version. Version 2 seals the identity to the third party behind a salted
/// commitment, carries the case's and the office's keys and signed thread messages, and splits
/// the package key between the two parties; a version 1 proposal (plaintext `identity`) is
/// refused as [`Error::UnsupportedVersion`].
pub const HANDOFF_VERSION: u8 = 2;

/// The most items one proposal discloses.
pub const MAX_ITEMS: usize = 64;

/// The longest purpose, in characters.
pub const MAX_PURPOSE: usize = 2000;

/// The two parties whose acts gate a handoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The visitor, acting with the case key.
    Visitor,
    /// The ombuds, acting with the office key.
    Office,
}

impl Party {
    /// The byte that stands for the party in `info`, AAD and signatures.
    pub fn code(self) -> u8 {
        match self {
            Party::Visitor => 1,
            Party::Office => 2,
        }
    }
}

/// A signed revocation: the relay deletes the shares and the package can never be opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The handoff revoked.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Id16, inline))]
    pub id: HandoffId,
    /// Who revoked it.
    pub by: Party,
    /// Signature over `HANDOFF_REVOCATION || id || party`.
    #[serde(with = "crate::encoding::b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes64, inline))]
    pub signature: [u8; 64],
}

impl Revocation {
    /// Signs a revocation.
    pub fn sign(id: HandoffId, by: Party, key: &SigningSecretKey) -> Self {
        let signature = key.sign(
            labels::HANDOFF_REVOCATION,
            &[id.as_bytes().as_slice(), &[by.code()]].concat(),
        );
        Self { id, by, signature }
    }

    /// Verifies a revocation under the key of the party that claims it.
    pub fn verify(&self, key: &SigningPublicKey) -> Result<(), Error> {
        key.verify(
            labels::HANDOFF_REVOCATION,
            &[self.id.as_bytes().as_slice(), &[self.by.code()]].concat(),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests;
