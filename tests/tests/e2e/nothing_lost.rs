//! Nothing a person types is lost (issue 15): a line that starts with `#` arrives, a case is
//! never opened before every secret it needs is known, a `[y/N]` answer takes its own Enter,
//! and what can be checked is checked before the passphrase and before the policy.

use candor_tests::terminal::Terminal;
use candor_tests::{Party, Relay, message_file};

use crate::{Office, raise};

/// The line that never arrived.
const HASH_LINE: &str = "#1 priority: my pay is late";

/// The text of the first message in the office's only case.
fn first_text(office: &Office) -> String {
    let label = office.labels().remove(0);
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    read["messages"][0]["text"].as_str().unwrap().to_owned()
}

#[test]
fn issue_15_a_line_that_starts_with_a_hash_arrives_from_stdin() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Hash Stdin Ombuds", "hash-stdin");

    // Act
    raise(&Party::new(), &office.address, &format!("{HASH_LINE}\n"));

    // Assert
    assert_eq!(first_text(&office), HASH_LINE);
}

#[test]
fn issue_15_a_line_that_starts_with_a_hash_arrives_from_a_message_file() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Hash File Ombuds", "hash-file");
    let visitor = Party::new();
    let file = message_file(
        visitor.home(),
        "m.txt",
        &format!("{HASH_LINE}\n# and so on\n"),
    );

    // Act
    visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--message-file",
            file.to_str().unwrap(),
        ])
        .ok();

    // Assert
    assert_eq!(first_text(&office), format!("{HASH_LINE}\n# and so on"));
}

#[test]
fn issue_15_a_line_that_starts_with_a_hash_arrives_from_the_editor() {
    // Arrange: an editor that writes the line at the top, above the scissors and the guide.
    let relay = Relay::start();
    let office = Office::register(&relay, "Hash Editor Ombuds", "hash-editor");
    let visitor = Party::new();
    let script = visitor.home().join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "{{ printf '%s\\n' '{HASH_LINE}'; cat \"$1\"; }} > \"$1.new\"\n\
             cat \"$1.new\" > \"$1\"\nrm \"$1.new\"\n"
        ),
    )
    .unwrap();
    let terminal = Terminal::open();

    // Act: stdin is a terminal, so the editor opens.
    visitor
        .candor(&["raise", &office.address, "--yes"])
        .env("EDITOR", format!("sh {}", script.display()))
        .run_on(&terminal)
        .success();

    // Assert: the line, and nothing of the guide below the scissors.
    assert_eq!(first_text(&office), HASH_LINE);
}

#[test]
fn issue_15_a_yes_takes_its_own_enter_and_not_the_next_menus() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Prompt Ombuds", "prompts");
    let visitor = Party::new();
    let file = message_file(visitor.home(), "m.txt", "my pay is late");
    let mut terminal = Terminal::open();

    // Act: `y` and Enter at the policy, then the first category (down from "Prefer not to
    // say" wraps to the top), then no constituency, then not urgent.
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--message-file",
            file.to_str().unwrap(),
        ])
        .converse(
            &mut terminal,
            &[
                ("not formal notice", "y\r"),
                ("What is it about?", "\x1b[B\r"),
                ("Who are you", "\r"),
                ("imminent risk", "n\r"),
            ],
        );

    // Assert: each answer went to its own question.
    run.success();
    let inbox = office.staff.candor(&["inbox", "--json"]).ok().json();
    let case = &inbox["cases"][0];
    assert_eq!(
        case["categories"],
        serde_json::json!(["evaluative"]),
        "{inbox}"
    );
    assert_eq!(case["constituency"], serde_json::Value::Null, "{inbox}");
    assert_eq!(case["urgent"], false, "{inbox}");
}
