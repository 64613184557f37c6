//! The invite token can stay off the command line (issue 20, finding 10): `office publish`
//! takes it from a file, from stdin, or at a hidden prompt, and refuses what is not a token
//! before anything is sent.

use candor_tests::terminal::Terminal;
use candor_tests::{Party, Relay};

/// A party with an office keystore for `relay`, not yet registered.
fn staff_of(relay: &Relay, name: &str, id: &str) -> Party {
    let staff = Party::new();
    staff
        .candor(&[
            "office", "init", "--name", name, "--id", id, "--relay", &relay.url,
        ])
        .ok();
    staff
}

fn registered(staff: &Party) -> bool {
    let card = staff.candor(&["office", "address"]).ok().stdout;
    let visitor = Party::new()
        .candor(&["raise", card.trim(), "--yes", "--json"])
        .stdin("hello")
        .run();
    visitor.code == Some(0)
}

#[test]
fn issue_20_an_invite_from_a_file_or_stdin_registers_the_office() {
    // Arrange
    let relay = Relay::start();
    let by_file = staff_of(&relay, "File Ombuds", "by-file");
    let by_stdin = staff_of(&relay, "Stdin Ombuds", "by-stdin");
    let file = by_file.home().join("invite.txt");
    std::fs::write(&file, format!("{}\n", relay.invite())).unwrap();

    // Act
    let from_file = by_file
        .candor(&[
            "office",
            "publish",
            "--invite-file",
            file.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    let from_stdin = by_stdin
        .candor(&["office", "publish", "--invite", "-", "--json"])
        .stdin(&relay.invite())
        .ok()
        .json();

    // Assert
    assert_eq!(from_file["registered"], true);
    assert_eq!(from_stdin["registered"], true);
    assert!(registered(&by_file) && registered(&by_stdin));
}

#[test]
fn issue_20_an_invite_typed_at_a_hidden_prompt_registers_the_office_unechoed() {
    // Arrange
    let relay = Relay::start();
    let staff = staff_of(&relay, "Prompt Ombuds", "by-prompt");
    let token = relay.invite();
    let mut terminal = Terminal::open();

    // Act
    let run = staff
        .candor(&["office", "publish", "--invite", "-"])
        .type_secret(&mut terminal, "Invite token", &token);

    // Assert
    let run = run.success();
    assert!(run.stdout.contains("Registered"), "{}", run.stdout);
    assert!(run.stderr.contains("Invite token"), "{}", run.stderr);
    assert!(!run.stderr.contains(&token), "echoed: {}", run.stderr);
    assert!(registered(&staff));
}

#[test]
fn issue_20_what_is_not_an_invite_token_is_refused_before_anything_is_sent() {
    // Arrange: no relay at all; a refusal that came from the network would be exit 3.
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Typo Ombuds",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();

    // Act
    let pasted = staff
        .candor(&["office", "publish", "--invite", "-"])
        .stdin("Your invite is: abc.123.XYZ")
        .run()
        .expect_code(1);
    let empty = staff
        .candor(&["office", "publish", "--invite", "-"])
        .stdin("\n")
        .run()
        .expect_code(1);

    // Assert
    assert!(
        pasted.stderr.contains("not an invite token"),
        "{}",
        pasted.stderr
    );
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);
}
