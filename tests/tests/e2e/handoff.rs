//! Handoff for informal resolution with the real binaries (issue 16): raise, propose, show,
//! consent with the identity, agree; the third party reads exactly what was consented to and
//! answers; the ombuds reads the answer and tells the visitor. `ends.rs` tries each way a
//! handoff ends early, and a consent given at a terminal.

mod ends;

use candor_tests::{Party, Relay, files_containing, message_file};

use crate::{Office, raise};

pub(super) const CONCERN: &str =
    "MARKER-HO-CONCERN-3a9f: the lab schedule leaves me out every week.";
const OTHER: &str = "MARKER-HO-UNDISCLOSED-77c1: a second message nobody proposed.";
pub(super) const SUMMARY: &str =
    "MARKER-HO-SUMMARY-c02d: a visitor reports being left off the rota.";
pub(super) const PURPOSE: &str = "MARKER-HO-PURPOSE-5e6b: fix the lab rota informally";
pub(super) const IDENTITY: &str = "MARKER-HO-IDENTITY-9b1a: Jane Roe, lab 4";
const ANSWER: &str = "MARKER-HO-ANSWER-1f8e: the rota is fixed from Monday.";
const ACCOUNT: &str = "MARKER-HO-ACCOUNT-6d2c: the department head has fixed the rota.";
const NAME: &str = "Head of Chemistry MARKER-HO-NAME-8c4d";

/// An office with a case, a third party whose card the office imported, and the visitor.
struct World {
    relay: Relay,
    office: Office,
    third: Party,
    visitor: Party,
    codename: String,
    case: String,
}

impl World {
    fn new() -> Self {
        let relay = Relay::start();
        let office = Office::register(&relay, "Example University Ombuds Office", "ombuds");
        let third = Party::new();
        third
            .candor(&[
                "third-party",
                "init",
                "--name",
                NAME,
                "--relay",
                &relay.url,
                "--mandatory-reporter",
            ])
            .ok();
        let card = third.candor(&["third-party", "card"]).ok().stdout;
        let card_file = message_file(office.staff.home(), "card.json", &card);
        office
            .staff
            .candor(&[
                "office",
                "third-party",
                "add",
                card_file.to_str().unwrap(),
                "--as",
                "chem",
                "--yes",
            ])
            .ok();
        let visitor = Party::new();
        let codename = raise(&visitor, &office.address, CONCERN);
        let case = office.labels().pop().unwrap();
        Self {
            relay,
            office,
            third,
            visitor,
            codename,
            case,
        }
    }

    fn visitor(&self, args: &[&str]) -> candor_tests::Invocation {
        self.visitor
            .candor(args)
            .env("CANDOR_CODENAME", &self.codename)
    }

    /// The ombuds proposes to disclose the first message and a summary; returns the label.
    fn propose(&self, ask_identity: bool) -> String {
        let summary = message_file(self.office.staff.home(), "summary.txt", SUMMARY);
        let mut args = vec![
            "--json",
            "handoff",
            "propose",
            &self.case,
            "--to",
            "chem",
            "--purpose",
            PURPOSE,
            "--message",
            "1",
            "--text-file",
            summary.to_str().unwrap(),
            "--yes",
        ];
        if ask_identity {
            args.push("--ask-identity");
        }
        let done = self.office.staff.candor(&args).ok().json();
        done["handoff"].as_str().unwrap().to_owned()
    }

    fn consent(&self, handoff: &str, identity: Option<&str>) {
        let mut args = vec![
            "--json",
            "handoff",
            "consent",
            &self.office.address,
            handoff,
            "--yes",
        ];
        if let Some(id) = identity {
            args.extend_from_slice(&["--identity", id]);
        }
        self.visitor(&args).ok();
    }

    fn agree(&self, handoff: &str) -> candor_tests::Run {
        self.office
            .staff
            .candor(&["--json", "handoff", "agree", &self.case, handoff, "--yes"])
            .run()
    }

    fn office_state(&self) -> String {
        let rows = self
            .office
            .staff
            .candor(&["--json", "handoff", "status", &self.case])
            .ok()
            .json();
        rows[0]["state"].as_str().unwrap().to_owned()
    }

    fn visitor_state(&self) -> String {
        let rows = self
            .visitor(&["--json", "handoff", "status", &self.office.address])
            .ok()
            .json();
        rows[0]["state"].as_str().unwrap().to_owned()
    }
}

#[test]
fn consent_and_agreement_release_exactly_the_consented_items_and_the_answer_comes_back() {
    // Arrange: a case of two messages; the office proposes to disclose only the first.
    let w = World::new();
    w.visitor(&["send", &w.office.address]).stdin(OTHER).ok();
    let handoff = w.propose(true);

    // Act 1: the visitor sees exactly what, to whom, for what and until when, and consents.
    let shown = w
        .visitor(&["--json", "handoff", "show", &w.office.address])
        .ok()
        .json();
    let p = &shown[0]["proposal"];
    assert_eq!(p["handoff"], handoff.as_str());
    assert_eq!(p["to"], NAME);
    assert_eq!(p["mandatory_reporter"], true);
    assert_eq!(p["purpose"], PURPOSE);
    assert_eq!(p["identity"], "asked for");
    assert_eq!(p["items"][0]["text"], CONCERN);
    assert_eq!(p["items"][1]["text"], SUMMARY);
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    assert_eq!(shown[0]["state"], "drafted");
    let text = w
        .visitor(&["handoff", "show", &w.office.address])
        .ok()
        .stdout;
    assert!(text.contains("mandatory reporter"), "{text}");
    w.consent(&handoff, Some(IDENTITY));
    assert_eq!(w.office_state(), "consented");

    // Act 2: the ombuds agrees; the third party finds and reads it.
    let agreed = w.agree(&handoff).success();
    let inbox = w
        .third
        .candor(&["--json", "third-party", "inbox"])
        .ok()
        .json();
    let read = w
        .third
        .candor(&["--json", "third-party", "read", &handoff])
        .ok()
        .json();

    // Assert: exactly the consented items, with the identity, the purpose and the scope.
    assert_eq!(inbox[0]["handoff"], handoff.as_str());
    assert_eq!(inbox[0]["read"], false);
    let items = read["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["text"], CONCERN);
    assert_eq!(items[0]["from"], "visitor");
    assert_eq!(items[1]["text"], SUMMARY);
    assert_eq!(read["identity"], IDENTITY);
    assert_eq!(read["identity_included"], true);
    assert_eq!(read["purpose"], PURPOSE);
    let scope = read["scope"].as_str().unwrap();
    assert!(
        scope.contains("visitor's consent and the ombuds' agreement") && scope.contains(PURPOSE),
        "{scope}"
    );
    assert!(read["not_notice"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(!read.to_string().contains("MARKER-HO-UNDISCLOSED"));
    // A second read shows the same from what was kept; the relay released it only once.
    let again = w
        .third
        .candor(&["--json", "third-party", "read", &handoff])
        .ok()
        .json();
    assert_eq!(again["identity"], IDENTITY);
    assert_eq!(w.office_state(), "fetched");
    assert_eq!(w.visitor_state(), "fetched");

    // Act 3: shuttle diplomacy. The third party answers; the ombuds reads it and tells the
    // visitor in its own words.
    let answer = message_file(w.third.home(), "answer.txt", ANSWER);
    w.third
        .candor(&[
            "third-party",
            "reply",
            &handoff,
            "--message-file",
            answer.to_str().unwrap(),
        ])
        .ok();
    let case = w
        .office
        .staff
        .candor(&["--json", "read", &w.case])
        .ok()
        .json();
    let channel = &case["third_parties"][0];
    assert_eq!(channel["third_party"], NAME);
    assert_eq!(channel["messages"][0]["text"], ANSWER);
    assert_eq!(channel["messages"][0]["from"], "third-party");
    let account = message_file(w.office.staff.home(), "account.txt", ACCOUNT);
    w.office
        .staff
        .candor(&[
            "reply",
            &w.case,
            "--message-file",
            account.to_str().unwrap(),
        ])
        .ok();
    let thread = w.visitor(&["check", &w.office.address]).ok().stdout;
    assert!(thread.contains(ACCOUNT), "{thread}");
    assert!(
        !thread.contains("MARKER-HO-ANSWER"),
        "the visitor saw the third party"
    );

    // The ombuds never saw the identity, and the relay kept none of the plaintext.
    let office_saw = format!(
        "{}{}{}",
        agreed.stdout,
        agreed.stderr,
        w.office.staff.candor(&["read", &w.case]).ok().stdout
    );
    assert!(!office_saw.contains("MARKER-HO-IDENTITY"), "{office_saw}");
    assert!(files_containing(w.office.staff.home(), b"MARKER-HO-IDENTITY").is_empty());
    for marker in [
        "MARKER-HO-CONCERN",
        "MARKER-HO-SUMMARY",
        "MARKER-HO-PURPOSE",
        "MARKER-HO-IDENTITY",
        "MARKER-HO-ANSWER",
        "MARKER-HO-NAME",
    ] {
        let found = files_containing(w.relay.data_dir(), marker.as_bytes());
        assert!(found.is_empty(), "{marker} in {found:?}");
        assert!(
            !w.relay.log().contains(marker),
            "{marker} in the relay's log"
        );
    }
    // The third party keeps only what it fetched, still sealed (its home also holds its own
    // card, with its name, and the answer it wrote in a file).
    for marker in [
        "MARKER-HO-CONCERN",
        "MARKER-HO-SUMMARY",
        "MARKER-HO-PURPOSE",
        "MARKER-HO-IDENTITY",
    ] {
        let found = files_containing(w.third.home(), marker.as_bytes());
        assert!(found.is_empty(), "{marker} in {found:?}");
    }
    assert!(
        std::fs::read_dir(w.third.home()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("handoff-")),
        "the fetched handoff was not kept"
    );
}
