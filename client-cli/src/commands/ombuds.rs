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
use candor_protocol::{ItemId, Message, OfficeCard, Resource, marker};
use serde::Serialize;

use super::office::{OfficeKeys, load_card, unlock};
use super::{Context, handoff, today};
use crate::cli::{CaseArgs, ReplyArgs};
use crate::compose::{Draft, send_or_keep};
use crate::error::Unverified;
use crate::output;
use crate::output::escape_remote;
use crate::relay::{Relay, RelayError};
use crate::thread::{Author, Thread, Viewer, category_label};

mod close;
mod note;

use super::cases::inbox_entries;
pub use super::cases::{case_keys, find_case, office_auth};
pub use close::close;
pub use note::note;

/// One case as the inbox lists it.
#[derive(Serialize)]
struct Summary {
    case: String,
    categories: Vec<ItemId>,
    constituency: Option<ItemId>,
    urgent: bool,
    unread: usize,
    closed: bool,
    messages: u64,
    last_day: Option<String>,
    #[serde(skip)]
    activity: u64,
    #[serde(skip_serializing_if = "is_zero")]
    unreadable: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The highest sequence number the office has read in this case: its sealed marker, or 0.
/// A marker that does not open (not sealed by this office) counts as none.
fn read_up_to(keys: &OfficeKeys, entry: &InboxEntry) -> u64 {
    entry
        .marker
        .as_deref()
        .and_then(|m| marker::open(&keys.identity, &entry.mailbox, m).ok())
        .unwrap_or(0)
}

fn summarize(keys: &OfficeKeys, entry: &InboxEntry, thread: &Thread) -> Summary {
    let visitor: Vec<&Message> = thread.visitor_messages().collect();
    let read = read_up_to(keys, entry);
    Summary {
        case: keys.label(&entry.mailbox),
        categories: case_categories(&visitor),
        constituency: visitor.iter().find_map(|m| m.constituency.clone()),
        urgent: visitor.iter().any(|m| m.urgent),
        unread: thread
            .entries
            .iter()
            .filter(|e| e.from == Author::Visitor && e.seq > read)
            .count(),
        closed: entry.closed,
        messages: entry.envelopes,
        last_day: visitor.iter().map(|m| m.day).max().map(|d| d.to_string()),
        activity: entry.activity,
        unreadable: thread.unreadable().len(),
    }
}

/// The categories of a case: those of the first visitor message that names any.
fn case_categories(visitor: &[&Message]) -> Vec<ItemId> {
    visitor
        .iter()
        .find(|m| !m.categories.is_empty())
        .map(|m| m.categories.as_slice().to_vec())
        .unwrap_or_default()
}

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

/// `candor inbox`.
pub fn inbox(ctx: &Context) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let mut cases = Vec::new();
    let mut forged = Vec::new();
    for entry in inbox_entries(&relay, &keys)? {
        match fetch_thread(&relay, &keys, &entry) {
            Ok(thread) => cases.push(summarize(&keys, &entry, &thread)),
            Err(e) => match e.downcast::<RelayError>() {
                // Deleted between the two requests: nothing to list.
                Ok(e) if e.is_not_found() => {}
                Ok(e) => return Err(anyhow::Error::new(e).context("could not fetch a case")),
                Err(e) if e.is::<Unverified>() => forged.push(keys.label(&entry.mailbox)),
                Err(e) => return Err(e),
            },
        }
    }
    cases.sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.activity.cmp(&a.activity)));

    let refused = || -> Result<()> {
        if forged.is_empty() {
            return Ok(());
        }
        Err(Unverified(format!(
            "the relay listed keys that are not the cases' own for {}: the relay may be trying to \
             read or forge messages; those cases are not shown. Tell the relay's operator",
            forged.join(", ")
        ))
        .into())
    };
    if ctx.out.is_json() {
        ctx.out.json(
            &serde_json::json!({ "office": keys.card.id, "cases": cases, "refused": forged }),
        )?;
        return refused();
    }
    let s = &ctx.out.style;
    if cases.is_empty() {
        ctx.out.text(&format!("No cases at {}.", keys.card.name))?;
        return refused();
    }
    let mut text = format!(
        "{}\n",
        s.bold(&format!(
            "{:<10} {:<7} {:>6} {:>8}  {:<10}  {}",
            "CASE", "URGENT", "UNREAD", "MESSAGES", "LAST", "CATEGORY"
        ))
    );
    for c in &cases {
        let urgent = if c.urgent {
            s.red(&format!("{:<7}", "URGENT"))
        } else {
            format!("{:<7}", "")
        };
        let category = if c.categories.is_empty() {
            "(none given)".to_owned()
        } else {
            let labels: Vec<String> = c
                .categories
                .iter()
                .map(|id| {
                    escape_remote(category_label(&keys.card.categories, id.as_str())).into_owned()
                })
                .collect();
            labels.join("; ")
        };
        let mut warn = if c.unreadable > 0 {
            s.red(&format!("  ({} unreadable)", c.unreadable))
        } else {
            String::new()
        };
        if c.closed {
            warn.push_str(&s.dim("  (closed)"));
        }
        text.push_str(&format!(
            "{:<10} {urgent} {:>6} {:>8}  {:<10}  {category}{warn}\n",
            c.case,
            c.unread,
            c.messages,
            c.last_day.as_deref().unwrap_or("-"),
        ));
    }
    text.push_str(&s.dim(
        "\nUNREAD counts the visitor's messages that nobody at the office has opened with \
         `candor read`. LAST is the day of the visitor's latest message.",
    ));
    ctx.out.text(&text)?;
    refused()
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

/// Moves the office's read marker to the last message shown. A failure only warns: the thread
/// was shown, and the next `read` tries again.
fn mark_read(relay: &Relay, keys: &OfficeKeys, entry: &InboxEntry, thread: &Thread) {
    let Some(last) = thread.entries.last().map(|e| e.seq) else {
        return;
    };
    if last <= read_up_to(keys, entry) {
        return;
    }
    let rng = &mut candor_protocol::rand::rng();
    let result = marker::seal(&keys.identity, &entry.mailbox, last, rng)
        .map_err(anyhow::Error::new)
        .and_then(|sealed| {
            relay
                .set_marker(&entry.mailbox, sealed, keys.identity.signing())
                .map_err(anyhow::Error::new)
        });
    if let Err(e) = result {
        output::warn(&format!(
            "the case was shown, but it could not be marked read ({e:#}); it still counts as unread"
        ));
    }
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
