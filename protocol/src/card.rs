//! Signed cards: the office card that visitors pin by fingerprint, and third-party cards that
//! an ombuds imports for a handoff.
//!
//! On the wire a card is `{"card": base64url(card JSON), "signature": base64url(64 bytes)}`.
//! The signature covers the exact card bytes, so nobody has to canonicalize JSON.

use serde::{Deserialize, Serialize};

use crate::encoding::{self, b64_array, b64_vec};
use crate::keys::{Identity, KemPublicKey, SigningPublicKey};
use crate::{Error, Fingerprint, OfficeAddress, OfficeId, RelayUrl, labels};

/// The card format version.
pub const CARD_VERSION: u8 = 1;

/// Limits that keep a card small enough for any relay.
pub const MAX_CARD_BYTES: usize = 64 * 1024;

/// The office's public policy texts, shown to a visitor before the first message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// What the office keeps confidential.
    pub confidentiality: String,
    /// The one exception to confidentiality (imminent risk of serious harm).
    pub exception: String,
    /// That talking to the ombuds is not formal notice to the institution.
    pub not_notice: String,
    /// What is kept and for how long.
    pub retention: String,
}

/// A concern category: a stable ID and a label for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable ID, used in messages and statistics.
    pub id: String,
    /// Human label.
    pub label: String,
}

/// A referral resource: another office, hotline or formal channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Short name, also used to pick it on the command line.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// How to reach it.
    pub contact: String,
    /// Whether talking to it is confidential.
    pub confidential: bool,
}

/// The public description of an office, signed by its identity key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeCard {
    /// Format version, [`CARD_VERSION`].
    pub v: u64,
    /// Increases with every update; the relay refuses an older card.
    pub serial: u64,
    /// The office's ID on the relay.
    pub id: OfficeId,
    /// Display name.
    pub name: String,
    /// The relay that serves this office.
    pub relay: RelayUrl,
    /// Ed25519 identity key (base64url).
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// X25519 HPKE key (base64url).
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
    /// Policy texts.
    pub policy: Policy,
    /// How many days a case is kept after its last activity.
    pub retention_days: u32,
    /// Concern categories.
    pub categories: Vec<Category>,
    /// Referral resources.
    pub resources: Vec<Resource>,
}

impl OfficeCard {
    /// The card's identity key.
    pub fn signing_public_key(&self) -> Result<SigningPublicKey, Error> {
        SigningPublicKey::from_bytes(&self.signing_key)
    }
    /// The card's KEM key.
    pub fn kem_public_key(&self) -> KemPublicKey {
        KemPublicKey::from_bytes(&self.kem_key)
    }
    /// The fingerprint of the card's identity key.
    pub fn fingerprint(&self) -> Result<Fingerprint, Error> {
        Ok(self.signing_public_key()?.fingerprint())
    }
    /// The address visitors use.
    pub fn address(&self) -> Result<OfficeAddress, Error> {
        Ok(OfficeAddress {
            office: self.id.clone(),
            fingerprint: self.fingerprint()?,
            relay: self.relay.clone(),
        })
    }
    /// Signs the card with the office identity, which must own the card's keys.
    pub fn sign(&self, identity: &Identity) -> Result<SignedCard, Error> {
        if identity.signing().public_key().to_bytes() != self.signing_key
            || identity.kem().public_key().to_bytes() != self.kem_key
        {
            return Err(Error::CardMismatch);
        }
        Ok(SignedCard::sign(
            encoding::to_json(self),
            labels::OFFICE_CARD,
            identity,
        ))
    }
}

/// A third party's public card: who they are and their keys, self-signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyCard {
    /// Format version, [`CARD_VERSION`].
    pub v: u64,
    /// Name and role, for example "Head of the Chemistry Department".
    pub name: String,
    /// Ed25519 identity key.
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// X25519 HPKE key.
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
}

impl ThirdPartyCard {
    /// The card's identity key.
    pub fn signing_public_key(&self) -> Result<SigningPublicKey, Error> {
        SigningPublicKey::from_bytes(&self.signing_key)
    }
    /// The card's KEM key.
    pub fn kem_public_key(&self) -> KemPublicKey {
        KemPublicKey::from_bytes(&self.kem_key)
    }
    /// The fingerprint of the card's identity key.
    pub fn fingerprint(&self) -> Result<Fingerprint, Error> {
        Ok(self.signing_public_key()?.fingerprint())
    }
    /// Self-signs the card with the third party's identity.
    pub fn sign(&self, identity: &Identity) -> Result<SignedCard, Error> {
        if identity.signing().public_key().to_bytes() != self.signing_key {
            return Err(Error::CardMismatch);
        }
        Ok(SignedCard::sign(
            encoding::to_json(self),
            labels::THIRD_PARTY_CARD,
            identity,
        ))
    }
}

/// A card as it travels: the exact card bytes and a signature over them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCard {
    /// The card's JSON bytes.
    #[serde(with = "b64_vec")]
    pub card: Vec<u8>,
    /// Ed25519 signature over `label || card`.
    #[serde(with = "b64_array")]
    pub signature: [u8; 64],
}

impl SignedCard {
    fn sign(card: Vec<u8>, label: &[u8], identity: &Identity) -> Self {
        let signature = identity.signing().sign(label, &card);
        Self { card, signature }
    }

    /// Parses the wire form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_CARD_BYTES * 2 {
            return Err(Error::malformed("card", "too large"));
        }
        encoding::from_json("signed card", bytes)
    }

    /// The wire form.
    pub fn to_json(&self) -> Vec<u8> {
        encoding::to_json(self)
    }

    /// Verifies an office card's self-signature and returns the card. This proves only that the
    /// card is internally consistent; use [`SignedCard::verify_office_at`] to pin it to an
    /// address.
    pub fn verify_office(&self) -> Result<OfficeCard, Error> {
        let card: OfficeCard = parse_card("office card", &self.card)?;
        card.signing_public_key()?
            .verify(labels::OFFICE_CARD, &self.card, &self.signature)?;
        check_texts(&card)?;
        Ok(card)
    }

    /// Verifies an office card against the address a visitor was given: the signature, the
    /// fingerprint and the office ID must all match.
    pub fn verify_office_at(&self, address: &OfficeAddress) -> Result<OfficeCard, Error> {
        let card: OfficeCard = parse_card("office card", &self.card)?;
        if card.fingerprint()? != address.fingerprint || card.id != address.office {
            return Err(Error::CardMismatch);
        }
        self.verify_office()
    }

    /// Verifies a third-party card's self-signature.
    pub fn verify_third_party(&self) -> Result<ThirdPartyCard, Error> {
        let card: ThirdPartyCard = parse_card("third-party card", &self.card)?;
        card.signing_public_key()?
            .verify(labels::THIRD_PARTY_CARD, &self.card, &self.signature)?;
        Ok(card)
    }
}

fn parse_card<T: serde::de::DeserializeOwned + HasVersion>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, Error> {
    if bytes.len() > MAX_CARD_BYTES {
        return Err(Error::malformed(what, "larger than 64 KiB"));
    }
    let card: T = encoding::from_json(what, bytes)?;
    encoding::check_version(what, card.version(), CARD_VERSION)?;
    Ok(card)
}

fn check_texts(card: &OfficeCard) -> Result<(), Error> {
    if card.name.trim().is_empty() {
        return Err(Error::malformed("office card", "the name is empty"));
    }
    if card.retention_days == 0 || card.retention_days > 3650 {
        return Err(Error::malformed(
            "office card",
            "retention_days must be between 1 and 3650",
        ));
    }
    Ok(())
}

trait HasVersion {
    fn version(&self) -> u64;
}
impl HasVersion for OfficeCard {
    fn version(&self) -> u64 {
        self.v
    }
}
impl HasVersion for ThirdPartyCard {
    fn version(&self) -> u64 {
        self.v
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_card(identity: &Identity) -> OfficeCard {
        OfficeCard {
            v: 1,
            serial: 1,
            id: "ombuds".parse().unwrap(),
            name: "Example Ombuds".into(),
            relay: "http://127.0.0.1:8080".parse().unwrap(),
            signing_key: identity.signing().public_key().to_bytes(),
            kem_key: identity.kem().public_key().to_bytes(),
            policy: Policy {
                confidentiality: "c".into(),
                exception: "e".into(),
                not_notice: "n".into(),
                retention: "r".into(),
            },
            retention_days: 90,
            categories: vec![],
            resources: vec![],
        }
    }

    #[test]
    fn card_verifies_at_its_address() {
        let id = Identity::generate(&mut rand::rng());
        let card = sample_card(&id);
        let signed = card.sign(&id).unwrap();
        let wire = SignedCard::from_json(&signed.to_json()).unwrap();
        assert_eq!(
            wire.verify_office_at(&card.address().unwrap()).unwrap(),
            card
        );
    }

    #[test]
    fn wrong_office_card_is_refused() {
        let ours = Identity::generate(&mut rand::rng());
        let theirs = Identity::generate(&mut rand::rng());
        let address = sample_card(&ours).address().unwrap();
        // A genuine card of another office, served under our address.
        let signed = sample_card(&theirs).sign(&theirs).unwrap();
        assert_eq!(signed.verify_office_at(&address), Err(Error::CardMismatch));
    }

    #[test]
    fn tampered_card_is_refused() {
        let id = Identity::generate(&mut rand::rng());
        let card = sample_card(&id);
        let mut signed = card.sign(&id).unwrap();
        let text = String::from_utf8(signed.card.clone()).unwrap();
        signed.card = text.replace("Example", "Exemple").into_bytes();
        assert_eq!(
            signed.verify_office_at(&card.address().unwrap()),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn unknown_card_version_is_refused() {
        let id = Identity::generate(&mut rand::rng());
        let mut card = sample_card(&id);
        card.v = 2;
        let signed = card.sign(&id).unwrap();
        assert!(matches!(
            signed.verify_office(),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
    }
}
