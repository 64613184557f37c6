//! `candor office …`: the office's keys, its signed card and its address.
//!
//! The home holds two files: `office.key`, the identity secret in an encrypted keystore, and
//! `office-card.json`, the card in plaintext (it is public). The card's keys must match the
//! keystore's.

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::card::CARD_VERSION;
use candor_protocol::{Identity, OfficeCard, OfficeId, RelayUrl};
use serde::Serialize;

use super::Context;
use crate::cli::{BundleArgs, ImportArgs, InitArgs, PublishArgs};
use crate::error::Unverified;
use crate::home::{self, Home};
use crate::input;
use crate::keystore;
use crate::policy;

/// The office's unlocked keys and its card.
pub struct OfficeKeys {
    /// The identity: signing and KEM keys.
    pub identity: Identity,
    /// The card as last saved.
    pub card: OfficeCard,
}

/// Reads the office card; needs no passphrase.
pub fn load_card(home: &Home) -> Result<OfficeCard> {
    let path = home.file(home::OFFICE_CARD);
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!(
                "there is no office in {}: create one with `candor office init`, or import its \
                 keys with `candor office import-keys FILE` (or set CANDOR_HOME)",
                home.dir().display()
            )
        } else {
            anyhow!("could not read {}: {e}", path.display())
        }
    })?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("the office card {} is damaged", path.display()))
}

/// Reads the card and unlocks the keystore with the passphrase.
pub fn unlock(home: &Home) -> Result<OfficeKeys> {
    let card = load_card(home)?;
    let path = home.file(home::OFFICE_KEY);
    let bytes = std::fs::read(&path)
        .with_context(|| format!("could not read the office keystore {}", path.display()))?;
    let pass = input::passphrase(input::PASSPHRASE_ENV, "Office keystore passphrase")?;
    let identity = keystore::open_identity(&bytes, &pass, &card)
        .with_context(|| format!("could not unlock the office keystore {}", path.display()))?;
    Ok(OfficeKeys { identity, card })
}

fn save(
    home: &Home,
    identity: Option<(&Identity, &secrecy::SecretString)>,
    card: &OfficeCard,
) -> Result<()> {
    home.create()?;
    if let Some((identity, pass)) = identity {
        let sealed = keystore::seal_identity(identity, pass)?;
        home::write_private(&home.file(home::OFFICE_KEY), &sealed)?;
    }
    let mut json = serde_json::to_vec_pretty(card)?;
    json.push(b'\n');
    home::write_private(&home.file(home::OFFICE_CARD), &json)
}

fn refuse_existing(home: &Home, hint: &str) -> Result<()> {
    if home.file(home::OFFICE_KEY).exists() || home.file(home::OFFICE_CARD).exists() {
        bail!(
            "an office already exists in {}; {hint}",
            home.dir().display()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct Created<'a> {
    office: &'a OfficeId,
    name: &'a str,
    fingerprint: String,
    address: String,
    home: String,
}

/// `candor office init`.
pub fn init(ctx: &Context, args: InitArgs) -> Result<()> {
    refuse_existing(
        &ctx.home,
        "use another CANDOR_HOME, or move the old one away first",
    )?;
    let relay: RelayUrl = args.relay.parse().map_err(|e| {
        anyhow!("{e}; give the relay's base URL, such as https://relay.example.edu")
    })?;
    let id = match &args.id {
        Some(id) => id.parse().map_err(|e| anyhow!("{e}"))?,
        None => OfficeId::slug(&args.name)
            .map_err(|_| anyhow!("cannot make an office ID from this name; pass --id ID"))?,
    };
    if args.name.trim().is_empty() {
        bail!("the office name is empty; pass --name \"Example University Ombuds Office\"");
    }
    let mut policy_texts = policy::default_policy(args.retention_days);
    if let Some(path) = &args.policy {
        policy_texts = policy::load_policy(path, policy_texts)?;
    }
    let resources = match &args.resources {
        Some(path) => policy::load_resources(path)?,
        None => Vec::new(),
    };
    let identity = Identity::generate(&mut candor_protocol::rand::rng());
    let card = OfficeCard {
        v: CARD_VERSION.into(),
        serial: 1,
        id,
        name: args.name.trim().to_owned(),
        relay,
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: policy_texts,
        retention_days: args.retention_days,
        categories: policy::default_categories(),
        resources,
    };
    // Sign once now, so that a card the relay would refuse is caught before anything is saved.
    card.sign(&identity)?.verify_office()?;
    let pass = input::new_passphrase(
        input::PASSPHRASE_ENV,
        "Choose a passphrase for the office keystore",
    )?;
    save(&ctx.home, Some((&identity, &pass)), &card)?;

    let address = card.address()?;
    let created = Created {
        office: &card.id,
        name: &card.name,
        fingerprint: identity.fingerprint().to_string(),
        address: address.to_string(),
        home: ctx.home.dir().display().to_string(),
    };
    ctx.out.either(&created, |s| {
        format!(
            "Created the office {} ({}) in {}.\n\
             Fingerprint: {}\n\n\
             Next: publish the card with `candor office publish --invite TOKEN`, using a token \
             from the relay's operator.",
            s.bold(&card.name),
            card.id,
            created.home,
            created.fingerprint,
        )
    })
}

#[derive(Serialize)]
struct Published<'a> {
    office: &'a OfficeId,
    serial: u64,
    relay: &'a RelayUrl,
    address: String,
    registered: bool,
}

/// `candor office publish`.
pub fn publish(ctx: &Context, args: PublishArgs) -> Result<()> {
    let invite = input::invite(args.invite.as_deref(), args.invite_file.as_deref())?;
    let OfficeKeys { identity, mut card } = unlock(&ctx.home)?;
    apply_changes(&mut card, &args)?;
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
        let theirs = current
            .verify_office()
            .ok()
            .filter(|c| c.signing_key == card.signing_key)
            .ok_or_else(|| {
                Unverified(format!(
                    "the relay's card for {} is not signed by this office's key; do not publish \
                     over it without finding out why",
                    card.id
                ))
            })?;
        card.serial = card.serial.max(theirs.serial) + 1;
        let signed = card.sign(&identity)?;
        relay
            .update_office(&card.id, &signed, identity.signing())
            .map_err(|e| anyhow::Error::new(e).context("could not publish the updated card"))?;
    }
    save(&ctx.home, None, &card)?;

    let published = Published {
        office: &card.id,
        serial: card.serial,
        relay: &card.relay,
        address: card.address()?.to_string(),
        registered,
    };
    ctx.out.either(&published, |s| {
        format!(
            "{} the card of {} (serial {}) at {}.\n\nThe office address, for visitors:\n{}",
            if registered {
                "Registered"
            } else {
                "Published"
            },
            s.bold(&card.name),
            card.serial,
            card.relay,
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
    if let Some(path) = &args.resources {
        card.resources = policy::load_resources(path)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Address<'a> {
    address: String,
    office: &'a OfficeId,
    fingerprint: String,
    relay: &'a RelayUrl,
}

/// `candor office address`.
pub fn address(ctx: &Context) -> Result<()> {
    let card = load_card(&ctx.home)?;
    let address = card.address()?;
    let shown = Address {
        address: address.to_string(),
        office: &card.id,
        fingerprint: address.fingerprint.to_string(),
        relay: &card.relay,
    };
    ctx.out.either(&shown, |_| shown.address.clone())
}

/// `candor office export-keys FILE`.
pub fn export_keys(ctx: &Context, args: BundleArgs) -> Result<()> {
    let keys = unlock(&ctx.home)?;
    let pass = input::new_passphrase(
        input::BUNDLE_PASSPHRASE_ENV,
        "Choose a passphrase for the bundle (tell it to your colleague separately)",
    )?;
    let bundle = keystore::seal_bundle(&keys.identity, &keys.card, &pass)?;
    home::write_private(&args.file, &bundle)?;
    let file = args.file.display().to_string();
    ctx.out.either(&serde_json::json!({ "bundle": file, "office": keys.card.id }), |_| {
        format!(
            "Wrote the keys of {} to {file}.\nHand over the file and its passphrase separately; \
             delete the file once it has been imported.",
            keys.card.name
        )
    })
}

/// `candor office import-keys FILE`.
pub fn import_keys(ctx: &Context, args: ImportArgs) -> Result<()> {
    if !args.force {
        refuse_existing(&ctx.home, "pass --force to replace it")?;
    }
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("could not read the bundle {}", args.file.display()))?;
    let pass = input::passphrase(input::BUNDLE_PASSPHRASE_ENV, "Bundle passphrase")?;
    let (identity, card) = keystore::open_bundle(&bytes, &pass)
        .with_context(|| format!("could not open the bundle {}", args.file.display()))?;
    let keystore_pass = input::new_passphrase(
        input::PASSPHRASE_ENV,
        "Choose a passphrase for this computer's office keystore",
    )?;
    save(&ctx.home, Some((&identity, &keystore_pass)), &card)?;
    let address = card.address()?.to_string();
    ctx.out.either(
        &serde_json::json!({ "office": card.id, "address": address, "home": ctx.home.dir().display().to_string() }),
        |s| format!("Imported the keys of {} into {}.\nAddress: {address}", s.bold(&card.name), ctx.home.dir().display()),
    )
}
