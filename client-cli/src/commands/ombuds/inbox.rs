//! `candor inbox`: every case of the office, urgent first, then by latest activity, with its
//! unread count, categories and the day of the visitor's latest message.
//!
//! A case whose sealed marker carries a digest up to the case's last sequence number is shown
//! from the digest alone: no request, no decryption of its envelopes. The envelopes of every
//! other case after its digest are fetched in batches of a hundred cases, opened and folded
//! into the digest, and the new digests are stored back in batches, their read positions
//! unchanged; so an office of thousands of open cases lists them in one paged listing and one
//! AEAD per case once it has seen them, and opens the cases that moved in a few requests.

use anyhow::Result;
use candor_protocol::api::InboxEntry;
use candor_protocol::api::batch::CaseMarker;
use candor_protocol::marker::{Digest, MarkerKey, ReadMarker};
use candor_protocol::{ItemId, KemPublicKey, SigningPublicKey};
use serde::Serialize;

use super::super::Context;
use super::super::cases::inbox_entries;
use super::super::office::{OfficeKeys, unlock};
use super::digest::{fold, opened};
use super::{case_keys, office_auth};
use crate::error::Unverified;
use crate::label::Labeler;
use crate::output;
use crate::output::escape_remote;
use crate::relay::{Relay, Wanted};
use crate::thread::{Thread, category_label};

/// One case as the inbox lists it.
#[derive(Serialize)]
struct Summary {
    case: String,
    categories: Vec<ItemId>,
    constituency: Option<ItemId>,
    urgent: bool,
    unread: u32,
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

/// A case whose digest does not reach its last envelope: what the batch fetch needs.
struct Moved {
    entry: InboxEntry,
    marker: ReadMarker,
    keys: (KemPublicKey, SigningPublicKey),
}

impl Moved {
    fn after(&self) -> u64 {
        self.marker.digest.as_ref().map_or(0, |d| d.up_to)
    }
}

fn summary(labeler: &Labeler, entry: &InboxEntry, digest: Digest, unreadable: usize) -> Summary {
    Summary {
        case: labeler.label(&entry.mailbox),
        categories: digest.categories,
        constituency: digest.constituency,
        urgent: digest.urgent,
        unread: digest.unread,
        closed: entry.closed,
        messages: entry.envelopes,
        last_day: digest.last_day.map(|d| d.to_string()),
        activity: entry.activity,
        unreadable,
    }
}

/// What the inbox found.
struct Listing {
    cases: Vec<Summary>,
    /// The labels of the cases whose listed keys are not their own.
    forged: Vec<String>,
    /// Digests that could not be stored: the next inbox fetches those cases again.
    unsaved: usize,
}

/// Every case of the inbox: from its digest where that reaches the case's last envelope, else
/// from the envelopes after it, fetched in batches; the new digests are stored back in
/// batches, their read positions unchanged.
fn list(relay: &Relay, keys: &OfficeKeys, entries: Vec<InboxEntry>) -> Result<Listing> {
    let key = MarkerKey::new(&keys.identity);
    let labeler = Labeler::new(&keys.identity);
    let mut cases = Vec::new();
    let mut forged = Vec::new();
    let mut moved = Vec::new();
    for entry in entries {
        let Ok(case) = case_keys(keys, &entry) else {
            forged.push(labeler.label(&entry.mailbox));
            continue;
        };
        let marker = opened(&key, &entry);
        match &marker.digest {
            Some(d) if d.up_to >= entry.last_seq => {
                cases.push(summary(&labeler, &entry, d.clone(), 0));
            }
            _ => moved.push(Moved {
                entry,
                marker,
                keys: case,
            }),
        }
    }
    let wanted: Vec<Wanted> = moved
        .iter()
        .map(|m| Wanted {
            mailbox: m.entry.mailbox,
            after: m.after(),
            last: m.entry.last_seq,
        })
        .collect();
    let fetched = relay
        .batch_envelopes(&keys.card.id, &office_auth(keys), &wanted)
        .map_err(|e| anyhow::Error::new(e).context("could not fetch the cases that moved"))?;
    let mut save = Vec::new();
    let rng = &mut candor_protocol::rand::rng();
    for (m, fetched) in moved.into_iter().zip(fetched) {
        // Deleted between the listing and the fetch: nothing to list.
        let Some(fetched) = fetched else { continue };
        let later = Thread::for_office(
            &fetched.envelopes,
            fetched.closed,
            &keys.identity,
            &m.keys.0,
            &m.keys.1,
        );
        let after = m.after();
        let digest = fold(m.marker.digest, m.marker.read_up_to, &later);
        let unreadable = later.unreadable().len();
        if unreadable == 0 && digest.up_to > after {
            let marker = ReadMarker {
                read_up_to: m.marker.read_up_to,
                digest: Some(digest.clone()),
            };
            save.push(CaseMarker {
                mailbox: m.entry.mailbox,
                sealed: key.seal(&m.entry.mailbox, &marker, rng)?,
            });
        }
        cases.push(summary(&labeler, &m.entry, digest, unreadable));
    }
    // A digest that is not stored costs only a fetch next time.
    let wanted = save.len();
    let unsaved = match relay.batch_markers(&keys.card.id, &office_auth(keys), save) {
        Ok(set) => wanted.saturating_sub(set),
        Err(_) => wanted,
    };
    Ok(Listing {
        cases,
        forged,
        unsaved,
    })
}

/// `candor inbox`.
pub fn inbox(ctx: &Context) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let mut listing = list(&relay, &keys, inbox_entries(&relay, &keys)?)?;
    if listing.unsaved > 0 {
        output::warn(&format!(
            "the inbox could not save what it read of {} case(s); the next inbox fetches them \
             again",
            listing.unsaved
        ));
    }
    listing
        .cases
        .sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.activity.cmp(&a.activity)));
    show(ctx, &keys, &listing.cases, &listing.forged)?;
    if listing.forged.is_empty() {
        return Ok(());
    }
    Err(Unverified(format!(
        "the relay listed keys that are not the cases' own for {}: the relay may be trying to \
         read or forge messages; those cases are not shown. Tell the relay's operator",
        listing.forged.join(", ")
    ))
    .into())
}

fn show(ctx: &Context, keys: &OfficeKeys, cases: &[Summary], forged: &[String]) -> Result<()> {
    if ctx.out.is_json() {
        return ctx.out.json(
            &serde_json::json!({ "office": keys.card.id, "cases": cases, "refused": forged }),
        );
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
    for c in cases {
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
    ctx.out.text(&text)
}
