//! `candor office publish`: registers the signed card with an invite, or publishes an update
//! that continues from the newer of this home's serial and the relay's, after checking that the
//! relay's card is the office's own.

use anyhow::Result;
use candor_protocol::{Error, OfficeCard, OfficeId, RelayUrl, SignedCard, labels};
use serde::Serialize;

use super::{OfficeKeys, apply_lists, check_card, save, unlock};
use crate::cli::PublishArgs;
use crate::commands::{Context, today};
use crate::error::Unverified;
use crate::input;
use crate::policy;

#[derive(Serialize)]
struct Published<'a> {
    office: &'a OfficeId,
    serial: u64,
    expires: String,
    relay: &'a RelayUrl,
    address: String,
    registered: bool,
}

/// `candor office publish`.
pub fn publish(ctx: &Context, args: PublishArgs) -> Result<()> {
    let invite = input::invite(args.invite.as_deref(), args.invite_file.as_deref())?;
    let OfficeKeys {
        identity, mut card, ..
    } = unlock(&ctx.home)?;
    apply_changes(&mut card, &args)?;
    card.expires = today().plus(args.valid_days);
    check_card(
        &card,
        &identity,
        &[&args.lists, &args.resources, &args.policy],
    )?;
    let relay = ctx.relay(&card.relay)?;
    let registered = invite.is_some();
    if let Some(invite) = &invite {
        let signed = card.sign(&identity)?;
        relay
            .register_office(invite.as_str(), signed)
            .map_err(|e| match e.problem_kind() {
                Some("conflict") => anyhow::Error::new(e).context(format!(
                    "the relay already has an office called {}: if it is yours, publish updates \
                     without --invite; otherwise choose another ID",
                    card.id
                )),
                Some("invite-invalid" | "invite-used") => anyhow::Error::new(e).context(
                    "the invite was refused: ask the relay's operator for a new one \
                     (`candor-server invite`)",
                ),
                _ => anyhow::Error::new(e).context("could not register the office"),
            })?;
    } else {
        // Start from the newer of our serial and the relay's, so that staff sharing the keys
        // do not trip over each other's updates.
        let current = relay.office_card(&card.id).map_err(|e| {
            let hint = if e.is_not_found() {
                format!(
                    "the relay does not know the office {} yet: register it with \
                     `candor office publish --invite TOKEN`",
                    card.id
                )
            } else {
                "could not fetch the published card".to_owned()
            };
            anyhow::Error::new(e).context(hint)
        })?;
        let theirs = relay_serial(&current, &card).ok_or_else(|| {
            Unverified(format!(
                "the relay's card for {} is not signed by this office's key; do not publish \
                 over it without finding out why",
                card.id
            ))
        })?;
        card.serial = card.serial.max(theirs) + 1;
        let signed = card.sign(&identity)?;
        relay
            .update_office(&card.id, &signed, identity.signing())
            .map_err(|e| anyhow::Error::new(e).context("could not publish the updated card"))?;
    }
    save(&ctx.home, None, &card)?;

    let published = Published {
        office: &card.id,
        serial: card.serial,
        expires: card.expires.to_string(),
        relay: &card.relay,
        address: card.address()?.to_string(),
        registered,
    };
    ctx.out.either(&published, |s| {
        format!(
            "{} the card of {} (serial {}) at {}.\nIt is valid until {}: publish again before \
             then, or visitors' clients will refuse it.\n\nThe office address, for visitors:\n{}",
            if registered {
                "Registered"
            } else {
                "Published"
            },
            s.bold(&card.name),
            card.serial,
            card.relay,
            card.expires,
            published.address
        )
    })
}

fn apply_changes(card: &mut OfficeCard, args: &PublishArgs) -> Result<()> {
    if let Some(days) = args.retention_days {
        // Keep the default retention text in step with the period it names.
        if card.policy.retention == policy::default_retention(card.retention_days) {
            card.policy.retention = policy::default_retention(days);
        }
        card.retention_days = days;
    }
    if let Some(path) = &args.policy {
        card.policy = policy::load_policy(path, card.policy.clone())?;
    }
    if let Some(days) = args.reply_within_days {
        card.reply_within_days = days;
    }
    if let Some(days) = args.close_grace_days {
        card.close_grace_days = days;
    }
    if let Some(path) = &args.lists {
        apply_lists(card, policy::load_lists(path)?);
    }
    if let Some(path) = &args.resources {
        card.resources = policy::load_resources(path)?;
    }
    Ok(())
}

/// The serial of the relay's card, if it is signed by this office's key. A card of an older
/// format is still the office's own, so its serial is read once its signature checks out.
fn relay_serial(current: &SignedCard, ours: &OfficeCard) -> Option<u64> {
    match current.verify_office() {
        Ok(theirs) => (theirs.signing_key == ours.signing_key).then_some(theirs.serial),
        Err(Error::UnsupportedVersion { .. }) => {
            let key = ours.signing_public_key().ok()?;
            key.verify(labels::OFFICE_CARD, &current.card, &current.signature)
                .ok()?;
            let old: serde_json::Value = serde_json::from_slice(&current.card).ok()?;
            old.get("serial")?.as_u64()
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use candor_protocol::encoding;

    use candor_protocol::Identity;

    use super::*;
    use crate::policy::tests::card_for;

    #[test]
    fn publish_continues_from_the_serial_of_a_relay_card_of_the_first_format() {
        // Arrange: the relay still holds the office's card of the first format, serial 9.
        let identity = Identity::generate(&mut candor_protocol::rand::rng());
        let ours = card_for(&identity);
        let old = format!(
            r#"{{"v":1,"serial":9,"id":"ombuds","signing_key":"{}"}}"#,
            encoding::b64(&identity.signing().public_key().to_bytes())
        )
        .into_bytes();
        let genuine = SignedCard {
            signature: identity.signing().sign(labels::OFFICE_CARD, &old),
            card: old.clone(),
        };
        let other = Identity::generate(&mut candor_protocol::rand::rng());
        let forged = SignedCard {
            signature: other.signing().sign(labels::OFFICE_CARD, &old),
            card: old,
        };

        // Act and assert: its serial counts only under the office's own signature.
        assert_eq!(relay_serial(&genuine, &ours), Some(9));
        assert_eq!(relay_serial(&forged, &ours), None);
        let current = ours.sign(&identity).unwrap();
        assert_eq!(relay_serial(&current, &ours), Some(1));
    }
}
