//! End-to-end tests: the real `candor-server` on loopback with a temporary store, and the real
//! `candor` binary driven as an office, its staff and visitors, each with their own empty home.
//! The tests look at what each party sees and at what the relay stored on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod card;
mod cli;
mod copied_card;
mod editor;
mod flow;
mod handoff;
mod invite;
mod keys;
mod keysub;
mod network;
mod notes;
mod nothing_lost;
mod prefix;
mod prompts;
mod readme;
mod records;
mod resources;
mod terminal;
mod third_party;
mod thread;
mod visitor;

use std::path::PathBuf;

use candor_protocol::{Codename, MailboxId, OfficeAddress};
use candor_tests::{Party, Relay};

/// A resources file with one referral, for `--resources`.
const RESOURCES: &str = r#"
[[resources]]
id = "counseling"
name = "Counseling and Crisis Support"
description = "Free, confidential counseling for students and staff."
contact = "Health Center, room 2"
confidential = true
audience = ["student", "staff"]
urgent = true
"#;

/// An office registered at a relay, with its staff's home.
struct Office {
    staff: Party,
    address: String,
}

impl Office {
    /// `office init` with a referral resource, then `office publish --invite`.
    fn register(relay: &Relay, name: &str, id: &str) -> Self {
        Self::register_at(relay, &relay.url, name, id)
    }

    /// Like [`Office::register`], with the card naming `relay_url` and the staff using `staff`.
    fn register_with(staff: Party, relay: &Relay, relay_url: &str, name: &str, id: &str) -> Self {
        let resources = staff.home().join("resources.toml");
        std::fs::write(&resources, RESOURCES).unwrap();
        staff
            .candor(&[
                "office",
                "init",
                "--name",
                name,
                "--id",
                id,
                "--relay",
                relay_url,
                "--resources",
                resources.to_str().unwrap(),
            ])
            .ok();
        staff
            .candor(&["office", "publish", "--invite", &relay.invite()])
            .ok();
        let address = staff.candor(&["office", "address"]).ok().stdout;
        Self {
            staff,
            address: address.trim().to_owned(),
        }
    }

    fn register_at(relay: &Relay, relay_url: &str, name: &str, id: &str) -> Self {
        Self::register_with(Party::new(), relay, relay_url, name, id)
    }

    /// The case labels in the office's inbox.
    fn labels(&self) -> Vec<String> {
        let inbox = self.staff.candor(&["inbox", "--json"]).ok().json();
        inbox["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["case"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Raises a concern with `text` on stdin, acknowledging the policy; returns the codename.
fn raise(visitor: &Party, address: &str, text: &str) -> String {
    let raised = visitor
        .candor(&["raise", address, "--yes", "--json"])
        .stdin(text)
        .ok()
        .json();
    raised["codename"].as_str().unwrap().to_owned()
}

/// The mailbox a codename names at an office, computed independently of the client.
fn mailbox_of(codename: &str, address: &str) -> MailboxId {
    let address: OfficeAddress = address.parse().unwrap();
    let codename: Codename = codename.parse().unwrap();
    codename.derive(&address.fingerprint).mailbox
}

/// Every file under a party's home.
fn files_in(party: &Party) -> Vec<PathBuf> {
    std::fs::read_dir(party.home())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}
