//! The third party's `inbox`, `read` and `reply`.
//!
//! The third party learns of a handoff from the relay's notice board, which it reads whole and
//! opens by trial decryption, so that the relay cannot tell whose a notice is. `read` fetches
//! the handoff once (the relay then keeps only its state), stores what it fetched, still sealed
//! to the third party, in `handoff-ID.json` in the home, and shows the content only after every
//! check of `docs/protocol.md` §10 ("Checks by the third party"). `reply` answers the ombuds on
//! the handoff's own channel; nothing there reaches the visitor.

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::api::handoffs::Fetched;
use candor_protocol::handoff::{
    ChannelKeys, Disclosure, Notice, NoticeOpened, Proposal, third_party_opener, third_party_sealer,
};
use candor_protocol::{Identity, Message, SignedCard, Signer, ThirdPartyCard};
use serde::{Deserialize, Serialize};

use super::load_card;
use crate::cli::{ThirdPartyHandoffArgs, ThirdPartyReplyArgs};
use crate::commands::handoff::render::{self, Reader};
use crate::commands::handoff::{open_channel, render_entries};
use crate::commands::{Context, today};
use crate::compose::{Draft, send_or_keep};
use crate::home::{self, Home};
use crate::output::{escape_remote, wrap};
use crate::relay::{Auth, Relay};
use crate::{input, keystore};

/// What `read` keeps of a fetched handoff: exactly what the relay sent, all of it sealed to
/// this third party.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kept {
    notice: Notice,
    fetched: Fetched,
}

/// The third party's keys and card, unlocked.
struct Me {
    identity: Identity,
    card: ThirdPartyCard,
    relay: Relay,
}

fn unlock(ctx: &Context) -> Result<Me> {
    let (_, card): (SignedCard, ThirdPartyCard) = load_card(&ctx.home)?;
    let path = ctx.home.file(home::THIRD_PARTY_KEY);
    let bytes = std::fs::read(&path)
        .with_context(|| format!("could not read the third-party keystore {}", path.display()))?;
    let pass = input::passphrase(input::PASSPHRASE_ENV, "Third-party keystore passphrase")?;
    let identity = keystore::open_third_party(&bytes, &pass, &card).with_context(|| {
        format!(
            "could not unlock the third-party keystore {}",
            path.display()
        )
    })?;
    let relay = ctx.relay(&card.relay)?;
    Ok(Me {
        identity,
        card,
        relay,
    })
}

/// A notice of the board that opened with this third party's key.
struct Mine {
    notice: Notice,
    opened: NoticeOpened,
}

impl Mine {
    fn label(&self) -> String {
        self.opened.id.short_label()
    }

    fn keys(&self) -> ChannelKeys {
        self.opened.seed.keys()
    }
}

fn mine(me: &Me) -> Result<Vec<Mine>> {
    let board = me
        .relay
        .notices()
        .map_err(|e| anyhow::Error::new(e).context("could not read the relay's notice board"))?;
    Ok(board
        .into_iter()
        .filter_map(|p| {
            p.notice.open(me.identity.kem()).map(|opened| Mine {
                notice: p.notice,
                opened,
            })
        })
        .collect())
}

fn kept_path(home: &Home, m: &Mine) -> std::path::PathBuf {
    home.file(&format!("handoff-{}.json", m.opened.id))
}

fn kept(home: &Home, m: &Mine) -> Result<Option<Kept>> {
    let path = kept_path(home, m);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("the fetched handoff {} is damaged", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("could not read {}: {e}", path.display())),
    }
}

fn pick<'a>(all: &'a [Mine], typed: &str) -> Result<&'a Mine> {
    let typed = typed.trim();
    if typed.len() < 4 {
        bail!(
            "give at least four characters of the handoff's label, as `candor third-party inbox` shows it"
        );
    }
    let found: Vec<&Mine> = all
        .iter()
        .filter(|m| m.opened.id.to_string().starts_with(typed))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            bail!("no handoff {typed} was released to you; `candor third-party inbox` lists them")
        }
        _ => bail!("several handoffs start with {typed}: type more of the label"),
    }
}

fn channel_auth(keys: &ChannelKeys) -> Auth<'_> {
    Auth {
        key: &keys.channel_key,
        signer: Signer::ThirdParty,
    }
}

/// `candor third-party inbox`.
pub fn inbox(ctx: &Context) -> Result<()> {
    let me = unlock(ctx)?;
    let mut rows = Vec::new();
    for m in mine(&me)? {
        let keys = m.keys();
        let messages = me
            .relay
            .channel_envelopes(&keys.channel, &channel_auth(&keys))?
            .map(|v| v.len());
        rows.push(serde_json::json!({
            "handoff": m.label(),
            "read": kept(&ctx.home, &m)?.is_some(),
            "channel_messages": messages,
        }));
    }
    ctx.out.either(&rows, |s| {
        if rows.is_empty() {
            return format!("No handoffs released to {}.", escape_remote(&me.card.name));
        }
        let mut text = s.bold(&format!(
            "{:<10} {:<8} {}\n",
            "HANDOFF", "STATE", "MESSAGES"
        ));
        for r in &rows {
            let state = if r["read"] == true { "read" } else { "new" };
            let messages = r["channel_messages"]
                .as_u64()
                .map_or("gone".to_owned(), |n| n.to_string());
            text.push_str(&format!(
                "{:<10} {state:<8} {messages}\n",
                r["handoff"].as_str().unwrap_or_default()
            ));
        }
        text.push_str(&s.dim("Read one with `candor third-party read HANDOFF`."));
        text
    })
}

/// Opens and checks a fetched handoff: both shares from the keys the notice names, the
/// package, the disclosure (`Disclosure::verify`), and that the proposal names those keys
/// and the case the relay said.
fn open_kept(me: &Me, m: &Mine, kept: &Kept) -> Result<(Proposal, Disclosure)> {
    let id = &m.opened.id;
    let f = &kept.fetched;
    let refused = |why: &str| {
        crate::error::Unverified(format!(
            "handoff {} does not verify ({why}): it is not what the visitor and the ombuds \
             signed. Nothing of it is shown; tell the ombuds",
            m.label()
        ))
    };
    let k_v = f
        .visitor_share
        .open(id, me.identity.kem(), &m.opened.case_kem)
        .map_err(|_| refused("the visitor's share does not open"))?;
    let k_o = f
        .office_share
        .open(id, me.identity.kem(), &m.opened.office_kem)
        .map_err(|_| refused("the office's share does not open"))?;
    let disclosure = f
        .package
        .open(id, &k_v, &k_o)
        .map_err(|_| refused("the package does not open"))?;
    let own = me.identity.signing().public_key().to_bytes();
    let proposal = disclosure
        .verify(id, &own, &f.agreement)
        .map_err(|e| refused(&e.to_string()))?;
    if proposal.case.mailbox != f.mailbox
        || proposal.case.kem_key != m.opened.case_kem.to_bytes()
        || proposal.office.kem_key != m.opened.office_kem.to_bytes()
        || disclosure.consent != f.consent
    {
        return Err(refused("it names other keys than its shares").into());
    }
    Ok((proposal, disclosure))
}

/// The office's "not formal notice" text, from its card on the relay, if the card is the one
/// whose key agreed.
fn not_notice(me: &Me, p: &Proposal) -> Option<String> {
    let card = me
        .relay
        .office_card(&p.office.id)
        .ok()?
        .verify_office()
        .ok()?;
    (card.signing_key == p.office.signing_key).then_some(card.policy.not_notice)
}

/// `candor third-party read HANDOFF`.
pub fn read(ctx: &Context, args: ThirdPartyHandoffArgs) -> Result<()> {
    let me = unlock(ctx)?;
    let all = mine(&me)?;
    let m = pick(&all, &args.handoff)?;
    let keys = m.keys();
    let kept = match kept(&ctx.home, m)? {
        Some(k) => k,
        None => {
            let auth = Auth {
                key: &keys.fetch,
                signer: Signer::ThirdParty,
            };
            let fetched = me.relay.fetch_handoff(&m.opened.id, &auth).map_err(|e| {
                let hint = if e.is_not_found() {
                    format!(
                        "handoff {} cannot be fetched: it was revoked, has expired, or was \
                         already fetched (perhaps from another computer with your keys)",
                        m.label()
                    )
                } else {
                    format!("could not fetch handoff {}", m.label())
                };
                anyhow::Error::new(e).context(hint)
            })?;
            let k = Kept {
                notice: m.notice.clone(),
                fetched,
            };
            // The relay keeps nothing more after the fetch: what it sent is saved first.
            ctx.home.create()?;
            home::write_private(&kept_path(&ctx.home, m), &serde_json::to_vec(&k)?)?;
            k
        }
    };
    let (proposal, disclosure) = open_kept(&me, m, &kept)?;
    let office = (
        candor_protocol::KemPublicKey::from_bytes(&proposal.office.kem_key),
        proposal.office_signing_key()?,
    );
    let stored = me
        .relay
        .channel_envelopes(&keys.channel, &channel_auth(&keys))?
        .unwrap_or_default();
    let channel = open_channel(&me.identity, &stored, |own, d| {
        third_party_opener(own, office.0.clone(), office.1, d)
    });
    let notice_text = not_notice(&me, &proposal);
    let identity = disclosure.identity.as_ref().map(|o| o.text.clone());
    let scope = format!(
        "Disclosed with the visitor's consent and the ombuds' agreement, for: {}; identity \
         included: {}; until {}.",
        proposal.purpose,
        if proposal.identity_included {
            "yes"
        } else {
            "no"
        },
        proposal.expires
    );
    ctx.out.either(
        &serde_json::json!({
            "handoff": m.label(),
            "scope": scope,
            "purpose": proposal.purpose,
            "identity_included": proposal.identity_included,
            "identity": identity,
            "expires": proposal.expires.to_string(),
            "items": render::items(&proposal),
            "not_notice": notice_text,
            "channel": channel,
        }),
        |s| {
            let width = crate::output::stdout_width();
            let mut text = format!("{}\n", s.bold(&escape_remote(&scope)));
            if let Some(id) = &identity {
                text.push_str(&format!("{}\n", s.bold("The visitor's identity:")));
                text.push_str(&wrap(id, width, "    "));
            }
            let card = &me.card;
            text.push_str(&render::text(&proposal, card, true, Reader::ThirdParty, s));
            text.push_str(&format!("\n{}\n", s.bold("Not formal notice")));
            text.push_str(&wrap(
                notice_text.as_deref().unwrap_or(
                    "Talking to the ombuds is not formal notice to the institution (the office's \
                     own wording could not be fetched).",
                ),
                width,
                "    ",
            ));
            if !channel.is_empty() {
                text.push_str(&format!("\n{}\n", s.bold("Your channel with the ombuds")));
                text.push_str(&render_entries(&channel, "the ombuds", "you", s, width));
            }
            text.push_str(&s.dim(&format!(
                "\nAnswer the ombuds with `candor third-party reply {}`; the visitor does not \
                 see your answers.",
                m.label()
            )));
            text
        },
    )
}

/// `candor third-party reply HANDOFF`.
pub fn reply(ctx: &Context, args: ThirdPartyReplyArgs) -> Result<()> {
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
    let me = unlock(ctx)?;
    let all = mine(&me)?;
    let m = pick(&all, &args.handoff.handoff)?;
    let Some(kept) = kept(&ctx.home, m)? else {
        bail!(
            "read handoff {} first with `candor third-party read {}`",
            m.label(),
            m.label()
        );
    };
    let (proposal, _) = open_kept(&me, m, &kept)?;
    let keys = m.keys();
    let text = draft.compose(&format!(
        "Your answer to the ombuds about handoff {}. It is sealed to the office and signed by \
         you; the visitor does not see it.",
        m.label()
    ))?;
    let message = Message::text(text.as_str(), today());
    let office_kem = candor_protocol::KemPublicKey::from_bytes(&proposal.office.kem_key);
    let sealer = third_party_sealer(&me.identity, office_kem, keys.channel);
    let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
    let seq = send_or_keep(text.as_str(), || {
        me.relay
            .channel_append(&envelope, &channel_auth(&keys))
            .map_err(|e| {
                let hint = if e.is_not_found() {
                    "the handoff's channel is gone: it has expired".to_owned()
                } else {
                    "the answer was not sent".to_owned()
                };
                anyhow::Error::new(e).context(hint)
            })
    })?;
    ctx.out.either(
        &serde_json::json!({ "handoff": m.label(), "seq": seq }),
        |s| {
            format!(
                "{} to the ombuds about handoff {} (message #{seq} of its channel).",
                s.green("Answer sent"),
                m.label()
            )
        },
    )
}
