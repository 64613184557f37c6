//! `candor handoff status` and `revoke`, on either side: the target is a case label for the
//! ombuds, the office address for the visitor.
//!
//! A handoff's state comes from the thread and the relay together: the relay knows it from
//! consent on (consented, agreed, fetched, revoked); before that the thread says drafted,
//! declined or withdrawn; and past its last day it is expired, whatever the relay still holds.

use anyhow::{Result, bail};
use candor_protocol::api::handoffs::{HandoffState, HandoffStatus};
use candor_protocol::handoff::{Party, Revocation};
use candor_protocol::message::HandoffNote;
use candor_protocol::{Day, Message, OfficeAddress};
use serde::Serialize;

use super::{Known, OfficeCase, VisitorCase, pick};
use crate::cli::{CaseArgs, RevokeArgs, StatusArgs};
use crate::commands::{Context, today};
use crate::input;
use crate::relay::{Auth, Relay};
use crate::thread::Author;

/// Where a handoff stands, as both sides see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Proposed; the visitor has not consented.
    Drafted,
    /// The visitor consented; the ombuds has not agreed.
    Consented,
    /// Both signed: released to the third party.
    Agreed,
    /// The third party fetched it.
    Fetched,
    /// Revoked, or withdrawn before consent.
    Revoked,
    /// The visitor declined it.
    Declined,
    /// Its last day has passed.
    Expired,
}

impl State {
    pub(super) fn word(self) -> &'static str {
        match self {
            State::Drafted => "drafted",
            State::Consented => "consented",
            State::Agreed => "agreed",
            State::Fetched => "fetched",
            State::Revoked => "revoked",
            State::Declined => "declined",
            State::Expired => "expired",
        }
    }
}

/// The state of `k`, given what the relay says, and the (coarse) day it began.
pub fn state_of(k: &Known, relay: Option<&HandoffStatus>, today: Day) -> (State, Day) {
    let expired = today > k.draft.expires;
    match relay {
        Some(s) => match s.state {
            HandoffState::Fetched => (State::Fetched, s.day),
            HandoffState::Revoked => (State::Revoked, s.day),
            _ if expired => (State::Expired, k.draft.expires),
            HandoffState::Consented => (State::Consented, s.day),
            HandoffState::Agreed => (State::Agreed, s.day),
        },
        None => match (k.revoked, k.declined) {
            (Some((_, day)), _) => (State::Revoked, day),
            (None, Some(day)) => (State::Declined, day),
            _ if expired => (State::Expired, k.draft.expires),
            _ => (State::Drafted, k.day),
        },
    }
}

#[derive(Serialize)]
struct Row {
    handoff: String,
    message: u64,
    to: String,
    state: State,
    since: String,
    expires: String,
    purpose: String,
}

fn rows(known: &[Known], relay: &Relay, auth: &Auth<'_>) -> Result<Vec<Row>> {
    let day = today();
    known
        .iter()
        .map(|k| {
            let status = relay.handoff_status(&k.id(), auth)?;
            let (state, since) = state_of(k, status.as_ref(), day);
            let to = k
                .draft
                .third_party_card()
                .map(|c| c.name)
                .unwrap_or_default();
            Ok(Row {
                handoff: k.label(),
                message: k.seq,
                to,
                state,
                since: since.to_string(),
                expires: k.draft.expires.to_string(),
                purpose: k.draft.purpose.clone(),
            })
        })
        .collect()
}

fn show_rows(ctx: &Context, rows: &[Row]) -> Result<()> {
    ctx.out.either(&rows, |s| {
        if rows.is_empty() {
            return "No handoffs in this case.".to_owned();
        }
        let mut text = s.bold(&format!(
            "{:<10} {:<10} {:<11} {:<11} {}\n",
            "HANDOFF", "STATE", "SINCE", "UNTIL", "TO"
        ));
        for r in rows {
            text.push_str(&format!(
                "{:<10} {:<10} {:<11} {:<11} {}\n",
                r.handoff,
                r.state.word(),
                r.since,
                r.expires,
                crate::output::escape_remote(&r.to)
            ));
        }
        text.push_str(&s.dim(
            "Days are coarse on purpose. Agreement releases a handoff; until the third party \
             fetches it, either side can still revoke it.",
        ));
        text
    })
}

/// Whether the target is an office address (the visitor) rather than a case label.
fn as_address(target: &str) -> Option<OfficeAddress> {
    target.parse().ok()
}

/// `candor handoff status TARGET`.
pub fn status(ctx: &Context, args: StatusArgs) -> Result<()> {
    if let Some(address) = as_address(&args.target) {
        let v = VisitorCase::open(ctx, &address)?;
        let auth = crate::commands::visitor::case_auth(&v.case);
        return show_rows(ctx, &rows(&v.known, &v.office.relay, &auth)?);
    }
    let case = CaseArgs {
        case: args.target,
        network: args.network,
    };
    let c = OfficeCase::open(ctx, &case)?;
    let auth = crate::commands::cases::office_auth(&c.keys);
    show_rows(ctx, &rows(&c.known, &c.relay, &auth)?)
}

/// Revokes `k` on the relay if it is there, then says so in the thread. Returns the state the
/// relay left it in, if the relay knew it.
fn revoke_one(
    relay: &Relay,
    auth: &Auth<'_>,
    k: &Known,
    party: Party,
    tell: impl Fn(&Message) -> Result<u64>,
) -> Result<bool> {
    let status = relay.handoff_status(&k.id(), auth)?;
    let on_relay = match status.map(|s| s.state) {
        Some(HandoffState::Fetched) => bail!(
            "the third party has already fetched handoff {}: it can no longer be revoked. Ask \
             the ombuds to talk to them",
            k.label()
        ),
        Some(HandoffState::Revoked) => bail!("handoff {} is already revoked", k.label()),
        Some(_) => {
            let revocation = Revocation::sign(k.id(), party, auth.key);
            relay.revoke(&revocation, auth).map_err(|e| {
                anyhow::Error::new(e).context(format!("handoff {} was not revoked", k.label()))
            })?;
            true
        }
        None => false,
    };
    let mut message = Message::text(
        format!(
            "Handoff {} is revoked: nothing of it will reach the third party.",
            k.label()
        ),
        today(),
    );
    message.handoff = Some(Box::new(HandoffNote::Revoke { id: k.id() }));
    if let Err(e) = tell(&message) {
        if on_relay {
            crate::output::warn(&format!(
                "the handoff is revoked on the relay, but the other side could not be told in \
                 the case ({e:#}); `candor handoff status` shows it revoked on both sides anyway"
            ));
        } else {
            return Err(e.context("nothing was revoked"));
        }
    }
    Ok(on_relay)
}

/// `candor handoff revoke TARGET HANDOFF`.
pub fn revoke(ctx: &Context, args: RevokeArgs) -> Result<()> {
    let confirm = |label: &str| -> Result<()> {
        if !input::confirm(
            &format!("Revoke handoff {label}? The third party will never be able to open it"),
            args.yes,
            "--yes",
        )? {
            bail!("nothing was revoked");
        }
        Ok(())
    };
    let (label, on_relay) = if let Some(address) = as_address(&args.target) {
        let v = VisitorCase::open(ctx, &address)?;
        let k = pick(&v.known, &args.handoff)?;
        if k.revoked.is_some_and(|(who, _)| who == Author::Visitor) {
            bail!("you have already revoked handoff {}", k.label());
        }
        confirm(&k.label())?;
        let auth = crate::commands::visitor::case_auth(&v.case);
        let done = revoke_one(&v.office.relay, &auth, k, Party::Visitor, |m| {
            v.tell_office(m)
        })?;
        (k.label(), done)
    } else {
        let case = CaseArgs {
            case: args.target.clone(),
            network: args.network.clone(),
        };
        let c = OfficeCase::open(ctx, &case)?;
        let k = pick(&c.known, &args.handoff)?;
        confirm(&k.label())?;
        let auth = crate::commands::cases::office_auth(&c.keys);
        let done = revoke_one(&c.relay, &auth, k, Party::Office, |m| c.tell_visitor(m))?;
        (k.label(), done)
    };
    ctx.out.either(
        &serde_json::json!({ "handoff": label, "state": State::Revoked, "on_relay": on_relay }),
        |s| {
            let how = if on_relay {
                "the relay deleted its shares, so the package can never be opened"
            } else {
                "it was never consented to, so nothing of it was on the relay"
            };
            format!("{} handoff {label}: {how}.", s.green("Revoked"))
        },
    )
}
