//! `candor handoff propose`: the ombuds drafts a handoff and sends it to the visitor in the case.
//!
//! Every disclosed message goes with its author's signature, re-opened from the stored
//! envelope, so that the third party can check that the visitor's words are the visitor's.
//! Everything is checked (the items, the third party, the purpose) and confirmed before the
//! one request that sends it.

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::handoff::{CaseRef, HANDOFF_VERSION, Item, OfficeRef, Party, Proposal};
use candor_protocol::message::HandoffNote;
use candor_protocol::seal::Opener;
use candor_protocol::{HandoffId, Message};
use serde::Serialize;

use super::OfficeCase;
use super::render::{self, Reader};
use crate::cli::ProposeArgs;
use crate::commands::office::third_parties;
use crate::commands::{Context, today};
use crate::input;

/// The message item `seq` of the case, with its author's signature.
fn message_item(case: &OfficeCase, seq: u64) -> Result<Item> {
    let Some(stored) = case.stored.iter().find(|s| s.seq == seq) else {
        bail!(
            "case {} has no message #{seq}; `candor read {}` shows the numbers",
            case.label(),
            case.label()
        );
    };
    let (kem, signing) = crate::commands::cases::case_keys(&case.keys, &case.entry)?;
    let direction = stored.envelope.direction;
    let opener = Opener::office(&case.keys.identity, kem, signing, direction)
        .ok_or_else(|| anyhow!("message #{seq} is not part of the conversation"))?;
    let (signature, body) = opener.open_signed(&stored.envelope).map_err(|_| {
        anyhow!(
            "message #{seq} cannot be disclosed: it does not open with the office's keys (a \
             message the visitor sent without a copy opens, so this one is damaged or not \
             genuine)"
        )
    })?;
    let message: Message = candor_protocol::encoding::from_json("message", &body)
        .map_err(|e| anyhow!("message #{seq} does not decode: {e}"))?;
    if message.handoff.is_some() {
        bail!("message #{seq} is itself a handoff step; disclose the conversation's messages");
    }
    Ok(Item::Message {
        seq,
        direction,
        body: body.to_vec(),
        signature,
    })
}

#[derive(Serialize)]
struct Proposed {
    case: String,
    handoff: String,
    seq: u64,
    expires: String,
}

/// `candor handoff propose CASE --to SHORTNAME --purpose TEXT …`.
pub fn propose(ctx: &Context, args: ProposeArgs) -> Result<()> {
    // What needs no key is checked first.
    if args.messages.is_empty() && args.text_file.is_none() {
        bail!(
            "a handoff discloses something: pass --message N for messages of the thread, or \
             --text-file FILE for a summary written for the third party, or both"
        );
    }
    let text = args
        .text_file
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("could not read {} as UTF-8 text", path.display()))
        })
        .transpose()?;
    if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
        bail!("the --text-file is empty; write the summary for the third party in it");
    }
    let purpose = args.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > candor_protocol::handoff::MAX_PURPOSE {
        bail!("--purpose must be 1 to 2000 characters: say why the third party is approached");
    }
    let (keys, pass) = crate::commands::office::unlock_keeping_passphrase(&ctx.home)?;
    let (signed, third) = third_parties::find(&ctx.home, &pass, &args.to)?;
    let case = OfficeCase::open_with(ctx, keys, &args.case)?;
    if !third.relay.same_relay(&case.keys.card.relay) {
        bail!(
            "{} fetches handoffs from {}, but the office's cases are on {}: they cannot receive \
             one from this office; ask them for a card that names {}",
            third.name,
            third.relay,
            case.keys.card.relay,
            case.keys.card.relay
        );
    }
    if case.thread.closed {
        bail!(
            "case {} is closed: nothing can be handed on from it",
            case.label()
        );
    }
    let mut items = Vec::new();
    let mut seen = Vec::new();
    for &seq in &args.messages {
        if seen.contains(&seq) {
            bail!("--message {seq} is given twice");
        }
        seen.push(seq);
        items.push(message_item(&case, seq)?);
    }
    if let Some(text) = text {
        items.push(Item::text(text));
    }
    let rng = &mut candor_protocol::rand::rng();
    let office = &case.keys.identity;
    let draft = Proposal {
        v: HANDOFF_VERSION.into(),
        id: HandoffId::random(rng),
        drafted_by: Party::Office,
        case: CaseRef {
            mailbox: case.entry.mailbox,
            signing_key: case.entry.signing_key,
            kem_key: case.entry.kem_key,
        },
        office: OfficeRef {
            id: case.keys.card.id.clone(),
            signing_key: office.signing().public_key().to_bytes(),
            kem_key: office.kem().public_key().to_bytes(),
        },
        third_party: signed,
        purpose: purpose.to_owned(),
        items,
        identity_included: args.ask_identity,
        identity: None,
        expires: today().plus(args.expires),
    };
    let bytes = draft.to_json();
    // The visitor's client decodes it with every check; so does this one, before it goes.
    Proposal::from_json(&bytes).map_err(|e| anyhow!("the proposal is not valid: {e}"))?;
    let s = &crate::output::Style::stderr();
    crate::output::note(&render::text(&draft, &third, false, Reader::Office, s));
    if !input::confirm(
        &format!(
            "Send this proposal to the visitor of case {}? Nothing is disclosed unless they \
             consent and you then agree",
            case.label()
        ),
        args.yes,
        "--yes",
    )? {
        bail!("nothing was sent");
    }
    let mut message = Message::text(
        format!(
            "The office proposes to hand part of your case on to {}, for: {}. Nothing is \
             disclosed unless you consent. See exactly what, to whom and until when with \
             `candor handoff show`, then consent or decline (handoff {}).",
            third.name,
            purpose,
            draft.id.short_label()
        ),
        today(),
    );
    message.handoff = Some(Box::new(HandoffNote::Proposal { proposal: bytes }));
    let seq = case.tell_visitor(&message)?;
    let done = Proposed {
        case: case.label(),
        handoff: draft.id.short_label(),
        seq,
        expires: draft.expires.to_string(),
    };
    ctx.out.either(&done, |s| {
        format!(
            "{} handoff {} to the visitor of case {} (message #{}). It stands until {}; \
             `candor handoff status {}` shows whether they consented.",
            s.green("Proposed"),
            done.handoff,
            done.case,
            done.seq,
            done.expires,
            done.case
        )
    })
}
