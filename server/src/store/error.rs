//! What a store operation can fail with.

use std::path::PathBuf;

/// What a store operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The mailbox or office does not exist.
    #[error("not found")]
    NotFound,
    /// The office or mailbox already exists, or the card serial did not increase.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The case is closed: nothing more may be appended, and it cannot be closed again.
    #[error("the case is closed")]
    Closed,
    /// The invite was already used.
    #[error("invite already used")]
    InviteUsed,
    /// The proof-of-work challenge was already used.
    #[error("proof of work already used")]
    PowUsed,
    /// A quota is reached.
    #[error("quota exceeded: {0}")]
    Quota(&'static str),
    /// A stored value does not decode.
    #[error("corrupt store: {0}")]
    Corrupt(&'static str),
    /// A file of the store is damaged where it must be whole: a record that was synced no
    /// longer reads back. Nothing is changed; `candor-server check --read-only` inspects it.
    #[error("damaged store: {what} in {} at byte {offset}", file.display())]
    Damaged {
        /// The damaged file.
        file: PathBuf,
        /// Where in it the damage starts.
        offset: u64,
        /// What was found there.
        what: &'static str,
    },
    /// The signed request was already remembered by the replay cache that several relay
    /// instances share: it is a replay (`Store::remember_request`).
    #[error("the request was already made")]
    Replayed,
    /// The backend failed.
    #[error("store failure: {0}")]
    Backend(String),
}
