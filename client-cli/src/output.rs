//! What the user sees: text with colour when it goes to a terminal and `NO_COLOR` is unset, or
//! JSON with `--json`. Results go to stdout; progress, warnings and prompts go to stderr.
//!
//! Writes return errors instead of panicking, so that a closed pipe (`candor inbox | head`) ends
//! the command quietly.
//!
//! Text that came from elsewhere (a message, a card, a relay's problem document) goes through
//! [`escape_remote`] before it is printed, so that it cannot drive the terminal; [`wrap`] and
//! [`warn`] do it themselves, and JSON is written with [`escape::SafeJson`].

mod escape;

use std::io::{self, IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde::Serialize;

pub use escape::escape_remote;

/// ANSI styling, or none.
#[derive(Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Styling for stdout.
    pub fn stdout() -> Self {
        Self {
            color: io::stdout().is_terminal() && color_allowed(),
        }
    }
    /// Styling for stderr.
    pub fn stderr() -> Self {
        Self {
            color: io::stderr().is_terminal() && color_allowed(),
        }
    }
    /// No styling at all.
    pub fn plain() -> Self {
        Self { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    /// Headings and names.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    /// Secondary information.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    /// Errors and urgent cases.
    pub fn red(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    /// Warnings.
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    /// Verified and done.
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
}

/// `NO_COLOR` (<https://no-color.org>): present and not empty disables colour.
fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether a JSON document went to stdout: then stdout holds the command's one document, and a
/// later error is told on stderr and by the exit code only.
static JSON_PRINTED: AtomicBool = AtomicBool::new(false);

/// Whether this process printed a JSON document on stdout.
pub fn json_printed() -> bool {
    JSON_PRINTED.load(Ordering::Relaxed)
}

/// Where a command's result goes: text or JSON on stdout.
pub struct Out {
    json: bool,
    /// Styling for stdout; plain when printing JSON.
    pub style: Style,
}

impl Out {
    /// An output in the mode the user asked for.
    pub fn new(json: bool) -> Self {
        let style = if json {
            Style::plain()
        } else {
            Style::stdout()
        };
        Self { json, style }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints text on stdout.
    pub fn text(&self, text: &str) -> Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    }

    /// Prints a JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<()> {
        // Serialize first, so that a closed pipe surfaces as an `io::Error` (exit code 0).
        let mut bytes = Vec::new();
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut bytes,
            escape::SafeJson::new(),
        ))?;
        bytes.push(b'\n');
        let mut out = io::stdout().lock();
        JSON_PRINTED.store(true, Ordering::Relaxed);
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }

    /// Prints `value` as JSON with `--json`, and `text()` otherwise.
    pub fn either<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce(&Style) -> String,
    ) -> Result<()> {
        if self.json {
            self.json(value)
        } else {
            self.text(&text(&self.style))
        }
    }
}

/// Prints a progress line or a warning on stderr. Errors writing to stderr are ignored: there is
/// nowhere else to report them.
pub fn note(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Prints a warning on stderr, its text escaped: warnings often quote an error from elsewhere.
pub fn warn(text: &str) {
    let style = Style::stderr();
    note(&format!(
        "{} {}",
        style.yellow("warning:"),
        escape_remote(text)
    ));
}

/// The column to wrap text at on stdout: the terminal's width, at most 100; `None` when stdout
/// is not a terminal, so that piped text keeps its lines as written.
pub fn stdout_width() -> Option<usize> {
    terminal_width(&dialoguer::console::Term::stdout())
}

/// Like [`stdout_width`], for stderr.
pub fn stderr_width() -> Option<usize> {
    terminal_width(&dialoguer::console::Term::stderr())
}

fn terminal_width(term: &dialoguer::console::Term) -> Option<usize> {
    if !term.is_term() {
        return None;
    }
    let (_, cols) = term.size();
    Some(usize::from(cols).clamp(40, 101) - 1)
}

/// Wraps each line of `text` at `width` columns (counting characters), prefixing every output
/// line with `indent`. Without a width, only the indent is added. What it wraps is prose to
/// show, often a message, so it is escaped first ([`escape_remote`]).
pub fn wrap(text: &str, width: Option<usize>, indent: &str) -> String {
    let text = escape_remote(text);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push('\n');
            continue;
        }
        let Some(width) = width else {
            out.push_str(indent);
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let room = width.saturating_sub(indent.chars().count()).max(20);
        let mut current = 0usize;
        out.push_str(indent);
        for word in line.split(' ') {
            let len = word.chars().count();
            if current > 0 && current + 1 + len > room {
                out.push('\n');
                out.push_str(indent);
                current = 0;
            } else if current > 0 {
                out.push(' ');
                current += 1;
            }
            out.push_str(word);
            current += len;
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_keeps_lines_without_a_width() {
        let text = "one two three four five six seven eight nine ten\n\nlast";
        let wrapped = wrap(text, Some(24), "  ");
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 24),
            "{wrapped}"
        );
        assert_eq!(wrapped.split_whitespace().count(), 11);
        assert!(wrapped.contains("\n\n"));
        assert_eq!(
            wrap(text, None, "> "),
            "> one two three four five six seven eight nine ten\n\n> last\n"
        );
    }

    #[test]
    fn wrapped_text_is_escaped() {
        let wrapped = wrap("forged\r\x1b[2Jheader", Some(40), "  ");
        assert_eq!(wrapped, "  forged\\x0d\\x1b[2Jheader\n");
    }
}
