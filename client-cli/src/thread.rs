//! A case's conversation, as each party sees it.
//!
//! Every message is sealed once and wrapped to both sides (`candor_protocol::seal`), and signed
//! by its author. The office opens the visitor's messages and its own replies (so a colleague
//! with the office keys reads the whole thread); the visitor opens the office's replies and
//! their own messages, unless they sent one with `--no-copy`. Every opened message is verified
//! against its author's key: the case key for the visitor's, the card's key for the office's.

use candor_protocol::api::StoredEnvelope;
use candor_protocol::seal::{Opened, Opener};
use candor_protocol::{
    CaseKeys, Category, Direction, Identity, ItemId, KemPublicKey, Message, OfficeCard, Resource,
    SigningPublicKey,
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
    /// Opened and verified.
    Opened(Message),
    /// The viewer's own message, sent without keeping a copy.
    NotKept,
    /// Between the office and a third party: not part of this view.
    Elsewhere,
    /// Did not open or verify: it is not what it claims to be.
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
    /// Whether the office has closed the case.
    pub closed: bool,
}

fn author_of(direction: Direction) -> Author {
    match direction {
        Direction::ToOffice => Author::Visitor,
        Direction::ToVisitor | Direction::ToThirdParty => Author::Office,
        Direction::FromThirdParty => Author::ThirdParty,
    }
}

fn content(opener: Option<Opener<'_>>, stored: &StoredEnvelope) -> Content {
    let Some(opener) = opener else {
        return Content::Elsewhere;
    };
    match opener.open_own(&stored.envelope) {
        Ok(Opened::Body(body)) => match candor_protocol::encoding::from_json("message", &body) {
            Ok(m) => Content::Opened(m),
            Err(_) => Content::Unreadable,
        },
        Ok(Opened::NotKept) => Content::NotKept,
        Err(_) => Content::Unreadable,
    }
}

impl Thread {
    /// The thread as the office sees it: the visitor's messages, verified against the case's
    /// signing key, and the office's own replies, from its copy.
    pub fn for_office(
        stored: &[StoredEnvelope],
        closed: bool,
        office: &Identity,
        case_kem: &KemPublicKey,
        case_signing: &SigningPublicKey,
    ) -> Self {
        Self::opened_with(stored, closed, |direction| {
            Opener::office(office, case_kem.clone(), *case_signing, direction)
        })
    }

    /// The thread as the visitor sees it: the office's replies, verified against the office's
    /// signing key from the verified card, and the visitor's own messages, from their copy.
    pub fn for_visitor(
        stored: &[StoredEnvelope],
        closed: bool,
        case: &CaseKeys,
        office_kem: &KemPublicKey,
        office_signing: &SigningPublicKey,
    ) -> Self {
        Self::opened_with(stored, closed, |direction| {
            Opener::visitor(case, office_kem.clone(), *office_signing, direction)
        })
    }

    /// Every entry opened with the opener `opener` gives for its direction.
    fn opened_with<'a>(
        stored: &[StoredEnvelope],
        closed: bool,
        opener: impl Fn(Direction) -> Option<Opener<'a>>,
    ) -> Self {
        let entries = stored
            .iter()
            .map(|s| Entry {
                seq: s.seq,
                from: author_of(s.envelope.direction),
                content: content(opener(s.envelope.direction), s),
            })
            .collect();
        Self { entries, closed }
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
        card: &OfficeCard,
        style: &Style,
        width: Option<usize>,
    ) -> String {
        let (office_name, categories) = (card.name.as_str(), card.categories.as_slice());
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
                Content::NotKept => {
                    out.push_str(&format!(
                        "{head}  {}\n\n",
                        style.dim(
                            "sent without keeping a copy (--no-copy); only the office can read it"
                        )
                    ));
                }
                Content::Elsewhere => {
                    out.push_str(&format!(
                        "{head}  {}\n\n",
                        style.dim("between the office and a third party")
                    ));
                }
                Content::Unreadable => {
                    out.push_str(&format!(
                        "{head}  {}\n\n",
                        style.red("DOES NOT VERIFY: could not be decrypted or is not genuine")
                    ));
                }
                Content::Opened(m) => {
                    let mut meta = vec![m.day.to_string(), style.green("verified")];
                    if !m.categories.is_empty() {
                        let labels: Vec<String> = m
                            .categories
                            .as_slice()
                            .iter()
                            .map(|c| {
                                escape_remote(category_label(categories, c.as_str())).into_owned()
                            })
                            .collect();
                        meta.push(format!("categories: {}", labels.join("; ")));
                    }
                    if let Some(c) = &m.constituency {
                        meta.push(format!("constituency: {}", escape_remote(c.as_str())));
                    }
                    if m.urgent {
                        meta.push(style.red("URGENT"));
                    }
                    out.push_str(&format!("{head}  {}\n", style.dim(&meta.join(" · "))));
                    out.push_str(&crate::output::wrap(&m.text, width, "    "));
                    for r in &m.resources {
                        out.push_str(&render_resource(r, style));
                        // Signed by the office, so shown; but the card may have dropped or
                        // changed it since, and the reader should know.
                        if card.resource(r.id.as_str()) != Some(r) {
                            out.push_str(&format!(
                                "      {}\n",
                                style.dim("(not on the office's current card)")
                            ));
                        }
                    }
                    out.push('\n');
                }
            }
        }
        if self.entries.is_empty() {
            out.push_str("(no messages)\n");
        }
        if self.closed {
            out.push_str(&style.bold(
                "The office has closed this case. It stays readable for a while, then it is deleted.\n",
            ));
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
                    kept: true,
                    day: None,
                    text: None,
                    categories: None,
                    constituency: None,
                    urgent: None,
                    resources: None,
                };
                match &e.content {
                    Content::NotKept => j.kept = false,
                    Content::Elsewhere | Content::Unreadable => {}
                    Content::Opened(m) => {
                        j.readable = true;
                        j.day = Some(m.day.to_string());
                        j.text = Some(&m.text);
                        j.categories = Some(m.categories.as_slice());
                        j.constituency = m.constituency.as_ref().map(ItemId::as_str);
                        j.urgent = Some(m.urgent);
                        j.resources = Some(&m.resources);
                    }
                }
                j
            })
            .collect()
    }
}

/// One thread entry in `--json` output. Entries that are not `kept` are the viewer's own,
/// sent without a copy; entries that are neither `readable` nor unkept did not open or verify.
#[derive(Serialize)]
pub struct JsonEntry<'a> {
    seq: u64,
    from: Author,
    readable: bool,
    kept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<&'a [ItemId]>,
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
        .find(|c| c.id == *id)
        .map_or(id, |c| c.label.as_str())
}

/// A referral, as text.
pub fn render_resource(r: &Resource, style: &Style) -> String {
    let kind = if r.confidential {
        "confidential"
    } else {
        "not confidential"
    };
    let mut text = format!(
        "    {} {} ({kind}): {}\n",
        style.bold("referral:"),
        escape_remote(&r.name),
        escape_remote(&r.description),
    );
    if let Some(contact) = &r.contact {
        text.push_str(&format!("      contact: {}\n", escape_remote(contact)));
    }
    if let Some(url) = &r.url {
        text.push_str(&format!("      web: {}\n", escape_remote(url)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::seal::Sealer;
    use candor_protocol::{Codename, Day};

    #[test]
    fn each_side_reads_the_whole_thread_and_a_no_copy_message_only_the_office() {
        // Arrange
        let rng = &mut candor_protocol::rand::rng();
        let office = Identity::generate(rng);
        let case = Codename::generate(rng).derive(&office.fingerprint());
        let office_kem = office.kem().public_key();
        let seal = |m: &str, sealer: Sealer<'_>, rng: &mut _| {
            Message::text(m, Day(1)).seal(&sealer, rng).unwrap()
        };
        let stored: Vec<StoredEnvelope> = [
            seal(
                "question",
                Sealer::visitor(&case, office_kem.clone(), true),
                rng,
            ),
            seal(
                "answer",
                Sealer::office(&office, case.kem.public_key(), case.mailbox),
                rng,
            ),
            seal(
                "unkept",
                Sealer::visitor(&case, office_kem.clone(), false),
                rng,
            ),
        ]
        .into_iter()
        .zip(1..)
        .map(|(envelope, seq)| StoredEnvelope { seq, envelope })
        .collect();
        let style = Style::plain();
        let case_signing = case.signing.public_key();
        let office_signing = office.signing().public_key();

        // Act
        let at_office = Thread::for_office(
            &stored,
            false,
            &office,
            &case.kem.public_key(),
            &case_signing,
        );
        let at_visitor = Thread::for_visitor(&stored, false, &case, &office_kem, &office_signing);

        // Assert
        let card = crate::policy::tests::card_for(&office);
        let text = at_office.render(Viewer::Office, &card, &style, None);
        for m in ["question", "answer", "unkept"] {
            assert!(text.contains(m), "{text}");
        }
        assert!(at_office.unreadable().is_empty());
        let text = at_visitor.render(Viewer::Visitor, &card, &style, None);
        assert!(
            text.contains("question") && text.contains("answer") && !text.contains("unkept"),
            "{text}"
        );
        assert!(text.contains("without keeping a copy"), "{text}");
        assert!(at_visitor.unreadable().is_empty());

        // A reply checked against another office's key does not verify.
        let impostor = Identity::generate(rng).signing().public_key();
        let forged = Thread::for_visitor(&stored, false, &case, &office_kem, &impostor);
        assert_eq!(forged.unreadable(), vec![2]);
    }

    #[test]
    fn issue_19_a_referral_no_longer_on_the_card_is_shown_and_marked() {
        // Arrange: a reply referring to a resource the card has since dropped.
        let rng = &mut candor_protocol::rand::rng();
        let office = Identity::generate(rng);
        let case = Codename::generate(rng).derive(&office.fingerprint());
        let card = crate::policy::tests::card_for(&office);
        let mut reply = Message::text("see the clinic", Day(1));
        reply.resources.push(Resource {
            id: "old-clinic".parse().unwrap(),
            name: "The Old Clinic".into(),
            description: "It moved.".into(),
            contact: None,
            url: None,
            confidential: true,
            audience: vec![],
            urgent: false,
        });
        assert!(card.resource("old-clinic").is_none());
        let envelope = reply
            .seal(
                &Sealer::office(&office, case.kem.public_key(), case.mailbox),
                rng,
            )
            .unwrap();
        let stored = [StoredEnvelope { seq: 1, envelope }];
        let thread = Thread::for_visitor(
            &stored,
            false,
            &case,
            &office.kem().public_key(),
            &office.signing().public_key(),
        );

        // Act
        let text = thread.render(Viewer::Visitor, &card, &Style::plain(), None);

        // Assert
        assert!(text.contains("The Old Clinic"), "{text}");
        assert!(text.contains("not on the office's current card"), "{text}");
    }
}
