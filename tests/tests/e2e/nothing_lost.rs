//! Nothing a person types is lost (issue 15): a line that starts with `#` arrives, a case is
//! never opened before every secret it needs is known, a `[y/N]` answer takes its own Enter,
//! and what can be checked is checked before the passphrase and before the policy.

use std::sync::atomic::Ordering;

use candor_tests::mitm::Mitm;
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
    // say" wraps to the top), then no constituency, then not urgent, then send the message,
    // and the codename is written down.
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
                ("Send this message?", "y\r"),
                ("written down my codename", "y\r"),
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

#[test]
fn issue_15_raise_remember_without_a_passphrase_opens_no_case() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Remember Ombuds", "remember");
    let visitor = Party::new();

    // Act: a piped message, --remember, and no passphrase in the environment or a terminal.
    let run = visitor
        .candor(&["raise", &office.address, "--yes", "--remember", "--json"])
        .env_remove("CANDOR_PASSPHRASE")
        .stdin("my pay is late")
        .run();

    // Assert: refused, saying how to give the passphrase, and no case exists at the relay.
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stderr.contains("CANDOR_PASSPHRASE") && run.stderr.contains("nothing was sent"),
        "{}",
        run.stderr
    );
    assert!(office.labels().is_empty(), "a case was opened");
    assert!(!visitor.home().join("remembered.cases").exists());
}

#[test]
fn issue_15_a_missing_message_file_is_refused_before_the_policy() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Early Ombuds", "early");
    let visitor = Party::new();
    let missing = visitor.home().join("no-such-message.txt");

    // Act
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--message-file",
            missing.to_str().unwrap(),
        ])
        .run();

    // Assert: the file is named, and the policy was never shown.
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("no-such-message.txt"), "{}", run.stderr);
    assert!(!run.stderr.contains("Confidentiality"), "{}", run.stderr);
    assert!(office.labels().is_empty());
}

#[test]
fn issue_15_reply_checks_the_referral_and_the_file_before_the_passphrase() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Refer Ombuds", "refer");
    raise(&Party::new(), &office.address, "my pay is late");
    let label = office.labels().remove(0);
    let reply = message_file(office.staff.home(), "reply.txt", "we will look into it");
    let missing = office.staff.home().join("no-such-reply.txt");

    // Act: no passphrase anywhere, so a prompt for it would fail with its own error.
    let unknown = office
        .staff
        .candor(&[
            "reply",
            &label,
            "--refer",
            "nowhere",
            "--message-file",
            reply.to_str().unwrap(),
        ])
        .env_remove("CANDOR_PASSPHRASE")
        .run();
    let no_file = office
        .staff
        .candor(&["reply", &label, "--message-file", missing.to_str().unwrap()])
        .env_remove("CANDOR_PASSPHRASE")
        .run();

    // Assert: each names its own mistake, and neither asked for the passphrase.
    for (run, what) in [
        (&unknown, "no resource nowhere"),
        (&no_file, "no-such-reply.txt"),
    ] {
        assert_ne!(run.code, Some(0));
        assert!(run.stderr.contains(what), "{}", run.stderr);
        assert!(!run.stderr.contains("passphrase"), "{}", run.stderr);
    }
}

#[test]
fn issue_15_at_a_terminal_the_codename_is_shown_and_written_down_before_the_case_exists() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Written Ombuds", "written");
    let visitor = Party::new();
    let file = message_file(visitor.home(), "m.txt", "my pay is late");
    let mut terminal = Terminal::open();

    // Act: everything answered, but the codename not written down.
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--category",
            "peer",
            "--message-file",
            file.to_str().unwrap(),
        ])
        .converse(
            &mut terminal,
            &[
                ("Who are you", "\r"),
                ("imminent risk", "n\r"),
                ("Send this message?", "y\r"),
                ("written down my codename", "n\r"),
            ],
        );

    // Assert: the twelve words were on the screen, and no case was opened.
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    let shown = run
        .stderr
        .split("Your codename:")
        .nth(1)
        .unwrap_or_default();
    let words: Vec<&str> = shown
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take(3)
        .flat_map(str::split_whitespace)
        .collect();
    assert!(
        words.join(" ").parse::<candor_protocol::Codename>().is_ok(),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no case was opened"), "{}", run.stderr);
    assert!(office.labels().is_empty(), "a case was opened");
}

#[test]
fn issue_15_the_editor_works_in_a_private_directory_that_is_removed_after() {
    // Arrange: an editor that records its directory and that directory's mode, leaves a swap
    // file beside the draft, and writes the message.
    let relay = Relay::start();
    let office = Office::register(&relay, "Private Ombuds", "private");
    let visitor = Party::new();
    let runtime = tempfile::tempdir().unwrap();
    let record = visitor.home().join("record.txt");
    let script = visitor.home().join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "d=$(dirname \"$1\")\nprintf '%s\\n' \"$d\" \"$(stat -c %a \"$d\")\" > '{}'\n\
             printf 'swap of the draft' > \"$d/.message.txt.swp\"\n\
             {{ printf 'private draft\\n'; cat \"$1\"; }} > \"$1.new\"\n\
             cat \"$1.new\" > \"$1\"\nrm \"$1.new\"\n",
            record.display()
        ),
    )
    .unwrap();
    let terminal = Terminal::open();

    // Act
    visitor
        .candor(&["raise", &office.address, "--yes"])
        .env("EDITOR", format!("sh {}", script.display()))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .run_on(&terminal)
        .success();

    // Assert: a 0700 directory under $XDG_RUNTIME_DIR, gone afterwards with the swap file.
    let recorded = std::fs::read_to_string(&record).unwrap();
    let mut lines = recorded.lines();
    let dir = std::path::PathBuf::from(lines.next().unwrap());
    assert_eq!(lines.next(), Some("700"), "{recorded}");
    assert_eq!(dir.parent(), Some(runtime.path()), "{recorded}");
    assert!(!dir.exists(), "the editor's directory was left behind");
    assert_eq!(std::fs::read_dir(runtime.path()).unwrap().count(), 0);
    assert_eq!(first_text(&office), "private draft");
}

#[test]
fn issue_15_an_open_request_without_a_clear_answer_names_the_codename() {
    // Arrange: a relay in the middle that stores the case but garbles the answer.
    let relay = Relay::start();
    let mitm = Mitm::start(
        &relay.url,
        "/v1/mailboxes",
        Box::new(|_| b"garbled".to_vec()),
    );
    let office = Office::register_at(&relay, &mitm.url, "Garbled Ombuds", "garbled");
    let visitor = Party::new();
    mitm.rewriting.store(true, Ordering::Relaxed);

    // Act
    let run = visitor
        .candor(&["raise", &office.address, "--yes", "--json"])
        .stdin("my pay is late")
        .run();

    // Assert: the error names a codename, and that codename reaches the case that was opened.
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    let named = run
        .stderr
        .split("try `candor check` with it later: ")
        .nth(1);
    let words: Vec<&str> = named
        .unwrap_or_default()
        .split_whitespace()
        .take(12)
        .map(|w| w.trim_end_matches(':'))
        .collect();
    let codename = words.join(" ");
    assert!(
        codename.parse::<candor_protocol::Codename>().is_ok(),
        "{}",
        run.stderr
    );
    mitm.rewriting.store(false, Ordering::Relaxed);
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    assert_eq!(check["messages"][0]["text"], "my pay is late", "{check}");
}

#[test]
fn issue_15_at_a_terminal_the_message_is_shown_before_it_is_sent() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Preview Ombuds", "preview");
    let visitor = Party::new();
    let text = format!("{HASH_LINE}\nsecond line\n");
    let file = message_file(visitor.home(), "m.txt", &text);
    let mut terminal = Terminal::open();

    // Act: everything answered, but the message not sent, and not edited again.
    let run = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--category",
            "peer",
            "--message-file",
            file.to_str().unwrap(),
        ])
        .converse(
            &mut terminal,
            &[
                ("Who are you", "\r"),
                ("imminent risk", "n\r"),
                ("Send this message?", "n\r"),
                ("Edit it again?", "n\r"),
            ],
        );

    // Assert: its first lines and its length were shown, and nothing was sent.
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("    {HASH_LINE}\r\n    second line"))
            && run.stderr.contains("39 characters in 2 lines"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert!(office.labels().is_empty(), "a case was opened");
}

#[test]
fn issue_15_a_message_not_sent_yet_can_be_edited_again_without_losing_it() {
    // Arrange: an editor that adds a line at the top each time it runs.
    let relay = Relay::start();
    let office = Office::register(&relay, "Again Ombuds", "again");
    let visitor = Party::new();
    let script = visitor.home().join("editor.sh");
    std::fs::write(
        &script,
        "{ printf 'edited\\n'; cat \"$1\"; } > \"$1.new\"\ncat \"$1.new\" > \"$1\"\nrm \"$1.new\"\n",
    )
    .unwrap();
    let mut terminal = Terminal::open();

    // Act: not sent at first, edited again, then sent.
    let run = visitor
        .candor(&["raise", &office.address, "--yes", "--category", "peer"])
        .env("EDITOR", format!("sh {}", script.display()))
        .converse(
            &mut terminal,
            &[
                ("Who are you", "\r"),
                ("imminent risk", "n\r"),
                ("Send this message?", "n\r"),
                ("Edit it again?", "y\r"),
                ("Send this message?", "y\r"),
                ("written down my codename", "y\r"),
            ],
        );

    // Assert: the second edit started from the first.
    run.success();
    assert_eq!(first_text(&office), "edited\nedited");
}
