//! The ombuds' notes on a case, through the real binaries: written with `candor note`, shown
//! after the thread by `candor read`, never seen by the visitor, not on the relay's disk in
//! the clear, moving neither the inbox's order nor its unread counts, and gone with the case.

use candor_tests::{Party, Relay, files_containing, message_file};

use crate::{Office, raise};

const FIRST: &str = "the lab hours moved again";
const OTHER: &str = "a second visitor's concern";
const NOTE_1: &str = "NOTE-MARKER-5c1e: called the department, waiting to hear back.";
const NOTE_2: &str = "NOTE-MARKER-e07b: visitor prefers no contact before Friday.";

/// The inbox as (case, unread, messages), in its order.
fn inbox(office: &Office) -> Vec<(String, u64, u64)> {
    let inbox = office.staff.candor(&["inbox", "--json"]).ok().json();
    inbox["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (
                c["case"].as_str().unwrap().to_owned(),
                n("unread"),
                n("messages"),
            )
        })
        .collect()
}

fn write_note(office: &Office, label: &str, name: &str, text: &str) -> serde_json::Value {
    let file = message_file(office.staff.home(), name, text);
    office
        .staff
        .candor(&[
            "note",
            label,
            "--message-file",
            file.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json()
}

#[test]
fn the_ombuds_notes_stay_with_the_office_and_go_with_the_case() {
    // Arrange: two cases, the one with notes raised first.
    let relay = Relay::start();
    let office = Office::register(&relay, "Notes Ombuds", "notes");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, FIRST);
    let label = office.labels().remove(0);
    raise(&Party::new(), &office.address, OTHER);
    let before = inbox(&office);
    assert_eq!(before.len(), 2);

    // Act: two notes on the first case.
    let first = write_note(&office, &label, "n1.txt", NOTE_1);
    let second = write_note(&office, &label, "n2.txt", NOTE_2);

    // Assert: numbered, and the inbox's order and counts did not move.
    assert_eq!(
        (first["case"].as_str(), first["note"].as_u64()),
        (Some(label.as_str()), Some(1))
    );
    assert_eq!(second["note"], 2);
    assert_eq!(inbox(&office), before);

    // `candor read` shows them after the thread, marked as the office's alone.
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    assert_eq!(read["messages"].as_array().unwrap().len(), 1);
    assert_eq!(read["notes"][0]["note"], 1);
    assert_eq!(read["notes"][0]["text"], NOTE_1);
    assert_eq!(read["notes"][1]["text"], NOTE_2);
    assert_eq!(read["unreadable_notes"], serde_json::json!([]));
    let shown = office.staff.candor(&["read", &label]).ok().stdout;
    let (thread_at, note_at) = (shown.find(FIRST).unwrap(), shown.find(NOTE_1).unwrap());
    assert!(
        thread_at < note_at && shown.contains("note 2 (only the office sees this)"),
        "{shown}"
    );

    // The visitor never sees them.
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok();
    assert!(!check.stdout.contains("NOTE-MARKER"), "{}", check.stdout);
    assert_eq!(check.json()["messages"].as_array().unwrap().len(), 1);

    // No note's plaintext on the relay's disk.
    for marker in [NOTE_1, NOTE_2, "NOTE-MARKER"] {
        let found = files_containing(relay.data_dir(), marker.as_bytes());
        assert!(found.is_empty(), "{marker:?} found in {found:?}");
    }

    // Closing with --delete destroys them with the case.
    office
        .staff
        .candor(&[
            "close",
            &label,
            "--outcome",
            "resolved",
            "--delete",
            "--yes",
        ])
        .ok();
    let gone = office.staff.candor(&["read", &label]).run().expect_code(1);
    assert!(gone.stderr.contains("there is no case"), "{}", gone.stderr);
    let note = message_file(office.staff.home(), "n3.txt", "too late");
    let refused = office
        .staff
        .candor(&["note", &label, "--message-file", note.to_str().unwrap()])
        .run()
        .expect_code(1);
    assert!(
        refused.stderr.contains("there is no case"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_visitors_destroy_takes_the_notes_with_the_case() {
    // Arrange: a case with a note.
    let relay = Relay::start();
    let office = Office::register(&relay, "Destroy Notes Ombuds", "destroy-notes");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, FIRST);
    let label = office.labels().remove(0);
    assert_eq!(write_note(&office, &label, "n1.txt", NOTE_1)["note"], 1);

    // Act: the visitor, who never saw the note, destroys the case.
    visitor
        .candor(&["destroy", &office.address, "--yes"])
        .env("CANDOR_CODENAME", &codename)
        .ok();

    // Assert: the case and its note are gone for the office.
    assert!(office.labels().is_empty());
    let gone = office.staff.candor(&["read", &label]).run().expect_code(1);
    assert!(gone.stderr.contains("there is no case"), "{}", gone.stderr);
}
