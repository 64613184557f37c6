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
use candor_protocol::seal::Sealer;
use candor_protocol::{
    CaseCategories, CaseKeys, Codename, Envelope, Error, ItemId, MailboxId, Message, OfficeAddress,
    OfficeCard,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{Context, today};
use crate::cli::{DestroyArgs, ForgetArgs, RaiseArgs, SendArgs, VisitorArgs};
use crate::compose::Draft;
use crate::error::Unverified;
use crate::output::{self, Style, escape_remote};
use crate::relay::{Auth, Relay, RelayError, unix_now};
use crate::thread::{Thread, Viewer, render_resource};
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

/// The codename: from `CANDOR_CODENAME`, else remembered on this computer, else typed. A
/// remembered case also remembers the highest card serial seen for the office, and a card with a
/// lower one is refused: the relay is serving a superseded card.
fn codename(ctx: &Context, office: &Office) -> Result<Codename> {
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
    reply_within_days: u32,
    urgent_resources: Vec<&'a candor_protocol::Resource>,
}

/// `candor raise OFFICE_ADDRESS`.
pub fn raise(ctx: &Context, args: RaiseArgs) -> Result<()> {
    // A missing or empty message file is refused before the policy is shown.
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
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

    let categories =
        if args.category.is_empty() && input::interactive() && !card.categories.is_empty() {
            let labels: Vec<String> = card
                .categories
                .iter()
                .map(|c| escape_remote(&c.label).into_owned())
                .collect();
            let picked = input::select("What is it about?", &labels, "Prefer not to say")?;
            let ids: Vec<ItemId> = picked
                .map(|i| card.categories[i].id.clone())
                .into_iter()
                .collect();
            pick_categories(card, &ids)?
        } else {
            pick_categories(card, &args.category)?
        };
    let constituency = match &args.constituency {
        Some(id) => Some(check_constituency(card, id)?),
        None if input::interactive() && !card.constituencies.is_empty() => {
            let labels: Vec<String> = card
                .constituencies
                .iter()
                .map(|c| c.label.clone())
                .collect();
            input::select(
                "Who are you, if you want to say?",
                &labels,
                "Prefer not to say",
            )?
            .map(|i| card.constituencies[i].id.clone())
        }
        None => None,
    };
    let urgent = args.urgent
        || (input::interactive()
            && input::ask(
                "Is someone at imminent risk of serious harm? (the office will read this first)",
            )?);
    if urgent {
        // At once, before the message is written and the proof of work runs.
        show_urgent_resources(card, constituency.as_ref(), &style);
    }

    // Every secret and every choice before the case exists: with the case's codename only in
    // memory, a failure after the relay stored it would leave nobody able to reach it.
    let keeper = prepare_remember(ctx, &args.visitor)?;

    let text = draft.compose(&format!(
        "Your message to {}. Do not include your name unless you want the office to know it.",
        card.name
    ))?;
    let mut message = Message::text(text.as_str(), today());
    message.categories = categories;
    message.constituency = constituency.clone();
    message.urgent = urgent;

    let rng = &mut candor_protocol::rand::rng();
    let codename = Codename::generate(rng);
    let case = codename.derive(&office.address.fingerprint);
    let keep_copy = !args.no_copy;
    let envelope = message.seal(
        &Sealer::visitor(&case, card.kem_public_key(), keep_copy),
        rng,
    )?;
    // Before the proof of work, and before any case exists: a message the relay would refuse.
    check_size(&office, &envelope, text.as_str())?;

    // Interactively, the codename is shown, and written down, before the case exists.
    if input::interactive() {
        output::note(&codename_advice(
            &codename,
            &office.address,
            keep_copy,
            &style,
            output::stderr_width(),
        ));
        if !input::ask("I have written down my codename")? {
            bail!(
                "you did not confirm that you wrote down your codename, so nothing was sent and no \
                 case was opened; run `candor raise` again when you can write it down"
            );
        }
    }

    // The case and its first message are stored together, or not at all.
    let words = codename.words();
    open_mailbox(&office, &case, envelope, &codename)?;
    let seq = 1;
    let remembered = remember_if_asked(ctx, keeper, &office.address, &codename, card);
    let (remembered, remember_failed) = match remembered {
        Ok(r) => (r, None),
        Err(e) => (None, Some(e)),
    };

    let raised = Raised {
        codename: &words,
        office: card.id.as_str(),
        address: office.address.to_string(),
        seq,
        remembered: remembered.clone(),
        reply_within_days: card.reply_within_days,
        urgent_resources: if urgent {
            card.urgent_resources(constituency.as_ref()).collect()
        } else {
            Vec::new()
        },
    };
    ctx.out.either(&raised, |s| {
        let mut text = format!(
            "{} to {}.\n{}\n{}",
            s.green("Your concern was sent"),
            escape_remote(&card.name),
            output::wrap(&acknowledgement(card), output::stdout_width(), ""),
            codename_advice(
                &codename,
                &office.address,
                keep_copy,
                s,
                output::stdout_width()
            )
        );
        if let Some(path) = &remembered {
            text.push_str(&format!(
                "\nThe codename is also remembered on this computer, encrypted, in {path}.\n\
                 Run `candor forget` to remove it.\n"
            ));
        }
        text
    })?;
    match remember_failed {
        None => Ok(()),
        Some(e) => Err(e.context(format!(
            "your case was opened, but its codename could not be remembered on this computer. \
             Write it down now; it is the only way back to your case: {}",
            &*words
        ))),
    }
}

/// Difficulties above this would take hours; a relay asking for them is misconfigured.
const MAX_REASONABLE_DIFFICULTY: u8 = 30;

/// Refuses an envelope larger than the relay accepts, saying by how much the text must shrink.
fn check_size(office: &Office, envelope: &Envelope, text: &str) -> Result<()> {
    let limits = office
        .relay
        .limits()
        .map_err(|e| anyhow::Error::new(e).context("could not ask the relay what it accepts"))?;
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

/// Opens the case's mailbox with its first message: fetches a challenge, solves it and
/// registers the case keys. A challenge that expired while we solved it is replaced, twice at
/// most. An open request that got no clear answer names `codename` in its error.
fn open_mailbox(
    office: &Office,
    case: &CaseKeys,
    first: Envelope,
    codename: &Codename,
) -> Result<()> {
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
            envelope: first.clone(),
        };
        match office.relay.open_mailbox(&open, &case.signing) {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < 3 && matches!(e.problem_kind(), Some("pow-invalid" | "pow-used")) =>
            {
                output::note("The proof of work was refused (it may have expired); trying again.");
            }
            Err(e) if e.problem_kind().is_some() => {
                return Err(
                    anyhow::Error::new(e).context("could not open your case; nothing was sent")
                );
            }
            // No clear refusal: the relay may have stored the case before the answer was lost.
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "your case may or may not have been opened: the request was sent, but no \
                     clear answer came back. If it was opened, this codename is the only way \
                     back to it, so write it down and try `candor check` with it later: {}",
                    &*codename.words()
                )));
            }
        }
    }
}

fn codename_advice(
    codename: &Codename,
    address: &OfficeAddress,
    keep_copy: bool,
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
    let who_reads = if keep_copy {
        "Nobody can recover it for you: not the office, not the relay, not us. And anyone who \
         has it can read the replies and what you wrote, so keep it to yourself. (To keep no \
         copy of a message, send it with --no-copy: then only the office can read it.)"
    } else {
        "Nobody can recover it for you: not the office, not the relay, not us. And anyone who \
         has it can read the replies, so keep it to yourself. You kept no copy of this message: \
         only the office can read it."
    };
    text.push_str(&output::wrap(who_reads, width, ""));
    text
}

/// The ordinary acknowledgement every visitor gets.
fn acknowledgement(card: &OfficeCard) -> String {
    let days = card.reply_within_days;
    format!(
        "{} usually replies within {days} working day{}. Check for the reply with `candor \
         check` and your codename.",
        card.name,
        if days == 1 { "" } else { "s" }
    )
}

/// Shows the card's urgent resources on stderr, for a visitor who marked the concern urgent.
fn show_urgent_resources(card: &OfficeCard, constituency: Option<&ItemId>, style: &Style) {
    let urgent: Vec<_> = card.urgent_resources(constituency).collect();
    let mut text = format!(
        "\n{}\n",
        style.red("If someone is in danger right now, call your local emergency number.")
    );
    if !urgent.is_empty() {
        text.push_str(&format!(
            "{} lists these for urgent help, now:\n",
            card.name
        ));
        for r in urgent {
            text.push_str(&render_resource(r, style));
        }
    }
    output::note(&text);
}

/// The categories given with `--category`: each one the card lists, at most three, each once.
fn pick_categories(card: &OfficeCard, ids: &[ItemId]) -> Result<CaseCategories> {
    let known = || -> String {
        let list: Vec<String> = card
            .categories
            .iter()
            .map(|c| format!("{} ({})", c.id, c.label))
            .collect();
        list.join(", ")
    };
    if let Some(id) = ids.iter().find(|id| card.category(id.as_str()).is_none()) {
        bail!(
            "the office has no category {id}; pass --category with one of: {}",
            known()
        );
    }
    CaseCategories::try_from(ids.to_vec()).map_err(|e| {
        anyhow::Error::new(e).context("pass --category at most three times, each with another ID")
    })
}

fn check_constituency(card: &OfficeCard, id: &ItemId) -> Result<ItemId> {
    if card.constituency(id.as_str()).is_some() {
        return Ok(id.clone());
    }
    let known: Vec<String> = card
        .constituencies
        .iter()
        .map(|c| format!("{} ({})", c.id, c.label))
        .collect();
    if known.is_empty() {
        bail!("the office does not ask for a constituency; leave out --constituency");
    }
    Err(anyhow!(
        "the office has no constituency {id}; pass --constituency with one of: {}, or leave \
         it out",
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
    let seq = office
        .relay
        .append(&envelope, &case_auth(&case))
        .map_err(|e| {
            if e.problem_kind() == Some("conflict") {
                return anyhow::Error::new(e).context(format!(
                    "{} has closed this case, so it takes no more messages; you can still read \
                     it with `candor check` for a while. To raise something new, use `candor raise`",
                    office.card.name
                ));
            }
            case_error(&office, e)
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
