//! What the user sees: text with colour when it goes to a terminal and `NO_COLOR` is unset, or
//! JSON with `--json`. Results go to stdout; progress, warnings and prompts go to stderr.
//!
//! Writes return errors instead of panicking, so that a closed pipe (`candor inbox | head`) ends
//! the command quietly.

use std::io::{self, IsTerminal as _, Write as _};

use anyhow::Result;
use serde::Serialize;

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

/// `NO_COLOR` (https://no-color.org): present and not empty disables colour.
fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
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
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)?;
        out.write_all(b"\n")?;
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

/// Prints a warning on stderr.
pub fn warn(text: &str) {
    let style = Style::stderr();
    note(&format!("{} {text}", style.yellow("warning:")));
}
