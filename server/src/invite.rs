//! The relay's secret file and the registration invites derived from it (`docs/protocol.md`
//! §12).
//!
//! `relay.key` is 32 random bytes in the data directory, mode 0600, created on first use. The
//! PoW MAC key and the invite MAC key are derived from it with HKDF-SHA256 (RFC 5869). Minting
//! an invite only reads this file, so `candor-server invite` works while the relay runs and
//! holds the store's lock; the relay marks each used invite in the store.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use candor_protocol::encoding;
use candor_protocol::labels;
use candor_protocol::pow::PowKey;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// The file name of the relay secret inside the data directory.
pub const RELAY_KEY_FILE: &str = "relay.key";

/// The relay's 32-byte secret. No `Debug`; zeroized on drop.
pub struct RelaySecret(Zeroizing<[u8; 32]>);

impl RelaySecret {
    /// Reads `relay.key` from `data_dir`, creating the directory (mode 0700) and the file
    /// (mode 0600) if absent. Creation is atomic: the key is written to a temporary file and
    /// hard-linked into place, so a concurrent reader never sees half a key.
    pub fn load_or_create(data_dir: &Path) -> io::Result<Self> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(RELAY_KEY_FILE);
        if !path.exists() {
            let mut fresh = Zeroizing::new([0u8; 32]);
            rand::fill(fresh.as_mut_slice());
            let tmp = data_dir.join(format!(
                ".relay.key.{}",
                encoding::b64(&rand::random::<[u8; 8]>())
            ));
            let mut file = private_file(&tmp)?;
            file.write_all(fresh.as_ref())?;
            file.sync_all()?;
            drop(file);
            let linked = fs::hard_link(&tmp, &path);
            fs::remove_file(&tmp)?;
            match linked {
                Ok(()) => {}
                // Someone else created it first; use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        let bytes = Zeroizing::new(fs::read(&path)?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} must hold exactly 32 bytes", path.display()),
            )
        })?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// Reads `relay.key` from `data_dir`, which must already hold it (the relay creates it at
    /// its first start, `candor-server init` before). `None` if it is not there, so that an
    /// invite minted for a mistyped directory is refused rather than signed with a key the
    /// relay never uses.
    pub fn load_existing(data_dir: &Path) -> io::Result<Option<Self>> {
        if !data_dir.join(RELAY_KEY_FILE).exists() {
            return Ok(None);
        }
        Self::load_or_create(data_dir).map(Some)
    }

    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's output limit.
        Hkdf::<Sha256>::new(None, self.0.as_ref())
            .expand(info, out.as_mut())
            .unwrap_or_else(|_| unreachable!());
        out
    }

    /// The proof-of-work MAC key.
    pub fn pow_key(&self) -> PowKey {
        PowKey::from_bytes(*self.derive(labels::RELAY_POW_KEY))
    }

    /// The invite MAC key.
    pub fn invite_key(&self) -> InviteKey {
        InviteKey(self.derive(labels::RELAY_INVITE_KEY))
    }
}

/// The invite MAC key. No `Debug`; zeroized on drop.
pub struct InviteKey(Zeroizing<[u8; 32]>);

/// A verified invite: its random value and expiry, to be marked used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invite {
    /// 16 random bytes.
    pub random: [u8; 16],
    /// Unix seconds after which it is refused.
    pub expires: u64,
}

impl InviteKey {
    fn mac(&self, random: &[u8; 16], expires: u64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable!());
        mac.update(labels::INVITE);
        mac.update(random);
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// Mints a token valid until `expires`.
    pub fn mint(&self, expires: u64) -> String {
        let random: [u8; 16] = rand::random();
        let tag = self.mac(&random, expires).finalize().into_bytes();
        format!(
            "{}.{expires}.{}",
            encoding::b64(&random),
            encoding::b64(tag.as_slice())
        )
    }

    /// Checks a token's form, MAC and expiry. Whether it was used is the store's to check.
    pub fn verify(&self, token: &str, now: u64) -> Result<Invite, ApiError> {
        let invalid = || ApiError::InviteInvalid;
        let mut parts = token.split('.');
        let (Some(random), Some(expires), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let random = encoding::unb64_array::<16>("invite", random).map_err(|_| invalid())?;
        if expires.is_empty() || expires.len() > 20 || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let expires: u64 = expires.parse().map_err(|_| invalid())?;
        let tag = encoding::unb64_array::<32>("invite", tag).map_err(|_| invalid())?;
        self.mac(&random, expires)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        if now > expires {
            return Err(invalid());
        }
        Ok(Invite { random, expires })
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = RelaySecret::load_or_create(dir.path()).unwrap();
        let b = RelaySecret::load_or_create(dir.path()).unwrap();
        assert_eq!(*a.0, *b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(RELAY_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn invites_verify_until_they_expire_and_refuse_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let key = RelaySecret::load_or_create(dir.path())
            .unwrap()
            .invite_key();
        let token = key.mint(2000);
        let invite = key.verify(&token, 1000).unwrap();
        assert_eq!(invite.expires, 2000);
        assert_eq!(key.verify(&token, 2001), Err(ApiError::InviteInvalid));
        let longer = token.replacen(".2000.", ".3000.", 1);
        assert_eq!(key.verify(&longer, 1000), Err(ApiError::InviteInvalid));
        for bad in ["", "a.b", "a.b.c.d", &format!("{token}x")] {
            assert_eq!(key.verify(bad, 1000), Err(ApiError::InviteInvalid), "{bad}");
        }
        let other = RelaySecret::load_or_create(tempfile::tempdir().unwrap().path())
            .unwrap()
            .invite_key();
        assert_eq!(other.verify(&token, 1000), Err(ApiError::InviteInvalid));
    }
}
