//! `candor inbox`: every case of the office, urgent first, then by latest activity, with its
//! unread count, categories and the day of the visitor's latest message.
//!
//! A case whose sealed marker carries a digest up to the case's last sequence number is shown
//! from the digest alone: no request, no decryption of its envelopes. Any other case's
//! envelopes after the digest are fetched and opened, folded into the digest, and the new
//! digest is stored back (its read position unchanged), so that an office of thousands of open
//! cases lists them in one paged request and one AEAD per case once it has seen them.

use anyhow::Result;
use candor_protocol::api::InboxEntry;
use candor_protocol::marker::{Digest, MarkerKey, ReadMarker};
use candor_protocol::{ItemId, KemPublicKey, SigningPublicKey};
use serde::Serialize;

use super::super::Context;
use super::super::office::{OfficeKeys, unlock};
use super::digest::{fold, opened, store};
use super::{case_keys, office_auth};
use crate::error::Unverified;
use crate::label::Labeler;
use crate::output;
use crate::output::escape_remote;
use crate::relay::{Relay, RelayError};
use crate::thread::{Thread, category_label};

use super::super::cases::inbox_entries;

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

/// What became of one listed case.
enum Listed {
    Shown(Summary),
    /// Deleted between the listing and the fetch: nothing to list.
    Gone,
    /// The relay listed keys that are not the case's own.
    Forged,
}

/// The case's envelopes after `after`, opened with the case's verified keys.
fn thread_after(
    relay: &Relay,
    keys: &OfficeKeys,
    entry: &InboxEntry,
    (kem, signing): &(KemPublicKey, SigningPublicKey),
    after: u64,
) -> Result<Thread, RelayError> {
    let fetched =
        relay.envelopes_after(&entry.mailbox, &office_auth(keys), after, entry.last_seq)?;
    Ok(Thread::for_office(
        &fetched.envelopes,
        fetched.closed,
        &keys.identity,
        kem,
        signing,
    ))
}

struct Lister<'a> {
    relay: &'a Relay,
    keys: &'a OfficeKeys,
    key: MarkerKey<'a>,
    labeler: Labeler,
    /// Digests that could not be stored back: the next inbox fetches those cases again.
    unsaved: usize,
}

impl Lister<'_> {
    fn list(&mut self, entry: &InboxEntry) -> Result<Listed> {
        let Ok(case) = case_keys(self.keys, entry) else {
            return Ok(Listed::Forged);
        };
        let marker = opened(&self.key, entry);
        let after = marker.digest.as_ref().map_or(0, |d| d.up_to);
        let (digest, unreadable) = match marker.digest.clone() {
            Some(d) if d.up_to >= entry.last_seq => (d, 0),
            earlier => match thread_after(self.relay, self.keys, entry, &case, after) {
                Ok(later) => {
                    let digest = fold(earlier, marker.read_up_to, &later);
                    let unreadable = later.unreadable().len();
                    if unreadable == 0 && digest.up_to > after {
                        self.save(entry, &marker, &digest);
                    }
                    (digest, unreadable)
                }
                Err(e) if e.is_not_found() => return Ok(Listed::Gone),
                Err(e) => return Err(anyhow::Error::new(e).context("could not fetch a case")),
            },
        };
        Ok(Listed::Shown(Summary {
            case: self.labeler.label(&entry.mailbox),
            categories: digest.categories,
            constituency: digest.constituency,
            urgent: digest.urgent,
            unread: digest.unread,
            closed: entry.closed,
            messages: entry.envelopes,
            last_day: digest.last_day.map(|d| d.to_string()),
            activity: entry.activity,
            unreadable,
        }))
    }

    /// Stores the new digest beside the unchanged read position; a failure costs only a fetch
    /// next time.
    fn save(&mut self, entry: &InboxEntry, marker: &ReadMarker, digest: &Digest) {
        let marker = ReadMarker {
            read_up_to: marker.read_up_to,
            digest: Some(digest.clone()),
        };
        if store(self.relay, self.keys, &self.key, entry, &marker).is_err() {
            self.unsaved += 1;
        }
    }
}

/// `candor inbox`.
pub fn inbox(ctx: &Context) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let mut lister = Lister {
        relay: &relay,
        keys: &keys,
        key: MarkerKey::new(&keys.identity),
        labeler: Labeler::new(&keys.identity),
        unsaved: 0,
    };
    let mut cases = Vec::new();
    let mut forged = Vec::new();
    for entry in inbox_entries(&relay, &keys)? {
        match lister.list(&entry)? {
            Listed::Shown(summary) => cases.push(summary),
            Listed::Gone => {}
            Listed::Forged => forged.push(lister.labeler.label(&entry.mailbox)),
        }
    }
    if lister.unsaved > 0 {
        output::warn(&format!(
            "the inbox could not save what it read of {} case(s); the next inbox fetches them \
             again",
            lister.unsaved
        ));
    }
    cases.sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.activity.cmp(&a.activity)));
    show(ctx, &keys, &cases, &forged)?;
    if forged.is_empty() {
        return Ok(());
    }
    Err(Unverified(format!(
        "the relay listed keys that are not the cases' own for {}: the relay may be trying to \
         read or forge messages; those cases are not shown. Tell the relay's operator",
        forged.join(", ")
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
