//! The third parties an office may hand a case on to: cards imported after an out-of-band
//! fingerprint check, kept in `third-parties.key`, sealed under the office keystore's
//! passphrase, so that the list is never on the relay and never on disk in the clear.

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::{SignedCard, ThirdPartyCard};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::unlock_keeping_passphrase;
use crate::cli::{ThirdPartyAddArgs, ThirdPartyRemoveArgs};
use crate::commands::Context;
use crate::home::{self, Home};
use crate::{input, keystore};

/// One imported third party.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The office's short name for them.
    pub short: String,
    /// Their signed card, as imported.
    pub card: SignedCard,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct List {
    third_parties: Vec<Entry>,
}

/// Checks a short name: 1 to 32 characters of a-z, 0-9 and '-'.
fn short_name(raw: &str) -> Result<String> {
    let ok = (1..=32).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        bail!(
            "the short name {raw:?} is not 1 to 32 characters of a-z, 0-9 and '-'; pass one such as --as chem-head"
        );
    }
    Ok(raw.to_owned())
}

fn load(home: &Home, pass: &SecretString) -> Result<List> {
    let path = home.file(home::THIRD_PARTIES);
    if !path.exists() {
        return Ok(List::default());
    }
    let bytes = std::fs::read(&path)
        .with_context(|| format!("could not read the third-party list {}", path.display()))?;
    let plain = keystore::open(keystore::Kind::ThirdPartyList, &bytes, pass)
        .with_context(|| format!("could not unlock the third-party list {}", path.display()))?;
    serde_json::from_slice(&plain)
        .with_context(|| format!("the third-party list {} is damaged", path.display()))
}

fn save(home: &Home, pass: &SecretString, list: &List) -> Result<()> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(list)?);
    let sealed = keystore::seal(keystore::Kind::ThirdPartyList, &json, pass)?;
    home::write_private(&home.file(home::THIRD_PARTIES), &sealed)
}

/// The imported third party called `short`, its card verified: what `handoff propose --to`
/// names.
pub fn find(home: &Home, pass: &SecretString, short: &str) -> Result<(SignedCard, ThirdPartyCard)> {
    let short = short_name(short)?;
    let list = load(home, pass)?;
    let Some(entry) = list.third_parties.into_iter().find(|e| e.short == short) else {
        bail!(
            "no third party called {short:?} is imported; see `candor office third-party list`, \
             or import their card with `candor office third-party add CARD_FILE --as {short}`"
        );
    };
    let card = entry
        .card
        .verify_third_party()
        .map_err(|e| anyhow!("the stored card of {short:?} does not verify: {e}"))?;
    Ok((entry.card, card))
}

#[derive(Serialize)]
struct Shown {
    short: String,
    name: String,
    fingerprint: String,
    mandatory_reporter: bool,
    relay: String,
}

fn shown(short: &str, card: &ThirdPartyCard) -> Result<Shown> {
    Ok(Shown {
        short: short.to_owned(),
        name: card.name.clone(),
        fingerprint: card.fingerprint().map_err(|e| anyhow!("{e}"))?.to_string(),
        mandatory_reporter: card.mandatory_reporter,
        relay: card.relay.to_string(),
    })
}

/// `candor office third-party add CARD_FILE --as SHORTNAME`.
pub fn add(ctx: &Context, args: ThirdPartyAddArgs) -> Result<()> {
    let short = short_name(&args.short)?;
    let bytes = std::fs::read(&args.card_file)
        .with_context(|| format!("could not read the card file {}", args.card_file.display()))?;
    let signed = SignedCard::from_json(String::from_utf8_lossy(&bytes).trim().as_bytes())
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| {
            format!(
                "{} is not a third-party card; ask for the output of `candor third-party card`",
                args.card_file.display()
            )
        })?;
    let card = signed
        .verify_third_party()
        .map_err(|e| anyhow!("{e}"))
        .context("the card does not verify; ask the third party for a fresh one")?;
    let show = shown(&short, &card)?;
    crate::output::note(&format!(
        "{} ({})\nFingerprint: {}\nMandatory reporter: {}",
        show.name,
        show.relay,
        show.fingerprint,
        if show.mandatory_reporter { "yes" } else { "no" }
    ));
    if !input::confirm(
        "Does this fingerprint match the one the third party read to you?",
        args.yes,
        "--yes",
    )? {
        bail!("nothing imported: the fingerprint was not confirmed");
    }
    let (_, pass) = unlock_keeping_passphrase(&ctx.home)?;
    let mut list = load(&ctx.home, &pass)?;
    if list.third_parties.iter().any(|e| e.short == short) {
        bail!("a third party is already called {short:?}; remove it first or choose another --as");
    }
    if list.third_parties.iter().any(|e| {
        e.card
            .verify_third_party()
            .is_ok_and(|c| c.signing_key == card.signing_key)
    }) {
        bail!("this card is already imported; see `candor office third-party list`");
    }
    list.third_parties.push(Entry {
        short: short.clone(),
        card: signed,
    });
    save(&ctx.home, &pass, &list)?;
    ctx.out
        .either(&show, |_| format!("Imported {} as {short}.", show.name))
}

/// `candor office third-party list`.
pub fn list(ctx: &Context) -> Result<()> {
    let (_, pass) = unlock_keeping_passphrase(&ctx.home)?;
    let list = load(&ctx.home, &pass)?;
    let mut rows = Vec::new();
    for e in &list.third_parties {
        let card = e
            .card
            .verify_third_party()
            .map_err(|err| anyhow!("the stored card of {:?} does not verify: {err}", e.short))?;
        rows.push(shown(&e.short, &card)?);
    }
    ctx.out.either(&rows, |_| {
        if rows.is_empty() {
            return "No third parties imported; add one with `candor office third-party add`."
                .to_owned();
        }
        rows.iter()
            .map(|r| {
                format!(
                    "{}  {}  {}  mandatory reporter: {}",
                    r.short,
                    r.name,
                    r.fingerprint,
                    if r.mandatory_reporter { "yes" } else { "no" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `candor office third-party remove SHORTNAME`.
pub fn remove(ctx: &Context, args: ThirdPartyRemoveArgs) -> Result<()> {
    let short = short_name(&args.short)?;
    let (_, pass) = unlock_keeping_passphrase(&ctx.home)?;
    let mut list = load(&ctx.home, &pass)?;
    let before = list.third_parties.len();
    list.third_parties.retain(|e| e.short != short);
    if list.third_parties.len() == before {
        bail!("no third party called {short:?}; see `candor office third-party list`");
    }
    save(&ctx.home, &pass, &list)?;
    ctx.out
        .either(&serde_json::json!({ "removed": short }), |_| {
            format!("Removed {short}.")
        })
}
