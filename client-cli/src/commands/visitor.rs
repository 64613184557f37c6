//! `candor raise` (in [`mod@raise`]), `check`, `send`, `destroy` and `forget`: the visitor's side.
//!
//! The visitor has no account. Every command fetches the office card, verifies it against the
//! address (exit code 4 if it does not match), and derives the case's keys and mailbox from the
//! codename and the office fingerprint. Nothing about the case touches the disk unless the
//! visitor passes `--remember`.

use anyhow::{Result, bail};
use candor_protocol::seal::Sealer;
use candor_protocol::{CaseKeys, Codename, Envelope, Error, Message, OfficeAddress, OfficeCard};

use super::{Context, today};
use crate::cli::{DestroyArgs, ForgetArgs, SendArgs, VisitorArgs};
use crate::compose::{Draft, send_or_keep};
use crate::error::Unverified;
use crate::output::{self, escape_remote};
use crate::relay::{Auth, Relay, RelayError, unix_now};
use crate::thread::{Thread, Viewer};
use crate::{input, remember};

mod pow;
mod raise;
mod resources;

pub use raise::raise;
pub use resources::resources;

/// The verified office and a client for its relay.
pub struct Office {
    /// A client for the office's relay.
    pub relay: Relay,
    /// The verified card.
    pub card: OfficeCard,
    /// The address it was verified against.
    pub address: OfficeAddress,
}

/// Fetches the office card from the relay named in the address and verifies it: the fingerprint,
/// the office ID and the signature must all match, and the card must name the address's relay
/// (a genuine card that another relay copied is refused).
pub fn verified_office(ctx: &Context, address: &OfficeAddress) -> Result<Office> {
    let relay = ctx.relay(&address.relay)?;
    let signed = relay.office_card(&address.office).map_err(|e| {
        let hint = if e.is_not_found() {
            format!(
                "the relay has no office called {}: check that you copied the whole address",
                address.office
            )
        } else {
            "could not fetch the office card".to_owned()
        };
        anyhow::Error::new(e).context(hint)
    })?;
    let card = signed
        .verify_office_at(address, unix_now())
        .map_err(|e| refused_card(address, e))?;
    Ok(Office {
        relay,
        card,
        address: address.clone(),
    })
}

/// Why a card was refused, and what the visitor can do about it.
fn refused_card(address: &OfficeAddress, err: Error) -> Unverified {
    Unverified(match err {
        Error::CardExpired { .. } => format!(
            "{err}. The relay {} may be serving an old card, or the office forgot to publish \
             again; nothing was sent",
            address.relay
        ),
        Error::UnsupportedVersion {
            found, supported, ..
        } if found < u64::from(supported) => format!(
            "the office card that {} served is in the old format {found}, which this candor no \
             longer reads (it reads format {supported}): the office has to publish its card \
             again with a current candor; nothing was sent",
            address.relay
        ),
        Error::UnsupportedVersion { found, .. } => format!(
            "the office card that {} served is in format {found}, newer than this candor reads: \
             update candor; nothing was sent",
            address.relay
        ),
        Error::RelayMismatch { card, .. } => format!(
            "the office card that {} served is the office's own, but it names the relay {card}: \
             {} may have copied it to receive concerns in the office's place. Do not go on \
             through this relay; ask the office for its address (its card says it uses {card}); \
             nothing was sent",
            address.relay, address.relay
        ),
        Error::Malformed { .. } => format!(
            "the office card that {} served breaks the card's rules ({err}); nothing was sent",
            address.relay
        ),
        _ => format!(
            "the office card that {} served does not match the address: its key or its name \
             differs, or its signature is bad. Do not go on: check that the address is exactly \
             the one the office published; if it is, someone may be impersonating the office",
            address.relay
        ),
    })
}

pub fn case_auth(case: &CaseKeys) -> Auth<'_> {
    Auth {
        key: &case.signing,
        signer: candor_protocol::Signer::Case,
    }
}

/// Explains a 404 on a case: never "not found" alone, because a codename that passed its
/// checksum can still be mistyped.
pub fn case_error(office: &Office, err: RelayError) -> anyhow::Error {
    let hint = if err.is_not_found() {
        format!(
            "there is no case for this codename at {}. Check the words you typed (a wrong word \
             occasionally still looks valid); otherwise the case was destroyed, closed by the \
             office, or deleted after {} days without activity",
            office.card.name, office.card.retention_days
        )
    } else {
        "the relay did not answer as expected".to_owned()
    };
    anyhow::Error::new(err).context(hint)
}

/// The codename: from `CANDOR_CODENAME`, else remembered on this computer, else typed. A
/// remembered case also remembers the highest card serial seen for the office, and a card with a
/// lower one is refused: the relay is serving a superseded card.
pub fn codename(ctx: &Context, office: &Office) -> Result<Codename> {
    if std::env::var_os(input::CODENAME_ENV).is_none_or(|v| v.is_empty())
        && let Some(mut memory) = remember::unlock(&ctx.home)?
        && let Some(c) = memory.codename(&office.address)?
    {
        let seen = memory.seen_serial(&office.address);
        if office.card.serial < seen {
            return Err(Unverified(format!(
                "the relay {} served card serial {} of {}, but this computer has already seen \
                 serial {seen}: the relay may be serving a superseded card, with old policy \
                 texts or keys. Nothing was sent. Try again later; if it persists, tell the \
                 office",
                office.address.relay, office.card.serial, office.card.name
            ))
            .into());
        }
        memory.saw_serial(&ctx.home, &office.address, office.card.serial)?;
        return Ok(c);
    }
    input::codename()
}

/// With `--remember`, unlocks (or starts) the remembered codenames now: a passphrase is asked
/// for before the request that creates or changes anything, never after it.
fn prepare_remember(ctx: &Context, args: &VisitorArgs) -> Result<Option<remember::Unlocked>> {
    if !args.remember {
        return Ok(None);
    }
    remember::unlock_or_start(&ctx.home).map(Some).map_err(|e| {
        e.context(format!(
            "--remember needs the passphrase of your remembered codenames, and nothing was sent: \
             set {}, or run this command in a terminal, or leave out --remember",
            input::PASSPHRASE_ENV
        ))
    })
}

fn remember_if_asked(
    ctx: &Context,
    prepared: Option<remember::Unlocked>,
    address: &OfficeAddress,
    codename: &Codename,
    card: &OfficeCard,
) -> Result<Option<String>> {
    let Some(unlocked) = prepared else {
        return Ok(None);
    };
    let path = unlocked.remember(&ctx.home, address, codename, card.serial)?;
    Ok(Some(path.display().to_string()))
}

/// Refuses an envelope larger than the relay accepts, saying by how much the text must shrink.
fn check_size(office: &Office, envelope: &Envelope, text: &str) -> Result<()> {
    let limits = office
        .relay
        .limits()
        .map_err(|e| anyhow::Error::new(e).context("could not ask the relay what it accepts"))?;
    if let Some((what, ours, theirs)) = limits.versions.mismatch() {
        bail!(
            "the relay at {} does not speak this client's {what} version ({ours}; it accepts \
             {theirs:?}), so nothing was sent and no case was opened: install the candor that \
             the office recommends, or ask the office",
            office.card.relay
        );
    }
    let size = envelope.to_json().len() as u64;
    if size > limits.max_envelope_bytes {
        // Sealing and base64 add about a third; say it in the text's own terms.
        let over = size - limits.max_envelope_bytes;
        bail!(
            "your message is too long for this relay: sealed, it is {size} bytes, and the relay \
             accepts {} (about {} characters fewer would fit; it has {}). Nothing was sent and \
             no case was opened; shorten it, or split it and send the rest with `candor send`",
            limits.max_envelope_bytes,
            over * 3 / 4 + 1,
            text.chars().count()
        );
    }
    Ok(())
}

/// `candor check OFFICE_ADDRESS`.
pub fn check(ctx: &Context, args: VisitorArgs) -> Result<()> {
    let office = verified_office(ctx, &args.address.0)?;
    let codename = codename(ctx, &office)?;
    let case = codename.derive(&office.address.fingerprint);
    let fetched = office
        .relay
        .envelopes(&case.mailbox, &case_auth(&case))
        .map_err(|e| case_error(&office, e))?;
    let signing = office.card.signing_public_key()?;
    let thread = Thread::for_visitor(
        &fetched.envelopes,
        fetched.closed,
        &case,
        &office.card.kem_public_key(),
        &signing,
    );
    let keeper = prepare_remember(ctx, &args)?;
    let remembered = remember_if_asked(ctx, keeper, &office.address, &codename, &office.card)?;
    ctx.out.either(
        &serde_json::json!({
            "office": office.card.id,
            "closed": thread.closed,
            "messages": thread.to_json(),
            "remembered": remembered,
        }),
        |s| {
            let mut text = format!(
                "{} {}\n\n{}",
                s.bold("Your case at"),
                s.bold(&escape_remote(&office.card.name)),
                thread.render(Viewer::Visitor, &office.card, s, output::stdout_width(),)
            );
            text.push_str(&where_it_stands(
                &office.card,
                &thread,
                remembered.as_deref(),
            ));
            text
        },
    )?;
    let bad = thread.unreadable();
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(|s| format!("#{s}")).collect();
        return Err(Unverified(format!(
            "message {} does not verify: it claims to come from {} or from you, but neither \
             wrote it, so it may be forged; do not trust it. The messages shown as verified are \
             genuine",
            list.join(", "),
            office.card.name
        ))
        .into());
    }
    Ok(())
}

/// What the visitor should know after the thread: that no reply has come yet (and when one
/// usually does), when the case is deleted if nothing happens, and what `--remember` saved.
fn where_it_stands(card: &OfficeCard, thread: &Thread, remembered: Option<&str>) -> String {
    let mut text = String::new();
    let replied = thread
        .entries
        .iter()
        .any(|e| e.from == crate::thread::Author::Office);
    if !replied && !thread.closed {
        text.push_str(&format!(
            "No reply yet. {} usually replies within {} working days.\n",
            escape_remote(&card.name),
            card.reply_within_days
        ));
    }
    if !thread.closed {
        text.push_str(&format!(
            "If nothing more is written, the case is deleted about {} days after its last \
             message.\n",
            card.retention_days
        ));
    }
    if let Some(path) = remembered {
        text.push_str(&format!(
            "The codename is remembered on this computer, encrypted, in {path}; `candor forget` \
             removes it.\n"
        ));
    }
    text
}

/// `candor send OFFICE_ADDRESS`.
pub fn send(ctx: &Context, args: SendArgs) -> Result<()> {
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
    let office = verified_office(ctx, &args.visitor.address.0)?;
    let codename = codename(ctx, &office)?;
    let case = codename.derive(&office.address.fingerprint);
    let keeper = prepare_remember(ctx, &args.visitor)?;
    let text = draft.compose(&format!("A follow-up to {}.", office.card.name))?;
    let mut message = Message::text(text.as_str(), today());
    message.urgent = args.urgent;
    let sealer = Sealer::visitor(&case, office.card.kem_public_key(), !args.no_copy);
    let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
    check_size(&office, &envelope, text.as_str())?;
    let seq = send_or_keep(text.as_str(), || {
        office.relay.append(&envelope, &case_auth(&case)).map_err(|e| {
            if e.problem_kind() == Some("conflict") {
                return anyhow::Error::new(e).context(format!(
                    "{} has closed this case, so it takes no more messages; you can still read \
                     it with `candor check` for a while. To raise something new, use `candor raise`",
                    office.card.name
                ));
            }
            case_error(&office, e)
        })
    })?;
    let remembered = remember_if_asked(ctx, keeper, &office.address, &codename, &office.card)?;
    ctx.out.either(
        &serde_json::json!({ "office": office.card.id, "seq": seq, "remembered": remembered }),
        |s| {
            format!(
                "{} to {} (message #{seq}).",
                s.green("Sent"),
                escape_remote(&office.card.name)
            )
        },
    )
}

/// `candor destroy OFFICE_ADDRESS`.
pub fn destroy(ctx: &Context, args: DestroyArgs) -> Result<()> {
    let office = verified_office(ctx, &args.address.0)?;
    let codename = codename(ctx, &office)?;
    let case = codename.derive(&office.address.fingerprint);
    let confirmed = input::confirm(
        &format!(
            "Destroy your case at {}? Every message in it is deleted from the relay now, and \
             cannot be recovered",
            escape_remote(&office.card.name)
        ),
        args.yes,
        "--yes",
    )?;
    if !confirmed {
        bail!("nothing was destroyed");
    }
    office
        .relay
        .delete_mailbox(&case.mailbox, &case_auth(&case))
        .map_err(|e| case_error(&office, e))?;
    let mut forgotten = false;
    if remember::any(&ctx.home) {
        match remember::forget(&ctx.home, &office.address) {
            Ok(f) => forgotten = f,
            Err(e) => output::warn(&format!(
                "the case is destroyed, but its remembered codename could not be removed ({e:#}); \
                 run `candor forget`"
            )),
        }
    }
    ctx.out.either(
        &serde_json::json!({ "office": office.card.id, "destroyed": true, "forgotten": forgotten }),
        |s| {
            format!(
                "{} your case at {} is deleted from the relay.",
                s.green("Destroyed:"),
                escape_remote(&office.card.name)
            )
        },
    )
}

/// `candor forget OFFICE_ADDRESS`.
pub fn forget(ctx: &Context, args: ForgetArgs) -> Result<()> {
    let forgotten = remember::forget(&ctx.home, &args.address.0)?;
    ctx.out
        .either(&serde_json::json!({ "forgotten": forgotten }), |_| {
            if forgotten {
                "The codename for this office is no longer remembered on this computer. The case \
             itself is still on the relay."
                    .to_owned()
            } else {
                "No codename for this office was remembered on this computer.".to_owned()
            }
        })
}
