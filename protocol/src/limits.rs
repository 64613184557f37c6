//! Every rule that a card's and a message's fields obey, in one table.
//!
//! The card, the message and the CLI all check against these constants and nothing else, so
//! that relaxing or tightening a rule is a change here, and `docs/protocol.md` can list them
//! all. Lengths count Unicode scalar values (Rust `char`s), not bytes.

use core::ops::RangeInclusive;

use crate::Error;

/// The largest card, as its signed JSON bytes.
pub const MAX_CARD_BYTES: usize = 64 * 1024;

/// The longest ID of a category, constituency, outcome or resource.
pub const MAX_ID_CHARS: usize = 32;

/// How many categories, constituencies, outcomes and resources a card may list.
pub const MAX_CATEGORIES: usize = 64;
/// See [`MAX_CATEGORIES`].
pub const MAX_CONSTITUENCIES: usize = 32;
/// See [`MAX_CATEGORIES`]. A card lists at least one outcome, so that a case can be closed.
pub const OUTCOMES: RangeInclusive<usize> = 1..=32;
/// See [`MAX_CATEGORIES`].
pub const MAX_RESOURCES: usize = 200;

/// How many categories one case may carry, as the IOA's uniform reporting counts them.
pub const MAX_CASE_CATEGORIES: usize = 3;

/// Days a case is kept after its last activity.
pub const RETENTION_DAYS: RangeInclusive<u32> = 1..=3650;
/// Working days within which the office usually replies.
pub const REPLY_WITHIN_DAYS: RangeInclusive<u32> = 1..=30;
/// What `office init` writes when not told otherwise.
pub const DEFAULT_REPLY_WITHIN_DAYS: u32 = 3;
/// Days a visitor can still read a case after the office closed it.
pub const CLOSE_GRACE_DAYS: RangeInclusive<u32> = 1..=90;
/// What `office init` writes when not told otherwise.
pub const DEFAULT_CLOSE_GRACE_DAYS: u32 = 14;
/// How long a card may stay valid, counted from the day it is verified: about two years. A
/// verifier refuses a card whose `expires` is further ahead, so an office cannot publish a card
/// that never expires.
pub const MAX_CARD_VALID_DAYS: u32 = 732;
/// How long `office publish` makes a card valid when not told otherwise.
pub const DEFAULT_CARD_VALID_DAYS: u32 = 365;

/// A rule for one text field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRule {
    /// The field, as error messages name it.
    pub field: &'static str,
    /// The fewest characters once leading and trailing whitespace is ignored; 1 means "not
    /// blank".
    pub min: usize,
    /// The most characters.
    pub max: usize,
    /// Whether line breaks (`\n`) are allowed. Tabs and other controls never are.
    pub multiline: bool,
}

/// The office's display name.
pub const OFFICE_NAME: TextRule = TextRule::line("name", 200);
/// Each of the four policy texts.
pub const POLICY_TEXT: TextRule = TextRule::paragraphs("policy text", 4000);
/// The label of a category, constituency or outcome.
pub const LABEL: TextRule = TextRule::line("label", 120);
/// A resource's name, such as "Institute Discrimination & Harassment Response Office (IDHR)".
pub const RESOURCE_NAME: TextRule = TextRule::line("name", 200);
/// What a resource is for.
pub const RESOURCE_DESCRIPTION: TextRule = TextRule::paragraphs("description", 2000);
/// How to reach a resource, when given: phone numbers, e-mail, a room.
pub const RESOURCE_CONTACT: TextRule = TextRule::line("contact", 300);
/// A resource's web address, when given: `http://` or `https://`, no spaces.
pub const RESOURCE_URL: TextRule = TextRule::line("url", 300);

impl TextRule {
    const fn line(field: &'static str, max: usize) -> Self {
        Self {
            field,
            min: 1,
            max,
            multiline: false,
        }
    }

    const fn paragraphs(field: &'static str, max: usize) -> Self {
        Self {
            field,
            min: 1,
            max,
            multiline: true,
        }
    }

    /// Checks `text`; the error names the field and says what is wrong.
    pub fn check(&self, what: &'static str, text: &str) -> Result<(), Error> {
        let len = text.chars().count();
        if text.trim().chars().count() < self.min {
            return Err(Error::malformed(
                what,
                format!("the {} is blank", self.field),
            ));
        }
        if !self.multiline && text.trim() != text {
            // One-line texts are shown and compared as they are: spaces at either end would
            // make two names look alike, or hide text past the edge of a column.
            return Err(Error::malformed(
                what,
                format!("the {} starts or ends with whitespace", self.field),
            ));
        }
        if len > self.max {
            return Err(Error::malformed(
                what,
                format!(
                    "the {} has {len} characters; the most is {}",
                    self.field, self.max
                ),
            ));
        }
        if let Some(c) = text
            .chars()
            .find(|&c| !(self.multiline && c == '\n') && is_forbidden(c))
        {
            return Err(Error::malformed(
                what,
                format!(
                    "the {} contains the control character U+{:04X}",
                    self.field, c as u32
                ),
            ));
        }
        Ok(())
    }
}

/// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates, which
/// could make one text display as another.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks that an ID is 1 to [`MAX_ID_CHARS`] characters of `a-z`, `0-9` and `-`, and does not
/// start with `-` (so that it never reads as a command-line flag).
pub fn check_id(what: &'static str, id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::malformed(
            what,
            format!(
                "an ID must be 1 to {MAX_ID_CHARS} characters of a-z, 0-9 and '-', not \
                 starting with '-'"
            ),
        ))
    }
}

/// Checks a number of days against its range.
pub fn check_days(
    what: &'static str,
    field: &str,
    days: u32,
    range: &RangeInclusive<u32>,
) -> Result<(), Error> {
    if range.contains(&days) {
        Ok(())
    } else {
        Err(Error::malformed(
            what,
            format!(
                "{field} must be between {} and {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// Checks a web address: `http://` or `https://`, a host, and no spaces or controls.
pub fn check_url(what: &'static str, url: &str) -> Result<(), Error> {
    RESOURCE_URL.check(what, url)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
        return Err(Error::malformed(
            what,
            "a url must start with https:// or http://, name a host and contain no spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_lowercase_words() {
        for good in ["a", "idhr", "title-ix", "s3", &"x".repeat(MAX_ID_CHARS)] {
            assert!(check_id("id", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-x",
            "Upper",
            "two words",
            "é",
            "a_b",
            &"x".repeat(MAX_ID_CHARS + 1),
        ] {
            assert!(check_id("id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_rules_count_characters_and_refuse_controls() {
        let name = "Institute Discrimination & Harassment Response Office (IDHR)";
        assert!(RESOURCE_NAME.check("r", name).is_ok());
        assert!(RESOURCE_NAME.check("r", "   ").is_err(), "blank");
        assert!(OFFICE_NAME.check("c", " Ombuds").is_err(), "leading space");
        assert!(OFFICE_NAME.check("c", "Ombuds ").is_err(), "trailing space");
        assert!(
            POLICY_TEXT.check("c", "Text.\n").is_ok(),
            "a paragraph may end a line"
        );
        assert!(
            LABEL.check("r", &"é".repeat(120)).is_ok(),
            "chars, not bytes"
        );
        assert!(LABEL.check("r", &"é".repeat(121)).is_err());
        assert!(RESOURCE_DESCRIPTION.check("r", "one\ntwo").is_ok());
        for bad in [
            "one\ntwo",
            "tab\there",
            "esc\u{1b}[2J",
            "c1\u{9b}",
            "rtl\u{202E}",
        ] {
            assert!(RESOURCE_NAME.check("r", bad).is_err(), "{bad:?}");
        }
        assert!(RESOURCE_DESCRIPTION.check("r", "esc\u{1b}]52;").is_err());
    }

    #[test]
    fn urls_name_a_scheme_and_a_host() {
        assert!(check_url("r", "https://doingwell.mit.edu/").is_ok());
        assert!(check_url("r", "http://example.edu").is_ok());
        for bad in [
            "doingwell.mit.edu",
            "https://",
            "ftp://x",
            "https://a b",
            "javascript:x",
        ] {
            assert!(check_url("r", bad).is_err(), "{bad}");
        }
    }
}
