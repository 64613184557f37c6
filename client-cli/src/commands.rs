//! Runs a parsed command line: one module per role.

pub mod office;
pub mod ombuds;
pub mod visitor;

use anyhow::Result;
use candor_protocol::{Day, RelayUrl};

use crate::cli::{Cli, Command, Global, OfficeCommand};
use crate::home::Home;
use crate::output::Out;
use crate::relay::{Relay, unix_now};

/// What every command needs: the global options, the output and the home directory.
pub struct Context {
    /// Global options.
    pub global: Global,
    /// Where results go.
    pub out: Out,
    /// Where files live.
    pub home: Home,
}

impl Context {
    /// A client for `relay`, through the proxy if one was given.
    pub fn relay(&self, relay: &RelayUrl) -> Result<Relay> {
        Relay::new(relay, self.global.proxy.as_ref().and_then(|p| p.0.as_ref()))
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
        global: cli.global,
    };
    match cli.command {
        Command::Office(OfficeCommand::Init(args)) => office::init(&ctx, args),
        Command::Office(OfficeCommand::Publish(args)) => office::publish(&ctx, args),
        Command::Office(OfficeCommand::Address) => office::address(&ctx),
        Command::Office(OfficeCommand::ExportKeys(args)) => office::export_keys(&ctx, args),
        Command::Office(OfficeCommand::ImportKeys(args)) => office::import_keys(&ctx, args),
        Command::Inbox => ombuds::inbox(&ctx),
        Command::Read(args) => ombuds::read(&ctx, args),
        Command::Reply(args) => ombuds::reply(&ctx, args),
        Command::Close(args) => ombuds::close(&ctx, args),
        Command::Report(args) => crate::report::command::report(&ctx, args),
        Command::Raise(args) => visitor::raise(&ctx, args),
        Command::Resources(args) => visitor::resources(&ctx, args),
        Command::Check(args) => visitor::check(&ctx, args),
        Command::Send(args) => visitor::send(&ctx, args),
        Command::Destroy(args) => visitor::destroy(&ctx, args),
        Command::Forget(args) => visitor::forget(&ctx, args),
    }
}
