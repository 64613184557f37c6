//! The third party's commands: its keys and its signed card, and (in [`handoffs`]) the
//! handoffs released to it and its answers to the ombuds. The home holds
//! `third-party.key`, the identity secret in an encrypted keystore, and
//! `third-party-card.json`, the signed card, which is public and sent to the ombuds out of band.

mod handoffs;

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::card::{MAX_THIRD_PARTY_NAME, THIRD_PARTY_CARD_VERSION};
use candor_protocol::{Identity, RelayUrl, SignedCard, ThirdPartyCard};
use serde::Serialize;

use super::Context;
use crate::cli::ThirdPartyInitArgs;
use crate::home::{self, Home};
use crate::input;

pub use handoffs::{inbox, read, reply};

/// Reads and verifies the third party's own signed card; needs no passphrase.
pub fn load_card(home: &Home) -> Result<(SignedCard, ThirdPartyCard)> {
    let path = home.file(home::THIRD_PARTY_CARD);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "no third-party card in {}; create one with `candor third-party init`",
            home.dir().display()
        )
    })?;
    let signed = SignedCard::from_json(&bytes)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("the third-party card {} is damaged", path.display()))?;
    let card = signed
        .verify_third_party()
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("the third-party card {} does not verify", path.display()))?;
    Ok((signed, card))
}

#[derive(Serialize)]
struct Created<'a> {
    name: &'a str,
    fingerprint: String,
    mandatory_reporter: bool,
    home: String,
}

/// `candor third-party init`.
pub fn init(ctx: &Context, args: ThirdPartyInitArgs) -> Result<()> {
    for name in [home::THIRD_PARTY_KEY, home::THIRD_PARTY_CARD] {
        if ctx.home.file(name).exists() {
            bail!(
                "{} already holds third-party keys; use another CANDOR_HOME, or move the old \
                 one away first",
                ctx.home.dir().display()
            );
        }
    }
    let name = args.name.trim();
    if name.is_empty() || name.chars().count() > MAX_THIRD_PARTY_NAME {
        bail!(
            "the name must be 1 to {MAX_THIRD_PARTY_NAME} characters; pass --name \"Head of \
             Chemistry\""
        );
    }
    let relay: RelayUrl = args.relay.parse().map_err(|e| {
        anyhow!("{e}; give the relay's base URL, such as https://relay.example.edu")
    })?;
    let identity = Identity::generate(&mut candor_protocol::rand::rng());
    let card = ThirdPartyCard {
        v: THIRD_PARTY_CARD_VERSION.into(),
        name: name.to_owned(),
        relay,
        mandatory_reporter: args.mandatory_reporter,
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
    };
    let signed = card.sign(&identity).map_err(|e| anyhow!("{e}"))?;
    let pass = input::new_passphrase(
        input::PASSPHRASE_ENV,
        "Choose a passphrase for the third-party keystore",
    )?;
    ctx.home.create()?;
    home::write_private(
        &ctx.home.file(home::THIRD_PARTY_KEY),
        &crate::keystore::seal_third_party(&identity, &pass)?,
    )?;
    home::write_private(&ctx.home.file(home::THIRD_PARTY_CARD), &signed.to_json())?;
    let created = Created {
        name: &card.name,
        fingerprint: identity.fingerprint().to_string(),
        mandatory_reporter: card.mandatory_reporter,
        home: ctx.home.dir().display().to_string(),
    };
    ctx.out.either(&created, |s| {
        format!(
            "Created the third party {} in {}.\nFingerprint: {}\nMandatory reporter: {}\n\n\
             Next: send the card from `candor third-party card` to the ombuds, and read them \
             the fingerprint over another channel.",
            s.bold(created.name),
            created.home,
            created.fingerprint,
            if created.mandatory_reporter {
                "yes"
            } else {
                "no"
            },
        )
    })
}

#[derive(Serialize)]
struct CardOut {
    card: SignedCard,
    name: String,
    fingerprint: String,
    mandatory_reporter: bool,
}

/// `candor third-party card`: the signed card on stdout (so that it can go to a file), the
/// fingerprint on stderr; with `--json`, both in one object.
pub fn card(ctx: &Context) -> Result<()> {
    let (signed, card) = load_card(&ctx.home)?;
    let fingerprint = card.fingerprint().map_err(|e| anyhow!("{e}"))?.to_string();
    if ctx.out.is_json() {
        return ctx.out.json(&CardOut {
            card: signed,
            name: card.name,
            fingerprint,
            mandatory_reporter: card.mandatory_reporter,
        });
    }
    crate::output::note(&format!(
        "Fingerprint of {}: {fingerprint}\nRead it to the ombuds over another channel, so that \
         they can check the card they import.",
        card.name
    ));
    ctx.out.text(&String::from_utf8_lossy(&signed.to_json()))
}
