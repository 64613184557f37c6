//! A pseudo-terminal for `candor`'s stdin, so that a test can reach what only a person at a
//! terminal sees: the editor, and hidden prompts.
//!
//! The child's stdin is the terminal's secondary side; stdout and stderr stay pipes, so that the
//! test reads them as usual. What the test "types" is written to the primary side.

use std::fs::File;
use std::io::Write as _;
use std::os::fd::OwnedFd;

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// One pseudo-terminal: its primary side, kept by the test, and its secondary side, the child's.
pub struct Terminal {
    primary: File,
    secondary: File,
}

impl Terminal {
    /// Opens a new pseudo-terminal.
    pub fn open() -> Self {
        let primary: OwnedFd =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pseudo-terminal");
        grantpt(&primary).expect("grantpt");
        unlockpt(&primary).expect("unlockpt");
        let name = ptsname(&primary, Vec::new()).expect("ptsname");
        let path = name.to_str().expect("a pty name is ASCII").to_owned();
        let secondary = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open the pseudo-terminal's secondary side");
        Self {
            primary: File::from(primary),
            secondary,
        }
    }

    /// The side to give the child as stdin.
    pub fn secondary(&self) -> File {
        self.secondary
            .try_clone()
            .expect("a second handle on the terminal")
    }

    /// Types `text` at the terminal, as a person would (`\r` ends a line).
    pub fn type_text(&mut self, text: &str) {
        self.primary
            .write_all(text.as_bytes())
            .expect("type at the terminal");
    }
}
