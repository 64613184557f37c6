//! The visitor's command line: `candor raise`, `check`, `send`, `destroy` and `forget`.

use candor_protocol::ItemId;
use clap::Args;

use super::{AddressArg, MessageArgs, Network};

#[derive(Args)]
pub struct VisitorArgs {
    /// The office address, as the office published it (candor:OFFICE.FINGERPRINT@RELAY).
    pub address: AddressArg,
    #[command(flatten)]
    pub network: Network,
    /// Keep the codename on this computer, encrypted with a passphrase, so that you need not
    /// type it again.
    #[arg(long)]
    pub remember: bool,
}

#[derive(Args)]
pub struct RaiseArgs {
    #[command(flatten)]
    pub visitor: VisitorArgs,
    #[command(flatten)]
    pub message: MessageArgs,
    /// Acknowledge the office's policy without being asked.
    #[arg(long)]
    pub yes: bool,
    /// The concern's category, by ID from the office card (up to three times).
    #[arg(long, value_name = "ID")]
    pub category: Vec<ItemId>,
    /// Your constituency, by ID from the office card (student, faculty, staff, …), if you want
    /// to say.
    #[arg(long, value_name = "ID")]
    pub constituency: Option<ItemId>,
    /// Flag an imminent risk of serious harm, so that the office answers first.
    #[arg(long)]
    pub urgent: bool,
    /// Keep no copy of what you write: then nobody with the codename, you included, can read
    /// it again; only the office can.
    #[arg(long)]
    pub no_copy: bool,
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub visitor: VisitorArgs,
    #[command(flatten)]
    pub message: MessageArgs,
    /// Flag an imminent risk of serious harm, so that the office answers first.
    #[arg(long)]
    pub urgent: bool,
    /// Keep no copy of this message: only the office can read it.
    #[arg(long)]
    pub no_copy: bool,
}

#[derive(Args)]
pub struct DestroyArgs {
    /// The office address (candor:OFFICE.FINGERPRINT@RELAY).
    pub address: AddressArg,
    #[command(flatten)]
    pub network: Network,
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct ForgetArgs {
    /// The office address (candor:OFFICE.FINGERPRINT@RELAY).
    pub address: AddressArg,
}
