//! The visitor's side: `candor handoff show`, `consent` and `decline`.
//!
//! At consent the visitor's client seals the disclosure (the consented proposal, the consent
//! and the identity's opening) into the package, keeps only the visitor's half of its key,
//! sealed to the third party, and uploads both; the office's half can come only from the
//! office, at agreement. The consented proposal goes to the office in the case, with the
//! package's encapsulation to the office, so that the ombuds can check it and agree.

use anyhow::{Result, bail};
use candor_protocol::api::handoffs::{HANDOFF_API_VERSION, PutHandoff};
use candor_protocol::handoff::{Disclosure, IdentityOpening, KeyShare, Package, Party, Proposal};
use candor_protocol::message::HandoffNote;
use candor_protocol::{HandoffId, Message};
use zeroize::Zeroizing;

use super::render::{self, Reader};
use super::state::{State, state_of};
use super::{Known, VisitorCase, pick};
use crate::cli::{ConsentArgs, ShowArgs, VisitorHandoffArgs};
use crate::commands::visitor::case_auth;
use crate::commands::{Context, today};
use crate::input;

/// The longest identity a visitor may give, in characters.
const MAX_IDENTITY: usize = 2000;

/// The relay's state of a handoff, for the visitor.
fn state(v: &VisitorCase, k: &Known) -> Result<(State, candor_protocol::Day)> {
    let status = v
        .office
        .relay
        .handoff_status(&k.id(), &case_auth(&v.case))?;
    Ok(state_of(k, status.as_ref(), today()))
}

/// `candor handoff show ADDRESS`.
pub fn show(ctx: &Context, args: ShowArgs) -> Result<()> {
    let v = VisitorCase::open(ctx, &args.address.0)?;
    let mut shown = Vec::new();
    let mut text = String::new();
    let s = &ctx.out.style;
    for k in &v.known {
        let card = k.draft.third_party_card()?;
        let (state, since) = state(&v, k)?;
        text.push_str(&render::text(&k.draft, &card, false, Reader::Visitor, s));
        text.push_str(&format!("  State:     {} since {since}\n\n", state.word()));
        shown.push(serde_json::json!({
            "proposal": render::to_json(&k.draft, &card, false),
            "state": state,
            "since": since.to_string(),
        }));
    }
    if v.known.is_empty() {
        text.push_str("The office has proposed no handoff in your case.\n");
    } else {
        text.push_str(&s.dim(
            "Consent with `candor handoff consent ADDRESS HANDOFF` (add --identity TEXT to \
             include who you are, for the third party only), decline with `candor handoff \
             decline`, or answer with `candor send` to ask for something else.",
        ));
    }
    ctx.out.either(&shown, |_| text.clone())
}

/// Refuses a step on a handoff that is no longer a draft, saying where it stands.
fn must_be_draft(state: State, k: &Known) -> Result<()> {
    match state {
        State::Drafted => Ok(()),
        State::Consented | State::Agreed => bail!(
            "you have already consented to handoff {}; `candor handoff revoke` takes it back \
             until the third party fetches it",
            k.label()
        ),
        other => bail!(
            "handoff {} is {}: it can no longer be answered",
            k.label(),
            other.word()
        ),
    }
}

/// `candor handoff consent ADDRESS HANDOFF [--identity TEXT]`.
pub fn consent(ctx: &Context, args: ConsentArgs) -> Result<()> {
    let identity = args
        .identity
        .as_deref()
        .map(|t| Zeroizing::new(t.trim().to_owned()));
    if identity
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.chars().count() > MAX_IDENTITY)
    {
        bail!("--identity must be 1 to {MAX_IDENTITY} characters, or left out");
    }
    let v = VisitorCase::open(ctx, &args.handoff.address.0)?;
    let k = pick(&v.known, &args.handoff.handoff)?;
    if v.thread.closed {
        bail!("the office has closed your case: nothing more can be handed on from it");
    }
    let (state, _) = state(&v, k)?;
    must_be_draft(state, k)?;
    if k.draft.office.kem_key != v.office.card.kem_key {
        bail!(
            "handoff {} names other office keys than the office's card: it is not the office's own; do not consent",
            k.label()
        );
    }
    if identity.is_some() && !k.draft.identity_included {
        bail!(
            "handoff {} does not ask for your identity, so --identity cannot be given; nothing \
             was sent",
            k.label()
        );
    }
    let card = k.draft.third_party_card()?;
    let s = &crate::output::Style::stderr();
    crate::output::note(&render::text(&k.draft, &card, false, Reader::Visitor, s));
    let with = match (k.draft.identity_included, identity.is_some()) {
        (true, true) => "with your identity, which only the third party can read",
        (true, false) => "without your identity (the proposal asks for it; you give none)",
        _ => "without your identity",
    };
    if !input::confirm(
        &format!(
            "Consent to disclosing exactly this to {}, {with}? It is released only if the \
             ombuds also agrees, and you can revoke it until the third party fetches it",
            card.name
        ),
        args.handoff.yes,
        "--yes",
    )? {
        bail!("nothing was sent: you did not consent");
    }
    let rng = &mut candor_protocol::rand::rng();
    let opening = identity
        .as_ref()
        .map(|t| IdentityOpening::new(t.as_str(), rng));
    let consented = k.draft.consented(opening.as_ref())?;
    let bytes = consented.to_json();
    let signature = Proposal::approve(&bytes, Party::Visitor, &v.case.signing);
    let id: HandoffId = k.id();
    let disclosure = Disclosure {
        v: candor_protocol::handoff::HANDOFF_VERSION.into(),
        proposal: bytes.clone(),
        consent: signature,
        identity: opening,
    };
    let (package, k_v) = Package::seal(&disclosure, &id, &v.office.card.kem_public_key(), rng)?;
    let share = KeyShare::seal(
        &k_v,
        &id,
        Party::Visitor,
        &v.case.kem,
        &card.kem_public_key(),
        rng,
    )?;
    // The office learns of the consent first: if the upload then fails, consenting again
    // sends a newer consent, which the office's client takes over this one.
    let mut message = Message::text(
        format!("I consent to handoff {} ({with}).", k.label()),
        today(),
    );
    message.handoff = Some(Box::new(HandoffNote::Consent {
        proposal: bytes.clone(),
        consent: signature,
        office_enc: package.office_enc,
    }));
    v.tell_office(&message)?;
    let put = PutHandoff {
        v: HANDOFF_API_VERSION.into(),
        mailbox: v.case.mailbox,
        proposal_sha256: Proposal::sha256(&bytes),
        consent: signature,
        expires: consented.expires,
        package,
        share,
    };
    let status = v
        .office
        .relay
        .consent(&id, &put, &case_auth(&v.case))
        .map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "the office was told of your consent, but the relay did not take the package: \
                 run `candor handoff consent` again for handoff {}",
                k.label()
            ))
        })?;
    ctx.out.either(
        &serde_json::json!({ "handoff": k.label(), "state": status.state, "identity": opening_given(k, identity.is_some()) }),
        |s| {
            format!(
                "{} to handoff {}. Nothing reaches {} until the ombuds agrees; `candor handoff \
                 status` shows where it stands, and `candor handoff revoke` takes it back.",
                s.green("Consented"),
                k.label(),
                crate::output::escape_remote(&card.name)
            )
        },
    )
}

fn opening_given(k: &Known, given: bool) -> bool {
    k.draft.identity_included && given
}

/// `candor handoff decline ADDRESS HANDOFF`.
pub fn decline(ctx: &Context, args: VisitorHandoffArgs) -> Result<()> {
    let v = VisitorCase::open(ctx, &args.address.0)?;
    let k = pick(&v.known, &args.handoff)?;
    let (state, _) = state(&v, k)?;
    must_be_draft(state, k)?;
    if !input::confirm(
        &format!(
            "Decline handoff {}? The office is told in your case",
            k.label()
        ),
        args.yes,
        "--yes",
    )? {
        bail!("nothing was sent");
    }
    let mut message = Message::text(format!("I decline handoff {}.", k.label()), today());
    message.handoff = Some(Box::new(HandoffNote::Decline { id: k.id() }));
    let seq = v.tell_office(&message)?;
    ctx.out.either(
        &serde_json::json!({ "handoff": k.label(), "state": State::Declined, "seq": seq }),
        |s| {
            format!(
                "{} handoff {}: the office is told (message #{seq}), and nothing of it is disclosed.",
                s.green("Declined"),
                k.label()
            )
        },
    )
}
