//! `--fill-cases N --office-home HOME --data-dir DIR`: opens N genuine open cases of a real
//! office in a stopped relay's store, for measuring `candor inbox` against that relay.
//!
//! Each case is what `candor raise` makes: a fresh codename, the case keys it derives for the
//! office's fingerprint, and a first message from the visitor (a short text, zero to three of
//! the card's categories, a constituency four times in five, urgent one time in twenty), sealed
//! to the office's KEM key and signed by the case key with [`Message::seal`], so that the
//! office's client opens and verifies it exactly as a real one. It is stored by the relay's own
//! `Store::open_mailbox`, the call the open route makes, with a proof-of-work token that
//! expires as a real one would. Only the office card is read: a visitor needs no office secret.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use candor_protocol::card::CaseCategories;
use candor_protocol::seal::Sealer;
use candor_protocol::{Codename, Day, Message};
use candor_server::store::{NewMailbox, Store, TokenKind, UsedToken};
use rand::RngExt;
use rand::seq::IndexedRandom as _;

use crate::tallies::{office_card, office_store, unlimited};

const DAY: u64 = 86_400;

/// Opens `count` cases of the office in `home` in the store of the stopped relay's data
/// directory `dir`. Blocking.
pub fn fill(dir: &Path, home: &Path, count: usize) -> Result<()> {
    let started = Instant::now();
    let card = office_card(home)?;
    let fingerprint = card.fingerprint()?;
    let store = office_store(dir, &card)?;
    let quotas = unlimited();
    let rng = &mut rand::rng();
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let today = Day::from_unix(t);
    let categories: Vec<_> = card.categories.iter().map(|c| c.id.clone()).collect();
    let constituencies: Vec<_> = card.constituencies.iter().map(|c| c.id.clone()).collect();
    for i in 0..count {
        let case = Codename::generate(rng).derive(&fingerprint);
        let n = match rng.random_range(0..10) {
            0 => 0,
            1..=6 => 1,
            7 | 8 => 2,
            _ => 3,
        }
        .min(categories.len());
        let mut message = Message::text(
            format!("Concern number {i}, as a visitor writes it."),
            today,
        );
        message.categories =
            CaseCategories::try_from(categories.sample(rng, n).cloned().collect::<Vec<_>>())?;
        message.constituency = if rng.random_range(0..5) == 0 {
            None
        } else {
            constituencies.choose(rng).cloned()
        };
        message.urgent = rng.random_range(0..20) == 0;
        let sealer = Sealer::visitor(&case, card.kem_public_key(), true);
        let first = message.seal(&sealer, rng)?;
        let mailbox = NewMailbox {
            id: case.mailbox,
            office: card.id.clone(),
            signing_key: case.signing.public_key().to_bytes(),
            kem_key: case.kem.public_key().to_bytes(),
            expiry: t + 30 * DAY,
            first,
        };
        let pow = UsedToken {
            kind: TokenKind::Pow,
            random: rng.random(),
            expires: t + DAY,
        };
        store.open_mailbox(&mailbox, &pow, &quotas)?;
        // Commit in groups, as the relay's flusher does while requests wait.
        if (i + 1) % 1_000 == 0 {
            store.flush_covering(&mut || {})?;
        }
    }
    store.flush()?;
    let open = store.inbox(&card.id, 0, usize::MAX)?.len();
    eprintln!(
        "opened {count} cases of office {} in {:.1} s (its inbox lists {open}); {:.0} MB on disk",
        card.id,
        started.elapsed().as_secs_f64(),
        store.size_on_disk()? as f64 / 1e6
    );
    Ok(())
}
