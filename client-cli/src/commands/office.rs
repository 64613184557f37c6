//! `candor office …`: the office's keys, its signed card and its address.
//!
//! The home holds two files: `office.key`, the identity secret in an encrypted keystore, and
//! `office-card.json`, the card in plaintext (it is public). The card's keys must match the
//! keystore's.

mod migrate;
mod publish;
pub mod third_parties;

pub use publish::publish;

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::card::OFFICE_CARD_VERSION;
use candor_protocol::{Identity, MailboxId, OfficeCard, OfficeId, RecordsKey, RelayUrl, limits};
use serde::Serialize;

use super::{Context, today};
use crate::cli::{BundleArgs, ImportArgs, InitArgs};
use crate::home::{self, Home};
use crate::input;
use crate::keystore;
use crate::label::Labeler;
use crate::output;
use crate::policy;

/// The office's unlocked keys and its card.
pub struct OfficeKeys {
    /// The identity: signing and KEM keys.
    pub identity: Identity,
    /// The card as last saved.
    pub card: OfficeCard,
    /// The records key, which seals the office's tallies.
    pub records: RecordsKey,
}

impl OfficeKeys {
    /// The office's label of a case ([`Labeler::label`]): what people type, never the mailbox ID.
    pub fn label(&self, mailbox: &MailboxId) -> String {
        Labeler::new(&self.identity).label(mailbox)
    }
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
    own_card(&bytes, &path.display().to_string())
}

/// Parses the office's own card, as its home (or a key bundle, named by `origin`) holds it. A
/// card of the first format is read as the current one, with a note that the next publish
/// saves and sends it, so that an office that upgrades keeps its keys and its address.
pub fn own_card(bytes: &[u8], origin: &str) -> Result<OfficeCard> {
    #[derive(serde::Deserialize)]
    struct Version {
        v: u64,
    }
    let version: Version = serde_json::from_slice(bytes)
        .with_context(|| format!("the office card {origin} is damaged"))?;
    if version.v == 1 {
        let card = migrate::from_v1(bytes).with_context(|| {
            format!("the office card {origin} is of candor's first format and cannot be converted")
        })?;
        output::note(&format!(
            "note: the office card {origin} is of candor's first format. It was read with the \
             default constituencies and outcomes; `candor office publish` saves and sends it in \
             the current format."
        ));
        return Ok(card);
    }
    if version.v != u64::from(OFFICE_CARD_VERSION) {
        bail!(
            "the office card {origin} has format version {}, and this candor reads version {}: \
             use a candor that reads it",
            version.v,
            OFFICE_CARD_VERSION
        );
    }
    serde_json::from_slice(bytes).with_context(|| format!("the office card {origin} is damaged"))
}

/// Reads the card and unlocks the keystore with the passphrase.
pub fn unlock(home: &Home) -> Result<OfficeKeys> {
    unlock_keeping_passphrase(home).map(|(keys, _)| keys)
}

/// As [`unlock`], also returning the passphrase, for files sealed under the same one.
pub fn unlock_keeping_passphrase(home: &Home) -> Result<(OfficeKeys, secrecy::SecretString)> {
    let card = load_card(home)?;
    let path = home.file(home::OFFICE_KEY);
    let bytes = std::fs::read(&path)
        .with_context(|| format!("could not read the office keystore {}", path.display()))?;
    let pass = input::passphrase(input::PASSPHRASE_ENV, "Office keystore passphrase")?;
    let identity = keystore::open_identity(&bytes, &pass, &card)
        .with_context(|| format!("could not unlock the office keystore {}", path.display()))?;
    let records = records_key(home, &pass)?;
    Ok((
        OfficeKeys {
            identity,
            card,
            records,
        },
        pass,
    ))
}

/// Opens the records keystore under the office keystore's passphrase; an office made before
/// there were records gets a new key here, once.
fn records_key(home: &Home, pass: &secrecy::SecretString) -> Result<RecordsKey> {
    let path = home.file(home::RECORDS_KEY);
    match std::fs::read(&path) {
        Ok(bytes) => keystore::open_records_key(&bytes, pass).with_context(|| {
            format!(
                "could not unlock the records keystore {}: it takes the office keystore's \
                 passphrase; import it again with `candor office import-keys FILE`",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = RecordsKey::generate(&mut candor_protocol::rand::rng());
            home::write_private(&path, &keystore::seal_records_key(&key, pass)?)?;
            output::note(&format!(
                "note: made the office's records key in {}; it seals the anonymous tallies of \
                 closed cases. Share it with `candor office export-keys`.",
                path.display()
            ));
            Ok(key)
        }
        Err(e) => Err(anyhow!("could not read {}: {e}", path.display())),
    }
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
        // Transliterated first (deunicode), so that "Ünïcode Øffice" gives unicode-office, not
        // n-code-ffice: the protocol crate's slug keeps only ASCII letters and digits.
        None => OfficeId::slug(&deunicode::deunicode(&args.name))
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
    let mut card = OfficeCard {
        v: OFFICE_CARD_VERSION.into(),
        serial: 1,
        // `publish` sets the expiry anew; this one only makes the saved card valid.
        expires: today().plus(limits::DEFAULT_CARD_VALID_DAYS),
        id,
        name: args.name.trim().to_owned(),
        relay,
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: policy_texts,
        retention_days: args.retention_days,
        reply_within_days: args.reply_within_days,
        close_grace_days: args.close_grace_days,
        categories: policy::default_categories(),
        constituencies: policy::default_constituencies(),
        outcomes: policy::default_outcomes(),
        resources,
    };
    if let Some(path) = &args.lists {
        apply_lists(&mut card, policy::load_lists(path)?);
    }
    // Sign once now, so that a card the relay would refuse is caught before anything is saved.
    check_card(
        &card,
        &identity,
        &[&args.lists, &args.resources, &args.policy],
    )?;
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

fn apply_lists(card: &mut OfficeCard, lists: policy::Lists) {
    if let Some(list) = lists.categories {
        card.categories = list;
    }
    if let Some(list) = lists.constituencies {
        card.constituencies = list;
    }
    if let Some(list) = lists.outcomes {
        card.outcomes = list;
    }
}

/// Signs the card once and verifies it as a visitor would today, so that a card that breaks a
/// field rule is refused, naming the files it came from, before it is saved or sent.
fn check_card(
    card: &OfficeCard,
    identity: &Identity,
    files: &[&Option<std::path::PathBuf>],
) -> Result<()> {
    let verified = card
        .sign(identity)
        .and_then(|signed| signed.verify_office_at(&card.address()?, crate::relay::unix_now()));
    verified.map(drop).map_err(|e| {
        let from: Vec<String> = files
            .iter()
            .filter_map(|f| f.as_ref().map(|p| p.display().to_string()))
            .collect();
        let hint = if from.is_empty() {
            "the office card breaks a rule; nothing was saved or published".to_owned()
        } else {
            format!(
                "the office card made with {} breaks a rule; fix the file and try again \
                 (nothing was saved or published)",
                from.join(" and ")
            )
        };
        anyhow::Error::new(e).context(hint)
    })
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
    let bundle = keystore::seal_bundle(&keys.identity, &keys.records, &keys.card, &pass)?;
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
    let (identity, records, card) = keystore::open_bundle(&bytes, &pass)
        .with_context(|| format!("could not open the bundle {}", args.file.display()))?;
    let keystore_pass = input::new_passphrase(
        input::PASSPHRASE_ENV,
        "Choose a passphrase for this computer's office keystore",
    )?;
    save(&ctx.home, Some((&identity, &keystore_pass)), &card)?;
    let records_path = ctx.home.file(home::RECORDS_KEY);
    match records {
        Some(key) => home::write_private(
            &records_path,
            &keystore::seal_records_key(&key, &keystore_pass)?,
        )?,
        // A bundle of the older kind: a records key made here would not open the tallies the
        // office's other staff record, so none is kept; the next unlock makes one.
        None => home::remove(&records_path)?,
    }
    let address = card.address()?.to_string();
    ctx.out.either(
        &serde_json::json!({ "office": card.id, "address": address, "home": ctx.home.dir().display().to_string() }),
        |s| format!("Imported the keys of {} into {}.\nAddress: {address}", s.bold(&card.name), ctx.home.dir().display()),
    )
}
