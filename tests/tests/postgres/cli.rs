//! The real `candor` binary as an office's staff and as visitors, for the PostgreSQL tests
//! (the same steps as the end-to-end suite's helpers).

use candor_tests::{Party, Relay};

/// An office registered at a relay, with its staff's home.
pub struct Office {
    pub staff: Party,
    pub address: String,
}

impl Office {
    /// `office init` with its card naming `relay_url`, then `office publish` with an invite
    /// minted by `relay` (any instance: they share `relay.key`).
    pub fn register(relay: &Relay, relay_url: &str, id: &str) -> Self {
        let staff = Party::new();
        let init = ["office", "init", "--name", "Ombuds Office", "--id", id];
        let mut args = init.to_vec();
        args.extend(["--relay", relay_url]);
        staff.candor(&args).ok();
        staff
            .candor(&["office", "publish", "--invite", &relay.invite()])
            .ok();
        let address = staff.candor(&["office", "address"]).ok().stdout;
        Self {
            staff,
            address: address.trim().to_owned(),
        }
    }

    /// The case labels in the office's inbox, newest activity last.
    pub fn labels(&self) -> Vec<String> {
        let inbox = self.staff.candor(&["inbox", "--json"]).ok().json();
        inbox["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["case"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The office's reply to `label`, with `text` on stdin; returns its sequence number.
    pub fn reply(&self, label: &str, text: &str) -> u64 {
        let file = candor_tests::message_file(self.staff.home(), "reply.txt", text);
        let replied = self
            .staff
            .candor(&[
                "reply",
                label,
                "--message-file",
                file.to_str().unwrap(),
                "--json",
            ])
            .ok()
            .json();
        replied["seq"].as_u64().unwrap()
    }

    /// The texts of `label`'s thread, as the office reads it.
    pub fn read(&self, label: &str) -> Vec<String> {
        let read = self.staff.candor(&["read", label, "--json"]).ok().json();
        texts(&read)
    }
}

/// Raises a concern with `text` on stdin, acknowledging the policy; returns the codename.
pub fn raise(visitor: &Party, address: &str, text: &str) -> String {
    let raised = visitor
        .candor(&["raise", address, "--yes", "--json"])
        .stdin(text)
        .ok()
        .json();
    raised["codename"].as_str().unwrap().to_owned()
}

/// The texts of the visitor's thread, from `check`.
pub fn check(visitor: &Party, address: &str, codename: &str) -> Vec<String> {
    let checked = visitor
        .candor(&["check", address, "--json"])
        .env("CANDOR_CODENAME", codename)
        .ok()
        .json();
    texts(&checked)
}

/// The visitor's follow-up; returns its sequence number.
pub fn send(visitor: &Party, address: &str, codename: &str, text: &str) -> u64 {
    let sent = visitor
        .candor(&["send", address, "--json"])
        .env("CANDOR_CODENAME", codename)
        .stdin(text)
        .ok()
        .json();
    sent["seq"].as_u64().unwrap()
}

/// `messages[].text` of a `read` or `check` answer.
fn texts(answer: &serde_json::Value) -> Vec<String> {
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}
