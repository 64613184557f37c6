//! `candor close`: the outcome and an optional last message, then closing on the relay (or
//! deleting at once with `--delete`), and the anonymous tally that survives the case.

use anyhow::{Result, anyhow, bail};
use candor_protocol::seal::Sealer;
use candor_protocol::tally::MAX_TALLY_CATEGORIES;
use candor_protocol::{ItemId, Message, OfficeCard, Quarter, Tally};

use super::{case_keys, fetch_case_thread, find_case, office_auth};
use crate::cli::CloseArgs;
use crate::commands::office::{OfficeKeys, unlock};
use crate::commands::{Context, today};
use crate::compose::{Draft, compose};
use crate::input;

/// The categories of a case: those of the first visitor message that names any, as the inbox
/// shows them (`super::digest::fold`).
fn case_categories(visitor: &[&Message]) -> Vec<ItemId> {
    visitor
        .iter()
        .find(|m| !m.categories.is_empty())
        .map(|m| m.categories.as_slice().to_vec())
        .unwrap_or_default()
}

/// The outcome `id`, if the card lists it; else an error that lists the card's outcomes.
fn pick_outcome(card: &OfficeCard, id: &ItemId) -> Result<ItemId> {
    if card.outcome(id.as_str()).is_some() {
        return Ok(id.clone());
    }
    let known: Vec<String> = card
        .outcomes
        .iter()
        .map(|o| format!("{} ({})", o.id, o.label))
        .collect();
    Err(anyhow!(
        "the office card has no outcome {id}; pass --outcome with one of: {}",
        known.join(", ")
    ))
}

/// The anonymous tally of a closed case for the office's trend reports: its categories (up
/// to three, as the card lists them), the quarter, the constituency and the outcome, and
/// nothing else (`candor_protocol::tally`).
fn tally_of(keys: &OfficeKeys, visitor: &[&Message], outcome: ItemId) -> Result<Tally> {
    // Only IDs that the card lists reach a statistic.
    let mut categories: Vec<ItemId> = case_categories(visitor)
        .into_iter()
        .filter(|c| keys.card.category(c.as_str()).is_some())
        .collect();
    categories.truncate(MAX_TALLY_CATEGORIES);
    let constituency = visitor
        .iter()
        .find_map(|m| m.constituency.clone())
        .filter(|c| keys.card.constituency(c.as_str()).is_some());
    Ok(Tally::new(
        categories,
        Quarter::of_day(today()),
        constituency,
        outcome,
    )?)
}

/// Records the tally: sealed under the office's records key, it travels in the closing
/// request itself, so that no second request gives its time away.
fn record_tally(keys: &OfficeKeys, tally: &Tally) -> Result<Vec<u8>> {
    Ok(tally.seal(
        &keys.records,
        &keys.card.id,
        &mut candor_protocol::rand::rng(),
    )?)
}

/// `candor close CASE --outcome OUTCOME`.
pub fn close(ctx: &Context, args: CloseArgs) -> Result<()> {
    // A missing message file is refused before the passphrase is asked.
    let given = args
        .message_file
        .as_deref()
        .map(|path| Draft::from_args(Some(path)))
        .transpose()?;
    let keys = unlock(&ctx.home)?;
    let outcome = pick_outcome(&keys.card, &args.outcome)?;
    let relay = ctx.relay(&keys.card.relay)?;
    let entry = find_case(&relay, &keys, &args.case)?;
    let label = keys.label(&entry.mailbox);
    let (case_kem, _) = case_keys(&keys, &entry)?;
    let thread = fetch_case_thread(&relay, &keys, &entry)?;
    if thread.closed && !args.delete {
        bail!("case {label} is already closed; `candor close {label} --delete` deletes it now");
    }
    let visitor: Vec<&Message> = thread.visitor_messages().collect();
    let tally = tally_of(&keys, &visitor, outcome)?;
    let sealed = record_tally(&keys, &tally)?;
    // Every choice and the last message first; then the confirmation; then the relay.
    let last = if args.delete || args.no_message {
        None
    } else if let Some(draft) = given {
        Some(draft.compose("")?)
    } else if input::interactive()
        && input::ask("Send the visitor a last message with the closing?")?
    {
        Some(compose(
            None,
            &format!("Your last message to case {label}, sent as the case closes."),
        )?)
    } else {
        None
    };
    let question = if args.delete {
        format!("Close case {label} and delete it from the relay now? This cannot be undone.")
    } else {
        format!(
            "Close case {label}? The visitor can read it for {} more days; then it is deleted.",
            close_grace_days(&keys)
        )
    };
    if !input::confirm(&question, args.yes, "--yes")? {
        bail!("case {label} was not closed");
    }
    let not_closed = || format!("case {label} was not closed");
    // A case closed before records its tally no more: it has one already.
    let recorded = !thread.closed;
    if args.delete {
        if recorded {
            relay
                .close_recording(&entry.mailbox, None, Some(sealed), keys.identity.signing())
                .map_err(|e| anyhow::Error::new(e).context(not_closed()))?;
        }
        relay
            .delete_mailbox(&entry.mailbox, &office_auth(&keys))
            .map_err(|e| anyhow::Error::new(e).context(not_closed()))?;
    } else {
        let envelope = match &last {
            Some(text) => {
                let sealer = Sealer::office(&keys.identity, case_kem, entry.mailbox);
                let message = Message::text(text.as_str(), today());
                Some(message.seal(&sealer, &mut candor_protocol::rand::rng())?)
            }
            None => None,
        };
        relay
            .close_recording(
                &entry.mailbox,
                envelope,
                Some(sealed),
                keys.identity.signing(),
            )
            .map_err(|e| anyhow::Error::new(e).context(not_closed()))?;
    }
    ctx.out.either(
        &serde_json::json!({
            "case": label,
            "closed": true,
            "deleted": args.delete,
            "last_message": last.is_some(),
            "outcome": tally.outcome(),
            "tally_recorded": recorded,
        }),
        |s| {
            if args.delete {
                format!("{} case {label} ({}); it is deleted from the relay.", s.green("Closed"), tally.outcome())
            } else {
                format!(
                    "{} case {label} ({}){}; the visitor can read it for {} days, then it is deleted.",
                    s.green("Closed"),
                    tally.outcome(),
                    if last.is_some() { ", with a last message" } else { "" },
                    close_grace_days(&keys)
                )
            }
        },
    )
}

/// The card's grace period for closed cases (the relay never keeps a case past retention).
fn close_grace_days(keys: &OfficeKeys) -> u32 {
    keys.card.close_grace_days.min(keys.card.retention_days)
}
