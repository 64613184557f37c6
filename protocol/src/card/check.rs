//! The office card's field rules, applied when a card is signed and when it is verified: every
//! text and count against [`crate::limits`], unique IDs in each list, audiences drawn from the
//! card's constituencies, and the expiry against the verifier's clock.

use std::collections::BTreeSet;

use super::OfficeCard;
use super::directory::{Choice, ItemId};
use crate::day::Day;
use crate::{Error, limits};

const WHAT: &str = "office card";

/// Checks everything that does not depend on the time.
pub(super) fn fields(card: &OfficeCard) -> Result<(), Error> {
    if card.serial == 0 {
        // Every update must have a larger serial than the one before; the first is 1.
        return Err(Error::malformed(
            WHAT,
            "the serial is 0; the first card's is 1",
        ));
    }
    limits::OFFICE_NAME.check(WHAT, &card.name)?;
    for text in [
        &card.policy.confidentiality,
        &card.policy.exception,
        &card.policy.not_notice,
        &card.policy.retention,
    ] {
        limits::POLICY_TEXT.check(WHAT, text)?;
    }
    limits::check_days(
        WHAT,
        "retention_days",
        card.retention_days,
        &limits::RETENTION_DAYS,
    )?;
    limits::check_days(
        WHAT,
        "reply_within_days",
        card.reply_within_days,
        &limits::REPLY_WITHIN_DAYS,
    )?;
    limits::check_days(
        WHAT,
        "close_grace_days",
        card.close_grace_days,
        &limits::CLOSE_GRACE_DAYS,
    )?;
    list("categories", &card.categories, 0..=limits::MAX_CATEGORIES)?;
    let constituencies = list(
        "constituencies",
        &card.constituencies,
        0..=limits::MAX_CONSTITUENCIES,
    )?;
    list("outcomes", &card.outcomes, limits::OUTCOMES)?;
    count("resources", card.resources.len(), 0..=limits::MAX_RESOURCES)?;
    let mut ids = BTreeSet::new();
    for r in &card.resources {
        if !ids.insert(&r.id) {
            return Err(twice("resources", &r.id));
        }
        r.check(WHAT)?;
        let mut seen = BTreeSet::new();
        for who in &r.audience {
            if !constituencies.contains(who) {
                return Err(Error::malformed(
                    WHAT,
                    format!(
                        "resource {}: its audience {who} is not one of the card's constituencies",
                        r.id
                    ),
                ));
            }
            if !seen.insert(who) {
                return Err(Error::malformed(
                    WHAT,
                    format!("resource {}: its audience names {who} twice", r.id),
                ));
            }
        }
    }
    Ok(())
}

/// Checks that the card is valid on the day that contains `now` (Unix seconds): not expired,
/// and not valid for longer than [`limits::MAX_CARD_VALID_DAYS`] from today.
pub(super) fn current(card: &OfficeCard, now: u64) -> Result<(), Error> {
    let today = Day::from_unix(now);
    if today > card.expires {
        return Err(Error::CardExpired {
            expires: card.expires,
        });
    }
    if card.expires.0 - today.0 > limits::MAX_CARD_VALID_DAYS {
        return Err(Error::malformed(
            WHAT,
            format!(
                "it is valid until {}, more than {} days ahead",
                card.expires,
                limits::MAX_CARD_VALID_DAYS
            ),
        ));
    }
    Ok(())
}

fn list<'a>(
    field: &'static str,
    items: &'a [Choice],
    range: core::ops::RangeInclusive<usize>,
) -> Result<BTreeSet<&'a ItemId>, Error> {
    count(field, items.len(), range)?;
    let mut ids = BTreeSet::new();
    for item in items {
        if !ids.insert(&item.id) {
            return Err(twice(field, &item.id));
        }
        limits::LABEL
            .check(WHAT, &item.label)
            .map_err(|e| match e {
                Error::Malformed { what, why } => Error::Malformed {
                    what,
                    why: format!("{field} {}: {why}", item.id),
                },
                other => other,
            })?;
    }
    Ok(ids)
}

fn count(
    field: &'static str,
    n: usize,
    range: core::ops::RangeInclusive<usize>,
) -> Result<(), Error> {
    if range.contains(&n) {
        Ok(())
    } else {
        Err(Error::malformed(
            WHAT,
            format!(
                "it lists {n} {field}; a card lists {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn twice(field: &'static str, id: &ItemId) -> Error {
    Error::malformed(WHAT, format!("the {field} list has the ID {id} twice"))
}
