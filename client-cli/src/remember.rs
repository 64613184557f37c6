//! Codenames that a visitor asked this computer to remember (`--remember`), and nothing else.
//!
//! By default the visitor client writes nothing about a case to disk. With `--remember` it keeps
//! one encrypted file in the home (a keystore of kind `remembered-cases`, see
//! [`crate::keystore`]) holding, for each case, the office address and the codename: the least
//! that lets `check`, `send` and `destroy` run without typing the words. The address is inside
//! the encryption too, so the file does not say which office the visitor talked to.
//!
//! Beside each codename the file keeps the highest office card serial this computer has seen
//! for that office, so that a relay cannot serve an older, superseded card to a visitor who has
//! seen a newer one. It is kept here and nowhere else: a plaintext list of serials would itself
//! say which offices this computer talked to, so a visitor who remembers nothing gets only the
//! card's expiry as a bound on rollback (see `docs/threat-model.md`).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use candor_protocol::{Codename, OfficeAddress};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::home::{self, Home};
use crate::input;
use crate::keystore::{self, Kind};

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Remembered {
    cases: Vec<Case>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    address: String,
    codename: String,
    /// The highest card serial seen for the office; 0 in files from before it was kept.
    #[serde(default)]
    card_serial: u64,
}

impl Drop for Case {
    fn drop(&mut self) {
        self.codename.zeroize();
    }
}

fn same_office(stored: &str, address: &OfficeAddress) -> bool {
    stored
        .parse::<OfficeAddress>()
        .is_ok_and(|a| a.office == address.office && a.fingerprint == address.fingerprint)
}

fn passphrase() -> Result<SecretString> {
    input::passphrase(
        input::PASSPHRASE_ENV,
        "Passphrase of your remembered codenames",
    )
}

fn load(home: &Home, pass: &SecretString) -> Result<Remembered> {
    let path = home.file(home::REMEMBERED);
    let bytes =
        std::fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
    let plain = keystore::open(Kind::RememberedCases, &bytes, pass).with_context(|| {
        format!(
            "could not open your remembered codenames in {}",
            path.display()
        )
    })?;
    serde_json::from_slice(&plain).context("the remembered codenames file is damaged")
}

fn save(home: &Home, list: &Remembered, pass: &SecretString) -> Result<PathBuf> {
    home.create()?;
    let path = home.file(home::REMEMBERED);
    if list.cases.is_empty() {
        home::remove(&path)?;
        return Ok(path);
    }
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(list)?);
    let bytes = keystore::seal(Kind::RememberedCases, &plain, pass)?;
    home::write_private(&path, &bytes)?;
    Ok(path)
}

/// Whether any codename is remembered in this home.
pub fn any(home: &Home) -> bool {
    home.file(home::REMEMBERED).exists()
}

/// The remembered codenames, unlocked with their passphrase.
pub struct Unlocked {
    list: Remembered,
    pass: SecretString,
}

/// Unlocks the remembered codenames, if there are any. Asks for the passphrase.
pub fn unlock(home: &Home) -> Result<Option<Unlocked>> {
    if !any(home) {
        return Ok(None);
    }
    let pass = passphrase()?;
    let list = load(home, &pass)?;
    Ok(Some(Unlocked { list, pass }))
}

impl Unlocked {
    fn case(&self, address: &OfficeAddress) -> Option<&Case> {
        self.list
            .cases
            .iter()
            .find(|c| same_office(&c.address, address))
    }

    /// The remembered codename for this office, if any.
    pub fn codename(&self, address: &OfficeAddress) -> Result<Option<Codename>> {
        self.case(address)
            .map(|c| input::parse_codename(&c.codename))
            .transpose()
    }

    /// The highest card serial this computer has seen for the office (0 if none is known).
    pub fn seen_serial(&self, address: &OfficeAddress) -> u64 {
        self.case(address).map_or(0, |c| c.card_serial)
    }

    /// Records that the office's card had `serial`, if that is higher than any seen before.
    pub fn saw_serial(&mut self, home: &Home, address: &OfficeAddress, serial: u64) -> Result<()> {
        let Some(case) = self
            .list
            .cases
            .iter_mut()
            .find(|c| same_office(&c.address, address))
        else {
            return Ok(());
        };
        if serial <= case.card_serial {
            return Ok(());
        }
        case.card_serial = serial;
        save(home, &self.list, &self.pass).map(drop)
    }
}

/// Unlocks the remembered codenames, or starts a new file with a new passphrase: everything
/// [`Unlocked::remember`] needs, asked for before the case it will remember exists.
pub fn unlock_or_start(home: &Home) -> Result<Unlocked> {
    if let Some(unlocked) = unlock(home)? {
        return Ok(unlocked);
    }
    let pass = input::new_passphrase(
        input::PASSPHRASE_ENV,
        "Choose a passphrase to protect the remembered codename",
    )?;
    Ok(Unlocked {
        list: Remembered::default(),
        pass,
    })
}

impl Unlocked {
    /// Remembers the codename for this office, replacing an older one, with the card serial
    /// seen now. Returns the file's path.
    pub fn remember(
        mut self,
        home: &Home,
        address: &OfficeAddress,
        codename: &Codename,
        card_serial: u64,
    ) -> Result<PathBuf> {
        let seen = self.seen_serial(address);
        self.list
            .cases
            .retain(|c| !same_office(&c.address, address));
        self.list.cases.push(Case {
            address: address.to_string(),
            codename: codename.words().to_string(),
            card_serial: card_serial.max(seen),
        });
        save(home, &self.list, &self.pass)
    }
}

/// Forgets the codename for this office. Returns whether one was remembered.
pub fn forget(home: &Home, address: &OfficeAddress) -> Result<bool> {
    if !any(home) {
        return Ok(false);
    }
    let pass = passphrase()?;
    let mut list = load(home, &pass)?;
    let before = list.cases.len();
    list.cases.retain(|c| !same_office(&c.address, address));
    if list.cases.len() == before {
        return Ok(false);
    }
    save(home, &list, &pass)?;
    Ok(true)
}
