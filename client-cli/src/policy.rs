//! What an office tells visitors: the default policy texts, the default lists (concern
//! categories after the International Ombuds Association's uniform reporting categories,
//! constituencies and outcomes), and the TOML files that replace them. Every field rule is the
//! protocol's ([`candor_protocol::limits`]); the card is checked against them before it is
//! saved or signed.
//!
//! A policy file sets any of the four texts; the ones it leaves out keep their defaults:
//!
//! ```toml
//! confidentiality = "…"
//! exception = "…"
//! not_notice = "…"
//! retention = "…"
//! ```
//!
//! A lists file replaces any of the three lists; the ones it leaves out are kept:
//!
//! ```toml
//! [[constituencies]]
//! id = "student"
//! label = "Student"
//!
//! [[categories]]
//! id = "peer"
//! label = "Peer and colleague relationships"
//!
//! [[outcomes]]
//! id = "resolved"
//! label = "The concern was resolved"
//! ```
//!
//! A resources file lists referral resources. `contact`, `url`, `audience` (constituency IDs;
//! left out, the resource serves everyone) and `urgent` (shown at once to a visitor who marks a
//! concern urgent) may be left out:
//!
//! ```toml
//! [[resources]]
//! id = "counseling"
//! name = "Student Mental Health and Counseling Services"
//! description = "Free, confidential counseling."
//! contact = "+1 555 0100, Health Center room 2"
//! url = "https://health.example.edu/counseling"
//! confidential = true
//! audience = ["student"]
//! urgent = false
//! ```

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use candor_protocol::{Category, Choice, Constituency, ItemId, Outcome, Policy, Resource};
use serde::Deserialize;

/// The default policy texts for an office that keeps cases `retention_days` days.
pub fn default_policy(retention_days: u32) -> Policy {
    Policy {
        confidentiality: "The ombuds office keeps what you tell us confidential. We do not \
            share your identity or your concern with anyone outside the office without your \
            permission, and even then only to help resolve your concern informally. You do not \
            have to tell us who you are: your messages are encrypted on your computer and only \
            this office can read them. The relay that carries them stores only ciphertext."
            .to_owned(),
        exception: "The one exception is an imminent risk of serious harm. If we believe that \
            you or someone else is in immediate danger, and there is no other reasonable option, \
            we may act to prevent that harm, which can mean telling someone who can help. If \
            you are in danger right now, call your local emergency number. You can mark a \
            message as urgent so that we read it first."
            .to_owned(),
        not_notice: "Talking to the ombuds is not formal notice to the institution. Telling us \
            about a problem does not report it, does not start an investigation and does not \
            pause any deadline for a formal complaint or grievance. If you want to make a formal \
            report, we can explain how and to whom."
            .to_owned(),
        retention: default_retention(retention_days),
    }
}

/// The default retention text, which names the retention period.
pub fn default_retention(retention_days: u32) -> String {
    format!(
        "We keep no permanent record of confidential conversations. Your case is kept on the \
         relay only while it is in use: it is deleted {retention_days} days after its last \
         message, or sooner when you destroy it or we close it. When a case closes, we keep \
         only an anonymous tally to report trends: up to three of its categories, the quarter \
         it closed in, your constituency if you chose one, and the outcome, and nothing else \
         (no day, no case number, none of your words). We never publish counts small enough to \
         point at a person."
    )
}

/// The default concern categories, after the IOA uniform reporting categories.
pub fn default_categories() -> Vec<Category> {
    [
        (
            "evaluative",
            "Evaluative relationships (supervisor, advisor, manager)",
        ),
        ("peer", "Peer and colleague relationships"),
        ("career", "Career progression and development"),
        ("compensation", "Compensation and benefits"),
        ("legal", "Legal, regulatory, financial and compliance"),
        ("safety", "Safety, health and physical environment"),
        ("services", "Services and administrative issues"),
        (
            "organizational",
            "Organizational, strategic and mission related",
        ),
        ("values", "Values, ethics and standards"),
        ("other", "Other"),
    ]
    .into_iter()
    .filter_map(|(id, label)| Choice::new(id, label).ok())
    .collect()
}

/// The default constituencies a visitor may choose from.
pub fn default_constituencies() -> Vec<Constituency> {
    [
        ("student", "Student"),
        ("faculty", "Faculty"),
        ("staff", "Staff"),
        ("postdoc", "Postdoctoral scholar"),
        ("other", "Someone else (alumni, visitors, contractors, …)"),
    ]
    .into_iter()
    .filter_map(|(id, label)| Choice::new(id, label).ok())
    .collect()
}

/// The default outcomes a case can be closed with.
pub fn default_outcomes() -> Vec<Outcome> {
    [
        ("resolved", "The visitor's concern was resolved"),
        ("referred", "The visitor was referred to another resource"),
        (
            "informed",
            "The visitor received information or coaching and will proceed on their own",
        ),
        (
            "facilitated",
            "Resolved informally with a third party (shuttle diplomacy, facilitated conversation)",
        ),
        ("withdrawn", "The visitor withdrew or stopped answering"),
        ("other", "Anything else"),
    ]
    .into_iter()
    .filter_map(|(id, label)| Choice::new(id, label).ok())
    .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    confidentiality: Option<String>,
    exception: Option<String>,
    not_notice: Option<String>,
    retention: Option<String>,
}

/// Reads a policy file over `base`: the texts it sets replace those of `base`.
pub fn load_policy(path: &Path, base: Policy) -> Result<Policy> {
    let file: PolicyFile = read_toml(path, "policy")?;
    let pick = |new: Option<String>, old: String| -> Result<String> {
        match new {
            Some(t) if t.trim().is_empty() => {
                bail!(
                    "a policy text in {} is empty; leave it out to keep the default",
                    path.display()
                )
            }
            Some(t) => Ok(t.trim().to_owned()),
            None => Ok(old),
        }
    };
    Ok(Policy {
        confidentiality: pick(file.confidentiality, base.confidentiality)?,
        exception: pick(file.exception, base.exception)?,
        not_notice: pick(file.not_notice, base.not_notice)?,
        retention: pick(file.retention, base.retention)?,
    })
}

/// The lists a lists file replaces: each one it names, whole.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    /// Concern categories.
    pub categories: Option<Vec<Category>>,
    /// Constituencies.
    pub constituencies: Option<Vec<Constituency>>,
    /// Outcomes.
    pub outcomes: Option<Vec<Outcome>>,
}

/// Reads a lists file. The IDs' syntax is checked here, the rest with the whole card.
pub fn load_lists(path: &Path) -> Result<Lists> {
    let lists: Lists = read_toml(path, "lists")?;
    for (what, list) in [
        ("category", &lists.categories),
        ("constituency", &lists.constituencies),
        ("outcome", &lists.outcomes),
    ] {
        unique(path, what, list.iter().flatten().map(|c| &c.id))?;
    }
    Ok(lists)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesFile {
    #[serde(default)]
    resources: Vec<ResourceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceEntry {
    id: ItemId,
    name: String,
    description: String,
    contact: Option<String>,
    url: Option<String>,
    confidential: bool,
    #[serde(default)]
    audience: Vec<ItemId>,
    #[serde(default)]
    urgent: bool,
}

/// Reads a resources file. IDs must be unique, since `candor reply --refer ID` picks by ID;
/// names are free text. The rest is checked with the whole card, whose constituencies the
/// audiences must be drawn from.
pub fn load_resources(path: &Path) -> Result<Vec<Resource>> {
    let file: ResourcesFile = read_toml(path, "resources")?;
    unique(path, "resource", file.resources.iter().map(|r| &r.id))?;
    let trim = |t: String| t.trim().to_owned();
    Ok(file
        .resources
        .into_iter()
        .map(|r| Resource {
            id: r.id,
            name: trim(r.name),
            description: trim(r.description),
            contact: r.contact.map(trim).filter(|c| !c.is_empty()),
            url: r.url.map(trim).filter(|u| !u.is_empty()),
            confidential: r.confidential,
            audience: r.audience,
            urgent: r.urgent,
        })
        .collect())
}

fn unique<'a>(path: &Path, what: &str, ids: impl Iterator<Item = &'a ItemId>) -> Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            bail!(
                "the {what} ID {id} appears twice in {}; give each its own",
                path.display()
            );
        }
    }
    Ok(())
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the {what} file {}", path.display()))?;
    toml::from_str(&text).with_context(|| {
        format!(
            "the {what} file {} is not valid (see `candor office init --help`)",
            path.display()
        )
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use candor_protocol::card::OFFICE_CARD_VERSION;
    use candor_protocol::{Day, Identity, OfficeCard, limits};

    #[test]
    fn the_default_retention_lists_exactly_what_a_tally_holds() {
        // Arrange: a tally with every field, and the one part of the text that describes it.
        let tally = candor_protocol::Tally::new(
            vec!["peer".parse().unwrap()],
            "2026Q4".parse().unwrap(),
            Some("staff".parse().unwrap()),
            "resolved".parse().unwrap(),
        )
        .unwrap();
        let text = default_retention(90);

        // Act: what the tally holds, field by field, as the text must name it.
        let held = [
            (
                !tally.categories().is_empty(),
                "up to three of its categories",
            ),
            (tally.quarter().number() > 0, "the quarter it closed in"),
            (
                tally.constituency().is_some(),
                "your constituency if you chose one",
            ),
            (!tally.outcome().as_str().is_empty(), "the outcome"),
        ];

        // Assert: each named, and the list closed.
        for (present, phrase) in held {
            assert!(present && text.contains(phrase), "{phrase}");
        }
        assert_eq!(
            candor_protocol::tally::MAX_TALLY_CATEGORIES,
            3,
            "the text says three"
        );
        assert!(text.contains("and nothing else (no day, no case number, none of your words)"));
    }

    pub(crate) fn card_for(identity: &Identity) -> OfficeCard {
        OfficeCard {
            v: OFFICE_CARD_VERSION.into(),
            serial: 1,
            expires: crate::commands::today().plus(limits::DEFAULT_CARD_VALID_DAYS),
            id: "ombuds".parse().unwrap(),
            name: "Test Ombuds".into(),
            relay: "http://127.0.0.1:1".parse().unwrap(),
            signing_key: identity.signing().public_key().to_bytes(),
            kem_key: identity.kem().public_key().to_bytes(),
            policy: default_policy(90),
            retention_days: 90,
            reply_within_days: limits::DEFAULT_REPLY_WITHIN_DAYS,
            close_grace_days: limits::DEFAULT_CLOSE_GRACE_DAYS,
            categories: default_categories(),
            constituencies: default_constituencies(),
            outcomes: default_outcomes(),
            resources: vec![],
        }
    }

    #[test]
    fn a_policy_file_replaces_only_what_it_sets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "exception = \"Only if someone is in danger.\"\n").unwrap();
        let p = load_policy(&path, default_policy(30)).unwrap();
        assert_eq!(p.exception, "Only if someone is in danger.");
        assert_eq!(p.retention, default_retention(30));
        assert!(p.retention.contains("30 days"));
        std::fs::write(&path, "unknown = \"x\"\n").unwrap();
        assert!(load_policy(&path, default_policy(30)).is_err());
    }

    #[test]
    fn resource_ids_are_unique_and_names_are_free_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        let one = "[[resources]]\nid = \"idhr\"\nname = \"Institute Discrimination & \
                   Harassment Response Office (IDHR)\"\ndescription = \"d\"\nconfidential = \
                   false\naudience = [\"student\"]\n";
        std::fs::write(&path, one).unwrap();
        let loaded = load_resources(&path).unwrap();
        assert_eq!(
            loaded[0].name,
            "Institute Discrimination & Harassment Response Office (IDHR)"
        );
        assert_eq!(loaded[0].contact, None);
        assert!(!loaded[0].urgent);
        std::fs::write(&path, format!("{one}{one}")).unwrap();
        let twice = load_resources(&path).unwrap_err();
        assert!(format!("{twice:#}").contains("appears twice"), "{twice:#}");
        std::fs::write(&path, one.replace("\"idhr\"", "\"Title IX\"")).unwrap();
        let bad_id = load_resources(&path).unwrap_err();
        assert!(format!("{bad_id:#}").contains("a-z, 0-9"), "{bad_id:#}");
    }

    #[test]
    fn a_lists_file_replaces_only_the_lists_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.toml");
        std::fs::write(
            &path,
            "[[constituencies]]\nid = \"resident\"\nlabel = \"Resident\"\n",
        )
        .unwrap();
        let lists = load_lists(&path).unwrap();
        assert_eq!(lists.constituencies.unwrap()[0].id.as_str(), "resident");
        assert!(lists.categories.is_none() && lists.outcomes.is_none());
    }

    #[test]
    fn the_default_lists_make_a_valid_card() {
        let id = Identity::generate(&mut candor_protocol::rand::rng());
        let card = card_for(&id);
        assert_eq!(card.categories.len(), 10);
        assert_eq!(card.constituencies.len(), 5);
        assert_eq!(card.outcomes.len(), 6, "today's six outcomes");
        assert!(card.outcome("facilitated").is_some());
        card.check().unwrap();
        assert!(card.expires > Day(0));
    }
}
