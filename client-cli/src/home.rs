//! Candor's home directory (`$CANDOR_HOME`, or the platform data directory) and the one way this
//! client writes files: to a temporary file beside the target, then renamed over it, with mode
//! 0600 so that only the owner can read it.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};

/// The office keystore: the identity secret, encrypted.
pub const OFFICE_KEY: &str = "office.key";
/// The office's records key, encrypted under the keystore's passphrase: it seals the tallies
/// and outlives a change of the identity.
pub const RECORDS_KEY: &str = "records.key";
/// The office card, in plaintext: it is public.
pub const OFFICE_CARD: &str = "office-card.json";
/// A third party's keystore: its identity secret, encrypted.
pub const THIRD_PARTY_KEY: &str = "third-party.key";
/// A third party's signed card, in plaintext: it is public.
pub const THIRD_PARTY_CARD: &str = "third-party-card.json";
/// The third-party cards an office imported, encrypted under the office keystore's passphrase.
pub const THIRD_PARTIES: &str = "third-parties.key";
/// Codenames a visitor asked to remember, encrypted.
pub const REMEMBERED: &str = "remembered.cases";

/// The directory where this client keeps its files.
pub struct Home(PathBuf);

impl Home {
    /// The home given on the command line or in `CANDOR_HOME`, else the platform data directory.
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        if let Some(dir) = explicit {
            return Ok(Self(dir.to_owned()));
        }
        let dirs = directories::ProjectDirs::from("", "", "candor").ok_or_else(|| {
            anyhow!("cannot find a home directory for Candor's files; set CANDOR_HOME")
        })?;
        Ok(Self(dirs.data_dir().to_owned()))
    }

    /// The path of a file in the home.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The home directory itself.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// Creates the home (mode 0700) if it does not exist yet.
    pub fn create(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&self.0)
            .with_context(|| format!("could not create the directory {}", self.0.display()))
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory, written,
/// synced and renamed over the target. The file is readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let what = || format!("could not write {}", path.display());
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(what)?;
    tmp.write_all(bytes).with_context(what)?;
    tmp.as_file().sync_all().with_context(what)?;
    tmp.persist(path).map_err(|e| e.error).with_context(what)?;
    // Make the rename itself durable.
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Deletes a file if it exists.
pub fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("could not delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_replace_atomically_and_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
