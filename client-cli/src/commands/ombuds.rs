//! `candor inbox`, `read`, `reply` and `close`: the ombuds' side of the conversation.
//!
//! Cases are named by a short label (the first characters of the mailbox ID), never by the full
//! ID. The office keeps no local state: "unread" counts the visitor's messages since the
//! office's last reply, which every staff member sharing the keys sees the same way, and which a
//! reply clears.

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::api::InboxEntry;
use candor_protocol::{Direction, KemPublicKey, Message, Resource};
use serde::Serialize;

use super::office::{OfficeKeys, unlock};
use super::{Context, today};
use crate::cli::{CaseArgs, CloseArgs, Outcome, ReplyArgs};
use crate::compose::compose;
use crate::error::Unverified;
use crate::output::escape_remote;
use crate::relay::{Auth, Relay, RelayError};
use crate::thread::{Author, Thread, Viewer, category_label};
use crate::{input, output};

/// One case as the inbox lists it.
#[derive(Serialize)]
struct Summary {
    case: String,
    category: Option<String>,
    constituency: Option<String>,
    urgent: bool,
    unread: usize,
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

fn office_auth(keys: &OfficeKeys) -> Auth<'_> {
    Auth {
        key: keys.identity.signing(),
        signer: candor_protocol::Signer::Office,
    }
}

fn summarize(entry: &InboxEntry, thread: &Thread) -> Summary {
    let visitor: Vec<&Message> = thread.visitor_messages().collect();
    let last_reply = thread
        .entries
        .iter()
        .rposition(|e| e.from == Author::Office)
        .map_or(0, |i| i + 1);
    Summary {
        case: entry.mailbox.short_label(),
        category: visitor.iter().find_map(|m| m.category.clone()),
        constituency: visitor.iter().find_map(|m| m.constituency.clone()),
        urgent: visitor.iter().any(|m| m.urgent),
        unread: thread.entries[last_reply..]
            .iter()
            .filter(|e| e.from == Author::Visitor)
            .count(),
        messages: entry.envelopes,
        last_day: visitor.iter().map(|m| m.day).max().map(|d| d.to_string()),
        activity: entry.activity,
        unreadable: thread.unreadable().len(),
    }
}

fn fetch_thread(
    relay: &Relay,
    keys: &OfficeKeys,
    entry: &InboxEntry,
) -> Result<Thread, RelayError> {
    let stored = relay.envelopes(&entry.mailbox, &office_auth(keys))?;
    Ok(Thread::for_office(
        &stored,
        &keys.identity,
        &KemPublicKey::from_bytes(&entry.kem_key),
    ))
}

fn inbox_entries(relay: &Relay, keys: &OfficeKeys) -> Result<Vec<InboxEntry>> {
    relay
        .inbox(&keys.card.id, keys.identity.signing())
        .map_err(|e| {
            let hint = if e.is_not_found() {
                format!(
                    "the relay does not know the office {} with these keys: publish its card \
                     first with `candor office publish --invite TOKEN`",
                    keys.card.id
                )
            } else {
                "could not fetch the inbox".to_owned()
            };
            anyhow::Error::new(e).context(hint)
        })
}

/// `candor inbox`.
pub fn inbox(ctx: &Context) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let mut cases = Vec::new();
    for entry in inbox_entries(&relay, &keys)? {
        match fetch_thread(&relay, &keys, &entry) {
            Ok(thread) => cases.push(summarize(&entry, &thread)),
            // Deleted between the two requests: nothing to list.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(anyhow::Error::new(e).context("could not fetch a case")),
        }
    }
    cases.sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.activity.cmp(&a.activity)));

    if ctx.out.is_json() {
        return ctx
            .out
            .json(&serde_json::json!({ "office": keys.card.id, "cases": cases }));
    }
    let s = &ctx.out.style;
    if cases.is_empty() {
        return ctx.out.text(&format!("No cases at {}.", keys.card.name));
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
        let category = c.category.as_deref().map_or("(none given)".into(), |id| {
            escape_remote(category_label(&keys.card.categories, id))
        });
        let warn = if c.unreadable > 0 {
            s.red(&format!("  ({} unreadable)", c.unreadable))
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{:<10} {urgent} {:>6} {:>8}  {:<10}  {category}{warn}\n",
            c.case,
            c.unread,
            c.messages,
            c.last_day.as_deref().unwrap_or("-"),
        ));
    }
    text.push_str(&s.dim(
        "\nUNREAD counts the visitor's messages since the office last replied. \
         LAST is the day of the visitor's latest message.",
    ));
    ctx.out.text(&text)
}

/// Finds the one case whose mailbox ID starts with `label`.
fn find_case(relay: &Relay, keys: &OfficeKeys, case: &CaseArgs) -> Result<InboxEntry> {
    let prefix = case.case.trim();
    if prefix.is_empty() {
        bail!("name a case by its label from `candor inbox`");
    }
    let mut matches: Vec<InboxEntry> = inbox_entries(relay, keys)?
        .into_iter()
        .filter(|e| e.mailbox.to_string().starts_with(prefix))
        .collect();
    match matches.len() {
        0 => Err(anyhow!(
            "there is no case {prefix} in the inbox of {}: run `candor inbox` to see the labels \
             (they are case-sensitive)",
            keys.card.name
        )),
        1 => Ok(matches.remove(0)),
        n => Err(anyhow!(
            "{n} cases start with {prefix}: type more of the label"
        )),
    }
}

fn fetch_case_thread(relay: &Relay, keys: &OfficeKeys, entry: &InboxEntry) -> Result<Thread> {
    fetch_thread(relay, keys, entry).map_err(|e| {
        let hint = if e.is_not_found() {
            "the case is gone: the visitor destroyed it, or it was closed or expired"
        } else {
            "could not fetch the case"
        };
        anyhow::Error::new(e).context(hint)
    })
}

/// `candor read CASE`.
pub fn read(ctx: &Context, args: CaseArgs) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args)?;
    let thread = fetch_case_thread(&relay, &keys, &entry)?;
    let label = entry.mailbox.short_label();
    ctx.out.either(
        &serde_json::json!({ "case": label, "messages": thread.to_json() }),
        |s| {
            format!(
                "{} {label}\n\n{}",
                s.bold("Case"),
                thread.render(
                    Viewer::Office,
                    &keys.card.name,
                    &keys.card.categories,
                    s,
                    output::stdout_width()
                )
            )
        },
    )?;
    unreadable_is_fatal(&thread)
}

fn unreadable_is_fatal(thread: &Thread) -> Result<()> {
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
    let keys = unlock(&ctx.home)?;
    let resources = pick_resources(&keys.card.resources, &args.refer)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args.case)?;
    let label = entry.mailbox.short_label();
    let text = compose(
        args.message.message_file.as_deref(),
        &format!(
            "Your reply to case {label}. It is sealed to the visitor and signed by the office."
        ),
    )?;
    let mut message = Message::text(text.as_str(), today());
    message.resources = resources.iter().map(|r| (*r).clone()).collect();
    let envelope = message.seal(
        keys.identity.kem(),
        &KemPublicKey::from_bytes(&entry.kem_key),
        entry.mailbox,
        Direction::ToVisitor,
        Some(keys.identity.signing()),
        &mut candor_protocol::rand::rng(),
    )?;
    let seq = relay.append(&envelope, &office_auth(&keys)).map_err(|e| {
        anyhow::Error::new(e).context(format!("the reply to case {label} was not sent"))
    })?;
    let done = Replied {
        case: label.clone(),
        seq,
        resources: resources.iter().map(|r| r.name.as_str()).collect(),
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

fn pick_resources<'a>(all: &'a [Resource], names: &[String]) -> Result<Vec<&'a Resource>> {
    names
        .iter()
        .map(|name| {
            all.iter().find(|r| r.name == *name).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
                if known.is_empty() {
                    anyhow!("the office card lists no resources; add them with `candor office publish --resources FILE`")
                } else {
                    anyhow!("no resource called {name}; the office card lists: {}", known.join(", "))
                }
            })
        })
        .collect()
}

/// What survives a closed case: an anonymous tally for the office's trend reports.
#[derive(Serialize)]
pub struct Tally {
    /// The concern category, if the visitor gave one.
    pub category: Option<String>,
    /// The quarter the case closed, such as `2026-Q4`.
    pub quarter: String,
    /// The visitor's constituency, if they gave one.
    pub constituency: Option<String>,
    /// How the case ended.
    pub outcome: Outcome,
}

/// HOOK for the records issue: record the anonymous tally of a closed case, encrypted to the
/// office and synchronised through the relay. Until that lands nothing is recorded, and this
/// returns `false` so that `close` can say so.
fn record_tally(_tally: &Tally) -> Result<bool> {
    Ok(false)
}

/// `candor close CASE --outcome OUTCOME`.
pub fn close(ctx: &Context, args: CloseArgs) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args.case)?;
    let label = entry.mailbox.short_label();
    let thread = fetch_case_thread(&relay, &keys, &entry)?;
    let visitor: Vec<&Message> = thread.visitor_messages().collect();
    let tally = Tally {
        category: visitor.iter().find_map(|m| m.category.clone()),
        quarter: today().quarter(),
        constituency: visitor.iter().find_map(|m| m.constituency.clone()),
        outcome: args.outcome,
    };
    let confirmed = input::confirm(
        &format!("Close case {label} and delete it from the relay? This cannot be undone."),
        args.yes,
        "--yes",
    )?;
    if !confirmed {
        bail!("case {label} was not closed");
    }
    relay
        .delete_mailbox(&entry.mailbox, &office_auth(&keys))
        .map_err(|e| anyhow::Error::new(e).context(format!("case {label} was not closed")))?;
    let recorded =
        record_tally(&tally).context("the case is closed, but its tally was not recorded")?;
    ctx.out.either(
        &serde_json::json!({ "case": label, "closed": true, "outcome": args.outcome, "tally_recorded": recorded }),
        |s| format!("{} case {label} ({}); it is deleted from the relay.", s.green("Closed"), args.outcome),
    )
}
