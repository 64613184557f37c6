//! Reads an office card of the first format (version 1) from the office's own home, so that an
//! office that upgrades candor keeps its keys and its address.
//!
//! Only the office's own file is migrated: a card of the first format from a relay is refused,
//! since it is the office's to republish. The conversion keeps everything the old card said and
//! fills what it could not say with the defaults of `office init`:
//! - each resource's single-word name becomes its `id` (lowercased, other characters made `-`)
//!   and stays its `name`; it has no url, no audience (everyone) and is not urgent;
//! - the default constituencies and outcomes, reply time and grace period;
//! - an expiry a year from today, replaced by the next `office publish`.

use std::collections::HashSet;

use anyhow::{Result, anyhow, bail};
use candor_protocol::card::OFFICE_CARD_VERSION;
use candor_protocol::{
    Choice, ItemId, OfficeCard, OfficeId, Policy, RelayUrl, Resource, encoding, limits,
};
use serde::Deserialize;

use crate::commands::today;
use crate::policy;

/// The first card format, as the office's home held it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardV1 {
    v: u64,
    serial: u64,
    id: OfficeId,
    name: String,
    relay: RelayUrl,
    #[serde(with = "encoding::b64_array")]
    signing_key: [u8; 32],
    #[serde(with = "encoding::b64_array")]
    kem_key: [u8; 32],
    policy: Policy,
    retention_days: u32,
    categories: Vec<CategoryV1>,
    resources: Vec<ResourceV1>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryV1 {
    id: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceV1 {
    name: String,
    description: String,
    contact: String,
    confidential: bool,
}

/// Converts the bytes of a version-1 card into a version-2 card, or says what stops it.
pub fn from_v1(bytes: &[u8]) -> Result<OfficeCard> {
    let old: CardV1 = serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("it does not read as a card of format 1 either ({e})"))?;
    if old.v != 1 {
        bail!(
            "it has format version {}, which this candor does not know",
            old.v
        );
    }
    let categories = old
        .categories
        .into_iter()
        .map(|c| {
            Choice::new(&c.id, &c.label)
                .map_err(|e| anyhow!("its category {:?} cannot keep its ID ({e})", c.id))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut ids = HashSet::new();
    let resources = old
        .resources
        .into_iter()
        .map(|r| {
            let id = id_from_name(&r.name)?;
            if !ids.insert(id.clone()) {
                bail!("two of its resources would both get the ID {id}");
            }
            Ok(Resource {
                id,
                name: r.name,
                description: r.description,
                contact: Some(r.contact).filter(|c| !c.trim().is_empty()),
                url: None,
                confidential: r.confidential,
                audience: Vec::new(),
                urgent: false,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(OfficeCard {
        v: OFFICE_CARD_VERSION.into(),
        serial: old.serial,
        expires: today().plus(limits::DEFAULT_CARD_VALID_DAYS),
        id: old.id,
        name: old.name,
        relay: old.relay,
        signing_key: old.signing_key,
        kem_key: old.kem_key,
        policy: old.policy,
        retention_days: old.retention_days,
        reply_within_days: limits::DEFAULT_REPLY_WITHIN_DAYS,
        close_grace_days: limits::DEFAULT_CLOSE_GRACE_DAYS,
        categories,
        constituencies: policy::default_constituencies(),
        outcomes: policy::default_outcomes(),
        resources,
    })
}

/// A resource ID from a single-word name of the first format: `Title_IX` becomes `title-ix`.
fn id_from_name(name: &str) -> Result<ItemId> {
    let slug: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug: String = slug
        .trim_start_matches('-')
        .chars()
        .take(limits::MAX_ID_CHARS)
        .collect();
    slug.parse()
        .map_err(|_| anyhow!("its resource {name:?} has no letters or digits to make an ID from"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::Identity;

    #[test]
    fn a_first_format_card_keeps_its_keys_serial_and_resources() {
        // Arrange
        let id = Identity::generate(&mut candor_protocol::rand::rng());
        let old = format!(
            r#"{{"v":1,"serial":7,"id":"ombuds","name":"Old Ombuds","relay":"http://127.0.0.1:1","signing_key":"{}","kem_key":"{}","policy":{{"confidentiality":"c","exception":"e","not_notice":"n","retention":"r"}},"retention_days":60,"categories":[{{"id":"peer","label":"Peers"}}],"resources":[{{"name":"Title_IX","description":"d","contact":"room 1","confidential":false}},{{"name":"counseling","description":"d","contact":"","confidential":true}}]}}"#,
            encoding::b64(&id.signing().public_key().to_bytes()),
            encoding::b64(&id.kem().public_key().to_bytes()),
        );

        // Act
        let card = from_v1(old.as_bytes()).unwrap();

        // Assert: the same office, signable as version 2.
        assert_eq!(card.serial, 7);
        assert_eq!(card.signing_key, id.signing().public_key().to_bytes());
        assert_eq!(card.retention_days, 60);
        assert_eq!(card.resources[0].id.as_str(), "title-ix");
        assert_eq!(card.resources[0].name, "Title_IX");
        assert_eq!(card.resources[0].contact.as_deref(), Some("room 1"));
        assert_eq!(card.resources[1].contact, None);
        assert!(card.outcome("resolved").is_some());
        card.sign(&id).unwrap().verify_office().unwrap();
        let twice = old.replace("\"counseling\"", "\"title-ix\"");
        assert!(from_v1(twice.as_bytes()).is_err());
    }
}
