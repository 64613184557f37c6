//! How a proposal is shown: to the visitor before they consent, to the ombuds before they
//! agree, and to the third party with what it received. Everything in it came from another
//! party, so every string is escaped.

use candor_protocol::handoff::{Item, Proposal};
use candor_protocol::{Direction, ThirdPartyCard};
use serde::Serialize;

use crate::output::{Style, escape_remote, wrap};

/// What the reader of a proposal is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The visitor, deciding whether to consent.
    Visitor,
    /// The ombuds.
    Office,
    /// The third party, with what it received.
    ThirdParty,
}

/// One item as `--json` shows it.
#[derive(Serialize)]
pub struct ItemOut {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    text: String,
}

/// A proposal as `--json` shows it.
#[derive(Serialize)]
pub struct ProposalOut {
    handoff: String,
    to: String,
    fingerprint: String,
    mandatory_reporter: bool,
    purpose: String,
    identity: &'static str,
    expires: String,
    items: Vec<ItemOut>,
}

fn author(direction: Direction) -> &'static str {
    match direction {
        Direction::ToOffice => "visitor",
        _ => "office",
    }
}

/// The items, decoded. A proposal has been checked on decoding, so a message item parses.
pub fn items(p: &Proposal) -> Vec<ItemOut> {
    p.items
        .iter()
        .map(|item| match item {
            Item::Text { text, .. } => ItemOut {
                kind: "text",
                seq: None,
                from: None,
                day: None,
                text: text.clone(),
            },
            Item::Message { seq, direction, .. } => {
                let message = item.message().and_then(Result::ok);
                ItemOut {
                    kind: "message",
                    seq: Some(*seq),
                    from: Some(author(*direction)),
                    day: message.as_ref().map(|m| m.day.to_string()),
                    text: message.map(|m| m.text.clone()).unwrap_or_default(),
                }
            }
        })
        .collect()
}

fn identity_word(p: &Proposal, consented: bool) -> &'static str {
    match (p.identity_included, consented) {
        (true, false) => "asked for",
        (true, true) => "included",
        (false, false) => "not asked for",
        (false, true) => "not included",
    }
}

/// The proposal for `--json`; `consented` says whether `p` is the consented form.
pub fn to_json(p: &Proposal, card: &ThirdPartyCard, consented: bool) -> ProposalOut {
    ProposalOut {
        handoff: p.id.short_label(),
        to: card.name.clone(),
        fingerprint: card
            .fingerprint()
            .map(|f| f.to_string())
            .unwrap_or_default(),
        mandatory_reporter: card.mandatory_reporter,
        purpose: p.purpose.clone(),
        identity: identity_word(p, consented),
        expires: p.expires.to_string(),
        items: items(p),
    }
}

/// The proposal as text, for `reader`.
pub fn text(
    p: &Proposal,
    card: &ThirdPartyCard,
    consented: bool,
    reader: Reader,
    s: &Style,
) -> String {
    let width = crate::output::stdout_width();
    let fingerprint = card
        .fingerprint()
        .map(|f| f.to_string())
        .unwrap_or_default();
    let mut out = format!("{} {}\n", s.bold("Handoff"), s.bold(&p.id.short_label()));
    out.push_str(&format!(
        "  To:        {} (fingerprint {fingerprint})\n",
        escape_remote(&card.name)
    ));
    let reporter = if card.mandatory_reporter {
        s.yellow(
            "a mandatory reporter (a \"responsible employee\"): they may have to report what \
             they learn to the institution, which starts a formal process",
        )
    } else {
        "not a mandatory reporter".to_owned()
    };
    out.push_str(&format!("  Reporter:  {reporter}\n"));
    out.push_str(&format!("  Purpose:   {}\n", escape_remote(&p.purpose)));
    let identity = match (reader, p.identity_included, consented) {
        (Reader::Visitor, true, _) => {
            "asked for: you choose whether to give it, and only the third party can read it"
        }
        (Reader::Office, true, true) => "included (sealed to the third party; you cannot read it)",
        _ => identity_word(p, consented),
    };
    out.push_str(&format!("  Identity:  {identity}\n"));
    out.push_str(&format!(
        "  Until:     {} (nothing is released after this day)\n",
        p.expires
    ));
    out.push_str(&format!(
        "  {}\n",
        match reader {
            Reader::ThirdParty => "Disclosed:",
            _ => "What would be disclosed, exactly:",
        }
    ));
    for (n, item) in items(p).iter().enumerate() {
        let head = match (item.kind, item.seq, item.from) {
            ("message", Some(seq), Some(from)) => {
                let whose = match (from, reader) {
                    ("visitor", Reader::Visitor) => "your message",
                    ("visitor", _) => "the visitor's message",
                    _ => "the office's message",
                };
                format!(
                    "{}. {whose} #{seq}, {}",
                    n + 1,
                    item.day.as_deref().unwrap_or("-")
                )
            }
            _ => format!("{}. a text the office wrote for the third party", n + 1),
        };
        out.push_str(&format!("    {}\n", s.bold(&head)));
        out.push_str(&wrap(&item.text, width, "       "));
    }
    out
}
