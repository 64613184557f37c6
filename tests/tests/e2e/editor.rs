//! The editor a message is written in gets none of Candor's secrets (issue 20, finding 6), and
//! an empty `VISUAL` falls through to `EDITOR`. `candor` opens the editor only when stdin is a
//! terminal, so these run it on a pseudo-terminal.

use std::path::{Path, PathBuf};

use candor_tests::terminal::Terminal;
use candor_tests::{PASSPHRASE, Party, Relay};

use crate::{Office, raise};

/// A bundle passphrase no test types anywhere else.
const BUNDLE_PASSPHRASE: &str = "bundle passphrase marker";

/// An "editor" that writes its environment to `env.txt` and a line atop the message, and a
/// `vi` that fails, first on the PATH, so that falling back to it shows.
struct Editors {
    dir: tempfile::TempDir,
}

impl Editors {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("editor.sh"),
            // Above the scissors line, where a person types (issue 15): below it is the guide.
            "env > \"$1\"\n{ printf 'written in the editor\\n'; cat \"$2\"; } > \"$2.new\"\n\
             cat \"$2.new\" > \"$2\"\nrm \"$2.new\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("vi"), "#!/bin/sh\nexit 1\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let vi = dir.path().join("vi");
            std::fs::set_permissions(&vi, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir }
    }

    /// The value of `VISUAL` or `EDITOR` that runs the dumping editor.
    fn dumping(&self) -> String {
        format!(
            "sh {} {}",
            self.dir.path().join("editor.sh").display(),
            self.env_file().display()
        )
    }

    fn env_file(&self) -> PathBuf {
        self.dir.path().join("env.txt")
    }

    fn path(&self) -> String {
        let system = std::env::var("PATH").unwrap_or_default();
        format!("{}:{system}", self.dir.path().display())
    }
}

/// `candor send` on a terminal, with the codename and both passphrases in the environment.
fn send_in_editor(
    visitor: &Party,
    address: &str,
    codename: &str,
    editors: &Editors,
    visual: &str,
    editor: &str,
) {
    let terminal = Terminal::open();
    visitor
        .candor(&["send", address])
        .env("CANDOR_CODENAME", codename)
        .env("CANDOR_BUNDLE_PASSPHRASE", BUNDLE_PASSPHRASE)
        .env("PATH", editors.path())
        .env("VISUAL", visual)
        .env("EDITOR", editor)
        .run_on(&terminal)
        .success();
}

fn office_reads(office: &Office) -> String {
    let label = office.labels().remove(0);
    office.staff.candor(&["read", &label]).ok().stdout
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("the editor did not run ({e})"))
}

#[test]
fn issue_20_the_editor_gets_no_codename_or_passphrase() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Editor Ombuds", "editor");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "first message");
    let editors = Editors::new();

    // Act
    send_in_editor(
        &visitor,
        &office.address,
        &codename,
        &editors,
        &editors.dumping(),
        "",
    );

    // Assert: the editor ran, wrote the message, and saw no secret and no CANDOR_ variable.
    let env = read(&editors.env_file());
    assert!(env.contains("PATH="), "{env}");
    for secret in [
        codename.split(' ').next().unwrap(),
        PASSPHRASE,
        BUNDLE_PASSPHRASE,
        "CANDOR_",
    ] {
        assert!(!env.contains(secret), "the editor saw {secret:?}:\n{env}");
    }
    assert!(office_reads(&office).contains("written in the editor"));
}

#[test]
fn issue_20_an_empty_visual_falls_through_to_editor() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Visual Ombuds", "visual");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "first message");
    let editors = Editors::new();

    // Act: VISUAL is set but empty; the failing `vi` would run if it did not fall through.
    send_in_editor(
        &visitor,
        &office.address,
        &codename,
        &editors,
        "",
        &editors.dumping(),
    );

    // Assert
    assert!(read(&editors.env_file()).contains("PATH="));
    assert!(office_reads(&office).contains("written in the editor"));
}
