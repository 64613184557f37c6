//! Sending what was composed, without losing it when the send fails.
//!
//! A message written in the editor exists only in this process. When the relay cannot be
//! reached, or fails, after it was written (the relay going down during the proof of work, say),
//! a person at a terminal is offered another try, and, when they give up, a file to keep their
//! words in. Nothing is written to disk unless they ask. Without a terminal the message came
//! from a file or a pipe, which still holds it, and the error is returned as it is.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::relay::RelayError;
use crate::{input, output};

/// What a failed send says about trying again.
enum Failure {
    /// The relay refused the request for a reason that another try would not change (a closed
    /// case, an unknown key, a message too large).
    Refused,
    /// No answer, an answer from a failing relay (5xx), or one this client does not understand:
    /// another try may succeed.
    Transient,
}

fn classify(err: &anyhow::Error) -> Failure {
    let refused = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<RelayError>(),
            Some(RelayError::Refused { status, .. }) if *status < 500
        )
    });
    if refused {
        Failure::Refused
    } else {
        Failure::Transient
    }
}

/// Runs `send` until it succeeds or the person stops. At a terminal, a transient failure is
/// shown and another try offered; when the person declines, or the relay refused outright,
/// they are offered to save `text` to a file of their choosing before the error is returned.
pub fn send_or_keep<T>(text: &str, mut send: impl FnMut() -> Result<T>) -> Result<T> {
    loop {
        let err = match send() {
            Ok(done) => return Ok(done),
            Err(err) if !input::interactive() => return Err(err),
            Err(err) => err,
        };
        output::note(&format!("\nThe message was not sent: {err:#}"));
        if matches!(classify(&err), Failure::Transient)
            && input::ask("Try sending it again? (your message is kept until you decide)")?
        {
            continue;
        }
        return match offer_to_save(text)? {
            Some(path) => Err(err.context(format!(
                "nothing was sent; your message is saved in {}: send it later with \
                 --message-file {0}, then delete the file",
                path.display()
            ))),
            None => {
                Err(err.context("nothing was sent, and the message was discarded as you chose"))
            }
        };
    }
}

/// The file a saved draft goes to unless the person names another.
const DEFAULT_DRAFT: &str = "candor-draft.txt";

/// Asks whether to save `text`, and where; writes it (mode 0600, never over an existing file)
/// and returns the path, or `None` if the person chose not to. A path that cannot be written
/// is said, and another asked for.
fn offer_to_save(text: &str) -> Result<Option<PathBuf>> {
    if !input::ask("Save your message to a file, to send it later? (it is stored unencrypted)")? {
        return Ok(None);
    }
    loop {
        let path: String = dialoguer::Input::new()
            .with_prompt("Save it to")
            .default(DEFAULT_DRAFT.to_owned())
            .interact_text()
            .context("could not read the file name")?;
        let path = PathBuf::from(path.trim());
        match write_private(&path, text) {
            Ok(()) => return Ok(Some(path)),
            Err(e) => output::note(&format!(
                "could not save the message to {}: {e}. Give another path.",
                path.display()
            )),
        }
    }
}

/// Writes `text` to a new file at `path` that only this user can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_final_and_anything_else_may_pass() {
        let refused = |status| {
            anyhow::Error::new(RelayError::Refused {
                url: "http://r".into(),
                status,
                problem: None,
            })
            .context("the reply was not sent")
        };
        assert!(matches!(classify(&refused(409)), Failure::Refused));
        assert!(matches!(classify(&refused(503)), Failure::Transient));
        let down = anyhow::Error::new(RelayError::Unreachable {
            url: "http://r".into(),
            via: String::new(),
            reason: "connection refused".into(),
        });
        assert!(matches!(classify(&down), Failure::Transient));
    }

    #[test]
    fn a_saved_draft_is_private_and_never_overwrites() {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("draft.txt");

        // Act
        write_private(&path, "#1 my words").unwrap();
        let again = write_private(&path, "other words");

        // Assert
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "#1 my words\n");
        assert!(again.is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
