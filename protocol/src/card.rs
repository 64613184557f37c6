//! Signed cards: the office card that visitors pin by fingerprint, and third-party cards that
//! an ombuds imports for a handoff.
//!
//! On the wire a card is `{"card": base64url(card JSON), "signature": base64url(64 bytes)}`.
//! The signature covers the exact card bytes, so nobody has to canonicalize JSON.

mod check;
pub mod directory;

use serde::{Deserialize, Serialize};

pub use self::directory::{
    CaseCategories, Category, Choice, Constituency, ItemId, Outcome, Resource,
};
use crate::day::Day;
use crate::encoding::{self, b64_array, b64_vec};
use crate::keys::{Identity, KemPublicKey, SigningPublicKey};
pub use crate::limits::MAX_CARD_BYTES;
use crate::{Error, Fingerprint, OfficeAddress, OfficeId, RelayUrl, labels};

/// The office card format version. Version 1 (single-word resource names, no lists of
/// constituencies or outcomes, no expiry) is refused as [`Error::UnsupportedVersion`].
pub const OFFICE_CARD_VERSION: u8 = 2;

/// The third-party card format version. Version 2 adds the relay and the mandatory-reporter
/// flag; a version 1 card is refused as [`Error::UnsupportedVersion`].
pub const THIRD_PARTY_CARD_VERSION: u8 = 2;

/// The longest third-party name, in characters.
pub const MAX_THIRD_PARTY_NAME: usize = 200;

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

/// The public description of an office, signed by its identity key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeCard {
    /// Format version, [`OFFICE_CARD_VERSION`].
    pub v: u64,
    /// Increases with every update; the relay refuses an older card, and a client that has
    /// seen a serial refuses a lower one.
    pub serial: u64,
    /// The last day on which the card is valid; verifiers refuse it after that day.
    pub expires: Day,
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
    /// The office usually replies within this many working days; every visitor is told so.
    pub reply_within_days: u32,
    /// How many days a visitor can still read a case after the office closed it.
    pub close_grace_days: u32,
    /// Concern categories; a case names up to three.
    pub categories: Vec<Category>,
    /// The constituencies a visitor may choose from (student, faculty, staff, …).
    pub constituencies: Vec<Constituency>,
    /// How a case can end, for the office's statistics.
    pub outcomes: Vec<Outcome>,
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
    /// The category with this ID, if the card lists it.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == *id)
    }
    /// The constituency with this ID, if the card lists it.
    pub fn constituency(&self, id: &str) -> Option<&Constituency> {
        self.constituencies.iter().find(|c| c.id == *id)
    }
    /// The outcome with this ID, if the card lists it.
    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|c| c.id == *id)
    }
    /// The resource with this ID, if the card lists it.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == *id)
    }
    /// The resources to show at once to a visitor who marks a concern urgent, narrowed to
    /// `constituency` if they gave one.
    pub fn urgent_resources(
        &self,
        constituency: Option<&ItemId>,
    ) -> impl Iterator<Item = &Resource> {
        self.resources
            .iter()
            .filter(move |r| r.urgent && r.serves(constituency))
    }

    /// Checks every field rule of [`crate::limits`] that does not depend on the time.
    pub fn check(&self) -> Result<(), Error> {
        check::fields(self)
    }

    /// Checks that the card is valid on the day that contains `now` (Unix seconds):
    /// [`Error::CardExpired`] after its `expires` day, and refused if it claims to stay valid
    /// for more than [`crate::limits::MAX_CARD_VALID_DAYS`].
    pub fn check_current(&self, now: u64) -> Result<(), Error> {
        check::current(self, now)
    }

    /// Signs the card with the office identity, which must own the card's keys. A card that
    /// breaks a field rule is refused rather than signed.
    pub fn sign(&self, identity: &Identity) -> Result<SignedCard, Error> {
        if identity.signing().public_key().to_bytes() != self.signing_key
            || identity.kem().public_key().to_bytes() != self.kem_key
        {
            return Err(Error::CardMismatch);
        }
        encoding::check_version("office card", self.v, OFFICE_CARD_VERSION)?;
        self.check()?;
        let bytes = encoding::to_json(self);
        if bytes.len() > MAX_CARD_BYTES {
            return Err(Error::malformed(
                "office card",
                format!("it is {} bytes; the most is 64 KiB", bytes.len()),
            ));
        }
        Ok(SignedCard::sign(bytes, labels::OFFICE_CARD, identity))
    }
}

/// A third party's public card: who they are and their keys, self-signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyCard {
    /// Format version, [`THIRD_PARTY_CARD_VERSION`].
    pub v: u64,
    /// Name and role, for example "Head of the Chemistry Department".
    pub name: String,
    /// The relay the third party fetches handoffs from.
    pub relay: RelayUrl,
    /// Whether the third party must report what they learn (a "responsible employee"). The
    /// visitor is shown this before consenting.
    pub mandatory_reporter: bool,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedCard {
    /// The card's JSON bytes.
    #[serde(with = "b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
            min_length = 2,
            max_length = 87382
        )
    )]
    pub card: Vec<u8>,
    /// Ed25519 signature over `label || card`.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes64, inline))]
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

    /// Verifies an office card's self-signature and field rules, and returns the card. This
    /// proves only that the card is internally consistent, not that it is current (the relay
    /// stores cards this way); use [`SignedCard::verify_office_at`] to pin it to an address on
    /// a day.
    pub fn verify_office(&self) -> Result<OfficeCard, Error> {
        let card = self.verify_office_signature()?;
        card.check()?;
        Ok(card)
    }

    /// Verifies only an office card's self-signature, not its field rules: for a card the relay
    /// stored under rules that have since been tightened, which it keeps serving and reports.
    pub fn verify_office_signature(&self) -> Result<OfficeCard, Error> {
        let card: OfficeCard = parse_card("office card", &self.card, OFFICE_CARD_VERSION)?;
        card.signing_public_key()?
            .verify(labels::OFFICE_CARD, &self.card, &self.signature)?;
        Ok(card)
    }

    /// Verifies an office card against the address a visitor was given, on the day that
    /// contains `now` (Unix seconds): the fingerprint and the office ID must match
    /// ([`Error::CardMismatch`]), the signature must verify, the card's relay must be the
    /// address's ([`RelayUrl::same_relay`], else [`Error::RelayMismatch`]: a genuine card
    /// copied to another relay), and the card must not have expired.
    pub fn verify_office_at(&self, address: &OfficeAddress, now: u64) -> Result<OfficeCard, Error> {
        let card: OfficeCard = parse_card("office card", &self.card, OFFICE_CARD_VERSION)?;
        if card.fingerprint()? != address.fingerprint || card.id != address.office {
            return Err(Error::CardMismatch);
        }
        let card = self.verify_office()?;
        if !card.relay.same_relay(&address.relay) {
            return Err(Error::RelayMismatch {
                card: card.relay,
                address: address.relay.clone(),
            });
        }
        card.check_current(now)?;
        Ok(card)
    }

    /// Verifies a third-party card's self-signature.
    pub fn verify_third_party(&self) -> Result<ThirdPartyCard, Error> {
        let card: ThirdPartyCard =
            parse_card("third-party card", &self.card, THIRD_PARTY_CARD_VERSION)?;
        card.signing_public_key()?
            .verify(labels::THIRD_PARTY_CARD, &self.card, &self.signature)?;
        if card.name.trim().is_empty() || card.name.chars().count() > MAX_THIRD_PARTY_NAME {
            return Err(Error::malformed(
                "third-party card",
                format!("the name must be 1 to {MAX_THIRD_PARTY_NAME} characters"),
            ));
        }
        Ok(card)
    }
}

/// Parses a card's bytes: the version first, so that a card of another version is refused as
/// [`Error::UnsupportedVersion`] and not as whatever field it lacks, then the whole card.
fn parse_card<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    supported: u8,
) -> Result<T, Error> {
    #[derive(Deserialize)]
    struct Version {
        v: u64,
    }
    if bytes.len() > MAX_CARD_BYTES {
        return Err(Error::malformed(what, "larger than 64 KiB"));
    }
    let version: Version = encoding::from_json(what, bytes)?;
    encoding::check_version(what, version.v, supported)?;
    encoding::from_json(what, bytes)
}

#[cfg(test)]
pub(crate) mod tests;
