//! People know where they stand (issue 15): case labels a person can read aloud and type in any
//! case, prompts that reach the terminal when stdin is a pipe, a draft that survives a relay
//! going down after it was written, and errors in one style.

use std::cell::RefCell;

use candor_tests::terminal::{Step, Terminal};
use candor_tests::{Party, Relay, message_file};

use crate::{Office, mailbox_of, raise};

/// The answer to a `[y/N]` prompt, with its Enter.
fn yes() -> String {
    "y\r".to_owned()
}

#[test]
fn issue_15_labels_are_lowercase_base32_typed_in_any_case_and_not_the_mailbox_id() {
    // Arrange
    let mut relay = Relay::start();
    let office = Office::register(&relay, "Label Ombuds", "labels");
    let codename = raise(&Party::new(), &office.address, "About my schedule.");
    let mailbox = mailbox_of(&codename, &office.address).to_string();

    // Act
    let label = office.labels().remove(0);
    let upper = office
        .staff
        .candor(&["read", &label.to_uppercase(), "--json"])
        .ok()
        .json();
    relay.stop();
    let check = relay.check_store();

    // Assert
    assert_eq!(label.len(), 8, "{label}");
    assert!(
        label
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()),
        "{label}"
    );
    assert!(!label.contains(['i', 'l', 'o', 'u']), "{label}");
    assert!(
        !mailbox.to_lowercase().contains(&label),
        "{label} is part of {mailbox}"
    );
    assert_eq!(upper["case"], label.as_str());
    assert_eq!(upper["messages"][0]["text"], "About my schedule.");
    // The relay's own check knows mailboxes by ID only, never by the office's labels.
    assert!(!check.contains(&label), "{check}");
}

#[test]
fn issue_15_an_ambiguous_label_prefix_asks_for_more_of_the_label() {
    // Arrange: enough cases that two labels share a first character.
    let relay = Relay::start();
    let office = Office::register(&relay, "Prefix Ombuds", "prefix");
    let shared = loop {
        raise(&Party::new(), &office.address, "One more concern.");
        let labels = office.labels();
        let firsts: Vec<char> = labels.iter().map(|l| l.chars().next().unwrap()).collect();
        if let Some(c) = firsts
            .iter()
            .find(|c| firsts.iter().filter(|d| d == c).count() > 1)
        {
            break c.to_string();
        }
        assert!(
            labels.len() < 40,
            "no two of {labels:?} share a first character"
        );
    };

    // Act
    let ambiguous = office.staff.candor(&["read", &shared]).run().expect_code(1);
    let unknown = office
        .staff
        .candor(&["read", "zzzzzzzz"])
        .run()
        .expect_code(1);
    let malformed = office
        .staff
        .candor(&["read", "c__AB4PR"])
        .run()
        .expect_code(1);

    // Assert
    assert!(
        ambiguous.stderr.contains("type more of the label"),
        "{}",
        ambiguous.stderr
    );
    assert!(
        unknown.stderr.contains("candor inbox"),
        "{}",
        unknown.stderr
    );
    assert!(
        malformed.stderr.contains("is not a case label"),
        "{}",
        malformed.stderr
    );
}

#[test]
fn issue_15_a_passphrase_prompt_reads_the_terminal_when_the_message_comes_on_a_pipe() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Pipe Ombuds", "pipe");
    raise(&Party::new(), &office.address, "Please call me back.");
    let label = office.labels().remove(0);
    let mut terminal = Terminal::open();

    // Act: `echo … | candor reply LABEL`, with the passphrase typed at the terminal.
    let run = office
        .staff
        .candor(&["reply", &label])
        .env_remove("CANDOR_PASSPHRASE")
        .stdin("We can talk on Tuesday.\n")
        .converse_piped(
            &mut terminal,
            vec![
                Step::secret("assphrase", candor_tests::PASSPHRASE),
                Step::new("Send this message?", yes),
            ],
        );

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    assert_eq!(read["messages"][1]["text"], "We can talk on Tuesday.");
}

#[test]
fn issue_15_a_codename_prompt_reads_the_terminal_when_the_message_comes_on_a_pipe() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Pipe Visitor Ombuds", "pipe-visitor");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "First words.");
    let mut terminal = Terminal::open();

    // Act: `echo … | candor send ADDRESS`, with the codename typed at the terminal.
    let run = visitor
        .candor(&["send", &office.address])
        .stdin("Second words.\n")
        .converse_piped(
            &mut terminal,
            vec![
                Step::secret("codename", &codename),
                Step::new("Send this message?", yes),
            ],
        );

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let label = office.labels().remove(0);
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    assert_eq!(read["messages"][1]["text"], "Second words.");
}

#[test]
fn issue_15_a_reply_is_sent_on_a_retry_after_the_relay_went_down_once_it_was_written() {
    // Arrange
    let relay = RefCell::new(Relay::start());
    let office = Office::register(&relay.borrow(), "Retry Ombuds", "retry");
    raise(&Party::new(), &office.address, "Is anyone there?");
    let label = office.labels().remove(0);
    let file = message_file(office.staff.home(), "reply.txt", "#1 yes, we are here.");
    let mut terminal = Terminal::open();

    // Act: the relay stops while the reply waits for review, and is back for the retry.
    let run = office
        .staff
        .candor(&["reply", &label, "--message-file", file.to_str().unwrap()])
        .converse_steps(
            &mut terminal,
            vec![
                Step::new("Send this message?", || {
                    relay.borrow_mut().stop();
                    yes()
                }),
                Step::new("Try sending it again?", || {
                    relay.borrow_mut().start_again_on_same_port();
                    yes()
                }),
            ],
        );

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach the relay"),
        "{}",
        run.stderr
    );
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    assert_eq!(read["messages"][1]["text"], "#1 yes, we are here.");
}

#[test]
fn issue_15_a_concern_written_in_the_editor_is_saved_when_the_relay_stays_down() {
    // Arrange
    let relay = RefCell::new(Relay::start());
    let office = Office::register(&relay.borrow(), "Keep Ombuds", "keep");
    let visitor = Party::new();
    let editor = visitor.home().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf '#1 priority: my pay is late\\n' > \"$1.new\"; cat \"$1\" >> \"$1.new\"; \
         mv \"$1.new\" \"$1\"\n",
    )
    .unwrap();
    make_executable(&editor);
    let saved = visitor.home().join("draft.txt");
    let mut terminal = Terminal::open();

    // Act: the relay stops after the message was written, and the visitor keeps it.
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--category",
            "career",
            "--constituency",
            "staff",
        ])
        .env("EDITOR", &editor)
        .converse_steps(
            &mut terminal,
            vec![
                Step::new("imminent risk", || "\r".to_owned()),
                Step::new("Send this message?", yes),
                Step::new("I have written down my codename", || {
                    relay.borrow_mut().stop();
                    yes()
                }),
                Step::new("Try sending it again?", || "n\r".to_owned()),
                Step::new("Save your message to a file", yes),
                Step::new("Save it to", || format!("{}\r", saved.display())),
            ],
        );

    // Assert
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("your message is saved in"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        "#1 priority: my pay is late\n"
    );
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn issue_15_errors_say_what_happened_in_lowercase_then_what_to_do() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Style Ombuds", "style");
    let visitor = Party::new();
    let missing = visitor.home().join("nope.txt");
    let missing = missing.to_str().unwrap();

    // Act: one of each kind of mistake a newcomer makes.
    let runs = [
        visitor.candor(&["raise", "candor:nobody"]).run(),
        visitor
            .candor(&["raise", &office.address, "--yes", "--message-file", missing])
            .run(),
        visitor
            .candor(&["raise", &office.address, "--yes", "--category", "nope"])
            .stdin("text")
            .run(),
        visitor
            .candor(&["check", &office.address])
            .env("CANDOR_CODENAME", "abandon abandon")
            .run(),
        office.staff.candor(&["read", "zzzzzzzz"]).run(),
        office
            .staff
            .candor(&["inbox"])
            .env("CANDOR_PASSPHRASE", "not the passphrase")
            .run(),
        office
            .staff
            .candor(&["reply", "zzzz", "--refer", "nope"])
            .stdin("x")
            .run(),
        Party::new().candor(&["inbox"]).run(),
    ];

    // Assert
    for (n, run) in runs.iter().enumerate() {
        assert_ne!(run.code, Some(0), "mistake {n}: {}", run.stdout);
        let line = run
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or_else(|| panic!("mistake {n}: no `error:` line in {}", run.stderr));
        let first = line.chars().next().unwrap();
        assert!(!first.is_uppercase(), "mistake {n}: {line}");
        // What happened, then what to do: a second clause after a colon or semicolon, in the
        // error or in one of its causes.
        assert!(
            run.stderr.contains(": ") || run.stderr.contains("; "),
            "mistake {n}: {}",
            run.stderr
        );
    }
}

#[test]
fn issue_15_urgent_help_comes_first_and_the_codename_and_address_stand_on_their_own_lines() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Urgent Lines Ombuds", "urgent-lines");
    let visitor = Party::new();
    let file = message_file(visitor.home(), "m.txt", "Someone threatened me today.");
    let mut terminal = Terminal::open();

    // Act
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--urgent",
            "--category",
            "career",
            "--constituency",
            "staff",
            "--message-file",
            file.to_str().unwrap(),
        ])
        .converse_steps(
            &mut terminal,
            vec![
                Step::new("Send this message?", yes),
                Step::new("I have written down my codename", yes),
            ],
        );

    // Assert: the urgent resource shows before the message is even reviewed, so before the
    // proof of work, which comes after both prompts.
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let resource = run.stderr.find("Counseling and Crisis Support");
    let review = run.stderr.find("Send this message?");
    assert!(
        resource.is_some() && resource < review,
        "the urgent resource did not come first: {}",
        run.stderr
    );
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.split(' ').count() == 4 && l.chars().all(|c| c == ' ' || c.is_ascii_lowercase())
        })
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    let codename = rows.join(" ");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim() == format!("candor check {}", office.address)),
        "{}",
        run.stdout
    );
    visitor
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .ok();
}
