//! The plaintext message inside an envelope.
//!
//! JSON with every field present and unknown fields refused:
//! `{"text":…,"categories":[…],"constituency":…|null,"urgent":false,"resources":[…],
//! "attachments":[…],"day":20414}`. Category and constituency IDs are [`ItemId`]s, at most
//! three distinct categories ([`CaseCategories`]). A message that carries a handoff step adds
//! `"handoff": {"kind": "proposal"|"consent"|"decline"|"revoke", …}` ([`HandoffNote`]); a
//! message without one has no `handoff` field, byte for byte as before, and a client that does
//! not know the field refuses such a message as an unknown field rather than showing it bare.
//!
//! What a message may carry depends on who wrote it, and [`Message::open`] refuses the rest, so
//! that nothing a receiver would not show travels unseen: `attachments` is reserved and always
//! empty; a visitor's message carries no `resources`; the office's carries no `categories`, no
//! `constituency` and is not `urgent` (those describe the visitor's concern, and only the
//! visitor says them).

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::card::{CaseCategories, ItemId, Resource};
pub use crate::day::Day;
use crate::encoding::{self, b64_array, b64_vec};
use crate::seal::{Opener, Sealer};
use crate::{Direction, Envelope, Error, HandoffId};

/// A reference to an attachment stored elsewhere. Reserved: no client sends one yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    /// File name to show.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    #[serde(with = "b64_array")]
    pub sha256: [u8; 32],
}

/// What a visitor, ombuds or third party writes. Zeroized on drop; no `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The text.
    pub text: String,
    /// The concern's categories, by ID from the office card: up to three, each once.
    pub categories: CaseCategories,
    /// The visitor's constituency, by ID from the office card's list, if they chose to say.
    pub constituency: Option<ItemId>,
    /// The imminent-harm path: the visitor asks for urgent attention.
    pub urgent: bool,
    /// Referral resources attached by the ombuds.
    pub resources: Vec<Resource>,
    /// Reserved for attachments.
    pub attachments: Vec<AttachmentRef>,
    /// The day it was written.
    pub day: Day,
    /// A handoff step, if the message carries one (boxed: most messages carry none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Box<HandoffNote>>,
}

/// A handoff step that travels in the case's thread (`docs/protocol.md` §10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HandoffNote {
    /// The ombuds' draft (`crate::handoff::Proposal` bytes), which carries the third party's
    /// signed card; office to visitor.
    Proposal {
        /// The draft's bytes.
        #[serde(with = "b64_vec")]
        proposal: Vec<u8>,
    },
    /// The visitor's consent: the consented proposal's bytes, the case key's signature, and
    /// the package's encapsulation to the office, from which the office recovers its half of
    /// the package key at agreement (the relay never gives the package to the office);
    /// visitor to office.
    Consent {
        /// The consented proposal's bytes.
        #[serde(with = "b64_vec")]
        proposal: Vec<u8>,
        /// The consent signature.
        #[serde(with = "b64_array")]
        consent: [u8; 64],
        /// The package's `office_enc`.
        #[serde(with = "b64_array")]
        office_enc: [u8; 32],
    },
    /// The visitor declines the proposal.
    Decline {
        /// The handoff declined.
        id: HandoffId,
    },
    /// Either side revoked the handoff.
    Revoke {
        /// The handoff revoked.
        id: HandoffId,
    },
}

impl Drop for Message {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

impl Message {
    /// A plain text message written on `day`.
    pub fn text(text: impl Into<String>, day: Day) -> Self {
        Self {
            text: text.into(),
            categories: CaseCategories::none(),
            constituency: None,
            urgent: false,
            resources: Vec::new(),
            attachments: Vec::new(),
            day,
            handoff: None,
        }
    }

    /// Serializes and seals the message; the sealer's author signs it.
    pub fn seal(
        &self,
        sealer: &Sealer<'_>,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Envelope, Error> {
        let body = Zeroizing::new(encoding::to_json(self));
        sealer.seal(&body, rng)
    }

    /// Opens, verifies and parses a message, and checks that it carries only what its author
    /// may send ([`Message::check_author`]).
    pub fn open(opener: &Opener<'_>, envelope: &Envelope) -> Result<Self, Error> {
        let body = opener.open(envelope)?;
        let message: Self = encoding::from_json("message", &body)?;
        message.check_author(envelope.direction)?;
        Ok(message)
    }

    /// Refuses what a message of `direction` may not carry: any attachment (reserved); from a
    /// visitor, resources; from the office to the visitor, categories, a constituency or the
    /// urgent flag.
    pub fn check_author(&self, direction: Direction) -> Result<(), Error> {
        let refuse = |why| Err(Error::malformed("message", why));
        if !self.attachments.is_empty() {
            return refuse("it has attachments, which are reserved and must be empty");
        }
        match direction {
            Direction::ToOffice if !self.resources.is_empty() => {
                refuse("a visitor's message carries resources, which only the office refers to")
            }
            Direction::ToVisitor
                if !self.categories.is_empty() || self.constituency.is_some() || self.urgent =>
            {
                refuse(
                    "the office's message carries categories, a constituency or the urgent \
                     flag, which only the visitor gives",
                )
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_a_message_carries_only_what_its_author_may_send() {
        let plain = Message::text("hi", Day(1));
        for direction in [Direction::ToOffice, Direction::ToVisitor] {
            assert!(plain.check_author(direction).is_ok());
        }
        let mut attached = Message::text("hi", Day(1));
        attached.attachments.push(AttachmentRef {
            name: "a.pdf".into(),
            size: 1,
            sha256: [0; 32],
        });
        assert!(attached.check_author(Direction::ToOffice).is_err());
        assert!(attached.check_author(Direction::ToVisitor).is_err());
        let mut urgent = Message::text("hi", Day(1));
        urgent.urgent = true;
        assert!(urgent.check_author(Direction::ToOffice).is_ok());
        assert!(urgent.check_author(Direction::ToVisitor).is_err());
    }

    #[test]
    fn message_json_is_strict() {
        let m = Message::text("hi", Day(1));
        let json = encoding::to_json(&m);
        let back: Message = encoding::from_json("message", &json).unwrap();
        assert!(back == m);
        let s = String::from_utf8(json).unwrap();
        assert!(
            encoding::from_json::<Message>("message", s.replace(",\"day\":1", "").as_bytes())
                .is_err()
        );
        // Free text never passes for a constituency, nor a fourth category for the three.
        for (field, bad) in [
            (
                "\"constituency\":null",
                "\"constituency\":\"a PhD student in lab 4\"",
            ),
            (
                "\"categories\":[]",
                "\"categories\":[\"a\",\"b\",\"c\",\"d\"]",
            ),
            ("\"categories\":[]", "\"categories\":[\"peer\",\"peer\"]"),
        ] {
            assert!(s.contains(field), "{s}");
            let bad = s.replace(field, bad);
            assert!(
                encoding::from_json::<Message>("message", bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
    }
}
