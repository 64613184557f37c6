//! Runs a parsed command line: one module per role.

pub mod cases;
pub mod handoff;
pub mod office;
pub mod ombuds;
pub mod report;
pub mod third_party;
pub mod visitor;

use anyhow::{Result, anyhow};
use candor_protocol::{Day, RelayUrl};

use crate::cli::{
    Cli, Command, HandoffCommand, OfficeCommand, OfficeThirdPartyCommand, PROXY_ENV, ProxyChoice,
    ProxyUrl, ThirdPartyCommand,
};
use crate::home::Home;
use crate::output::Out;
use crate::relay::{Relay, unix_now};

/// What every command needs: the output, the home directory and the way to relays.
pub struct Context {
    /// Where results go.
    pub out: Out,
    /// Where files live.
    pub home: Home,
    /// The command's `--proxy` (which clap also reads from `CANDOR_PROXY`), if the command
    /// takes one.
    proxy: Option<Option<ProxyUrl>>,
}

impl Context {
    /// A client for `relay`, through the proxy if one was given. A command that offers no
    /// `--proxy` still honours `CANDOR_PROXY`, should it ever reach a relay, so that a visitor
    /// who set it for Tor never connects directly.
    pub fn relay(&self, relay: &RelayUrl) -> Result<Relay> {
        let proxy = match &self.proxy {
            Some(given) => given.clone(),
            None => match std::env::var(PROXY_ENV) {
                Ok(value) => value.parse::<ProxyChoice>().map(|p| p.0).map_err(|e| {
                    anyhow!("{PROXY_ENV} is not a proxy: {e}; or set it empty for none")
                })?,
                Err(_) => None,
            },
        };
        Relay::new(relay, proxy.as_ref())
    }
}

/// Today, as messages carry it: the day only, never the time.
pub fn today() -> Day {
    Day::from_unix(unix_now())
}

/// Runs the command.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context {
        out: Out::new(cli.global.json),
        home: Home::locate(cli.global.home.as_deref())?,
        proxy: cli
            .command
            .network()
            .map(|n| n.proxy.clone().and_then(|p| p.0)),
    };
    match cli.command {
        Command::Office(OfficeCommand::Init(args)) => office::init(&ctx, args),
        Command::Office(OfficeCommand::Publish(args)) => office::publish(&ctx, args),
        Command::Office(OfficeCommand::Address) => office::address(&ctx),
        Command::Office(OfficeCommand::ExportKeys(args)) => office::export_keys(&ctx, args),
        Command::Office(OfficeCommand::ImportKeys(args)) => office::import_keys(&ctx, args),
        Command::Office(OfficeCommand::ThirdParty(OfficeThirdPartyCommand::Add(args))) => {
            office::third_parties::add(&ctx, args)
        }
        Command::Office(OfficeCommand::ThirdParty(OfficeThirdPartyCommand::List)) => {
            office::third_parties::list(&ctx)
        }
        Command::Office(OfficeCommand::ThirdParty(OfficeThirdPartyCommand::Remove(args))) => {
            office::third_parties::remove(&ctx, args)
        }
        Command::ThirdParty(ThirdPartyCommand::Init(args)) => third_party::init(&ctx, args),
        Command::ThirdParty(ThirdPartyCommand::Card) => third_party::card(&ctx),
        Command::ThirdParty(ThirdPartyCommand::Inbox(_)) => third_party::inbox(&ctx),
        Command::ThirdParty(ThirdPartyCommand::Read(args)) => third_party::read(&ctx, args),
        Command::ThirdParty(ThirdPartyCommand::Reply(args)) => third_party::reply(&ctx, args),
        Command::Handoff(HandoffCommand::Propose(args)) => handoff::propose(&ctx, args),
        Command::Handoff(HandoffCommand::Show(args)) => handoff::show(&ctx, args),
        Command::Handoff(HandoffCommand::Consent(args)) => handoff::consent(&ctx, args),
        Command::Handoff(HandoffCommand::Decline(args)) => handoff::decline(&ctx, args),
        Command::Handoff(HandoffCommand::Agree(args)) => handoff::agree(&ctx, args),
        Command::Handoff(HandoffCommand::Status(args)) => handoff::status(&ctx, args),
        Command::Handoff(HandoffCommand::Revoke(args)) => handoff::revoke(&ctx, args),
        Command::Handoff(HandoffCommand::Reply(args)) => handoff::reply(&ctx, args),
        Command::Inbox(_) => ombuds::inbox(&ctx),
        Command::Read(args) => ombuds::read(&ctx, args),
        Command::Reply(args) => ombuds::reply(&ctx, args),
        Command::Close(args) => ombuds::close(&ctx, args),
        Command::Note(args) => ombuds::note(&ctx, args),
        Command::Report(args) => report::report(&ctx, args),
        Command::Raise(args) => visitor::raise(&ctx, args),
        Command::Resources(args) => visitor::resources(&ctx, args),
        Command::Check(args) => visitor::check(&ctx, args),
        Command::Send(args) => visitor::send(&ctx, args),
        Command::Destroy(args) => visitor::destroy(&ctx, args),
        Command::Forget(args) => visitor::forget(&ctx, args),
    }
}
