//! A case's conversation, as each party sees it.
//!
//! Every message is sealed to its recipient, so nobody can read back what they sent: HPKE
//! encrypts to the recipient's key with a fresh ephemeral key that the sender does not keep.
//! A thread therefore shows the other side's messages opened (and, for the visitor, the office's
//! replies verified) and one's own messages as sealed markers, in order.

use candor_protocol::api::StoredEnvelope;
use candor_protocol::{
    CaseKeys, Category, Direction, Identity, KemPublicKey, Message, Resource, SigningPublicKey,
};
use serde::Serialize;

use crate::output::{Style, escape_remote};

/// Who wrote an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Author {
    /// The visitor.
    Visitor,
    /// The office.
    Office,
    /// A third party (reserved for handoffs).
    ThirdParty,
}

/// Who is looking at the thread.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The visitor, with the codename.
    Visitor,
    /// The office, with its keys.
    Office,
}

/// What a viewer can see of an entry.
pub enum Content {
    /// Opened and, for office replies, verified.
    Opened(Message),
    /// Sealed to the other party: the viewer sent it and cannot read it back.
    Sealed,
    /// Addressed to the viewer but did not open or verify.
    Unreadable,
}

/// One message of the thread.
pub struct Entry {
    /// Sequence number in the mailbox.
    pub seq: u64,
    /// Its author.
    pub from: Author,
    /// What the viewer sees.
    pub content: Content,
}

/// The whole conversation, in order.
pub struct Thread {
    /// The entries, oldest first.
    pub entries: Vec<Entry>,
}

fn author_of(direction: Direction) -> Author {
    match direction {
        Direction::ToOffice => Author::Visitor,
        Direction::ToVisitor | Direction::ToThirdParty => Author::Office,
        Direction::FromThirdParty => Author::ThirdParty,
    }
}

impl Thread {
    /// The thread as the office sees it: the visitor's messages opened with the office key.
    pub fn for_office(
        stored: &[StoredEnvelope],
        office: &Identity,
        case_kem: &KemPublicKey,
    ) -> Self {
        let entries = stored
            .iter()
            .map(|s| {
                let content = match s.envelope.direction {
                    Direction::ToOffice => {
                        match Message::open(office.kem(), case_kem, None, &s.envelope) {
                            Ok(m) => Content::Opened(m),
                            Err(_) => Content::Unreadable,
                        }
                    }
                    _ => Content::Sealed,
                };
                Entry {
                    seq: s.seq,
                    from: author_of(s.envelope.direction),
                    content,
                }
            })
            .collect();
        Self { entries }
    }

    /// The thread as the visitor sees it: the office's replies opened with the case key and
    /// verified against the office's signing key from the verified card.
    pub fn for_visitor(
        stored: &[StoredEnvelope],
        case: &CaseKeys,
        office_kem: &KemPublicKey,
        office_signing: &SigningPublicKey,
    ) -> Self {
        let entries = stored
            .iter()
            .map(|s| {
                let content = match s.envelope.direction {
                    Direction::ToVisitor => {
                        match Message::open(
                            &case.kem,
                            office_kem,
                            Some(office_signing),
                            &s.envelope,
                        ) {
                            Ok(m) => Content::Opened(m),
                            Err(_) => Content::Unreadable,
                        }
                    }
                    _ => Content::Sealed,
                };
                Entry {
                    seq: s.seq,
                    from: author_of(s.envelope.direction),
                    content,
                }
            })
            .collect();
        Self { entries }
    }

    /// The messages meant for the viewer that did not open or verify.
    pub fn unreadable(&self) -> Vec<u64> {
        self.entries
            .iter()
            .filter(|e| matches!(e.content, Content::Unreadable))
            .map(|e| e.seq)
            .collect()
    }

    /// The opened messages from the visitor.
    pub fn visitor_messages(&self) -> impl Iterator<Item = &Message> {
        self.entries
            .iter()
            .filter_map(|e| match (&e.content, e.from) {
                (Content::Opened(m), Author::Visitor) => Some(m),
                _ => None,
            })
    }

    /// The thread as text. `office_name` names the office's entries; `categories` turn category
    /// IDs into labels; message text is wrapped at `width`, if given.
    pub fn render(
        &self,
        viewer: Viewer,
        office_name: &str,
        categories: &[Category],
        style: &Style,
        width: Option<usize>,
    ) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let who = match (e.from, viewer) {
                (Author::Visitor, Viewer::Visitor) | (Author::Office, Viewer::Office) => {
                    "you".to_owned()
                }
                (Author::Visitor, Viewer::Office) => "visitor".to_owned(),
                (Author::Office, Viewer::Visitor) => escape_remote(office_name).into_owned(),
                (Author::ThirdParty, _) => "third party".to_owned(),
            };
            let head = format!("#{} {}", e.seq, style.bold(&who));
            match &e.content {
                Content::Sealed => {
                    let to = match e.from {
                        Author::Visitor => "the office",
                        _ => "the visitor",
                    };
                    out.push_str(&format!(
                        "{head}  {}\n\n",
                        style.dim(&format!("sealed to {to}; only they can read it"))
                    ));
                }
                Content::Unreadable => {
                    out.push_str(&format!(
                        "{head}  {}\n\n",
                        style.red("DOES NOT VERIFY: could not be decrypted or is not genuine")
                    ));
                }
                Content::Opened(m) => {
                    let mut meta = vec![m.day.to_string()];
                    if viewer == Viewer::Visitor && e.from == Author::Office {
                        meta.push(style.green("verified"));
                    }
                    if let Some(c) = &m.category {
                        meta.push(format!(
                            "category: {}",
                            escape_remote(category_label(categories, c))
                        ));
                    }
                    if let Some(c) = &m.constituency {
                        meta.push(format!("constituency: {}", escape_remote(c)));
                    }
                    if m.urgent {
                        meta.push(style.red("URGENT"));
                    }
                    out.push_str(&format!("{head}  {}\n", style.dim(&meta.join(" · "))));
                    out.push_str(&crate::output::wrap(&m.text, width, "    "));
                    for r in &m.resources {
                        out.push_str(&render_resource(r, style));
                    }
                    out.push('\n');
                }
            }
        }
        if self.entries.is_empty() {
            out.push_str("(no messages)\n");
        }
        out
    }

    /// The thread as JSON entries.
    pub fn to_json(&self) -> Vec<JsonEntry<'_>> {
        self.entries
            .iter()
            .map(|e| {
                let mut j = JsonEntry {
                    seq: e.seq,
                    from: e.from,
                    readable: false,
                    sealed: false,
                    day: None,
                    text: None,
                    category: None,
                    constituency: None,
                    urgent: None,
                    resources: None,
                };
                match &e.content {
                    Content::Sealed => j.sealed = true,
                    Content::Unreadable => {}
                    Content::Opened(m) => {
                        j.readable = true;
                        j.day = Some(m.day.to_string());
                        j.text = Some(&m.text);
                        j.category = m.category.as_deref();
                        j.constituency = m.constituency.as_deref();
                        j.urgent = Some(m.urgent);
                        j.resources = Some(&m.resources);
                    }
                }
                j
            })
            .collect()
    }
}

/// One thread entry in `--json` output. `sealed` entries are the viewer's own messages;
/// entries that are neither `readable` nor `sealed` did not open or verify.
#[derive(Serialize)]
pub struct JsonEntry<'a> {
    seq: u64,
    from: Author,
    readable: bool,
    sealed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constituency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urgent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<&'a [Resource]>,
}

/// The label of a category ID, or the ID itself if the card does not list it.
pub fn category_label<'a>(categories: &'a [Category], id: &'a str) -> &'a str {
    categories
        .iter()
        .find(|c| c.id == id)
        .map_or(id, |c| c.label.as_str())
}

/// A referral, as text.
pub fn render_resource(r: &Resource, style: &Style) -> String {
    let kind = if r.confidential {
        "confidential"
    } else {
        "not confidential"
    };
    format!(
        "    {} {} ({kind}): {}\n      contact: {}\n",
        style.bold("referral:"),
        escape_remote(&r.name),
        escape_remote(&r.description),
        escape_remote(&r.contact)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::{Codename, Day};

    #[test]
    fn each_side_reads_the_other_and_sees_its_own_sealed() {
        let rng = &mut candor_protocol::rand::rng();
        let office = Identity::generate(rng);
        let case = Codename::generate(rng).derive(&office.fingerprint());
        let office_kem = office.kem().public_key();
        let asked = Message::text("question", Day(1))
            .seal(
                &case.kem,
                &office_kem,
                case.mailbox,
                Direction::ToOffice,
                None,
                rng,
            )
            .unwrap();
        let answered = Message::text("answer", Day(2))
            .seal(
                office.kem(),
                &case.kem.public_key(),
                case.mailbox,
                Direction::ToVisitor,
                Some(office.signing()),
                rng,
            )
            .unwrap();
        let stored = vec![
            StoredEnvelope {
                seq: 1,
                envelope: asked,
            },
            StoredEnvelope {
                seq: 2,
                envelope: answered,
            },
        ];
        let style = Style::plain();

        let at_office = Thread::for_office(&stored, &office, &case.kem.public_key());
        let text = at_office.render(Viewer::Office, "Ombuds", &[], &style, None);
        assert!(
            text.contains("question") && !text.contains("answer"),
            "{text}"
        );
        assert!(at_office.unreadable().is_empty());

        let signing = office.signing().public_key();
        let at_visitor = Thread::for_visitor(&stored, &case, &office_kem, &signing);
        let text = at_visitor.render(Viewer::Visitor, "Ombuds", &[], &style, None);
        assert!(
            text.contains("answer") && text.contains("verified"),
            "{text}"
        );
        assert!(text.contains("sealed to the office"), "{text}");

        // A reply checked against another office's key does not verify.
        let impostor = Identity::generate(rng).signing().public_key();
        let forged = Thread::for_visitor(&stored, &case, &office_kem, &impostor);
        assert_eq!(forged.unreadable(), vec![2]);
    }
}
