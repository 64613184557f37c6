//! The office's read marker of a case, as the ombuds' commands keep it: the read position and
//! a digest of the thread (`candor_protocol::marker`), so that `candor inbox` fetches and opens
//! only the cases that moved since it last saw them.
//!
//! The digest is a pure function of the thread's envelopes up to its `up_to` and of the read
//! position, and both travel in one sealed blob, so two staff members writing at once can only
//! leave an older blob behind: messages then look unread again, never read, and the next inbox
//! fetches the case again. A thread with an envelope that does not open gets no digest past
//! it, so that the inbox keeps fetching and flagging it.

use candor_protocol::api::InboxEntry;
use candor_protocol::marker::{Digest, MarkerKey, ReadMarker};

use super::super::office::OfficeKeys;
use crate::output;
use crate::relay::Relay;
use crate::thread::{Author, Thread};

/// The case's marker as the office sealed it, or an empty one: a marker that does not open
/// (not sealed by this office for this case) counts as none.
pub fn opened(key: &MarkerKey<'_>, entry: &InboxEntry) -> ReadMarker {
    entry
        .marker
        .as_deref()
        .and_then(|m| key.open(&entry.mailbox, m).ok())
        .unwrap_or_default()
}

/// `digest` (of the thread up to its `up_to`) carried on over `later`, the thread's envelopes
/// after it, for an office that has read up to `read_up_to`.
pub fn fold(digest: Option<Digest>, read_up_to: u64, later: &Thread) -> Digest {
    let mut d = digest.unwrap_or_default();
    for entry in &later.entries {
        d.up_to = d.up_to.max(entry.seq);
        if entry.from == Author::Visitor && entry.seq > read_up_to {
            d.unread = d.unread.saturating_add(1);
        }
    }
    for m in later.visitor_messages() {
        if d.categories.is_empty() && !m.categories.is_empty() {
            d.categories = m.categories.as_slice().to_vec();
        }
        if d.constituency.is_none() {
            d.constituency.clone_from(&m.constituency);
        }
        d.urgent |= m.urgent;
        d.last_day = d.last_day.max(Some(m.day));
    }
    d
}

/// Stores `marker` as the case's; the caller decides what a failure means.
pub fn store(
    relay: &Relay,
    keys: &OfficeKeys,
    key: &MarkerKey<'_>,
    entry: &InboxEntry,
    marker: &ReadMarker,
) -> anyhow::Result<()> {
    let rng = &mut candor_protocol::rand::rng();
    let sealed = key.seal(&entry.mailbox, marker, rng)?;
    relay.set_marker(&entry.mailbox, sealed, keys.identity.signing())?;
    Ok(())
}

/// Moves the office's read marker to the last message of `thread` (the whole thread, as
/// `candor read` showed it), with the thread's digest. A failure only warns: the thread was
/// shown, and the next `read` tries again.
pub fn mark_read(relay: &Relay, keys: &OfficeKeys, entry: &InboxEntry, thread: &Thread) {
    let Some(last) = thread.entries.last().map(|e| e.seq) else {
        return;
    };
    let key = MarkerKey::new(&keys.identity);
    let old = opened(&key, entry);
    let current = old.digest.as_ref().is_some_and(|d| d.up_to >= last);
    if old.read_up_to >= last && current {
        return;
    }
    let read_up_to = old.read_up_to.max(last);
    let marker = ReadMarker {
        read_up_to,
        digest: thread
            .unreadable()
            .is_empty()
            .then(|| fold(None, read_up_to, thread)),
    };
    if let Err(e) = store(relay, keys, &key, entry, &marker) {
        output::warn(&format!(
            "the case was shown, but it could not be marked read ({e:#}); it still counts as unread"
        ));
    }
}
