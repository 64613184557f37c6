//! `candor resources ADDRESS`: the office's referral directory, from its verified card. It
//! opens no case and needs no proof of work: the card is public, and fetching it is all the
//! relay sees.

use anyhow::{Result, anyhow};
use candor_protocol::{ItemId, OfficeCard, Resource};

use super::verified_office;
use crate::cli::ResourcesArgs;
use crate::commands::Context;
use crate::output::escape_remote;
use crate::thread::render_resource;

/// The constituency `id`, if the card lists it; else an error that lists the card's.
fn pick_audience(card: &OfficeCard, id: &ItemId) -> Result<ItemId> {
    if card.constituency(id.as_str()).is_some() {
        return Ok(id.clone());
    }
    let known: Vec<String> = card
        .constituencies
        .iter()
        .map(|c| format!("{} ({})", c.id, escape_remote(&c.label)))
        .collect();
    Err(anyhow!(
        "the office card has no constituency {id}; pass --audience with one of: {}",
        known.join(", ")
    ))
}

/// The resources shown: those that serve the audience, if one is given, and only the
/// confidential ones, if asked.
fn shown<'a>(
    card: &'a OfficeCard,
    audience: Option<&ItemId>,
    confidential: bool,
) -> Vec<&'a Resource> {
    card.resources
        .iter()
        .filter(|r| r.serves(audience) && (r.confidential || !confidential))
        .collect()
}

/// `candor resources ADDRESS [--audience A] [--confidential]`.
pub fn resources(ctx: &Context, args: ResourcesArgs) -> Result<()> {
    let office = verified_office(ctx, &args.address.0)?;
    let card = &office.card;
    let audience = args
        .audience
        .as_ref()
        .map(|a| pick_audience(card, a))
        .transpose()?;
    let list = shown(card, audience.as_ref(), args.confidential);
    ctx.out.either(
        &serde_json::json!({ "office": card.id, "resources": list }),
        |s| {
            let mut text = format!(
                "Referrals listed by {} (card verified against the address):\n",
                s.bold(&escape_remote(&card.name))
            );
            if list.is_empty() {
                text.push_str("    none match.\n");
            }
            for r in &list {
                text.push_str(&render_resource(r, s));
            }
            text.trim_end().to_owned()
        },
    )
}

#[cfg(test)]
mod tests {
    use candor_protocol::Identity;

    use super::*;
    use crate::policy::tests::card_for;

    #[test]
    fn the_directory_filters_by_audience_and_confidentiality() {
        // Arrange: a card with one confidential resource for students and one open to all.
        let mut card = card_for(&Identity::generate(&mut candor_protocol::rand::rng()));
        let resource = |id: &str, confidential: bool, audience: &[&str]| Resource {
            id: id.parse().unwrap(),
            name: id.to_owned(),
            description: "help".to_owned(),
            contact: None,
            url: None,
            confidential,
            audience: audience.iter().map(|a| a.parse().unwrap()).collect(),
            urgent: false,
        };
        card.resources = vec![
            resource("counseling", true, &["student"]),
            resource("hr", false, &[]),
        ];
        let staff: ItemId = "staff".parse().unwrap();

        // Act
        let for_staff = shown(&card, Some(&staff), false);
        let confidential = shown(&card, None, true);

        // Assert
        let ids = |v: &[&Resource]| v.iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&for_staff), ["hr"]);
        assert_eq!(ids(&confidential), ["counseling"]);
        assert!(pick_audience(&card, &"alumni".parse().unwrap()).is_err());
    }
}
