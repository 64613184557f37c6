//! Moving a relay's store from sled to PostgreSQL (`candor-server copy --from DIR --to URL`).
//!
//! The sled store hands over every record as an [`Item`] (`sled/export.rs`), offices first,
//! then mailboxes, their envelopes, notes, packages, channels, the board's counter, used
//! tokens and tallies, so that each arrives
//! after what it refers to; the PostgreSQL store writes them all in one transaction
//! (`postgres/import.rs`), into a database that holds no relay's data yet. Expiries, closed
//! flags, read markers and each mailbox's activity number (its place in the inbox) are copied
//! as they are, so the copy serves what the original served, in the same order; so are the
//! channels' board cursors and the board's counter, so that the next channel opened on the copy
//! gets a cursor above every one handed out before, even those of channels since deleted.

use candor_protocol::{MailboxId, OfficeId};

use super::{
    ChannelRecord, MailboxRecord, NewPackage, NewTally, OfficeRecord, RawEnvelope, UsedToken,
};

/// One record of a store, as it moves to another backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An office and the last activity number it handed out.
    Office {
        /// The office.
        record: OfficeRecord,
        /// Its activity counter.
        activity: u64,
    },
    /// A mailbox with its counters, expiry, closed flag and read marker.
    Mailbox {
        /// Its ID.
        id: MailboxId,
        /// The mailbox.
        record: MailboxRecord,
    },
    /// One envelope of a mailbox.
    Envelope {
        /// The mailbox.
        mailbox: MailboxId,
        /// The envelope.
        envelope: RawEnvelope,
    },
    /// One of the ombuds' notes of a mailbox.
    Note {
        /// The mailbox.
        mailbox: MailboxId,
        /// Its number.
        number: u64,
        /// The note.
        note: Vec<u8>,
    },
    /// A handoff package.
    Package(NewPackage),
    /// A handoff channel, with its board cursor.
    Channel {
        /// Its ID.
        id: MailboxId,
        /// The channel.
        record: ChannelRecord,
    },
    /// The last board cursor handed out.
    BoardCursor(u64),
    /// A spent proof of work or a used invite.
    Token(UsedToken),
    /// A sealed tally of an office.
    Tally {
        /// The office.
        office: OfficeId,
        /// The tally.
        tally: NewTally,
    },
}

/// How many records of each kind a copy moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Offices.
    pub offices: u64,
    /// Mailboxes.
    pub mailboxes: u64,
    /// Envelopes.
    pub envelopes: u64,
    /// Handoff packages.
    pub packages: u64,
    /// Notes.
    pub notes: u64,
    /// Handoff channels.
    pub channels: u64,
    /// Used tokens.
    pub tokens: u64,
    /// Tallies.
    pub tallies: u64,
}

impl Copied {
    /// Counts `item`.
    pub fn count(&mut self, item: &Item) {
        let n = match item {
            Item::BoardCursor(_) => return,
            Item::Note { .. } => &mut self.notes,
            Item::Channel { .. } => &mut self.channels,
            Item::Office { .. } => &mut self.offices,
            Item::Mailbox { .. } => &mut self.mailboxes,
            Item::Envelope { .. } => &mut self.envelopes,
            Item::Package(_) => &mut self.packages,
            Item::Token(_) => &mut self.tokens,
            Item::Tally { .. } => &mut self.tallies,
        };
        *n += 1;
    }
}
