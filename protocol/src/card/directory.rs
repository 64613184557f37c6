//! What an office card lists for visitors and statistics: concern categories, constituencies,
//! outcomes and referral resources, each named by a short [`ItemId`].
//!
//! IDs, not labels, travel in messages and reach the office's statistics, so a visitor's free
//! text never does. The rules for every field are in [`crate::limits`].

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, limits};

/// The ID of a category, constituency, outcome or resource: 1 to 32 characters of `a-z`, `0-9`
/// and `-`, not starting with `-` ([`limits::check_id`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemId(String);

impl ItemId {
    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ItemId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        limits::check_id("item ID", s)?;
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for ItemId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        limits::check_id("item ID", &s)?;
        Ok(Self(s))
    }
}

impl From<ItemId> for String {
    fn from(id: ItemId) -> String {
        id.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ItemId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// One entry of a card's list of categories, constituencies or outcomes: a stable ID and a
/// label for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable ID, used in messages and statistics.
    pub id: ItemId,
    /// Human label ([`limits::LABEL`]).
    pub label: String,
}

impl Choice {
    /// A choice from an ID and a label; the ID must be valid.
    pub fn new(id: &str, label: &str) -> Result<Self, Error> {
        Ok(Self {
            id: id.parse()?,
            label: label.to_owned(),
        })
    }
}

/// A concern category, such as the IOA's "Evaluative relationships".
pub type Category = Choice;
/// A constituency the visitor may say they belong to: student, faculty, staff, …
pub type Constituency = Choice;
/// How a case ended, for the office's anonymous statistics.
pub type Outcome = Choice;

/// A referral resource: another office, hotline or formal channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Short ID, used to pick it on the command line (`candor reply --refer ID`).
    pub id: ItemId,
    /// Its name, in full ([`limits::RESOURCE_NAME`]).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// How to reach it (phone, e-mail, room), if the office gives a way.
    pub contact: Option<String>,
    /// Its web address, if it has one.
    pub url: Option<String>,
    /// Whether talking to it is confidential.
    pub confidential: bool,
    /// The constituencies it serves, by ID from the same card; empty means everyone.
    pub audience: Vec<ItemId>,
    /// Shown at once to a visitor who marks a concern urgent.
    pub urgent: bool,
}

impl Resource {
    /// Whether the resource serves `constituency` (everyone is served by a resource with no
    /// audience, and a visitor who did not say is shown every resource).
    pub fn serves(&self, constituency: Option<&ItemId>) -> bool {
        match constituency {
            None => true,
            Some(c) => self.audience.is_empty() || self.audience.contains(c),
        }
    }

    /// Checks the resource's own fields; the card checks its audience against its list.
    pub fn check(&self, what: &'static str) -> Result<(), Error> {
        let within = |e: Error| match e {
            Error::Malformed { what, why } => Error::Malformed {
                what,
                why: format!("resource {}: {why}", self.id),
            },
            other => other,
        };
        limits::RESOURCE_NAME
            .check(what, &self.name)
            .map_err(within)?;
        limits::RESOURCE_DESCRIPTION
            .check(what, &self.description)
            .map_err(within)?;
        if let Some(contact) = &self.contact {
            limits::RESOURCE_CONTACT
                .check(what, contact)
                .map_err(within)?;
        }
        if let Some(url) = &self.url {
            limits::check_url(what, url).map_err(within)?;
        }
        Ok(())
    }
}

/// The categories of one case: at most [`limits::MAX_CASE_CATEGORIES`], each at most once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ItemId>", into = "Vec<ItemId>")]
pub struct CaseCategories(Vec<ItemId>);

impl CaseCategories {
    /// No category.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// The category IDs, in the order the visitor gave them.
    pub fn as_slice(&self) -> &[ItemId] {
        &self.0
    }

    /// Whether the case has no category.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<ItemId>> for CaseCategories {
    type Error = Error;
    fn try_from(ids: Vec<ItemId>) -> Result<Self, Error> {
        if ids.len() > limits::MAX_CASE_CATEGORIES {
            return Err(Error::malformed(
                "categories",
                format!(
                    "a case has at most {} categories, not {}",
                    limits::MAX_CASE_CATEGORIES,
                    ids.len()
                ),
            ));
        }
        let twice = ids
            .iter()
            .enumerate()
            .find_map(|(i, id)| ids[..i].contains(id).then_some(id));
        if let Some(id) = twice {
            return Err(Error::malformed(
                "categories",
                format!("the category {id} is given twice"),
            ));
        }
        Ok(Self(ids))
    }
}

impl From<CaseCategories> for Vec<ItemId> {
    fn from(c: CaseCategories) -> Self {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding;

    proptest! {
        #[test]
        fn case_categories_round_trip_and_nothing_else_parses(
            ids in proptest::collection::btree_set("[a-z0-9][a-z0-9-]{0,31}", 0..=3),
            junk in "\\PC{0,40}",
        ) {
            let ids: Vec<ItemId> = ids.iter().map(|s| s.parse().unwrap()).collect();
            let cats = CaseCategories::try_from(ids).unwrap();
            let json = encoding::to_json(&cats);
            prop_assert_eq!(encoding::from_json::<CaseCategories>("c", &json).unwrap(), cats);
            // The rule as docs/protocol.md states it.
            let expected = !junk.is_empty()
                && junk.len() <= 32
                && !junk.starts_with('-')
                && junk
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            prop_assert_eq!(junk.parse::<ItemId>().is_ok(), expected);
        }
    }

    fn ids(list: &[&str]) -> Vec<ItemId> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn item_ids_parse_on_the_wire() {
        let id: ItemId = encoding::from_json("id", b"\"title-ix\"").unwrap();
        assert_eq!(id.as_str(), "title-ix");
        assert!(encoding::from_json::<ItemId>("id", b"\"Title IX\"").is_err());
        assert!(encoding::from_json::<ItemId>("id", b"\"\"").is_err());
    }

    #[test]
    fn a_case_has_at_most_three_distinct_categories() {
        assert!(CaseCategories::try_from(ids(&["peer", "career", "values"])).is_ok());
        let four = CaseCategories::try_from(ids(&["a", "b", "c", "d"])).unwrap_err();
        assert!(four.to_string().contains("at most 3"), "{four}");
        let twice = CaseCategories::try_from(ids(&["peer", "peer"])).unwrap_err();
        assert!(twice.to_string().contains("twice"), "{twice}");
        assert!(
            encoding::from_json::<CaseCategories>("c", br#"["a","b","c","d"]"#).is_err(),
            "the wire refuses a fourth"
        );
    }

    #[test]
    fn a_resource_with_no_audience_serves_everyone() {
        let mut r = Resource {
            id: "idhr".parse().unwrap(),
            name: "Institute Discrimination & Harassment Response Office (IDHR)".into(),
            description: "d".into(),
            contact: None,
            url: None,
            confidential: false,
            audience: vec![],
            urgent: false,
        };
        let student: ItemId = "student".parse().unwrap();
        assert!(r.serves(Some(&student)) && r.serves(None));
        r.audience = ids(&["faculty"]);
        assert!(!r.serves(Some(&student)) && r.serves(None));
    }
}
