//! `candor inbox`, `read`, `reply`, `note` and `close`: the ombuds' side of the conversation.
//!
//! Cases are named by a short label (the first characters of the mailbox ID), never by the full
//! ID. The office keeps no local state: "unread" counts the visitor's messages after the
//! office's read marker, which `candor read` moves and which the relay keeps sealed to the
//! office, so that every staff member sharing the keys sees the same count.
//!
//! Every inbox entry's keys are checked against its mailbox ID, which is their hash: a relay
//! that lists keys of its own for a case is caught before anything is opened or sealed.

use anyhow::{Result, anyhow};
use candor_protocol::api::InboxEntry;
use candor_protocol::seal::Sealer;
use candor_protocol::{ItemId, Message, OfficeCard, Resource};
use serde::Serialize;

use super::office::{OfficeKeys, load_card, unlock};
use super::{Context, handoff, today};
use crate::cli::{CaseArgs, ReplyArgs};
use crate::compose::{Draft, send_or_keep};
use crate::error::Unverified;
use crate::output;
use crate::relay::{Relay, RelayError};
use crate::thread::{Thread, Viewer};

mod close;
mod digest;
mod inbox;
mod note;

pub use super::cases::{case_keys, find_case, office_auth};
pub use close::close;
use digest::mark_read;
pub use inbox::inbox;
pub use note::note;

fn fetch_thread(relay: &Relay, keys: &OfficeKeys, entry: &InboxEntry) -> Result<Thread> {
    let (kem, signing) = case_keys(keys, entry)?;
    let fetched = relay.envelopes(&entry.mailbox, &office_auth(keys))?;
    Ok(Thread::for_office(
        &fetched.envelopes,
        fetched.closed,
        &keys.identity,
        &kem,
        &signing,
    ))
}

fn fetch_case_thread(relay: &Relay, keys: &OfficeKeys, entry: &InboxEntry) -> Result<Thread> {
    fetch_thread(relay, keys, entry).map_err(|e| match e.downcast::<RelayError>() {
        Ok(e) => {
            let hint = if e.is_not_found() {
                "the case is gone: the visitor destroyed it, or it was closed or expired"
            } else {
                "could not fetch the case"
            };
            anyhow::Error::new(e).context(hint)
        }
        Err(e) => e,
    })
}

/// `candor read CASE`.
pub fn read(ctx: &Context, args: CaseArgs) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args)?;
    let thread = fetch_case_thread(&relay, &keys, &entry)?;
    let label = keys.label(&entry.mailbox);
    // The third party's answers, from each agreed handoff's own channel.
    let office_key = keys.identity.signing().public_key().to_bytes();
    let known = handoff::known(&thread, &entry.mailbox, &office_key);
    let answers = handoff::answers(&relay, &keys, &known)?;
    let notes = note::fetch(&relay, &keys, &entry.mailbox)?;
    ctx.out.either(
        &serde_json::json!({
            "case": label,
            "closed": thread.closed,
            "messages": thread.to_json(),
            "third_parties": answers,
            "notes": notes.notes,
            "unreadable_notes": notes.unreadable,
        }),
        |s| {
            let width = output::stdout_width();
            format!(
                "{} {label}\n\n{}{}{}",
                s.bold("Case"),
                thread.render(Viewer::Office, &keys.card, s, width),
                answers.render(s, width),
                notes.render(s, width)
            )
        },
    )?;
    mark_read(&relay, &keys, &entry, &thread);
    unreadable_is_fatal(&thread)?;
    if !notes.unreadable.is_empty() {
        return Err(Unverified(
            "a note of this case does not open with the office key: it was not written by this \
             office for this case. The other notes are shown above"
                .to_owned(),
        )
        .into());
    }
    if answers.unreadable() {
        return Err(Unverified(
            "a message on a third party's channel does not verify: it was not written by the \
             third party of that handoff. The other messages are shown above"
                .to_owned(),
        )
        .into());
    }
    Ok(())
}

pub fn unreadable_is_fatal(thread: &Thread) -> Result<()> {
    let bad = thread.unreadable();
    if bad.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = bad.iter().map(|s| format!("#{s}")).collect();
    Err(Unverified(format!(
        "message {} of this case could not be decrypted: it was not sealed to this office by \
         the case's key. The other messages are shown above",
        list.join(", ")
    ))
    .into())
}

#[derive(Serialize)]
struct Replied<'a> {
    case: String,
    seq: u64,
    resources: Vec<&'a str>,
}

/// `candor reply CASE`.
pub fn reply(ctx: &Context, args: ReplyArgs) -> Result<()> {
    // What can be checked without the passphrase is checked first: the message file and the
    // referrals, against the card, which is public and needs no key.
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
    pick_resources(&load_card(&ctx.home)?, &args.refer)?;
    let keys = unlock(&ctx.home)?;
    let resources = pick_resources(&keys.card, &args.refer)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args.case)?;
    let label = keys.label(&entry.mailbox);
    // Before anything is typed or sealed: a reply goes only to the case's own key.
    let (case_kem, _) = case_keys(&keys, &entry)?;
    let text = draft.compose(&format!(
        "Your reply to case {label}. It is sealed to the visitor and signed by the office."
    ))?;
    let mut message = Message::text(text.as_str(), today());
    message.resources = resources.iter().map(|r| (*r).clone()).collect();
    let sealer = Sealer::office(&keys.identity, case_kem, entry.mailbox);
    let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
    let seq = send_or_keep(text.as_str(), || {
        relay.append(&envelope, &office_auth(&keys)).map_err(|e| {
            let hint = if e.problem_kind() == Some("conflict") {
                format!("case {label} is closed; the reply was not sent")
            } else {
                format!("the reply to case {label} was not sent")
            };
            anyhow::Error::new(e).context(hint)
        })
    })?;
    let done = Replied {
        case: label.clone(),
        seq,
        resources: resources.iter().map(|r| r.id.as_str()).collect(),
    };
    ctx.out.either(&done, |s| {
        let refs = if done.resources.is_empty() {
            String::new()
        } else {
            format!(", with referral to {}", done.resources.join(", "))
        };
        format!(
            "{} to case {label} (message #{seq}){refs}.",
            s.green("Reply sent")
        )
    })
}

fn pick_resources<'a>(card: &'a OfficeCard, ids: &[ItemId]) -> Result<Vec<&'a Resource>> {
    ids.iter()
        .map(|id| {
            card.resource(id.as_str()).ok_or_else(|| {
                if card.resources.is_empty() {
                    anyhow!(
                        "the office card lists no resources; add them with `candor office \
                         publish --resources FILE`"
                    )
                } else {
                    let known: Vec<String> = card
                        .resources
                        .iter()
                        .map(|r| format!("{} ({})", r.id, r.name))
                        .collect();
                    anyhow!(
                        "the office card has no resource {id}; pass --refer with one of: {}",
                        known.join(", ")
                    )
                }
            })
        })
        .collect()
}
