//! `candor raise`, `check`, `send`, `destroy` and `forget`: the visitor's side.
//!
//! The visitor has no account. Every command fetches the office card, verifies it against the
//! address (exit code 4 if it does not match), and derives the case's keys and mailbox from the
//! codename and the office fingerprint. Nothing about the case touches the disk unless the
//! visitor passes `--remember`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use candor_protocol::api::{OPEN_MAILBOX_VERSION, OpenMailbox};
use candor_protocol::pow::{Challenge, Solution};
use candor_protocol::{
    CaseKeys, Codename, Direction, MailboxId, Message, OfficeAddress, OfficeCard,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{Context, today};
use crate::cli::{DestroyArgs, ForgetArgs, RaiseArgs, SendArgs, VisitorArgs};
use crate::compose::compose;
use crate::error::Unverified;
use crate::output::{self, Style, escape_remote};
use crate::relay::{Auth, Relay, RelayError};
use crate::thread::{Thread, Viewer};
use crate::{input, remember};

/// The verified office and a client for its relay.
struct Office {
    relay: Relay,
    card: OfficeCard,
    address: OfficeAddress,
}

/// Fetches the office card from the relay named in the address and verifies it: the fingerprint,
/// the office ID and the signature must all match.
fn verified_office(ctx: &Context, address: &OfficeAddress) -> Result<Office> {
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
    let card = signed.verify_office_at(address).map_err(|_| {
        Unverified(format!(
            "the office card that {} served does not match the address: its key or its name \
             differs, or its signature is bad. Do not go on: check that the address is exactly \
             the one the office published; if it is, someone may be impersonating the office",
            address.relay
        ))
    })?;
    Ok(Office {
        relay,
        card,
        address: address.clone(),
    })
}

fn case_auth(case: &CaseKeys) -> Auth<'_> {
    Auth {
        key: &case.signing,
        signer: candor_protocol::Signer::Case,
    }
}

/// Explains a 404 on a case: never "not found" alone, because a codename that passed its
/// checksum can still be mistyped.
fn case_error(office: &Office, err: RelayError) -> anyhow::Error {
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

/// The codename: from `CANDOR_CODENAME`, else remembered on this computer, else typed.
fn codename(ctx: &Context, address: &OfficeAddress) -> Result<Codename> {
    if std::env::var_os(input::CODENAME_ENV).is_none_or(|v| v.is_empty())
        && let Some(c) = remember::lookup(&ctx.home, address)?
    {
        return Ok(c);
    }
    input::codename()
}

fn remember_if_asked(
    ctx: &Context,
    args: &VisitorArgs,
    codename: &Codename,
) -> Result<Option<String>> {
    if !args.remember {
        return Ok(None);
    }
    let path = remember::remember(&ctx.home, &args.address.0, codename)?;
    Ok(Some(path.display().to_string()))
}

fn show_policy(card: &OfficeCard, style: &Style) {
    let p = &card.policy;
    let width = output::stderr_width();
    let mut text = format!("\n{}\n", style.bold(&escape_remote(&card.name)));
    for (title, body) in [
        ("Confidentiality", &p.confidentiality),
        ("The exception", &p.exception),
        ("Not formal notice", &p.not_notice),
        ("What is kept, and for how long", &p.retention),
    ] {
        text.push_str(&format!(
            "\n{}\n{}",
            style.bold(title),
            output::wrap(body, width, "")
        ));
    }
    output::note(&text);
}

#[derive(Serialize)]
struct Raised<'a> {
    codename: &'a str,
    office: &'a str,
    address: String,
    seq: u64,
    remembered: Option<String>,
}

/// `candor raise OFFICE_ADDRESS`.
pub fn raise(ctx: &Context, args: RaiseArgs) -> Result<()> {
    let office = verified_office(ctx, &args.visitor.address.0)?;
    let card = &office.card;
    let style = Style::stderr();

    // Policy first, before anything is written.
    if !(ctx.out.is_json() && args.yes) {
        show_policy(card, &style);
    }
    let acknowledged = input::confirm(
        "I have read this, and I understand that this is not formal notice",
        args.yes,
        "--yes",
    )?;
    if !acknowledged {
        bail!("you did not acknowledge the office's policy, so nothing was sent");
    }

    let category = match &args.category {
        Some(id) => Some(check_category(card, id)?),
        None if input::interactive() && !card.categories.is_empty() => {
            let labels: Vec<String> = card
                .categories
                .iter()
                .map(|c| escape_remote(&c.label).into_owned())
                .collect();
            input::select("What is it about?", &labels, "Prefer not to say")?
                .map(|i| card.categories[i].id.clone())
        }
        None => None,
    };
    let constituency = match &args.constituency {
        Some(c) if !c.trim().is_empty() => Some(c.trim().to_owned()),
        Some(_) => None,
        None if input::interactive() => {
            input::line("Your constituency (student, faculty, staff, …), or Enter to skip")?
        }
        None => None,
    };
    let urgent = args.urgent
        || (input::interactive()
            && input::ask(
                "Is someone at imminent risk of serious harm? (the office will read this first)",
            )?);

    let text = compose(
        args.message.message_file.as_deref(),
        &format!(
            "Your message to {}. Do not include your name unless you want the office to know it.",
            card.name
        ),
    )?;
    let mut message = Message::text(text.as_str(), today());
    message.category = category;
    message.constituency = constituency;
    message.urgent = urgent;

    let rng = &mut candor_protocol::rand::rng();
    let codename = Codename::generate(rng);
    let case = codename.derive(&office.address.fingerprint);
    let envelope = message.seal(
        &case.kem,
        &card.kem_public_key(),
        case.mailbox,
        Direction::ToOffice,
        None,
        rng,
    )?;

    open_mailbox(&office, &case)?;

    let seq = match office.relay.append(&envelope, &case_auth(&case)) {
        Ok(seq) => seq,
        Err(e) => {
            // The case exists: the codename is the only way to retry, so show it anyway.
            output::note(&codename_advice(
                &codename,
                &office.address,
                &style,
                output::stderr_width(),
            ));
            return Err(anyhow::Error::new(e).context(
                "your case is open but the message was not delivered: send it again with \
                 `candor send` and the codename above",
            ));
        }
    };
    let remembered = remember_if_asked(ctx, &args.visitor, &codename)?;

    let words = codename.words();
    let raised = Raised {
        codename: &words,
        office: card.id.as_str(),
        address: office.address.to_string(),
        seq,
        remembered: remembered.clone(),
    };
    ctx.out.either(&raised, |s| {
        let mut text = format!(
            "{} to {}.\n{}",
            s.green("Your concern was sent"),
            escape_remote(&card.name),
            codename_advice(&codename, &office.address, s, output::stdout_width())
        );
        if let Some(path) = &remembered {
            text.push_str(&format!(
                "\nThe codename is also remembered on this computer, encrypted, in {path}.\n\
                 Run `candor forget` to remove it.\n"
            ));
        }
        text
    })
}

/// Difficulties above this would take hours; a relay asking for them is misconfigured.
const MAX_REASONABLE_DIFFICULTY: u8 = 30;

/// Opens the case's mailbox: fetches a challenge, solves it and registers the case keys. A
/// challenge that expired while we solved it is replaced, twice at most.
fn open_mailbox(office: &Office, case: &CaseKeys) -> Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let challenge = office.relay.pow().map_err(|e| {
            anyhow::Error::new(e).context("could not get a proof-of-work challenge")
        })?;
        if challenge.difficulty > MAX_REASONABLE_DIFFICULTY {
            bail!(
                "the relay asks for a proof of work of difficulty {}, which would take hours; it \
                 may be misconfigured, so nothing was sent",
                challenge.difficulty
            );
        }
        let open = OpenMailbox {
            v: OPEN_MAILBOX_VERSION.into(),
            office: office.card.id.clone(),
            mailbox: case.mailbox,
            signing_key: case.signing.public_key().to_bytes(),
            kem_key: case.kem.public_key().to_bytes(),
            pow: solve(&challenge, &case.mailbox),
        };
        match office.relay.open_mailbox(&open, &case.signing) {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < 3 && matches!(e.problem_kind(), Some("pow-invalid" | "pow-used")) =>
            {
                output::note("The proof of work was refused (it may have expired); trying again.");
            }
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context("could not open your case; nothing was sent")
                );
            }
        }
    }
}

fn codename_advice(
    codename: &Codename,
    address: &OfficeAddress,
    s: &Style,
    width: Option<usize>,
) -> String {
    let words = codename.words();
    let list: Vec<&str> = words.split(' ').collect();
    let mut text = format!("\n{}\n\n", s.bold("Your codename:"));
    for row in list.chunks(4) {
        text.push_str(&format!("    {}\n", s.bold(&row.join(" "))));
    }
    text.push('\n');
    text.push_str(&output::wrap(
        "Write it down now and keep it somewhere safe. It is the only way back to your case: \
         with it, and nothing else, you can read the office's replies from any computer:",
        width,
        "",
    ));
    text.push_str(&format!("\n    candor check {address}\n\n"));
    text.push_str(&output::wrap(
        "Nobody can recover it for you: not the office, not the relay, not us. And anyone who \
         has it can read the replies, so keep it to yourself.",
        width,
        "",
    ));
    text
}

fn check_category(card: &OfficeCard, id: &str) -> Result<String> {
    if card.categories.iter().any(|c| c.id == id) {
        return Ok(id.to_owned());
    }
    let known: Vec<String> = card
        .categories
        .iter()
        .map(|c| format!("{} ({})", c.id, c.label))
        .collect();
    Err(anyhow!(
        "the office has no category {id}; choose one of: {}",
        known.join(", ")
    ))
}

/// Solves the proof of work on every core, with a spinner on stderr.
fn solve(challenge: &Challenge, mailbox: &MailboxId) -> Solution {
    const SLICE: u64 = 1 << 14;
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message("Solving the proof of work that protects the office from spam");
    spinner.enable_steady_tick(Duration::from_millis(100));

    let next = AtomicU64::new(0);
    let found = AtomicBool::new(false);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let context = mailbox.as_bytes();
    let nonce = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    while !found.load(Ordering::Relaxed) {
                        let start = next.fetch_add(SLICE, Ordering::Relaxed);
                        if let Some(n) = challenge.solve_range(context, start, SLICE) {
                            found.store(true, Ordering::Relaxed);
                            return Some(n);
                        }
                    }
                    None
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().ok().flatten())
            .min()
    });
    spinner.finish_and_clear();
    match nonce {
        Some(nonce) => Solution {
            challenge: challenge.clone(),
            nonce,
        },
        // Only if every worker panicked; solve on this thread instead.
        None => challenge.solve(context),
    }
}

/// `candor check OFFICE_ADDRESS`.
pub fn check(ctx: &Context, args: VisitorArgs) -> Result<()> {
    let office = verified_office(ctx, &args.address.0)?;
    let codename = codename(ctx, &office.address)?;
    let case = codename.derive(&office.address.fingerprint);
    let stored = office
        .relay
        .envelopes(&case.mailbox, &case_auth(&case))
        .map_err(|e| case_error(&office, e))?;
    let signing = office.card.signing_public_key()?;
    let thread = Thread::for_visitor(&stored, &case, &office.card.kem_public_key(), &signing);
    let remembered = remember_if_asked(ctx, &args, &codename)?;
    ctx.out.either(
        &serde_json::json!({
            "office": office.card.id,
            "messages": thread.to_json(),
            "remembered": remembered,
        }),
        |s| {
            format!(
                "{} {}\n\n{}",
                s.bold("Your case at"),
                s.bold(&escape_remote(&office.card.name)),
                thread.render(
                    Viewer::Visitor,
                    &office.card.name,
                    &office.card.categories,
                    s,
                    output::stdout_width(),
                )
            )
        },
    )?;
    let bad = thread.unreadable();
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(|s| format!("#{s}")).collect();
        return Err(Unverified(format!(
            "message {} claims to come from {} but does not verify: it may be forged, so do not \
             trust it. The messages shown as verified are genuine",
            list.join(", "),
            office.card.name
        ))
        .into());
    }
    Ok(())
}

/// `candor send OFFICE_ADDRESS`.
pub fn send(ctx: &Context, args: SendArgs) -> Result<()> {
    let office = verified_office(ctx, &args.visitor.address.0)?;
    let codename = codename(ctx, &office.address)?;
    let case = codename.derive(&office.address.fingerprint);
    let text = compose(
        args.message.message_file.as_deref(),
        &format!("A follow-up to {}.", office.card.name),
    )?;
    let mut message = Message::text(text.as_str(), today());
    message.urgent = args.urgent;
    let envelope = message.seal(
        &case.kem,
        &office.card.kem_public_key(),
        case.mailbox,
        Direction::ToOffice,
        None,
        &mut candor_protocol::rand::rng(),
    )?;
    let seq = office
        .relay
        .append(&envelope, &case_auth(&case))
        .map_err(|e| case_error(&office, e))?;
    let remembered = remember_if_asked(ctx, &args.visitor, &codename)?;
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
    let codename = codename(ctx, &office.address)?;
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
