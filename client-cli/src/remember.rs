//! Codenames that a visitor asked this computer to remember (`--remember`), and nothing else.
//!
//! By default the visitor client writes nothing about a case to disk. With `--remember` it keeps
//! one encrypted file in the home (a keystore of kind `remembered-cases`, see
//! [`crate::keystore`]) holding, for each case, the office address and the codename: the least
//! that lets `check`, `send` and `destroy` run without typing the words. The address is inside
//! the encryption too, so the file does not say which office the visitor talked to.

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

/// The remembered codename for this office, if any. Asks for the passphrase.
pub fn lookup(home: &Home, address: &OfficeAddress) -> Result<Option<Codename>> {
    if !any(home) {
        return Ok(None);
    }
    let list = load(home, &passphrase()?)?;
    list.cases
        .iter()
        .find(|c| same_office(&c.address, address))
        .map(|c| input::parse_codename(&c.codename))
        .transpose()
}

/// Remembers the codename for this office, replacing an older one. Returns the file's path.
pub fn remember(home: &Home, address: &OfficeAddress, codename: &Codename) -> Result<PathBuf> {
    let (mut list, pass) = if any(home) {
        let pass = passphrase()?;
        (load(home, &pass)?, pass)
    } else {
        let pass = input::new_passphrase(
            input::PASSPHRASE_ENV,
            "Choose a passphrase to protect the remembered codename",
        )?;
        (Remembered::default(), pass)
    };
    list.cases.retain(|c| !same_office(&c.address, address));
    list.cases.push(Case {
        address: address.to_string(),
        codename: codename.words().to_string(),
    });
    save(home, &list, &pass)
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
