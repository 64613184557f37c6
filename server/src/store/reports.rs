//! What the store's maintenance reports: a sweep batch, a compaction, a check.

/// What one sweep batch removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired mailboxes deleted.
    pub mailboxes: u64,
    /// Expired handoff packages deleted (not counting those deleted with their mailbox).
    pub packages: u64,
    /// Expired handoff channels deleted.
    pub channels: u64,
    /// Expired used-token entries removed.
    pub tokens: u64,
    /// Whether the batch was full, so more may have expired.
    pub more: bool,
}

/// What one compaction of the store's files did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Live envelopes copied out of files that held deleted ones.
    pub envelopes_moved: u64,
    /// Files removed.
    pub files_removed: u64,
}

/// The result of checking a store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Offices found.
    pub offices: u64,
    /// Mailboxes found.
    pub mailboxes: u64,
    /// Envelopes found.
    pub envelopes: u64,
    /// Handoff packages found.
    pub packages: u64,
    /// Used-token entries found.
    pub used_tokens: u64,
    /// Handoff channels found.
    pub channels: u64,
    /// The ombuds' case notes found.
    pub notes: u64,
    /// Every invariant that does not hold, one line each (mailboxes by short label only).
    pub problems: Vec<String>,
}
