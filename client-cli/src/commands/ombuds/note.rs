//! `candor note CASE`: the ombuds' informal notes on a case, and their place in `candor read`.
//!
//! A note is sealed by the office to itself (`candor_protocol::note`) and kept by the relay
//! beside the case, never among the envelopes the visitor fetches: the visitor never sees it,
//! it moves neither the case's expiry nor its place in the inbox nor its unread count, and it
//! is destroyed with the case.

use anyhow::Result;
use candor_protocol::MailboxId;
use candor_protocol::note;
use serde::Serialize;

use super::super::Context;
use super::super::office::{OfficeKeys, unlock};
use super::{find_case, office_auth};
use crate::cli::NoteArgs;
use crate::compose::{Draft, send_or_keep};
use crate::output::{Style, wrap};
use crate::relay::Relay;

/// What `candor read` shows after the thread.
#[derive(Serialize)]
pub struct Notes {
    /// The notes that opened, in order.
    pub notes: Vec<Shown>,
    /// The numbers of notes that did not open: not sealed by this office for this case.
    pub unreadable: Vec<u64>,
}

/// One note, opened.
#[derive(Serialize)]
pub struct Shown {
    pub note: u64,
    pub text: String,
}

/// The case's notes, opened with the office key.
pub fn fetch(relay: &Relay, keys: &OfficeKeys, mailbox: &MailboxId) -> Result<Notes> {
    let mut notes = Notes {
        notes: Vec::new(),
        unreadable: Vec::new(),
    };
    for stored in relay.notes(mailbox, &office_auth(keys))? {
        match note::open(&keys.identity, mailbox, &stored.sealed) {
            Ok(text) => notes.notes.push(Shown {
                note: stored.note,
                text,
            }),
            Err(_) => notes.unreadable.push(stored.note),
        }
    }
    Ok(notes)
}

impl Notes {
    /// The notes as text, after the thread; nothing if there are none.
    pub fn render(&self, s: &Style, width: Option<usize>) -> String {
        let mut out = String::new();
        for n in &self.notes {
            out.push_str(&format!(
                "\n{}\n{}\n",
                s.yellow(&format!("note {} (only the office sees this)", n.note)),
                wrap(&n.text, width, "  ")
            ));
        }
        for n in &self.unreadable {
            out.push_str(&s.red(&format!(
                "\nnote {n}: does not open with the office key (not written by this office)\n"
            )));
        }
        out
    }
}

#[derive(Serialize)]
struct Written {
    case: String,
    note: u64,
}

/// `candor note CASE`.
pub fn note(ctx: &Context, args: NoteArgs) -> Result<()> {
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args.case)?;
    let label = keys.label(&entry.mailbox);
    let text = draft.compose(&format!(
        "Your note on case {label}. It is sealed to the office only: the visitor never sees it, \
         and it is destroyed with the case."
    ))?;
    let rng = &mut candor_protocol::rand::rng();
    let sealed = note::seal(&keys.identity, &entry.mailbox, text.as_str(), rng)?;
    let number = send_or_keep(text.as_str(), || {
        relay
            .put_note(&entry.mailbox, sealed.clone(), &office_auth(&keys))
            .map_err(|e| {
                let hint = if e.is_not_found() {
                    format!("case {label} is gone; the note was not kept")
                } else {
                    format!("the note on case {label} was not kept")
                };
                anyhow::Error::new(e).context(hint)
            })
    })?;
    let done = Written {
        case: label.clone(),
        note: number,
    };
    ctx.out.either(&done, |s| {
        format!(
            "{} on case {label} (note {number}; only the office sees it).",
            s.green("Note kept")
        )
    })
}
