//! `candor handoff agree CASE HANDOFF`: the ombuds checks the visitor's consent and agrees,
//! which releases the handoff.
//!
//! The consent is checked before anything is signed: the consented proposal must be the
//! office's own draft with only the consent's changes, signed by the case key, and the relay
//! must hold it as consented. Then the office opens the handoff's channel, with the notice
//! sealed to the third party, and uploads its agreement with its half of the package key,
//! sealed to the third party.

use anyhow::{Result, anyhow, bail};
use candor_protocol::api::channels::{CHANNEL_API_VERSION, OpenChannel};
use candor_protocol::api::handoffs::{Agreement, HANDOFF_API_VERSION, HandoffState};
use candor_protocol::handoff::{KeyShare, Notice, NoticeSeed, Party, Proposal, office_half};
use candor_protocol::{KemPublicKey, SigningPublicKey};

use super::render::{self, Reader};
use super::{OfficeCase, pick};
use crate::cli::OfficeHandoffArgs;
use crate::commands::Context;
use crate::commands::cases::office_auth;
use crate::input;

/// `candor handoff agree CASE HANDOFF`.
pub fn agree(ctx: &Context, args: OfficeHandoffArgs) -> Result<()> {
    let c = OfficeCase::open(ctx, &args.case)?;
    let k = pick(&c.known, &args.handoff)?;
    let label = k.label();
    let Some(note) = &k.consent else {
        bail!(
            "the visitor has not consented to handoff {label}; `candor handoff status {}` shows \
             where it stands",
            c.label()
        );
    };
    if !note.proposal.is_consent_of(&k.draft) {
        bail!(
            "the consent to handoff {label} is not to the office's own proposal: something in \
             it was changed. Nothing was agreed"
        );
    }
    let case_key = SigningPublicKey::from_bytes(&c.entry.signing_key)?;
    let sha = Proposal::sha256(&note.bytes);
    Proposal::verify_approval(&sha, Party::Visitor, &case_key, &note.consent)
        .map_err(|_| anyhow!("the consent to handoff {label} is not signed by the case's key"))?;
    let auth = office_auth(&c.keys);
    let status = c.relay.handoff_status(&k.id(), &auth)?;
    match status.map(|s| s.state) {
        Some(HandoffState::Consented) => {}
        Some(HandoffState::Agreed | HandoffState::Fetched) => {
            bail!("handoff {label} is already agreed")
        }
        Some(HandoffState::Revoked) => bail!("handoff {label} is revoked"),
        None => bail!(
            "the relay holds no consent to handoff {label} (the visitor's upload may have \
             failed, or it expired): ask the visitor to consent again"
        ),
    }
    if candor_protocol::Day::from_unix(crate::relay::unix_now()) > k.draft.expires {
        bail!("handoff {label} expired on {}", k.draft.expires);
    }
    let card = note.proposal.third_party_card()?;
    let s = &crate::output::Style::stderr();
    crate::output::note(&render::text(
        &note.proposal,
        &card,
        true,
        Reader::Office,
        s,
    ));
    if !input::confirm(
        &format!(
            "Agree to handoff {label}? {} can then fetch exactly this, once",
            card.name
        ),
        args.yes,
        "--yes",
    )? {
        bail!("nothing was agreed");
    }
    let rng = &mut candor_protocol::rand::rng();
    let office = &c.keys.identity;
    let id = k.id();
    let third_kem = card.kem_public_key();
    let k_o = office_half(&note.office_enc, &id, office.kem())?;
    let share = KeyShare::seal(&k_o, &id, Party::Office, office.kem(), &third_kem, rng)?;
    let seed = NoticeSeed::of_office(office.kem(), &id);
    let keys = seed.keys();
    let case_kem = KemPublicKey::from_bytes(&c.entry.kem_key);
    let notice = Notice::seal(
        &id,
        &seed,
        (&case_kem, &office.kem().public_key()),
        &third_kem,
        rng,
    )?;
    let open = OpenChannel {
        v: CHANNEL_API_VERSION.into(),
        office: c.keys.card.id.clone(),
        third_party_key: keys.channel_key.public_key().to_bytes(),
        notice,
        expires: note.proposal.expires,
    };
    match c.relay.open_channel(&keys.channel, &open, &auth) {
        Ok(_) => {}
        // Opened by an earlier agreement whose second request failed: the ID is this
        // office's own, derived from its secret.
        Err(e) if e.problem_kind() == Some("conflict") => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "nothing was agreed: the relay did not open the channel for handoff {label}"
            )));
        }
    }
    let agreement = Agreement {
        v: HANDOFF_API_VERSION.into(),
        agreement: Proposal::approve(&note.bytes, Party::Office, office.signing()),
        share,
        fetch_key: keys.fetch.public_key().to_bytes(),
    };
    let done = c
        .relay
        .agree(&id, &agreement, &auth)
        .map_err(|e| anyhow::Error::new(e).context(format!("handoff {label} was not agreed")))?;
    ctx.out.either(
        &serde_json::json!({ "handoff": label, "state": done.state, "day": done.day.to_string() }),
        |s| {
            format!(
                "{} to handoff {label}: it is released to {}, who finds it with `candor \
                 third-party inbox`. Their answers appear in `candor read {}`.",
                s.green("Agreed"),
                crate::output::escape_remote(&card.name),
                c.label()
            )
        },
    )
}
