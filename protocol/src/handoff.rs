//! Handoff objects for informal resolution (2-of-2). Defined now so that the format is whole;
//! the relay endpoints and CLI commands that move them come with the handoff feature.
//!
//! 1. A [`Proposal`] names the third party (their signed card), the purpose, the exact items to
//!    disclose with their SHA-256, whether the visitor's identity is included, and an expiry.
//! 2. The visitor consents by signing `HANDOFF_CONSENT || SHA-256(proposal bytes)` with the case
//!    key; the ombuds agrees by signing `HANDOFF_AGREEMENT || SHA-256(proposal bytes)` with the
//!    office key. Consent always comes first.
//! 3. The package is the padded proposal sealed in two layers: the visitor's layer inside, the
//!    office's outside, each with its own random 32-byte content key (ChaCha20-Poly1305, RFC
//!    8439, zero nonce: each key encrypts exactly one layer). Each party HPKE-seals its content
//!    key to the third party as a [`KeyShare`]. Without both shares the package stays closed.
//! 4. A [`Revocation`] signed by either side tells the relay to delete the shares.

use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::card::SignedCard;
use crate::encoding::{self, b64_array, b64_vec};
use crate::keys::{KemPublicKey, KemSecretKey, SigningPublicKey, SigningSecretKey};
use crate::message::Day;
use crate::{Error, HandoffId, labels, padding, seal};

/// The handoff format version.
pub const HANDOFF_VERSION: u8 = 1;

/// The two parties whose acts gate a handoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The visitor, acting with the case key.
    Visitor,
    /// The ombuds, acting with the office key.
    Office,
}

impl Party {
    fn code(self) -> u8 {
        match self {
            Party::Visitor => 1,
            Party::Office => 2,
        }
    }
}

/// One item to disclose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosedItem {
    /// The exact text the third party will read.
    pub text: String,
    /// SHA-256 of `text`, so both sides can point at exactly this content.
    #[serde(with = "b64_array")]
    pub sha256: [u8; 32],
}

impl DisclosedItem {
    /// An item with its hash.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let sha256 = Sha256::digest(text.as_bytes()).into();
        Self { text, sha256 }
    }
}

/// A drafted handoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Format version, [`HANDOFF_VERSION`].
    pub v: u64,
    /// The handoff's ID.
    pub id: HandoffId,
    /// Who drafted it.
    pub drafted_by: Party,
    /// The third party's signed card.
    pub third_party: SignedCard,
    /// Why the third party is approached.
    pub purpose: String,
    /// The exact content to disclose.
    pub items: Vec<DisclosedItem>,
    /// Whether the visitor's identity is disclosed.
    pub identity_included: bool,
    /// The identity text, present exactly when `identity_included`.
    pub identity: Option<String>,
    /// The last day on which the package may be released.
    pub expires: Day,
}

impl Proposal {
    /// The proposal's bytes, as signed and sealed.
    pub fn to_json(&self) -> Vec<u8> {
        encoding::to_json(self)
    }

    /// Parses and checks a proposal: version, item hashes, identity consistency and the third
    /// party's card signature.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let p: Proposal = encoding::from_json("handoff proposal", bytes)?;
        encoding::check_version("handoff proposal", p.v, HANDOFF_VERSION)?;
        if p.items
            .iter()
            .any(|i| DisclosedItem::new(i.text.clone()).sha256 != i.sha256)
        {
            return Err(Error::Handoff("an item's hash does not match its text"));
        }
        if p.identity_included != p.identity.is_some() {
            return Err(Error::Handoff("identity_included does not match identity"));
        }
        p.third_party.verify_third_party()?;
        Ok(p)
    }

    fn approval_label(party: Party) -> &'static [u8] {
        match party {
            Party::Visitor => labels::HANDOFF_CONSENT,
            Party::Office => labels::HANDOFF_AGREEMENT,
        }
    }

    /// The visitor's consent (`Party::Visitor`, case key) or the office's agreement
    /// (`Party::Office`, office key).
    pub fn approve(&self, party: Party, key: &SigningSecretKey) -> [u8; 64] {
        key.sign(Self::approval_label(party), &Sha256::digest(self.to_json()))
    }

    /// Verifies a consent or agreement signature over exactly these proposal bytes.
    pub fn verify_approval(
        proposal_bytes: &[u8],
        party: Party,
        key: &SigningPublicKey,
        sig: &[u8; 64],
    ) -> Result<(), Error> {
        key.verify(
            Self::approval_label(party),
            &Sha256::digest(proposal_bytes),
            sig,
        )
    }
}

/// A content key sealed to the third party by one party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyShare {
    /// Whose share this is.
    pub party: Party,
    /// HPKE encapsulated key.
    #[serde(with = "b64_array")]
    pub enc: [u8; 32],
    /// HPKE ciphertext of the 32-byte content key.
    #[serde(with = "b64_vec")]
    pub ct: Vec<u8>,
}

fn share_info(id: &HandoffId, party: Party) -> Vec<u8> {
    let mut info = labels::HANDOFF_SHARE.to_vec();
    info.extend_from_slice(id.as_bytes());
    info.push(party.code());
    info
}

/// Generates a fresh content key.
pub fn content_key(rng: &mut impl rand::CryptoRng) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(crate::keys::random_bytes(rng))
}

/// Seals one layer of the package under `key`.
pub fn seal_layer(
    key: &[u8; 32],
    id: &HandoffId,
    party: Party,
    inner: &[u8],
) -> Result<Vec<u8>, Error> {
    let padded = Zeroizing::new(padding::pad(inner)?);
    let aad = [id.as_bytes().as_slice(), &[party.code()]].concat();
    ChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &padded,
                aad: &aad,
            },
        )
        .map_err(|_| Error::SealFailed)
}

/// Opens one layer of the package.
pub fn open_layer(
    key: &[u8; 32],
    id: &HandoffId,
    party: Party,
    layer: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let aad = [id.as_bytes().as_slice(), &[party.code()]].concat();
    let padded = Zeroizing::new(
        ChaCha20Poly1305::new(&Key::from(*key))
            .decrypt(
                &Nonce::default(),
                Payload {
                    msg: layer,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::DecryptionFailed)?,
    );
    let inner = padding::unpad(&padded).map_err(|_| Error::DecryptionFailed)?;
    Ok(Zeroizing::new(inner.to_vec()))
}

impl KeyShare {
    /// Seals `key` from `sender` (case or office KEM key) to the third party.
    pub fn seal(
        key: &[u8; 32],
        id: &HandoffId,
        party: Party,
        sender: &KemSecretKey,
        third_party: &KemPublicKey,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Self, Error> {
        let (enc, mut ctx) =
            seal::setup_sender(Some(sender), third_party, &share_info(id, party), rng)?;
        Ok(Self {
            party,
            enc,
            ct: ctx.seal(key, b"")?,
        })
    }

    /// Opens a share as the third party.
    pub fn open(
        &self,
        id: &HandoffId,
        recipient: &KemSecretKey,
        sender: &KemPublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, Error> {
        let mut ctx = seal::setup_receiver(
            recipient,
            Some(sender),
            &self.enc,
            &share_info(id, self.party),
        )?;
        let key = Zeroizing::new(ctx.open(&self.ct, b"")?);
        let arr = <[u8; 32]>::try_from(key.as_slice()).map_err(|_| Error::DecryptionFailed)?;
        Ok(Zeroizing::new(arr))
    }
}

/// A signed revocation: the relay deletes the shares and the package can never be opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The handoff revoked.
    pub id: HandoffId,
    /// Who revoked it.
    pub by: Party,
    /// Signature over `HANDOFF_REVOCATION || id || party`.
    #[serde(with = "b64_array")]
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
mod tests {
    use super::*;
    use crate::card::ThirdPartyCard;
    use crate::keys::Identity;

    struct World {
        visitor_kem: KemSecretKey,
        visitor_sign: SigningSecretKey,
        office: Identity,
        third: Identity,
        proposal: Proposal,
    }

    fn world() -> World {
        let rng = &mut rand::rng();
        let third = Identity::generate(rng);
        let card = ThirdPartyCard {
            v: 1,
            name: "Head of Chemistry".into(),
            signing_key: third.signing().public_key().to_bytes(),
            kem_key: third.kem().public_key().to_bytes(),
        };
        let proposal = Proposal {
            v: 1,
            id: HandoffId::random(rng),
            drafted_by: Party::Office,
            third_party: card.sign(&third).unwrap(),
            purpose: "resolve scheduling conflict".into(),
            items: vec![DisclosedItem::new("the lab schedule excludes me")],
            identity_included: false,
            identity: None,
            expires: Day(30_000),
        };
        World {
            visitor_kem: KemSecretKey::generate(rng),
            visitor_sign: SigningSecretKey::generate(rng),
            office: Identity::generate(rng),
            third,
            proposal,
        }
    }

    #[test]
    fn both_layers_and_both_shares_are_needed() {
        let w = world();
        let rng = &mut rand::rng();
        let bytes = w.proposal.to_json();
        let kv = content_key(rng);
        let ko = content_key(rng);
        let inner = seal_layer(&kv, &w.proposal.id, Party::Visitor, &bytes).unwrap();
        let package = seal_layer(&ko, &w.proposal.id, Party::Office, &inner).unwrap();
        let sv = KeyShare::seal(
            &kv,
            &w.proposal.id,
            Party::Visitor,
            &w.visitor_kem,
            &w.third.kem().public_key(),
            rng,
        )
        .unwrap();
        let so = KeyShare::seal(
            &ko,
            &w.proposal.id,
            Party::Office,
            w.office.kem(),
            &w.third.kem().public_key(),
            rng,
        )
        .unwrap();

        // The third party opens both shares and both layers.
        let kv2 = sv
            .open(&w.proposal.id, w.third.kem(), &w.visitor_kem.public_key())
            .unwrap();
        let ko2 = so
            .open(&w.proposal.id, w.third.kem(), &w.office.kem().public_key())
            .unwrap();
        let inner2 = open_layer(&ko2, &w.proposal.id, Party::Office, &package).unwrap();
        let plain = open_layer(&kv2, &w.proposal.id, Party::Visitor, &inner2).unwrap();
        assert_eq!(Proposal::from_json(&plain).unwrap(), w.proposal);

        // With only one share, the package stays closed.
        assert!(open_layer(&kv2, &w.proposal.id, Party::Office, &package).is_err());
        // Another recipient cannot open a share.
        assert!(
            sv.open(&w.proposal.id, w.office.kem(), &w.visitor_kem.public_key())
                .is_err()
        );
    }

    #[test]
    fn approvals_bind_the_exact_proposal_and_party() {
        let w = world();
        let bytes = w.proposal.to_json();
        let consent = w.proposal.approve(Party::Visitor, &w.visitor_sign);
        let vpk = w.visitor_sign.public_key();
        assert!(Proposal::verify_approval(&bytes, Party::Visitor, &vpk, &consent).is_ok());
        assert!(Proposal::verify_approval(&bytes, Party::Office, &vpk, &consent).is_err());
        let mut changed = w.proposal.clone();
        changed.identity_included = true;
        changed.identity = Some("Jane".into());
        assert!(
            Proposal::verify_approval(&changed.to_json(), Party::Visitor, &vpk, &consent).is_err()
        );
    }

    #[test]
    fn decoding_checks_hashes_and_identity() {
        let w = world();
        let mut p = w.proposal.clone();
        p.items[0].text.push('!');
        assert!(Proposal::from_json(&p.to_json()).is_err());
        let mut p = w.proposal.clone();
        p.identity_included = true;
        assert!(Proposal::from_json(&p.to_json()).is_err());
    }

    #[test]
    fn revocation_verifies_only_for_its_party_key() {
        let w = world();
        let r = Revocation::sign(w.proposal.id, Party::Office, w.office.signing());
        assert!(r.verify(&w.office.signing().public_key()).is_ok());
        assert!(r.verify(&w.visitor_sign.public_key()).is_err());
    }
}
