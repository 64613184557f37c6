//! Composing a message: from `--message-file`, from stdin when it is not a terminal, or in
//! `$VISUAL` / `$EDITOR` otherwise.
//!
//! Nothing the person wrote is dropped. Text from a file or stdin is taken as it is, but for
//! the blank lines and spaces around it. In the editor, the instructions stand below a scissors
//! line, as in `git commit --verbose`, and everything above that line is the message.

mod retry;

use std::io::{IsTerminal as _, Read as _, Seek as _, Write as _};
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use zeroize::Zeroizing;

use crate::{input, output};

pub use retry::send_or_keep;

/// The line that ends the message in the editor: it and everything below it are instructions.
/// Git's own, so that editors that know git's scissors show it as such.
pub const SCISSORS: &str = "# ------------------------ >8 ------------------------";

/// Where the message comes from. A file or piped stdin is read at once, so that a missing
/// file or an empty message is refused before anything is asked, fetched or solved; the editor
/// opens only when [`Draft::compose`] is called.
pub enum Draft {
    /// Text from `--message-file` or stdin, trimmed and not empty.
    Given(Zeroizing<String>),
    /// To be written in the editor.
    Editor,
}

impl Draft {
    /// Reads the message from `file` (`-` is stdin), or from stdin when it is not a terminal;
    /// else the editor will be opened later.
    pub fn from_args(file: Option<&Path>) -> Result<Self> {
        let text = match file {
            Some(path) if path == Path::new("-") => read_stdin()?,
            Some(path) => Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!(
                    "could not read the message from {}, so nothing was sent: check the path \
                     given to --message-file",
                    path.display()
                )
            })?),
            None if !std::io::stdin().is_terminal() => read_stdin()?,
            None => return Ok(Self::Editor),
        };
        non_empty(&text).map(Self::Given)
    }

    /// The message text, trimmed. `guide` is shown below the scissors line when an editor
    /// opens. At a terminal, the person sees the start of the message and its length and says
    /// whether to send it; if not, they may edit it again.
    pub fn compose(self, guide: &str) -> Result<Zeroizing<String>> {
        let mut text = match self {
            Self::Given(text) => text,
            Self::Editor => non_empty(&above_scissors(&edit(guide, "")?))?,
        };
        if !input::interactive() {
            return Ok(text);
        }
        loop {
            output::note(&preview(&text));
            if input::ask("Send this message?")? {
                return Ok(text);
            }
            if !input::ask("Edit it again? (if not, nothing is sent and this draft is discarded)")?
            {
                bail!("you chose not to send the message, so nothing was sent");
            }
            text = non_empty(&above_scissors(&edit(guide, &text)?))?;
        }
    }
}

/// Lines of the message shown before it is sent.
const PREVIEW_LINES: usize = 5;

/// The first lines of `text` and its length, as shown before sending.
fn preview(text: &str) -> String {
    let lines = text.lines().count();
    let mut shown = String::from("\nThe message to send begins:\n\n");
    for line in text.lines().take(PREVIEW_LINES) {
        shown.push_str(&format!("    {}\n", output::escape_remote(line)));
    }
    if lines > PREVIEW_LINES {
        shown.push_str(&format!("    ({} more lines)\n", lines - PREVIEW_LINES));
    }
    shown.push_str(&format!(
        "\n{} characters in {lines} line{}.",
        text.chars().count(),
        if lines == 1 { "" } else { "s" }
    ));
    shown
}

/// The message text from `--message-file`, stdin or the editor, trimmed.
pub fn compose(file: Option<&Path>, guide: &str) -> Result<Zeroizing<String>> {
    Draft::from_args(file)?.compose(guide)
}

/// `text` without the blank lines and spaces around it; an error if nothing is left.
fn non_empty(text: &str) -> Result<Zeroizing<String>> {
    let trimmed = Zeroizing::new(text.trim().to_owned());
    if trimmed.is_empty() {
        bail!(
            "the message is empty, so nothing was sent: write it in the editor, or pass \
             --message-file FILE, or pipe it on stdin"
        );
    }
    Ok(trimmed)
}

/// Everything above the first scissors line, verbatim; all of `raw` if there is none (the
/// person removed it, and what they kept is theirs).
fn above_scissors(raw: &str) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(raw.len()));
    for line in raw.split_inclusive('\n') {
        if line.trim_end() == SCISSORS {
            break;
        }
        text.push_str(line);
    }
    text
}

fn read_stdin() -> Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .context("could not read the message from stdin")?;
    Ok(text)
}

/// The variables the editor does not get: all of Candor's. Some hold the codename and the
/// passphrases, and the editor, its plugins and whatever they start need none of them.
const WITHHELD_PREFIX: &str = "CANDOR_";

/// The editor to run: `$VISUAL`, else `$EDITOR`, else `vi`. An empty or blank one is unset, so
/// that `VISUAL=` falls through to `EDITOR`.
fn choose_editor(visual: Option<String>, editor: Option<String>) -> String {
    let set = |v: Option<String>| v.filter(|e| !e.trim().is_empty());
    set(visual)
        .or_else(|| set(editor))
        .unwrap_or_else(|| "vi".to_owned())
}

/// The command that runs `editor` on `path`, through the shell so that `EDITOR="code --wait"`
/// works, with every `CANDOR_*` variable taken out of its environment.
fn editor_command(editor: &str, path: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with(WITHHELD_PREFIX) {
            command.env_remove(&name);
        }
    }
    command
}

/// Opens the user's editor on a file in a private temporary directory, holding `draft` above
/// the scissors line and the guide below it, and returns all that the file holds afterwards.
/// The directory is mode 0700, under `$XDG_RUNTIME_DIR` where it exists (memory-backed and
/// per-user), so that the swap and backup files an editor writes beside the
/// file are private too; every file in it is overwritten with zeros, and it is removed, as soon
/// as the draft is read.
fn edit(guide: &str, draft: &str) -> Result<Zeroizing<String>> {
    let editor = choose_editor(std::env::var("VISUAL").ok(), std::env::var("EDITOR").ok());
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = private_dir(&base)?;
    let path = dir.path().join("message.txt");
    let mut template = Zeroizing::new(format!("{draft}\n{SCISSORS}\n"));
    template.push_str(
        "# Write your message above the line. Everything above it is sent as it stands, lines\n\
         # that start with '#' too; this line and everything below it are left out. An empty\n\
         # message sends nothing.\n",
    );
    for line in guide.lines() {
        template.push_str(&format!("# {line}\n"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(&path)
        .and_then(|mut f| f.write_all(template.as_bytes()))
        .context("could not prepare the editor file")?;

    let status = editor_command(&editor, &path).status().with_context(|| {
        format!("could not start the editor ({editor}); set EDITOR, or pass --message-file FILE")
    });
    let raw = status.and_then(|status| {
        if !status.success() {
            bail!("the editor ({editor}) failed, so nothing was sent");
        }
        let mut raw = Zeroizing::new(String::new());
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_string(&mut raw))
            .context("could not read back the message from the editor")?;
        Ok(raw)
    });
    clear(dir.path());
    drop(dir);
    raw
}

/// A new directory in `base` that only this user can enter.
fn private_dir(base: &Path) -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("candor-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir_in(base).with_context(|| {
        format!(
            "could not create a private directory for the editor in {}",
            base.display()
        )
    })
}

/// Overwrites every regular file in `dir` with zeros, as best it can: the draft, and whatever
/// the editor left beside it.
fn clear(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(entry.path()) {
            let _ = f.rewind();
            let _ = std::io::copy(&mut std::io::repeat(0).take(meta.len()), &mut f);
            let _ = f.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_message_is_trimmed_and_an_empty_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.txt");
        std::fs::write(&path, "\n  hello there \n\n").unwrap();
        assert_eq!(compose(Some(&path), "").unwrap().as_str(), "hello there");
        std::fs::write(&path, " \n").unwrap();
        assert!(compose(Some(&path), "").is_err());
    }

    #[test]
    fn issue_15_lines_that_start_with_a_hash_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.txt");
        std::fs::write(&path, "#1 priority: my pay is late\n# and this too\n").unwrap();
        assert_eq!(
            compose(Some(&path), "").unwrap().as_str(),
            "#1 priority: my pay is late\n# and this too"
        );
    }

    #[test]
    fn issue_15_the_editor_text_ends_at_the_scissors_line() {
        let raw = format!("#1 priority\n\n  indented\n{SCISSORS}\n# the guide\nmore\n");
        assert_eq!(above_scissors(&raw).as_str(), "#1 priority\n\n  indented\n");
        // Trailing spaces after the scissors still cut; a line that merely contains it does not.
        let raw = format!("a\nquote: {SCISSORS}\nb\n{SCISSORS}  \nguide\n");
        assert_eq!(
            above_scissors(&raw).as_str(),
            format!("a\nquote: {SCISSORS}\nb\n")
        );
        // Without the scissors, nothing is dropped.
        assert_eq!(above_scissors("# all\nof it").as_str(), "# all\nof it");
    }

    #[test]
    fn an_empty_visual_falls_through_to_editor() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(choose_editor(some(""), some("nano")), "nano");
        assert_eq!(choose_editor(some("  "), None), "vi");
        assert_eq!(
            choose_editor(some("code --wait"), some("nano")),
            "code --wait"
        );
        assert_eq!(choose_editor(None, some("")), "vi");
    }
}
