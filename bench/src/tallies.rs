//! `--fill-tallies N --office-home HOME --data-dir DIR`: puts N genuine tallies of a real office
//! into a stopped relay's store, for measuring `candor report` against that relay.
//!
//! The office is one made by `candor office init` and registered on the relay with
//! `candor office publish`. Its records key is read from `HOME/records.key` under the office
//! passphrase (`CANDOR_PASSPHRASE`), the way the client reads it: the keystore format of
//! `client-cli/src/keystore.rs` (Argon2id over the passphrase and the file's salt, then
//! XChaCha20-Poly1305 with the AAD binding the kind and the parameters). It is rebuilt here,
//! not shared, because the client is a binary crate; a file this code cannot open fails on its
//! tag, so the two cannot drift apart unnoticed.
//!
//! Each tally is a [`Tally`] of the card's own categories, constituencies and outcomes, in one
//! of the twelve quarters before the current one, sealed with [`Tally::seal`] under that key,
//! and stored by the relay's own storage code exactly as `POST /v1/mailboxes/{id}/close`
//! stores it: a mailbox is opened (`Store::open_mailbox`), then closed with the tally
//! (`Store::close_recording`, with the route's keep-until year). The closed mailboxes are given
//! an expiry in the past and removed by the relay's own `Store::sweep`, with their spent
//! proof-of-work tokens, so the relay starts as it would years later: holding the office and
//! its tallies, not the cases. `candor report` then fetches and opens all of them over HTTP.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use candor_protocol::card::OfficeCard;
use candor_protocol::encoding::{b64_array, b64_vec};
use candor_protocol::{Day, MailboxId, Quarter, RecordsKey, Tally, TallyId};
use candor_server::startup::{STORE_DIR, open_store};
use candor_server::store::sled::SledStore;
use candor_server::store::{NewMailbox, NewTally, Quotas, Store, TokenKind, UsedToken};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngExt;
use rand::seq::IndexedRandom as _;

/// The relay's default statistics retention (`statistics_retention_years`).
const RETENTION_YEARS: u16 = 10;
const DAY: u64 = 86_400;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    #[serde(with = "b64_array")]
    salt: [u8; 16],
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeystoreFile {
    format: String,
    v: u64,
    kind: String,
    kdf: KdfParams,
    #[serde(with = "b64_array")]
    nonce: [u8; 24],
    #[serde(with = "b64_vec")]
    ct: Vec<u8>,
}

/// Opens `HOME/records.key` as `candor` does (`keystore::open_records_key`).
fn records_key(home: &Path, passphrase: &str) -> Result<RecordsKey> {
    const KIND: &str = "records-key";
    let path = home.join("records.key");
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (make the office with `candor office init`)",
            path.display()
        )
    })?;
    let file: KeystoreFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a candor keystore", path.display()))?;
    if file.format != "candor-keystore" || file.v != 1 || file.kind != KIND {
        bail!("{} is not a version-1 records keystore", path.display());
    }
    let k = &file.kdf;
    if k.alg != "argon2id" {
        bail!("{} uses the key derivation {}", path.display(), k.alg);
    }
    let params = Params::new(k.m_kib, k.t, k.p, Some(32)).map_err(|e| anyhow!("{e}"))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &k.salt, &mut key)
        .map_err(|e| anyhow!("{e}"))?;
    let mut aad = b"candor/v1/keystore".to_vec();
    aad.extend_from_slice(&1u64.to_be_bytes());
    aad.extend_from_slice(KIND.as_bytes());
    aad.push(0);
    for n in [k.m_kib, k.t, k.p] {
        aad.extend_from_slice(&n.to_be_bytes());
    }
    aad.extend_from_slice(&k.salt);
    let plain = XChaCha20Poly1305::new(&Key::from(key))
        .decrypt(
            &XNonce::from(file.nonce),
            Payload {
                msg: &file.ct,
                aad: &aad,
            },
        )
        .map_err(|_| {
            anyhow!(
                "could not open {}: wrong CANDOR_PASSPHRASE, or a damaged file",
                path.display()
            )
        })?;
    let plain: &[u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| anyhow!("{} holds no 32-byte key", path.display()))?;
    Ok(RecordsKey::from_bytes(plain))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The twelve quarters before the current one, oldest first.
fn quarters(today: Day) -> Result<Vec<Quarter>> {
    let q = Quarter::of_day(today);
    let mut index = i32::from(q.year()) * 4 + i32::from(q.number()) - 1;
    let mut out = Vec::new();
    for _ in 0..12 {
        index -= 1;
        let (year, number) = (index / 4, index % 4 + 1);
        out.push(Quarter::new(year as u16, number as u8)?);
    }
    out.reverse();
    Ok(out)
}

/// The office card in `home`, as `candor office init` wrote it; needs no passphrase.
pub(crate) fn office_card(home: &Path) -> Result<OfficeCard> {
    let card_path = home.join("office-card.json");
    serde_json::from_slice(
        &std::fs::read(&card_path).with_context(|| format!("reading {}", card_path.display()))?,
    )
    .with_context(|| format!("{} is not a current office card", card_path.display()))
}

/// The store of the stopped relay's data directory `dir`, on which `card`'s office must be
/// registered.
pub(crate) fn office_store(dir: &Path, card: &OfficeCard) -> Result<SledStore> {
    let store = open_store(&dir.join(STORE_DIR), 64 * 1024 * 1024)?;
    if store.office(&card.id)?.is_none() {
        bail!(
            "office {} is not registered on this relay: run `candor office publish` first",
            card.id
        );
    }
    Ok(store)
}

/// No quota: a bench fills far past the relay's defaults.
pub(crate) fn unlimited() -> Quotas {
    Quotas {
        mailboxes_per_office: u64::MAX,
        envelopes_per_mailbox: u64::MAX,
        bytes_per_mailbox: u64::MAX,
        packages_per_mailbox: u64::MAX,
        channels_per_office: u64::MAX,
        notes_per_mailbox: u64::MAX,
        bytes_per_office: u64::MAX,
    }
}

/// Fills the store of the stopped relay's data directory `dir` with `count` tallies of the
/// office in `home`, sealed under its records key. Blocking.
pub fn fill(dir: &Path, home: &Path, count: usize) -> Result<()> {
    let started = Instant::now();
    let card = office_card(home)?;
    let passphrase = std::env::var("CANDOR_PASSPHRASE")
        .context("set CANDOR_PASSPHRASE to the office keystore's passphrase")?;
    let key = records_key(home, &passphrase)?;
    if card.outcomes.is_empty() {
        bail!("the office card lists no outcomes");
    }
    let store = office_store(dir, &card)?;
    let quotas = unlimited();
    let rng = &mut rand::rng();
    let t = now();
    let today = Day::from_unix(t);
    let quarters = quarters(today)?;
    let keep_until = Quarter::of_day(today).year() + RETENTION_YEARS;
    // Expiries and token lifetimes long past: the sweep below removes the closed mailboxes and
    // their tokens, and nothing else has expired by then.
    let past = t - t % 3600 - 3 * DAY;
    let categories: Vec<_> = card.categories.iter().map(|c| c.id.clone()).collect();
    let constituencies: Vec<_> = card.constituencies.iter().map(|c| c.id.clone()).collect();
    let outcomes: Vec<_> = card.outcomes.iter().map(|c| c.id.clone()).collect();
    for i in 0..count {
        // Zero to three categories (mostly one), a constituency four times in five.
        let n = match rng.random_range(0..10) {
            0 => 0,
            1..=6 => 1,
            7 | 8 => 2,
            _ => 3,
        }
        .min(categories.len());
        let chosen: Vec<_> = categories.sample(rng, n).cloned().collect();
        let constituency = if rng.random_range(0..5) == 0 {
            None
        } else {
            constituencies.choose(rng).cloned()
        };
        let outcome = outcomes
            .choose(rng)
            .cloned()
            .ok_or_else(|| anyhow!("no outcome"))?;
        let quarter = *quarters.choose(rng).ok_or_else(|| anyhow!("no quarter"))?;
        let tally = Tally::new(chosen, quarter, constituency, outcome)?;
        let sealed = tally.seal(&key, &card.id, rng)?;

        let signing_key: [u8; 32] = rng.random();
        let kem_key: [u8; 32] = rng.random();
        let id = MailboxId::of_case(&signing_key, &kem_key);
        let mailbox = NewMailbox {
            id,
            office: card.id.clone(),
            signing_key,
            kem_key,
            expiry: t + 30 * DAY,
            first: crate::scale::first_envelope(id, rng),
        };
        let pow = UsedToken {
            kind: TokenKind::Pow,
            random: rng.random(),
            expires: past,
        };
        store.open_mailbox(&mailbox, &pow, &quotas)?;
        let tally = NewTally {
            id: TallyId::random(rng),
            keep_until,
            sealed,
        };
        store.close_recording(&id, None, Some(&tally), past, &quotas)?;
        // Commit in groups, as the relay's flusher does while requests wait.
        if (i + 1) % 1_000 == 0 {
            store.flush_covering(&mut || {})?;
        }
        if (i + 1) % 20_000 == 0 {
            eprintln!(
                "  {} tallies in {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let (mut mailboxes, mut tokens) = (0, 0);
    loop {
        let swept = store.sweep(past + 1, 10_000)?;
        mailboxes += swept.mailboxes;
        tokens += swept.tokens;
        if !swept.more {
            break;
        }
    }
    store.flush()?;
    let stored = {
        let mut n = 0;
        let mut after = None;
        loop {
            let page = store.tallies(&card.id, after.as_ref(), 1000)?;
            n += page.len();
            match page.last() {
                Some(t) if page.len() == 1000 => after = Some(t.id),
                _ => break,
            }
        }
        n
    };
    eprintln!(
        "stored {count} tallies of office {} in {:.1} s (the office now has {stored}); swept \
         {mailboxes} closed mailboxes and {tokens} spent tokens; {:.0} MB on disk",
        card.id,
        started.elapsed().as_secs_f64(),
        store.size_on_disk()? as f64 / 1e6
    );
    Ok(())
}
