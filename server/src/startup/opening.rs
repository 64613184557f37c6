//! Opening the relay's store, sled or PostgreSQL, with errors in words an operator can act
//! on.

use std::path::Path;
use std::time::Duration;

use super::error::StartupError;
use crate::config::Settings;
use crate::store::StoreError;
use crate::store::sled::SledStore;

impl From<crate::store::postgres::OpenError> for StartupError {
    fn from(e: crate::store::postgres::OpenError) -> Self {
        StartupError::Postgres(e)
    }
}

/// Opens the PostgreSQL store named by `url` (`settings.store`), on a blocking thread: the
/// driver blocks.
pub async fn open_postgres(
    url: &str,
    settings: &Settings,
) -> Result<crate::store::postgres::PostgresStore, StartupError> {
    use crate::store::postgres::{PostgresOptions, PostgresStore};
    let options =
        PostgresOptions::from_settings(url, settings.store_password.as_ref().map(|p| p.expose()))?;
    tokio::task::spawn_blocking(move || PostgresStore::open(&options))
        .await
        .map_err(|e| StartupError::Thread(std::io::Error::other(e)))?
        .map_err(StartupError::Postgres)
}

/// Opens the sled store, retrying briefly while a previous instance in this process releases
/// its lock.
pub fn open_store(dir: &Path, cache_bytes: u64) -> Result<SledStore, StartupError> {
    let mut tries = 0;
    loop {
        match SledStore::open(dir, cache_bytes) {
            Ok(s) => return Ok(s),
            Err(e) if tries < 20 && e.to_string().contains("lock") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.to_string().contains("lock") => {
                return Err(StartupError::Locked {
                    path: dir.to_owned(),
                });
            }
            Err(source @ StoreError::Damaged { .. }) => {
                return Err(StartupError::Damaged {
                    path: dir.to_owned(),
                    cause: source,
                });
            }
            Err(source) => {
                return Err(StartupError::Store {
                    path: dir.to_owned(),
                    cause: source,
                });
            }
        }
    }
}
