//! Shuttle diplomacy on the ombuds' side: the third party's answers, which `candor read`
//! shows beside the case, and `candor handoff reply`, which writes to the third party.
//!
//! Each agreed handoff has a channel of its own, whose ID the office derives from its KEM
//! secret and the handoff's ID; the office stores no link between the case and the channel,
//! and the relay has none. Nothing on a channel ever reaches the visitor.

use anyhow::{Result, anyhow, bail};
use candor_protocol::api::StoredEnvelope;
use candor_protocol::handoff::{NoticeSeed, office_opener, office_sealer};
use candor_protocol::{Direction, Identity, Message};
use serde::Serialize;

use super::{Known, OfficeCase, pick};
use crate::cli::OfficeReplyArgs;
use crate::commands::Context;
use crate::commands::cases::office_auth;
use crate::commands::office::OfficeKeys;
use crate::compose::{Draft, send_or_keep};
use crate::output::{Style, escape_remote, wrap};
use crate::relay::Relay;

/// One message on a channel, as the office sees it.
#[derive(Serialize)]
pub struct ChannelEntry {
    seq: u64,
    from: &'static str,
    readable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// A handoff's channel.
#[derive(Serialize)]
pub struct HandoffAnswers {
    handoff: String,
    third_party: String,
    messages: Vec<ChannelEntry>,
}

/// Every channel of a case's handoffs that the relay holds.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Answers(pub Vec<HandoffAnswers>);

/// Opens a channel's envelopes with `own`'s keys (the office's or the third party's),
/// verifying each author as `opener_of` says.
pub fn open_channel(
    own: &Identity,
    stored: &[StoredEnvelope],
    opener_of: impl Fn(&Identity, Direction) -> Option<candor_protocol::seal::Opener<'_>>,
) -> Vec<ChannelEntry> {
    stored
        .iter()
        .map(|s| {
            let from = match s.envelope.direction {
                Direction::FromThirdParty => "third-party",
                _ => "office",
            };
            let opened = opener_of(own, s.envelope.direction)
                .and_then(|o| o.open(&s.envelope).ok())
                .and_then(|body| {
                    candor_protocol::encoding::from_json::<Message>("message", &body).ok()
                });
            ChannelEntry {
                seq: s.seq,
                from,
                readable: opened.is_some(),
                day: opened.as_ref().map(|m| m.day.to_string()),
                text: opened.as_ref().map(|m| m.text.clone()),
            }
        })
        .collect()
}

/// A channel's messages as text: `office` names the office's side, `third` the third party's,
/// as the reader calls them.
pub fn render_entries(
    entries: &[ChannelEntry],
    office: &str,
    third: &str,
    s: &Style,
    width: Option<usize>,
) -> String {
    let mut out = String::new();
    for m in entries {
        let who = if m.from == "office" { office } else { third };
        match (&m.text, &m.day) {
            (Some(text), Some(day)) => {
                out.push_str(&format!(
                    "#{} {}  {}\n",
                    m.seq,
                    s.bold(who),
                    s.dim(&format!("{day} · {}", s.green("verified")))
                ));
                out.push_str(&wrap(text, width, "    "));
            }
            _ => out.push_str(&format!(
                "#{} {}  {}\n",
                m.seq,
                s.bold(who),
                s.red("DOES NOT VERIFY: could not be decrypted or is not genuine")
            )),
        }
        out.push('\n');
    }
    out
}

/// The answers on the channels of `known`'s handoffs.
pub fn answers(relay: &Relay, keys: &OfficeKeys, known: &[Known]) -> Result<Answers> {
    let mut all = Vec::new();
    for k in known {
        let Ok(card) = k.draft.third_party_card() else {
            continue;
        };
        let channel = NoticeSeed::of_office(keys.identity.kem(), &k.id())
            .keys()
            .channel;
        let Some(stored) = relay.channel_envelopes(&channel, &office_auth(keys))? else {
            continue;
        };
        let (kem, signing) = (card.kem_public_key(), card.signing_public_key()?);
        let messages = open_channel(&keys.identity, &stored, |office, d| {
            office_opener(office, kem.clone(), signing, d)
        });
        all.push(HandoffAnswers {
            handoff: k.label(),
            third_party: card.name.clone(),
            messages,
        });
    }
    Ok(Answers(all))
}

impl Answers {
    /// The channels as text, after the thread.
    pub fn render(&self, s: &Style, width: Option<usize>) -> String {
        let mut out = String::new();
        for h in &self.0 {
            out.push_str(&format!(
                "{}\n",
                s.bold(&format!(
                    "Handoff {} with {} (third party; the visitor does not see this)",
                    h.handoff,
                    escape_remote(&h.third_party)
                ))
            ));
            if h.messages.is_empty() {
                out.push_str(&s.dim("  (no answer yet)\n"));
            }
            let third = format!("{} (third party)", escape_remote(&h.third_party));
            out.push_str(&render_entries(&h.messages, "you", &third, s, width));
        }
        out
    }

    /// Whether any channel message did not open or verify.
    pub fn unreadable(&self) -> bool {
        self.0.iter().flat_map(|h| &h.messages).any(|m| !m.readable)
    }
}

/// `candor handoff reply CASE HANDOFF`: the ombuds writes to the third party.
pub fn reply(ctx: &Context, args: OfficeReplyArgs) -> Result<()> {
    let draft = Draft::from_args(args.message.message_file.as_deref())?;
    let c = OfficeCase::open(ctx, &args.case)?;
    let k = pick(&c.known, &args.handoff)?;
    let card = k.draft.third_party_card()?;
    let channel = NoticeSeed::of_office(c.keys.identity.kem(), &k.id())
        .keys()
        .channel;
    let auth = office_auth(&c.keys);
    if c.relay.channel_envelopes(&channel, &auth)?.is_none() {
        bail!(
            "handoff {} has no channel: it opens when you agree, and it is gone after the \
             handoff's expiry",
            k.label()
        );
    }
    let text = draft.compose(&format!(
        "Your message to {} about handoff {}. It is sealed to them and signed by the office; \
         the visitor does not see it.",
        card.name,
        k.label()
    ))?;
    let message = Message::text(text.as_str(), crate::commands::today());
    let sealer = office_sealer(&c.keys.identity, card.kem_public_key(), channel);
    let envelope = message.seal(&sealer, &mut candor_protocol::rand::rng())?;
    let seq = send_or_keep(text.as_str(), || {
        c.relay
            .channel_append(&envelope, &auth)
            .map_err(|e| anyhow!(e).context("the message to the third party was not sent"))
    })?;
    ctx.out.either(
        &serde_json::json!({ "handoff": k.label(), "seq": seq }),
        |s| {
            format!(
                "{} to {} about handoff {} (message #{seq} of its channel).",
                s.green("Sent"),
                escape_remote(&card.name),
                k.label()
            )
        },
    )
}
