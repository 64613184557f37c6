//! Each way a handoff ends before the third party has it: the visitor revokes before
//! agreement, the office after it, the visitor declines, the proposal's last day passes; and a
//! consent given at a terminal, only after the proposal was shown.

use candor_tests::terminal::{Step, Terminal};
use candor_tests::{Party, message_file};

use super::{CONCERN, IDENTITY, PURPOSE, SUMMARY, World};

#[test]
fn the_visitor_revokes_before_agreement_and_nothing_is_released() {
    // Arrange
    let w = World::new();
    let handoff = w.propose(false);
    w.consent(&handoff, None);

    // Act
    w.visitor(&["handoff", "revoke", &w.office.address, &handoff, "--yes"])
        .ok();
    let agreed = w.agree(&handoff);

    // Assert
    assert_eq!(agreed.code, Some(1), "{}", agreed.stderr);
    assert!(agreed.stderr.contains("revoked"), "{}", agreed.stderr);
    assert_eq!(w.office_state(), "revoked");
    assert_eq!(w.visitor_state(), "revoked");
    let inbox = w
        .third
        .candor(&["--json", "third-party", "inbox"])
        .ok()
        .json();
    assert_eq!(inbox.as_array().unwrap().len(), 0);
}

#[test]
fn the_office_revokes_after_agreement_and_the_third_party_cannot_fetch() {
    // Arrange
    let w = World::new();
    let handoff = w.propose(true);
    w.consent(&handoff, Some(IDENTITY));
    w.agree(&handoff).success();

    // Act
    w.office
        .staff
        .candor(&["handoff", "revoke", &w.case, &handoff, "--yes"])
        .ok();
    let read = w.third.candor(&["third-party", "read", &handoff]).run();

    // Assert
    assert_eq!(read.code, Some(2), "{}", read.stderr);
    assert!(read.stderr.contains("cannot be fetched"), "{}", read.stderr);
    assert!(!read.stdout.contains("MARKER-HO"));
    assert_eq!(w.visitor_state(), "revoked");
    // A revoked handoff cannot be revoked again, nor agreed.
    let twice = w
        .office
        .staff
        .candor(&["handoff", "revoke", &w.case, &handoff, "--yes"])
        .run();
    assert_eq!(twice.code, Some(1), "{}", twice.stderr);
}

#[test]
fn a_declined_proposal_cannot_be_consented_to_afterwards() {
    // Arrange
    let w = World::new();
    let handoff = w.propose(true);

    // Act
    w.visitor(&["handoff", "decline", &w.office.address, &handoff, "--yes"])
        .ok();
    let consent = w
        .visitor(&["handoff", "consent", &w.office.address, &handoff, "--yes"])
        .run();

    // Assert
    assert_eq!(w.office_state(), "declined");
    assert_eq!(w.visitor_state(), "declined");
    assert_eq!(consent.code, Some(1), "{}", consent.stderr);
    assert!(consent.stderr.contains("declined"), "{}", consent.stderr);
    let agreed = w.agree(&handoff);
    assert_eq!(agreed.code, Some(1), "{}", agreed.stderr);
    assert!(
        agreed.stderr.contains("has not consented"),
        "{}",
        agreed.stderr
    );
}

#[test]
fn after_its_last_day_a_consented_handoff_is_expired_on_both_sides_and_not_released() {
    // Arrange: a one-day proposal, consented today.
    let mut w = World::new();
    let summary = message_file(w.office.staff.home(), "summary.txt", SUMMARY);
    let done = w
        .office
        .staff
        .candor(&[
            "--json",
            "handoff",
            "propose",
            &w.case,
            "--to",
            "chem",
            "--purpose",
            PURPOSE,
            "--text-file",
            summary.to_str().unwrap(),
            "--expires",
            "1",
            "--yes",
        ])
        .ok()
        .json();
    let handoff = done["handoff"].as_str().unwrap().to_owned();
    w.consent(&handoff, None);

    // Act: three days later, for the relay and both clients.
    w.relay
        .restart_on_same_port_with("CANDOR_TEST_CLOCK_DAYS", "3");
    let later = |party: &Party, args: &[&str]| {
        party
            .candor(args)
            .env("CANDOR_TEST_CLOCK_DAYS", "3")
            .env("CANDOR_CODENAME", &w.codename)
            .run()
    };
    let office_rows = later(&w.office.staff, &["--json", "handoff", "status", &w.case]);
    let visitor_rows = later(
        &w.visitor,
        &["--json", "handoff", "status", &w.office.address],
    );
    let agreed = later(
        &w.office.staff,
        &["handoff", "agree", &w.case, &handoff, "--yes"],
    );

    // Assert
    assert_eq!(office_rows.success().json()[0]["state"], "expired");
    assert_eq!(visitor_rows.success().json()[0]["state"], "expired");
    assert_eq!(agreed.code, Some(1), "{}", agreed.stderr);
    assert!(agreed.stderr.contains("expired"), "{}", agreed.stderr);
    let inbox = later(&w.third, &["--json", "third-party", "inbox"]);
    assert_eq!(inbox.success().json().as_array().unwrap().len(), 0);
}

#[test]
fn the_visitor_consents_at_a_terminal_only_after_seeing_the_proposal_and_saying_yes() {
    // Arrange
    let w = World::new();
    let handoff = w.propose(true);
    let consent = || w.visitor(&["handoff", "consent", &w.office.address, &handoff]);
    let mut terminal = Terminal::open();

    // Act: first the visitor answers no, then yes.
    let declined = consent().converse_steps(
        &mut terminal,
        vec![Step::new("Consent to disclosing exactly this", || {
            "n\r".to_owned()
        })],
    );
    let state_after_no = w.visitor_state();
    let mut terminal = Terminal::open();
    let agreed = consent().converse_steps(
        &mut terminal,
        vec![Step::new("Consent to disclosing exactly this", || {
            "y\r".to_owned()
        })],
    );

    // Assert: the terminal showed what, to whom and the reporter duty before the question.
    assert_eq!(declined.code, Some(1), "{}", declined.stderr);
    assert!(
        declined.stderr.contains("nothing was sent"),
        "{}",
        declined.stderr
    );
    assert_eq!(state_after_no, "drafted");
    assert_eq!(agreed.code, Some(0), "{}", agreed.stderr);
    let shown = agreed.stderr.find(CONCERN);
    let reporter = agreed.stderr.find("mandatory reporter");
    let question = agreed.stderr.find("Consent to disclosing exactly this");
    assert!(
        shown.is_some() && reporter.is_some() && shown < question && reporter < question,
        "{}",
        agreed.stderr
    );
    assert_eq!(w.office_state(), "consented");
}
