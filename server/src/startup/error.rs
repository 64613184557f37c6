//! Why the relay could not start, in words that say what to do.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::store::StoreError;

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The data directory or `relay.key` could not be used.
    #[error("cannot use the data directory {path}: {}", io_words(cause))]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The store's files are damaged where they must be whole: nothing was changed.
    #[error(
        "the store in {path} is damaged: {cause}; the relay will not start on it. \
         `candor-server check --read-only` reports what is readable without changing anything; \
         restore the data directory from a backup (docs/operating.md, \"Durability\")"
    )]
    Damaged {
        /// The directory.
        path: PathBuf,
        /// Where and what.
        cause: StoreError,
    },
    /// Another `candor-server` (a relay or `check`) holds the store.
    #[error(
        "the store in {path} is in use by another candor-server (a relay, or `check`): stop it \
         first, or run `candor-server check --read-only`, which reads a private copy"
    )]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// The store could not be opened.
    #[error("cannot open the store in {path}: {cause}")]
    Store {
        /// The directory.
        path: PathBuf,
        /// Why.
        cause: StoreError,
    },
    /// The PostgreSQL store could not be opened: a URL that does not parse, a server that does
    /// not answer, or a schema of another version.
    #[error("cannot open the PostgreSQL store: {0}")]
    Postgres(crate::store::postgres::OpenError),
    /// The metrics listener could not be bound.
    #[error(
        "cannot listen for metrics on {addr}: {} (set `metrics_listen`, or `off`)",
        io_words(cause)
    )]
    MetricsListen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    /// The listener could not be bound.
    #[error(
        "cannot listen on {addr}: {} (choose another `--listen` address or port)",
        io_words(cause)
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("bad TLS setting: {0}")]
    Tls(String),
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// An I/O error in words: what happened, without Rust's `(os error N)`.
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied => {
            "permission denied: the user the relay runs as cannot write there; give it a \
             directory it owns"
                .into()
        }
        ErrorKind::AddrInUse => "the address is already in use, by another program".into(),
        ErrorKind::AddrNotAvailable => "that address is not one of this machine's".into(),
        ErrorKind::NotFound => "a directory on the way does not exist".into(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        ErrorKind::StorageFull => "the disk is full".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    }
}
