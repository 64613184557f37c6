//! Text from elsewhere, made safe to show on a terminal.
//!
//! A visitor, a relay or anyone who can put bytes in front of the ombuds could otherwise drive
//! their terminal: move the cursor to erase and forge a header (`ESC [ 2 J`), hide text, write
//! to the clipboard (OSC 52), change the window title, or reverse a line with a bidi override
//! (CVE-2021-42574, "Trojan Source"). So every character that a terminal acts on instead of
//! showing is replaced by a visible escape:
//!
//! - C0 controls other than newline and tab, DEL and the C1 controls (U+0080–U+009F, which a
//!   UTF-8 terminal may take as CSI, OSC, …): `\x1b`, `\x7f`, `\u{9b}`;
//! - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): `\u{202e}`.
//!
//! Newlines stay, and so does a carriage return just before one (CRLF), which is dropped. Tabs
//! stay: they only move right to the next tab stop, which spaces can do too. The bidi marks
//! U+200E, U+200F and U+061C stay: they are invisible letters with a direction, which RTL
//! writers use, and they cannot reverse a run of text or outlive their line as an override can.
//!
//! [`escape_remote`] does this for text output. [`SafeJson`] makes `--json` output hold the same
//! characters only as `\uXXXX` escapes (serde_json already escapes C0 controls, not DEL, C1 or
//! bidi), so that JSON piped to a terminal is as safe and still decodes to the exact text.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use serde_json::ser::{Formatter, PrettyFormatter};

/// Whether a terminal would act on `c` instead of showing it.
fn is_control(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x08'
            | '\x0b'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `text` with every terminal control replaced by a visible escape (see the module docs).
/// Borrowed when there is nothing to escape, which is the usual case.
pub fn escape_remote(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if !is_control(c) {
            out.push(c);
        } else if c.is_ascii() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// serde_json's pretty printer, but DEL, C1 controls and bidi controls in strings are written
/// as `\uXXXX` escapes rather than raw.
pub struct SafeJson(PrettyFormatter<'static>);

impl SafeJson {
    /// A pretty printer with serde_json's default indent.
    pub fn new() -> Self {
        Self(PrettyFormatter::new())
    }
}

impl Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_control(c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            // Every control here is in the Basic Multilingual Plane: one \u escape.
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    // The rest is the pretty printer's layout.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize as _;

    use super::*;

    /// What the attacker sent: a screen clear, a clipboard write (OSC 52), a title
    /// change, a CSI as one C1 character, DEL and a bidi override.
    const HOSTILE: &str =
        "a\x1b[2Jb\x1b]52;c;aGk=\x07c\x1b]0;pwned\x1b\\d\u{9b}31me\x7ff\u{202e}g\u{2066}h";

    fn raw_control(text: &str) -> Option<char> {
        text.chars().find(|&c| is_control(c))
    }

    #[test]
    fn every_control_becomes_a_visible_escape() {
        // Act
        let shown = escape_remote(HOSTILE);

        // Assert
        assert_eq!(raw_control(&shown), None, "{shown:?}");
        assert_eq!(
            shown,
            "a\\x1b[2Jb\\x1b]52;c;aGk=\\x07c\\x1b]0;pwned\\x1b\\d\\u{9b}31me\\x7ff\\u{202e}g\\u{2066}h"
        );
    }

    #[test]
    fn text_without_controls_is_left_as_it_is() {
        // Arrange: newlines, tabs, CRLF, RTL text with its marks, emoji.
        let plain = "Dear ombuds,\n\tline two\r\nשלום\u{200f} عربي\u{61c} 👋\n";

        // Act
        let shown = escape_remote(plain);

        // Assert: only the CR of the CRLF is gone; a lone CR is escaped.
        assert_eq!(shown, plain.replace("\r\n", "\n"));
        assert!(matches!(escape_remote("just text"), Cow::Borrowed(_)));
        assert_eq!(escape_remote("over\rwrite"), "over\\x0dwrite");
    }

    #[test]
    fn escaping_twice_changes_nothing_more() {
        let once = escape_remote(HOSTILE).into_owned();
        assert_eq!(escape_remote(&once), once);
    }

    #[test]
    fn json_holds_controls_only_as_escapes_and_decodes_to_the_same_text() {
        // Arrange
        let value = serde_json::json!({ "text": HOSTILE });
        let mut bytes = Vec::new();

        // Act
        value
            .serialize(&mut serde_json::Serializer::with_formatter(
                &mut bytes,
                SafeJson::new(),
            ))
            .unwrap();

        // Assert
        let json = String::from_utf8(bytes).unwrap();
        assert_eq!(raw_control(&json), None, "{json:?}");
        assert!(
            json.contains("\\u009b") && json.contains("\\u202e"),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
        assert!(json.starts_with("{\n  \"text\""), "pretty-printed: {json}");
    }
}
