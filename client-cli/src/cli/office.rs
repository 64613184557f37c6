//! The office's command line: `candor office …`, its keys, card, address and third
//! parties.

use std::path::PathBuf;

use candor_protocol::limits;
use clap::{Args, Subcommand};

use super::Network;

/// The formats of `--policy`, `--lists` and `--resources`, shown by `--help` (the same as
/// `client-cli/src/policy.rs` documents and reads).
const FILE_FORMATS: &str = r#"File formats (TOML):

--policy FILE sets any of the four texts visitors read; the ones it leaves out keep their
defaults:

    confidentiality = "..."
    exception = "..."
    not_notice = "..."
    retention = "..."

--lists FILE replaces any of the three lists; IDs are 1 to 32 of a-z, 0-9 and '-':

    [[constituencies]]
    id = "student"
    label = "Student"

    [[categories]]
    id = "peer"
    label = "Peer and colleague relationships"

    [[outcomes]]
    id = "resolved"
    label = "The concern was resolved"

--resources FILE lists referral resources; contact, url, audience (constituency IDs; left out,
the resource serves everyone) and urgent (shown at once to a visitor who marks a concern
urgent) may be left out:

    [[resources]]
    id = "counseling"
    name = "Student Mental Health and Counseling Services"
    description = "Free, confidential counseling."
    contact = "+1 555 0100, Health Center room 2"
    url = "https://health.example.edu/counseling"
    confidential = true
    audience = ["student"]
    urgent = false
"#;

#[derive(Subcommand)]
pub enum OfficeCommand {
    /// Create the office's keys and card in a new, passphrase-encrypted keystore.
    #[command(after_long_help = FILE_FORMATS)]
    Init(InitArgs),
    /// Register the signed card with the relay (with --invite), or publish an update.
    #[command(after_long_help = FILE_FORMATS)]
    Publish(PublishArgs),
    /// Print the office address that visitors use.
    Address,
    /// Write the keys and card to a passphrase-encrypted bundle, for another ombuds.
    ExportKeys(BundleArgs),
    /// Load the keys and card from a bundle made by `office export-keys`.
    ImportKeys(ImportArgs),
    /// Manage the third parties a case may be handed on to; the list is kept encrypted with
    /// the office keystore, never on the relay.
    #[command(subcommand)]
    ThirdParty(OfficeThirdPartyCommand),
}

#[derive(Subcommand)]
pub enum OfficeThirdPartyCommand {
    /// Import a third party's card, after checking its fingerprint with them.
    Add(ThirdPartyAddArgs),
    /// List the imported third parties.
    List,
    /// Remove an imported third party.
    Remove(ThirdPartyRemoveArgs),
}

#[derive(Args)]
pub struct ThirdPartyAddArgs {
    /// The card file, from `candor third-party card`.
    pub card_file: PathBuf,
    /// The short name to use for them in `candor handoff propose --to` (a-z, 0-9 and -).
    #[arg(long = "as", value_name = "SHORTNAME")]
    pub short: String,
    /// Confirm that the fingerprint matches without being asked.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct ThirdPartyRemoveArgs {
    /// The short name given to `add --as`.
    pub short: String,
}

#[derive(Args)]
pub struct InitArgs {
    /// The office's name, as visitors see it.
    #[arg(long)]
    pub name: String,
    /// The relay's base URL, for example `https://relay.example.edu`.
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// The office's ID on the relay [default: derived from the name].
    #[arg(long)]
    pub id: Option<String>,
    /// Replace the default policy texts with this TOML file.
    #[arg(long, value_name = "FILE.toml")]
    pub policy: Option<PathBuf>,
    /// Replace the default lists of categories, constituencies or outcomes with those in this
    /// TOML file.
    #[arg(long, value_name = "FILE.toml")]
    pub lists: Option<PathBuf>,
    /// Referral resources, from this TOML file [default: none].
    #[arg(long, value_name = "FILE.toml")]
    pub resources: Option<PathBuf>,
    /// Days a case is kept on the relay after its last activity (1 to 3650).
    #[arg(long, default_value_t = 90, value_parser = retention_days)]
    pub retention_days: u32,
    /// Working days within which the office usually replies; every visitor is told (1 to 30).
    #[arg(long, default_value_t = limits::DEFAULT_REPLY_WITHIN_DAYS, value_parser = reply_within_days)]
    pub reply_within_days: u32,
    /// Days a visitor can still read a case after it is closed (1 to 90).
    #[arg(long, default_value_t = limits::DEFAULT_CLOSE_GRACE_DAYS, value_parser = close_grace_days)]
    pub close_grace_days: u32,
}

#[derive(Args)]
pub struct PublishArgs {
    /// A one-time registration token from the relay's operator (`candor-server invite`).
    /// Needed the first time only. `-` reads it from stdin, or asks for it at a terminal, so
    /// that it stays out of the process list and the shell's history.
    // The token starts with base64url, so 1 in 64 starts with '-'.
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub invite: Option<String>,
    /// Read the invite token from this file instead.
    #[arg(long, value_name = "FILE", conflicts_with = "invite")]
    pub invite_file: Option<std::path::PathBuf>,
    /// Replace the policy texts with this TOML file before publishing.
    #[arg(long, value_name = "FILE.toml")]
    pub policy: Option<PathBuf>,
    /// Replace the lists of categories, constituencies or outcomes named in this TOML file
    /// before publishing.
    #[arg(long, value_name = "FILE.toml")]
    pub lists: Option<PathBuf>,
    /// Replace the referral resources with this TOML file before publishing.
    #[arg(long, value_name = "FILE.toml")]
    pub resources: Option<PathBuf>,
    /// Change the retention period before publishing (1 to 3650 days).
    #[arg(long, value_parser = retention_days)]
    pub retention_days: Option<u32>,
    /// Change the usual reply time before publishing (1 to 30 working days).
    #[arg(long, value_parser = reply_within_days)]
    pub reply_within_days: Option<u32>,
    /// Change the grace period of closed cases before publishing (1 to 90 days).
    #[arg(long, value_parser = close_grace_days)]
    pub close_grace_days: Option<u32>,
    /// Days from today until the published card expires; clients refuse an expired card, so
    /// publish again before then (1 to 732).
    #[arg(long, default_value_t = limits::DEFAULT_CARD_VALID_DAYS, value_parser = valid_days)]
    pub valid_days: u32,
    #[command(flatten)]
    pub network: Network,
}

#[derive(Args)]
pub struct BundleArgs {
    /// The bundle file to write. Its passphrase comes from a prompt or
    /// CANDOR_BUNDLE_PASSPHRASE.
    pub file: PathBuf,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The bundle file to read. Its passphrase comes from a prompt or CANDOR_BUNDLE_PASSPHRASE.
    pub file: PathBuf,
    /// Replace an existing office keystore in this home.
    #[arg(long)]
    pub force: bool,
}

fn retention_days(value: &str) -> Result<u32, String> {
    super::days(value, &limits::RETENTION_DAYS)
}

fn reply_within_days(value: &str) -> Result<u32, String> {
    super::days(value, &limits::REPLY_WITHIN_DAYS)
}

fn close_grace_days(value: &str) -> Result<u32, String> {
    super::days(value, &limits::CLOSE_GRACE_DAYS)
}

fn valid_days(value: &str) -> Result<u32, String> {
    super::days(value, &(1..=limits::MAX_CARD_VALID_DAYS))
}
