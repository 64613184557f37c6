//! What the relay decides for each write and the store enforces inside it: quotas, and the
//! expiry a write gives what it touches.

/// Per-office and per-mailbox limits, checked inside the write transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Open mailboxes per office.
    pub mailboxes_per_office: u64,
    /// Envelopes per mailbox.
    pub envelopes_per_mailbox: u64,
    /// Bytes of envelopes per mailbox.
    pub bytes_per_mailbox: u64,
    /// Bytes of envelopes per office, over all its mailboxes.
    pub bytes_per_office: u64,
    /// Handoff packages per mailbox.
    pub packages_per_mailbox: u64,
    /// Handoff channels per office.
    pub channels_per_office: u64,
    /// The ombuds' notes per mailbox.
    pub notes_per_mailbox: u64,
}

/// The expiry a write gives a mailbox: a fresh draw of retention plus jitter, and the window
/// every such draw falls in (both ends rounded up to the hour, as the draw is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// `now + retention + jitter`, rounded up to the hour.
    pub drawn: u64,
    /// `now + retention`, rounded up to the hour: the earliest a draw can be.
    pub earliest: u64,
    /// `now + retention + the jitter's upper bound`, rounded up to the hour: the latest.
    pub latest: u64,
}

impl Expiry {
    /// The expiry after a write to a mailbox that now expires at `current`. A `current` inside
    /// the window is kept: it is an expiry this write could have drawn, so the mailbox still
    /// lives at least the retention period past this write and at most retention plus jitter,
    /// and the store need not move its expiry index entry on every write. Outside the window
    /// (older, or from a longer retention the office has since shortened) it is redrawn.
    pub fn after_write(&self, current: u64) -> u64 {
        if (self.earliest..=self.latest).contains(&current) {
            current
        } else {
            self.drawn
        }
    }
}
