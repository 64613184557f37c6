//! `candor raise`: everything asked and checked first (the policy, the choices, the message,
//! the remember passphrase, the codename written down), then one request that opens the case
//! with its first message.

use anyhow::{Result, anyhow, bail};
use candor_protocol::api::{OPEN_MAILBOX_VERSION, OpenMailbox};
use candor_protocol::seal::Sealer;
use candor_protocol::{
    CaseCategories, CaseKeys, Codename, Envelope, ItemId, Message, OfficeAddress, OfficeCard,
};
use serde::Serialize;

use super::pow::{MAX_REASONABLE_DIFFICULTY, solve};
use super::{Office, check_size, prepare_remember, remember_if_asked, verified_office};
use crate::cli::RaiseArgs;
use crate::commands::{Context, today};
use crate::compose::{Draft, send_or_keep};
use crate::input;
use crate::output::{self, Style, escape_remote};
use crate::thread::render_resource;

/// Shows the office's policy texts on stderr, before anything is asked.
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

    // The case and its first message are stored together, or not at all. If the relay cannot
    // be reached now, the person may try again, or keep what they wrote.
    let words = codename.words();
    let mut retry = false;
    send_or_keep(text.as_str(), || {
        let opened = open_mailbox(&office, &case, envelope.clone(), &codename, retry);
        retry = true;
        opened
    })
    .map_err(|e| {
        e.context("no case was opened, so the codename shown above leads nowhere: raise it again")
    })?;
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

/// Opens the case's mailbox with its first message: fetches a challenge, solves it and
/// registers the case keys. A challenge that expired while we solved it is replaced, twice at
/// most. An open request that got no clear answer names `codename` in its error. On a `retry`,
/// a mailbox that already exists is the one the earlier, unanswered try opened: its ID comes
/// from this codename alone.
fn open_mailbox(
    office: &Office,
    case: &CaseKeys,
    first: Envelope,
    codename: &Codename,
    retry: bool,
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
            Err(e) if retry && e.problem_kind() == Some("conflict") => return Ok(()),
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
