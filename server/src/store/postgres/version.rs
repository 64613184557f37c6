//! The schema's version, and what a database holds as this relay sees it.

use std::fmt;

/// The schema version this relay reads and writes.
pub const SCHEMA_VERSION: u32 = 2;

/// What the database holds, as this relay sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// No Candor tables: `candor-server migrate` creates them.
    Empty,
    /// An older schema: `candor-server migrate` brings it up to date.
    Older(u32),
    /// This relay's schema.
    Current,
    /// A newer relay's schema: this relay must not touch it.
    Newer(u32),
}

impl fmt::Display for SchemaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaState::Empty => write!(
                f,
                "the database holds no Candor schema; run `candor-server migrate` to create it"
            ),
            SchemaState::Older(v) => write!(
                f,
                "the database's schema is version {v}, older than this relay's {SCHEMA_VERSION}; run `candor-server migrate`"
            ),
            SchemaState::Current => {
                write!(f, "the schema is at version {SCHEMA_VERSION}, this relay's")
            }
            SchemaState::Newer(v) => write!(
                f,
                "the database's schema is version {v}, newer than this relay's {SCHEMA_VERSION}; run the newer candor-server"
            ),
        }
    }
}
