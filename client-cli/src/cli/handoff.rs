//! The handoff's command line: `candor handoff …` for the ombuds and the visitor, and the third
//! party's `inbox`, `read` and `reply`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{AddressArg, CaseArgs, MessageArgs, Network};

/// The longest a proposal may run, in days (the relay keeps nothing longer).
pub const MAX_EXPIRES_DAYS: u32 = 365;

#[derive(Subcommand)]
pub enum HandoffCommand {
    /// Ombuds: propose to hand selected content of a case on to a third party; the proposal
    /// reaches the visitor in the case, and nothing is disclosed until they consent and you
    /// agree.
    Propose(ProposeArgs),
    /// Visitor: list the office's proposals in your case, with exactly what each would
    /// disclose, to whom, for what and until when.
    Show(ShowArgs),
    /// Visitor: consent to a proposal (optionally with your identity, sealed to the third party
    /// so that the ombuds never reads it).
    Consent(ConsentArgs),
    /// Visitor: decline a proposal; the office is told in the case.
    Decline(VisitorHandoffArgs),
    /// Ombuds: agree to a proposal the visitor consented to, which releases it to the third
    /// party.
    Agree(OfficeHandoffArgs),
    /// Ombuds or visitor: where each handoff of the case stands.
    Status(StatusArgs),
    /// Ombuds or visitor: revoke a handoff the third party has not fetched yet.
    Revoke(RevokeArgs),
    /// Ombuds: write to the third party of a handoff, on its own channel.
    Reply(OfficeReplyArgs),
}

#[derive(Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// The third party, by the short name given to `office third-party add --as`.
    #[arg(long, value_name = "SHORTNAME")]
    pub to: String,
    /// Why the third party is approached (1 to 2000 characters); the visitor reads it.
    #[arg(long, value_name = "TEXT")]
    pub purpose: String,
    /// Disclose this message of the thread, by its number (`#3` in `candor read`); repeat for
    /// more.
    #[arg(long = "message", value_name = "N")]
    pub messages: Vec<u64>,
    /// Disclose a text written for the third party, such as a summary (UTF-8 file).
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
    /// Ask the visitor to include their identity, which they seal to the third party.
    #[arg(long)]
    pub ask_identity: bool,
    /// How many days the proposal stands: after it nothing is released.
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = expires_days)]
    pub expires: u32,
    /// Send the proposal without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    /// The office address.
    pub address: AddressArg,
    #[command(flatten)]
    pub network: Network,
}

#[derive(Args)]
pub struct VisitorHandoffArgs {
    /// The office address.
    pub address: AddressArg,
    /// The handoff, by its label in `candor handoff show` (or more of its ID).
    // A label is base64url, so 1 in 64 starts with '-'.
    #[arg(allow_hyphen_values = true)]
    pub handoff: String,
    #[command(flatten)]
    pub network: Network,
    /// Go ahead without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct ConsentArgs {
    #[command(flatten)]
    pub handoff: VisitorHandoffArgs,
    /// Your identity (name, role, how to reach you), for the third party only, if the proposal
    /// asks for it. The ombuds sees only that it is included, never what it says.
    #[arg(long, value_name = "TEXT")]
    pub identity: Option<String>,
}

#[derive(Args)]
pub struct OfficeHandoffArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// The handoff, by its label in `candor handoff status`.
    // A label is base64url, so 1 in 64 starts with '-'.
    #[arg(allow_hyphen_values = true)]
    pub handoff: String,
    /// Go ahead without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    /// A case label (ombuds) or the office address (visitor).
    pub target: String,
    #[command(flatten)]
    pub network: Network,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// A case label (ombuds) or the office address (visitor).
    pub target: String,
    /// The handoff, by its label in `candor handoff status`.
    // A label is base64url, so 1 in 64 starts with '-'.
    #[arg(allow_hyphen_values = true)]
    pub handoff: String,
    #[command(flatten)]
    pub network: Network,
    /// Revoke without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct OfficeReplyArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// The handoff, by its label in `candor handoff status`.
    // A label is base64url, so 1 in 64 starts with '-'.
    #[arg(allow_hyphen_values = true)]
    pub handoff: String,
    #[command(flatten)]
    pub message: MessageArgs,
}

#[derive(Args)]
pub struct ThirdPartyHandoffArgs {
    /// The handoff, by its label in `candor third-party inbox`.
    // A label is base64url, so 1 in 64 starts with '-'.
    #[arg(allow_hyphen_values = true)]
    pub handoff: String,
    #[command(flatten)]
    pub network: Network,
}

#[derive(Args)]
pub struct ThirdPartyReplyArgs {
    #[command(flatten)]
    pub handoff: ThirdPartyHandoffArgs,
    #[command(flatten)]
    pub message: MessageArgs,
}

impl HandoffCommand {
    /// The network options of each handoff command: every one talks to the relay.
    pub fn network(&self) -> &Network {
        match self {
            HandoffCommand::Propose(a) => &a.case.network,
            HandoffCommand::Show(a) => &a.network,
            HandoffCommand::Consent(a) => &a.handoff.network,
            HandoffCommand::Decline(a) => &a.network,
            HandoffCommand::Agree(a) => &a.case.network,
            HandoffCommand::Status(a) => &a.network,
            HandoffCommand::Revoke(a) => &a.network,
            HandoffCommand::Reply(a) => &a.case.network,
        }
    }
}

fn expires_days(value: &str) -> Result<u32, String> {
    super::days(value, &(1..=MAX_EXPIRES_DAYS))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command, HandoffCommand, ThirdPartyCommand};

    #[test]
    fn a_handoff_label_may_start_with_a_hyphen_and_flags_after_it_still_count() {
        // Arrange: a base64url label that starts with '-', as 1 in 64 do.
        let label = "-zbbUt2E";

        // Act
        let agree = Cli::try_parse_from(["candor", "handoff", "agree", "k7qx2m4a", label, "--yes"]);
        let read = Cli::try_parse_from(["candor", "third-party", "read", label]);

        // Assert
        match agree.map(|c| c.command) {
            Ok(Command::Handoff(HandoffCommand::Agree(a))) => {
                assert_eq!(a.handoff, label);
                assert!(a.yes);
            }
            _ => panic!("handoff agree with a hyphenated label did not parse"),
        }
        match read.map(|c| c.command) {
            Ok(Command::ThirdParty(ThirdPartyCommand::Read(a))) => assert_eq!(a.handoff, label),
            _ => panic!("third-party read with a hyphenated label did not parse"),
        }
    }
}
