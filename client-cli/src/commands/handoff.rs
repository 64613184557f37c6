//! `candor handoff …`: handing a case on for informal resolution, only with the visitor's
//! consent and the ombuds' agreement (`docs/protocol.md` §10).
//!
//! Every step travels in the case's own thread, so that neither side keeps any state of its
//! own: the ombuds' proposal, the visitor's consent (the consented proposal, its signature and
//! the package's encapsulation to the office), a decline, a revocation. The relay holds only
//! the package, the shares and the state. Each command reads the thread again, checks every
//! proposal against the case and the office it claims, and finds the handoff by its label.

mod agree;
mod answers;
mod consent;
mod propose;
pub mod render;
mod state;

use anyhow::{Result, bail};
use candor_protocol::handoff::Proposal;
use candor_protocol::message::HandoffNote;
use candor_protocol::{Day, HandoffId, MailboxId};

use crate::thread::{Author, Content, Thread};

pub use agree::agree;
pub use answers::{answers, open_channel, render_entries, reply};
pub use consent::{consent, decline, show};
pub use propose::propose;
pub use state::{revoke, status};

/// The visitor's consent as it reached the office in the thread.
pub struct ConsentNote {
    /// The consented proposal's bytes, exactly as signed.
    pub bytes: Vec<u8>,
    /// The consented proposal, decoded and checked.
    pub proposal: Proposal,
    /// The case key's consent.
    pub consent: [u8; 64],
    /// The package's encapsulation to the office.
    pub office_enc: [u8; 32],
}

/// A handoff as the case's thread tells it.
pub struct Known {
    /// The office's draft.
    pub draft: Proposal,
    /// The message that carried it.
    pub seq: u64,
    /// The day it was proposed.
    pub day: Day,
    /// The visitor's latest consent to it, if any reached the viewer.
    pub consent: Option<ConsentNote>,
    /// The day the visitor declined it.
    pub declined: Option<Day>,
    /// Who revoked it in the thread, and when.
    pub revoked: Option<(Author, Day)>,
}

impl Known {
    /// The handoff's ID.
    pub fn id(&self) -> HandoffId {
        self.draft.id
    }

    /// What people type: the first eight characters of the ID.
    pub fn label(&self) -> String {
        self.draft.id.short_label()
    }
}

/// Every handoff proposed in the thread of case `mailbox` by the office whose signing key is
/// `office_key`, oldest first. A proposal that does not decode, or names another case or
/// office, is left out: the office's own client never writes one.
pub fn known(thread: &Thread, mailbox: &MailboxId, office_key: &[u8; 32]) -> Vec<Known> {
    let mut found: Vec<Known> = Vec::new();
    for e in &thread.entries {
        let Content::Opened(m) = &e.content else {
            continue;
        };
        let Some(note) = m.handoff.as_deref() else {
            continue;
        };
        match (note, e.from) {
            (HandoffNote::Proposal { proposal }, Author::Office) => {
                match Proposal::from_json(proposal) {
                    Ok(p)
                        if p.case.mailbox == *mailbox
                            && p.office.signing_key == *office_key
                            && p.identity.is_none()
                            && !found.iter().any(|k| k.draft.id == p.id) =>
                    {
                        found.push(Known {
                            draft: p,
                            seq: e.seq,
                            day: m.day,
                            consent: None,
                            declined: None,
                            revoked: None,
                        });
                    }
                    _ => {}
                }
            }
            (
                HandoffNote::Consent {
                    proposal,
                    consent,
                    office_enc,
                },
                Author::Visitor,
            ) => {
                let Ok(p) = Proposal::from_json(proposal) else {
                    continue;
                };
                if let Some(k) = found.iter_mut().find(|k| k.draft.id == p.id) {
                    k.consent = Some(ConsentNote {
                        bytes: proposal.clone(),
                        proposal: p,
                        consent: *consent,
                        office_enc: *office_enc,
                    });
                }
            }
            (HandoffNote::Decline { id }, Author::Visitor) => {
                if let Some(k) = found.iter_mut().find(|k| k.draft.id == *id) {
                    k.declined = Some(m.day);
                }
            }
            (HandoffNote::Revoke { id }, Author::Visitor | Author::Office) => {
                if let Some(k) = found.iter_mut().find(|k| k.draft.id == *id) {
                    k.revoked = Some((e.from, m.day));
                }
            }
            _ => {}
        }
    }
    found
}

/// The one handoff whose ID starts with what was typed (at least four characters).
pub fn pick<'a>(known: &'a [Known], typed: &str) -> Result<&'a Known> {
    let typed = typed.trim();
    if typed.len() < 4 {
        bail!(
            "give at least four characters of the handoff's label, as `candor handoff status` shows it"
        );
    }
    let matches: Vec<&Known> = known
        .iter()
        .filter(|k| k.draft.id.to_string().starts_with(typed))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] if known.is_empty() => bail!("this case has no handoff proposals"),
        [] => {
            let labels: Vec<String> = known.iter().map(Known::label).collect();
            bail!(
                "this case has no handoff {typed}; its handoffs are {}",
                labels.join(", ")
            )
        }
        _ => bail!("several handoffs start with {typed}: type more of the label"),
    }
}

/// A case as the ombuds' handoff commands need it: the keys, the relay, the case's entry, its
/// stored envelopes and the thread opened from them.
pub struct OfficeCase {
    /// The office's unlocked keys.
    pub keys: super::office::OfficeKeys,
    /// The office's relay.
    pub relay: crate::relay::Relay,
    /// The case in the inbox.
    pub entry: candor_protocol::api::InboxEntry,
    /// The case's envelopes, as stored.
    pub stored: Vec<candor_protocol::api::StoredEnvelope>,
    /// The thread, opened and verified.
    pub thread: Thread,
    /// The handoffs the thread tells of.
    pub known: Vec<Known>,
}

impl OfficeCase {
    /// Unlocks the office, finds the case and reads its thread.
    pub fn open(ctx: &super::Context, case: &crate::cli::CaseArgs) -> Result<Self> {
        Self::open_with(ctx, super::office::unlock(&ctx.home)?, case)
    }

    /// As [`OfficeCase::open`], with keys already unlocked (the passphrase is asked once).
    pub fn open_with(
        ctx: &super::Context,
        keys: super::office::OfficeKeys,
        case: &crate::cli::CaseArgs,
    ) -> Result<Self> {
        use super::cases::{case_keys, find_case, office_auth};
        let relay = ctx.relay(&keys.card.relay)?;
        let entry = find_case(&relay, &keys, case)?;
        let (kem, signing) = case_keys(&keys, &entry)?;
        let fetched = relay
            .envelopes(&entry.mailbox, &office_auth(&keys))
            .map_err(|e| {
                let hint = if e.is_not_found() {
                    "the case is gone: the visitor destroyed it, or it was closed or expired"
                } else {
                    "could not fetch the case"
                };
                anyhow::Error::new(e).context(hint)
            })?;
        let thread = Thread::for_office(
            &fetched.envelopes,
            fetched.closed,
            &keys.identity,
            &kem,
            &signing,
        );
        let office_key = keys.identity.signing().public_key().to_bytes();
        let known = known(&thread, &entry.mailbox, &office_key);
        Ok(Self {
            keys,
            relay,
            entry,
            stored: fetched.envelopes,
            thread,
            known,
        })
    }

    /// The label people type for this case.
    pub fn label(&self) -> String {
        self.keys.label(&self.entry.mailbox)
    }

    /// Sends a message into the case from the office (a handoff step, with words for the
    /// visitor); returns its sequence number.
    pub fn tell_visitor(&self, message: &candor_protocol::Message) -> Result<u64> {
        use candor_protocol::seal::Sealer;
        let (kem, _) = super::cases::case_keys(&self.keys, &self.entry)?;
        let sealer = Sealer::office(&self.keys.identity, kem, self.entry.mailbox);
        let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
        self.relay
            .append(&envelope, &super::cases::office_auth(&self.keys))
            .map_err(|e| {
                let hint = if e.problem_kind() == Some("conflict") {
                    format!(
                        "case {} is closed: nothing more can be written to it",
                        self.label()
                    )
                } else {
                    format!("the message to case {} was not sent", self.label())
                };
                anyhow::Error::new(e).context(hint)
            })
    }
}

/// A case as the visitor's handoff commands need it: the verified office, the case keys and
/// the thread.
pub struct VisitorCase {
    /// The verified office and its relay.
    pub office: super::visitor::Office,
    /// The case's keys, from the codename.
    pub case: candor_protocol::CaseKeys,
    /// The thread, opened and verified.
    pub thread: Thread,
    /// The handoffs the thread tells of.
    pub known: Vec<Known>,
}

impl VisitorCase {
    /// Verifies the office, asks for the codename and reads the thread.
    pub fn open(ctx: &super::Context, address: &candor_protocol::OfficeAddress) -> Result<Self> {
        use super::visitor::{case_auth, case_error, codename, verified_office};
        let office = verified_office(ctx, address)?;
        let case = codename(ctx, &office)?.derive(&office.address.fingerprint);
        let fetched = office
            .relay
            .envelopes(&case.mailbox, &case_auth(&case))
            .map_err(|e| case_error(&office, e))?;
        let thread = Thread::for_visitor(
            &fetched.envelopes,
            fetched.closed,
            &case,
            &office.card.kem_public_key(),
            &office.card.signing_public_key()?,
        );
        let known = known(&thread, &case.mailbox, &office.card.signing_key);
        Ok(Self {
            office,
            case,
            thread,
            known,
        })
    }

    /// Sends a message into the case from the visitor (a handoff step); returns its number.
    pub fn tell_office(&self, message: &candor_protocol::Message) -> Result<u64> {
        use candor_protocol::seal::Sealer;
        let sealer = Sealer::visitor(&self.case, self.office.card.kem_public_key(), true);
        let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
        self.office
            .relay
            .append(&envelope, &super::visitor::case_auth(&self.case))
            .map_err(|e| {
                if e.problem_kind() == Some("conflict") {
                    return anyhow::Error::new(e)
                        .context("the office has closed this case, so it takes no more messages");
                }
                super::visitor::case_error(&self.office, e)
            })
    }
}
