//! What an office tells visitors: the default policy texts, the default concern categories (the
//! International Ombuds Association's uniform reporting categories, shortened) and the TOML
//! files that replace them.
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
//! A resources file lists referral resources:
//!
//! ```toml
//! [[resources]]
//! name = "counseling"
//! description = "Free, confidential counseling for students and staff."
//! contact = "+1 555 0100, Health Center room 2"
//! confidential = true
//! ```

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use candor_protocol::{Category, Policy, Resource};
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
         only an anonymous tally (the category, the quarter, your constituency if you gave one, \
         and the outcome) to report trends, and we never publish counts small enough to point \
         at a person."
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
    .map(|(id, label)| Category {
        id: id.to_owned(),
        label: label.to_owned(),
    })
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesFile {
    #[serde(default)]
    resources: Vec<Resource>,
}

/// Reads a resources file. Names must be unique, since `candor reply --refer NAME` picks by name.
pub fn load_resources(path: &Path) -> Result<Vec<Resource>> {
    let file: ResourcesFile = read_toml(path, "resources")?;
    let mut seen = HashSet::new();
    for r in &file.resources {
        if r.name.trim().is_empty() || r.name.chars().any(char::is_whitespace) {
            bail!(
                "resource names in {} must be single words, like counseling or title-ix",
                path.display()
            );
        }
        if !seen.insert(r.name.as_str()) {
            bail!(
                "the resource name {} appears twice in {}",
                r.name,
                path.display()
            );
        }
    }
    Ok(file.resources)
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
    use candor_protocol::{Identity, OfficeCard};

    pub(crate) fn card_for(identity: &Identity) -> OfficeCard {
        OfficeCard {
            v: 1,
            serial: 1,
            id: "ombuds".parse().unwrap(),
            name: "Test Ombuds".into(),
            relay: "http://127.0.0.1:1".parse().unwrap(),
            signing_key: identity.signing().public_key().to_bytes(),
            kem_key: identity.kem().public_key().to_bytes(),
            policy: default_policy(90),
            retention_days: 90,
            categories: default_categories(),
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
    fn resource_names_are_unique_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        let one = "[[resources]]\nname = \"counseling\"\ndescription = \"d\"\ncontact = \"c\"\nconfidential = true\n";
        std::fs::write(&path, one).unwrap();
        assert_eq!(load_resources(&path).unwrap().len(), 1);
        std::fs::write(&path, format!("{one}{one}")).unwrap();
        assert!(load_resources(&path).is_err());
    }

    #[test]
    fn default_categories_have_unique_ids() {
        let cats = default_categories();
        let ids: HashSet<_> = cats.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), cats.len());
        assert!(ids.contains("other"));
    }
}
