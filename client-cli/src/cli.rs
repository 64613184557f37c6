//! The command line: every subcommand, flag and environment variable, parsed by clap.
//!
//! Every prompt has a flag or an environment variable, so that each command runs in a script
//! without a terminal.

mod handoff;
mod office;
mod visitor;

use std::path::PathBuf;
use std::str::FromStr;

use candor_protocol::{ItemId, OfficeAddress};
use clap::{Args, Parser, Subcommand};

pub use self::handoff::{
    ConsentArgs, HandoffCommand, OfficeHandoffArgs, OfficeReplyArgs, ProposeArgs, RevokeArgs,
    ShowArgs, StatusArgs, ThirdPartyHandoffArgs, ThirdPartyReplyArgs, VisitorHandoffArgs,
};
pub use self::office::{
    BundleArgs, ImportArgs, InitArgs, OfficeCommand, OfficeThirdPartyCommand, PublishArgs,
    ThirdPartyAddArgs, ThirdPartyRemoveArgs,
};
pub use self::visitor::{DestroyArgs, ForgetArgs, RaiseArgs, SendArgs, VisitorArgs};

const AFTER_HELP: &str = "\
Environment:
  CANDOR_PASSPHRASE         the keystore passphrase (instead of a prompt)
  CANDOR_BUNDLE_PASSPHRASE  the passphrase of a key bundle (export-keys, import-keys)
  CANDOR_CODENAME           the visitor's codename (instead of a hidden prompt)
  CANDOR_HOME, CANDOR_PROXY as --home and --proxy
  NO_COLOR                  no colour, even on a terminal

Exit codes:
  0 done, 1 usage or input error, 2 refused by the relay, 3 cannot reach the relay,
  4 a card, signature or message does not verify";

/// Anonymous, end-to-end encrypted conversations between visitors and an ombuds office.
#[derive(Parser)]
#[command(name = "candor", version, max_term_width = 100, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Clone)]
pub struct Global {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Where the office keystore and remembered cases live [default: the platform data
    /// directory].
    #[arg(long, global = true, env = "CANDOR_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

/// The options of a command that talks to a relay. Only those commands take them: the others
/// never touch the network, and `--help` does not offer them a proxy.
#[derive(Args, Clone, Default)]
pub struct Network {
    /// Send all traffic, DNS included, through this SOCKS5 proxy (Tor: socks5h://127.0.0.1:9050).
    /// An empty value (`CANDOR_PROXY=`) means no proxy.
    #[arg(long, env = PROXY_ENV, value_name = "socks5h://HOST:PORT")]
    pub proxy: Option<ProxyChoice>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Manage the office: keys, card and address.
    #[command(subcommand)]
    Office(OfficeCommand),
    /// A third party to whom a case may be handed on: keys, card, handoffs and answers.
    #[command(subcommand)]
    ThirdParty(ThirdPartyCommand),
    /// Hand a case on for informal resolution, only with the visitor's consent and the
    /// ombuds' agreement.
    #[command(subcommand)]
    Handoff(HandoffCommand),

    /// Ombuds: list the office's cases, urgent first.
    Inbox(Network),
    /// Ombuds: show a case's thread.
    Read(CaseArgs),
    /// Ombuds: reply to a case, optionally with referrals.
    Reply(ReplyArgs),
    /// Ombuds: keep a note on a case, sealed to the office only; `candor read` shows it after
    /// the thread. The visitor never sees it, and it is destroyed with the case.
    Note(NoteArgs),
    /// Ombuds: close a case, with an optional last message; the visitor can still read it for
    /// the card's grace period.
    Close(CloseArgs),
    /// Ombuds: the office's trends, from the anonymous tallies of closed cases, with small
    /// counts suppressed.
    Report(ReportArgs),

    /// Visitor: raise a concern with an office.
    Raise(RaiseArgs),
    /// Anyone: the office's verified referral directory, without opening a case.
    Resources(ResourcesArgs),
    /// Visitor: read the thread of your case, with the office's replies verified.
    Check(VisitorArgs),
    /// Visitor: send a follow-up message in your case.
    Send(SendArgs),
    /// Visitor: delete your case from the relay, now.
    Destroy(DestroyArgs),
    /// Visitor: remove a remembered codename from this computer (the case stays on the relay).
    Forget(ForgetArgs),
}

impl Command {
    /// The network options, for a command that talks to a relay.
    pub fn network(&self) -> Option<&Network> {
        match self {
            Command::Office(OfficeCommand::Publish(a)) => Some(&a.network),
            Command::Inbox(n) => Some(n),
            Command::Read(a) => Some(&a.network),
            Command::Reply(a) => Some(&a.case.network),
            Command::Close(a) => Some(&a.case.network),
            Command::Note(a) => Some(&a.case.network),
            Command::Raise(a) => Some(&a.visitor.network),
            Command::Check(a) => Some(&a.network),
            Command::Send(a) => Some(&a.visitor.network),
            Command::Destroy(a) => Some(&a.network),
            Command::Report(a) => Some(&a.network),
            Command::Resources(a) => Some(&a.network),
            Command::Handoff(h) => Some(h.network()),
            Command::ThirdParty(ThirdPartyCommand::Inbox(n)) => Some(n),
            Command::ThirdParty(ThirdPartyCommand::Read(a)) => Some(&a.network),
            Command::ThirdParty(ThirdPartyCommand::Reply(a)) => Some(&a.handoff.network),
            // Keys, cards and lists on this computer only.
            Command::Office(_)
            | Command::Forget(_)
            | Command::ThirdParty(ThirdPartyCommand::Init(_) | ThirdPartyCommand::Card) => None,
        }
    }
}

#[derive(Subcommand)]
pub enum ThirdPartyCommand {
    /// Create a third party's keys and signed card in a new, passphrase-encrypted keystore.
    Init(ThirdPartyInitArgs),
    /// Print the signed card, to send to the ombuds, and its fingerprint, to read to them over
    /// another channel.
    Card,
    /// List the handoffs released to you, from the relay's notice board.
    Inbox(Network),
    /// Fetch and show a handoff: the content, with its scope and both signatures checked.
    Read(ThirdPartyHandoffArgs),
    /// Answer the ombuds about a handoff, on its own channel (the visitor never sees it).
    Reply(ThirdPartyReplyArgs),
}

#[derive(Args)]
pub struct ThirdPartyInitArgs {
    /// Name and role, as the visitor and the ombuds see them, for example "Head of Chemistry".
    #[arg(long)]
    pub name: String,
    /// The relay's base URL, for example `https://relay.example.edu`.
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// State that you must report what you learn (a "responsible employee"); the visitor is
    /// shown this before consenting.
    #[arg(long)]
    pub mandatory_reporter: bool,
}

#[derive(Args)]
pub struct CaseArgs {
    /// The case: its label from `candor inbox` (8 letters and digits, typed in any case), or
    /// any unique start of it.
    pub case: String,
    #[command(flatten)]
    pub network: Network,
}

#[derive(Args)]
pub struct MessageArgs {
    /// Read the message from this file instead of stdin or $EDITOR.
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReplyArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub message: MessageArgs,
    /// Attach a referral resource from the office card, by ID (repeatable).
    #[arg(long, value_name = "ID")]
    pub refer: Vec<ItemId>,
}

#[derive(Args)]
pub struct NoteArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub message: MessageArgs,
}

#[derive(Args)]
pub struct CloseArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// How the case ended, by ID from the office card's outcomes, for the office's anonymous
    /// statistics.
    #[arg(long, value_name = "ID")]
    pub outcome: ItemId,
    /// A last message to the visitor, from this file [default: asked for at a terminal].
    #[arg(long, value_name = "FILE", conflicts_with = "no_message")]
    pub message_file: Option<PathBuf>,
    /// Close without a last message, and without asking for one.
    #[arg(long)]
    pub no_message: bool,
    /// Delete the case from the relay now, instead of leaving it readable for the grace period.
    #[arg(long, conflicts_with_all = ["message_file"])]
    pub delete: bool,
    /// Close without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// How `candor report` groups quarters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodKind {
    /// Calendar quarters.
    Quarter,
    /// Years, starting in the month `--year-starts` gives.
    Year,
}

/// What `candor report` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// An aligned table, 80 columns wide.
    Table,
    /// RFC 4180 CSV.
    Csv,
    /// JSON; suppressed counts are null.
    Json,
    /// An SVG chart: stacked bars per period.
    Svg,
}

#[derive(Args)]
#[command(after_help = REPORT_RULES)]
pub struct ReportArgs {
    /// The first quarter, such as 2026Q1; it must start a period [default: the first tally's].
    #[arg(long, value_name = "QUARTER")]
    pub from: Option<candor_protocol::Quarter>,
    /// The last quarter, such as 2026Q4; it must end a period [default: the last tally's].
    #[arg(long, value_name = "QUARTER")]
    pub to: Option<candor_protocol::Quarter>,
    /// One row per quarter or per year.
    #[arg(long, value_enum, default_value = "quarter")]
    pub period: PeriodKind,
    /// The month a year starts in (1, 4, 7 or 10), for academic and fiscal years.
    #[arg(long, value_name = "MONTH", default_value_t = 1)]
    pub year_starts: u8,
    /// Count by category, constituency or outcome.
    #[arg(long, value_enum, default_value = "category")]
    pub by: crate::report::Dimension,
    /// The output's format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Suppress counts below this (at least 3).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_count: u64,
    /// Write every tally, still sealed under the records key, to FILE: the office's own backup.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["import", "out"])]
    pub export: Option<PathBuf>,
    /// Report from an export made by --export instead of from the relay.
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,
    #[command(flatten)]
    pub network: Network,
}

/// How `candor report` suppresses, shown by its `--help`.
const REPORT_RULES: &str = "Suppression: a count from 1 to --min-count - 1 is shown as suppressed, \
and so is a period's total below it. While a period hides only one count, or hidden counts that \
add up to less than --min-count, its smallest shown count is hidden too, so that no hidden count \
can be worked out from the shown ones. Zeros are shown. Periods are whole calendar quarters or \
years and no total across periods is shown, so two reports cannot be subtracted to reveal a \
count. With --by category a case counts in each of its categories (up to three).";

#[derive(Args)]
pub struct ResourcesArgs {
    /// The office address, as the office published it (candor:OFFICE.FINGERPRINT@RELAY).
    pub address: AddressArg,
    /// Only resources that serve this constituency, by ID from the office card.
    #[arg(long, value_name = "ID")]
    pub audience: Option<ItemId>,
    /// Only confidential resources.
    #[arg(long)]
    pub confidential: bool,
    #[command(flatten)]
    pub network: Network,
}

/// A whole number of days in `range`, for clap.
fn days(value: &str, range: &std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|d| range.contains(d))
        .ok_or_else(|| {
            format!(
                "give a whole number of days from {} to {}",
                range.start(),
                range.end()
            )
        })
}

/// An office address given on the command line.
#[derive(Clone)]
pub struct AddressArg(pub OfficeAddress);

impl FromStr for AddressArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(Self).map_err(|e: candor_protocol::Error| {
            format!("{e}; copy the whole address the office published")
        })
    }
}

/// The environment variable that stands for `--proxy`.
pub const PROXY_ENV: &str = "CANDOR_PROXY";

/// `--proxy` or `CANDOR_PROXY`: a proxy, or none when the value is empty.
#[derive(Clone, Debug)]
pub struct ProxyChoice(pub Option<ProxyUrl>);

impl FromStr for ProxyChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(Self(None));
        }
        s.parse().map(|p| Self(Some(p)))
    }
}

/// A SOCKS5 proxy that resolves names itself (`socks5h://`), so that DNS does not leak.
#[derive(Clone, Debug)]
pub struct ProxyUrl(pub String);

impl FromStr for ProxyUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s.strip_prefix("socks5h://").ok_or_else(|| {
            "use socks5h://HOST:PORT (socks5h, so that the proxy also resolves names)".to_owned()
        })?;
        let ok = !rest.is_empty()
            && rest.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("expected socks5h://HOST:PORT".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_must_resolve_names_remotely() {
        assert!("socks5h://127.0.0.1:9050".parse::<ProxyUrl>().is_ok());
        for bad in [
            "socks5://127.0.0.1:9050",
            "http://x:1",
            "socks5h://",
            "socks5h://h",
            "socks5h://:1",
        ] {
            assert!(bad.parse::<ProxyUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_case_is_named_before_or_after_the_flags() {
        for args in [
            &["candor", "read", "7K2M9QDX", "--json"][..],
            &[
                "candor",
                "--json",
                "close",
                "7K2M9QDX",
                "--outcome",
                "resolved",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let case = match cli.command {
                Command::Read(c) => c.case,
                Command::Close(c) => c.case.case,
                _ => unreachable!(),
            };
            assert_eq!(case, "7K2M9QDX");
            assert!(cli.global.json);
        }
    }

    #[test]
    fn an_invite_token_may_start_with_a_hyphen() {
        let cli = Cli::try_parse_from([
            "candor",
            "office",
            "publish",
            "--invite",
            "-iYMtytKYTdAfqXqFMCw.1796001838.STGN9Q5Z",
        ])
        .unwrap();
        let Command::Office(OfficeCommand::Publish(publish)) = cli.command else {
            unreachable!()
        };
        assert_eq!(
            publish.invite.as_deref(),
            Some("-iYMtytKYTdAfqXqFMCw.1796001838.STGN9Q5Z")
        );
    }

    #[test]
    fn ids_and_days_are_parsed_by_the_card_rules() {
        for bad in [
            &["candor", "close", "abc", "--outcome", "Resolved!"][..],
            &["candor", "office", "publish", "--close-grace-days", "91"],
            &["candor", "office", "publish", "--valid-days", "0"],
        ] {
            let err = Cli::try_parse_from(bad).err().unwrap().to_string();
            assert!(
                err.contains("a-z, 0-9") || err.contains("from 1 to"),
                "{bad:?}: {err}"
            );
        }
        let ok = Cli::try_parse_from(["candor", "close", "abc", "--outcome", "facilitated"]);
        let Command::Close(close) = ok.unwrap().command else {
            unreachable!()
        };
        assert_eq!(close.outcome.as_str(), "facilitated");
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
