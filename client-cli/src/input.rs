//! What the user types: passphrases, the codename, confirmations and choices.
//!
//! Each prompt has a flag or environment variable for scripts. Prompts appear only when a person
//! is at a terminal: stderr is one, and the terminal can be read, from stdin or, when stdin is a
//! pipe that carries a message, from `/dev/tty` (as ssh and gpg do), so that nobody is pushed to
//! type a passphrase at their shell, into its history. Otherwise a missing answer is an error
//! that names the flag or variable to use.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::Codename;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

/// The keystore passphrase.
pub const PASSPHRASE_ENV: &str = "CANDOR_PASSPHRASE";
/// The passphrase of a key bundle being exported or imported.
pub const BUNDLE_PASSPHRASE_ENV: &str = "CANDOR_BUNDLE_PASSPHRASE";
/// The visitor's codename.
pub const CODENAME_ENV: &str = "CANDOR_CODENAME";

/// New passphrases shorter than this are refused.
const MIN_PASSPHRASE_CHARS: usize = 8;

/// Whether we may prompt: the prompt goes to a terminal (stderr), and the answer comes from
/// one: stdin, or the controlling terminal when stdin is a pipe. The prompts read `/dev/tty`
/// themselves in that case (dialoguer's terminal does).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal() && (std::io::stdin().is_terminal() || controlling_terminal())
}

/// Whether this process has a controlling terminal to read answers from.
fn controlling_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// A passphrase from `env`, or a hidden prompt.
pub fn passphrase(env: &str, prompt: &str) -> Result<SecretString> {
    if let Some(p) = from_env(env) {
        return Ok(p);
    }
    if !interactive() {
        bail!("{prompt} is needed: set {env}, or run this command in a terminal");
    }
    let p = dialoguer::Password::new()
        .with_prompt(prompt)
        .interact()
        .context("could not read the passphrase")?;
    Ok(SecretString::from(p))
}

/// A new passphrase from `env`, or typed twice at a hidden prompt.
pub fn new_passphrase(env: &str, prompt: &str) -> Result<SecretString> {
    let p = match from_env(env) {
        Some(p) => p,
        None => {
            if !interactive() {
                bail!("{prompt} is needed: set {env}, or run this command in a terminal");
            }
            let p = dialoguer::Password::new()
                .with_prompt(prompt)
                .validate_with(|p: &String| {
                    if p.chars().count() < MIN_PASSPHRASE_CHARS {
                        Err(format!(
                            "use at least {MIN_PASSPHRASE_CHARS} characters (a few words is best)"
                        ))
                    } else {
                        Ok(())
                    }
                })
                .with_confirmation("Type it again", "The two passphrases differ; try again.")
                .interact()
                .context("could not read the passphrase")?;
            SecretString::from(p)
        }
    };
    if p.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
        bail!(
            "the passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters (a few words is best)"
        );
    }
    Ok(p)
}

fn from_env(env: &str) -> Option<SecretString> {
    std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// The visitor's codename, from `CANDOR_CODENAME` or a hidden prompt. A mistyped codename is
/// reported as a typo, never as an unknown case.
pub fn codename() -> Result<Codename> {
    let words = match std::env::var(CODENAME_ENV).ok().filter(|v| !v.is_empty()) {
        Some(w) => Zeroizing::new(w),
        None => {
            if !interactive() {
                bail!(
                    "your codename is needed: set {CODENAME_ENV}, or run this command in a terminal"
                );
            }
            Zeroizing::new(
                dialoguer::Password::new()
                    .with_prompt(
                        "Your codename (12 words; the first four letters of each are enough)",
                    )
                    .interact()
                    .context("could not read the codename")?,
            )
        }
    };
    parse_codename(&words)
}

/// Parses a codename, explaining a typo.
pub fn parse_codename(words: &str) -> Result<Codename> {
    words.parse::<Codename>().map_err(|e| {
        anyhow!(
            "{e}. Check the words against the codename you wrote down (the first four letters \
             of each word are enough, in any case)"
        )
    })
}

/// A one-time office registration token, as `candor-server invite` prints it: one line of
/// base64url and dots. It is a bearer secret until used, so it has no `Debug`.
pub struct InviteToken(String);

/// The longest token accepted; real ones are about 100 characters.
const MAX_INVITE_CHARS: usize = 512;

impl InviteToken {
    /// The token, to send to the relay.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InviteToken {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let token = s.trim();
        if token.is_empty() {
            bail!("the invite token is empty: give the line that `candor-server invite` printed");
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if token.len() > MAX_INVITE_CHARS || !token.chars().all(allowed) {
            bail!(
                "this is not an invite token: expected the one line that `candor-server invite` \
                 printed (letters, digits, '-', '_' and '.')"
            );
        }
        Ok(Self(token.to_owned()))
    }
}

/// The invite token for `office publish`: `--invite TOKEN`; `--invite -`, from stdin, or a
/// hidden prompt at a terminal; or `--invite-file FILE`. The last two keep it out of the
/// process list and the shell's history.
pub fn invite(arg: Option<&str>, file: Option<&Path>) -> Result<Option<InviteToken>> {
    let text = match (arg, file) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => bail!("give the invite with --invite or --invite-file, not both"),
        // A pipe on stdin carries the token; only a terminal there gets the prompt.
        (Some("-"), None) if std::io::stdin().is_terminal() && interactive() => Zeroizing::new(
            dialoguer::Password::new()
                .with_prompt("Invite token (from the relay's operator)")
                .interact()
                .context("could not read the invite token")?,
        ),
        (Some("-"), None) => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .take(MAX_INVITE_CHARS as u64 + 2)
                .read_to_string(&mut text)
                .context("could not read the invite token from stdin")?;
            text
        }
        (Some(token), None) => Zeroizing::new(token.to_owned()),
        (None, Some(path)) => {
            Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("could not read the invite token from {}", path.display())
            })?)
        }
    };
    text.parse().map(Some)
}

/// Asks a yes/no question; `yes` answers it in advance. Without a terminal, the answer must be
/// given with `flag`.
pub fn confirm(question: &str, yes: bool, flag: &str) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        bail!("confirmation needed: pass {flag} to confirm without a terminal");
    }
    ask(question)
}

/// Lets the user pick one of `items`; `None` when they picked the last, "skip" item.
pub fn select(prompt: &str, items: &[String], skip: &str) -> Result<Option<usize>> {
    let mut all = items.to_vec();
    all.push(skip.to_owned());
    let picked = dialoguer::Select::new()
        .with_prompt(prompt)
        .items(&all)
        .default(all.len() - 1)
        .interact()
        .context("could not read the choice")?;
    Ok((picked < items.len()).then_some(picked))
}

/// Asks whether something is so; no, unless the answer is yes. The answer is the whole line,
/// up to Enter: a prompt that took a single key would leave the Enter after `y` behind, and
/// the next menu would take it as a choice of its default.
pub fn ask(question: &str) -> Result<bool> {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .wait_for_newline(true)
        .interact()
        .context("could not read the answer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_token_is_one_line_of_base64url_and_dots() {
        let token: InviteToken = " -iYMtytKYTdAfqXqFMCw.1796001838.STGN9Q5Z\n"
            .parse()
            .unwrap();
        assert_eq!(token.as_str(), "-iYMtytKYTdAfqXqFMCw.1796001838.STGN9Q5Z");
        for bad in ["", " \n", "two\nlines", "tok en", "x".repeat(513).as_str()] {
            assert!(bad.parse::<InviteToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_invite_comes_from_the_flag_or_a_file_and_not_both() {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("invite");
        std::fs::write(&path, "abc.123.XYZ\n").unwrap();

        // Act and assert
        assert!(invite(None, None).unwrap().is_none());
        let from_file = invite(None, Some(&path)).unwrap().unwrap();
        assert_eq!(from_file.as_str(), "abc.123.XYZ");
        assert_eq!(
            invite(Some("t.1.x"), None).unwrap().unwrap().as_str(),
            "t.1.x"
        );
        assert!(invite(Some("t.1.x"), Some(&path)).is_err());
        let missing = invite(None, Some(&dir.path().join("nope"))).err().unwrap();
        assert!(missing.to_string().contains("could not read"), "{missing}");
    }

    #[test]
    fn a_mistyped_codename_says_typo() {
        let words = "abandon ".repeat(11) + "qqqq";
        let err = parse_codename(&words).err().unwrap();
        assert!(err.to_string().contains("typo"), "{err}");
    }
}
