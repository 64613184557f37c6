//! The errors that decide an exit code of their own. Everything else is an `anyhow` error with
//! context saying what the user was doing and what to do next (exit code 1); relay failures are
//! [`crate::relay::RelayError`] (exit codes 2 and 3).

use thiserror::Error;

/// A card, signature or message that does not check out: exit code 4.
///
/// The text says what failed and what it means for the user; it never says why a cryptographic
/// check failed, because the protocol deliberately does not tell.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct Unverified(pub String);
