//! The whole conversation: office init and publish, raise, inbox, read, reply, check, send,
//! close; then what the relay kept on disk.

use candor_tests::{Party, Relay, files_containing, message_file};

use crate::{Office, files_in, mailbox_of, raise};

const FIRST: &str = "MARKER-FIRST-7f3a: my supervisor keeps moving my lab hours.";
const REPLY: &str = "MARKER-REPLY-91c2: thank you for writing; here are some options.";
const FOLLOW: &str = "MARKER-FOLLOW-d44e: the hours changed again this week.";

#[test]
fn a_visitor_raises_a_concern_and_the_ombuds_replies() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Example University Ombuds Office", "ombuds");
    let visitor = Party::new();

    // Act: the visitor raises a concern.
    let raised = visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--category",
            "career",
            "--constituency",
            "staff",
            "--urgent",
            "--json",
        ])
        .stdin(FIRST)
        .ok()
        .json();
    let codename = raised["codename"].as_str().unwrap().to_owned();
    assert_eq!(codename.split(' ').count(), 12);
    // Every visitor hears when to expect a reply; an urgent one, at once, where to get help.
    assert_eq!(raised["reply_within_days"], 3);
    assert_eq!(raised["urgent_resources"][0]["id"], "counseling");
    let mailbox = mailbox_of(&codename, &office.address).to_string();

    // The ombuds sees the case by its label (never a part of the mailbox ID), urgent, with its
    // category and constituency.
    let inbox = office.staff.candor(&["inbox", "--json"]).ok();
    assert!(
        !inbox.stdout.contains(&mailbox),
        "the inbox shows the full mailbox ID"
    );
    let cases = inbox.json()["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    let label = case["case"].as_str().unwrap().to_owned();
    assert!(!mailbox.contains(&label) && label.len() == 8, "{label}");
    assert_eq!(case["categories"], serde_json::json!(["career"]));
    assert_eq!(case["constituency"], "staff");
    assert_eq!(case["urgent"], true);
    assert_eq!(case["unread"], 1);
    assert_eq!(case["messages"], 1);
    let text_inbox = office.staff.candor(&["inbox"]).ok().stdout;
    assert!(text_inbox.contains(&label) && text_inbox.contains("URGENT"));
    assert!(text_inbox.contains("Career progression and development"));

    // The ombuds reads the thread.
    let read = office.staff.candor(&["read", &label]).ok().stdout;
    assert!(read.contains(FIRST), "{read}");
    assert!(read.contains("URGENT") && read.contains("constituency: staff"));

    // The ombuds replies with a referral, from a file.
    let reply_file = message_file(office.staff.home(), "reply.txt", REPLY);
    let replied = office
        .staff
        .candor(&[
            "reply",
            &label,
            "--message-file",
            reply_file.to_str().unwrap(),
            "--refer",
            "counseling",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(replied["seq"], 2);
    assert_eq!(replied["resources"][0], "counseling");

    // The office reads its own reply back, from its copy; what it has read is not unread.
    let read = office.staff.candor(&["read", &label, "--json"]).ok().json();
    assert_eq!(read["messages"][1]["from"], "office");
    assert_eq!(read["messages"][1]["text"], REPLY);
    assert_eq!(
        office.staff.candor(&["inbox", "--json"]).ok().json()["cases"][0]["unread"],
        0
    );

    // The visitor checks: their own message and the reply, both readable and verified.
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    let messages = check["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["from"], "visitor");
    assert_eq!(messages[0]["text"], FIRST);
    assert_eq!(messages[1]["from"], "office");
    assert_eq!(messages[1]["readable"], true);
    assert_eq!(messages[1]["text"], REPLY);
    assert_eq!(messages[1]["resources"][0]["id"], "counseling");
    assert_eq!(
        messages[1]["resources"][0]["name"],
        "Counseling and Crisis Support"
    );
    let shown = visitor
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .stdout;
    assert!(
        shown.contains(REPLY) && shown.contains("verified"),
        "{shown}"
    );

    // The visitor follows up; the ombuds sees it as unread.
    let sent = visitor
        .candor(&["send", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .stdin(FOLLOW)
        .ok()
        .json();
    assert_eq!(sent["seq"], 3);
    let case = office.staff.candor(&["inbox", "--json"]).ok().json()["cases"][0].clone();
    assert_eq!(case["unread"], 1);
    assert_eq!(case["messages"], 3);
    assert!(
        office
            .staff
            .candor(&["read", &label])
            .ok()
            .stdout
            .contains(FOLLOW)
    );

    // While the case lives, the relay's store holds no plaintext.
    for marker in [FIRST, REPLY, FOLLOW, "MARKER-", "lab hours"] {
        let found = files_containing(relay.data_dir(), marker.as_bytes());
        assert!(found.is_empty(), "{marker:?} found in {found:?}");
    }

    // The ombuds closes the case and deletes it at once: it is gone for both sides.
    let closed = office
        .staff
        .candor(&[
            "close",
            &label,
            "--outcome",
            "resolved",
            "--delete",
            "--yes",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(closed["closed"], true);
    assert_eq!(closed["deleted"], true);
    assert_eq!(closed["tally_recorded"], true);
    assert!(office.labels().is_empty());
    let gone = visitor
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .run()
        .expect_code(2);
    assert!(
        gone.stderr.contains("no case for this codename"),
        "{}",
        gone.stderr
    );

    // Assert: after the whole flow, still no plaintext on the relay, and nothing in the
    // visitor's home.
    for marker in [FIRST, REPLY, FOLLOW, "MARKER-"] {
        let found = files_containing(relay.data_dir(), marker.as_bytes());
        assert!(found.is_empty(), "{marker:?} found in {found:?}");
    }
    assert!(files_in(&visitor).is_empty(), "{:?}", files_in(&visitor));
}

#[test]
fn a_second_empty_home_resumes_the_case_with_only_the_codename() {
    // Arrange: a case with a reply.
    let relay = Relay::start();
    let office = Office::register(&relay, "Resume Ombuds", "resume");
    let codename = raise(&Party::new(), &office.address, "first words");
    let label = office.labels().remove(0);
    let reply = message_file(
        office.staff.home(),
        "r.txt",
        "a reply for whoever holds the words",
    );
    office
        .staff
        .candor(&["reply", &label, "--message-file", reply.to_str().unwrap()])
        .ok();

    // Act: someone with a brand-new home and the codename alone, typed sloppily.
    let elsewhere = Party::new();
    let sloppy: Vec<String> = codename
        .split(' ')
        .map(|w| w.chars().take(4).collect::<String>().to_uppercase())
        .collect();
    let check = elsewhere
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", sloppy.join("  "))
        .ok()
        .json();
    elsewhere
        .candor(&["send", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .stdin("sent from another computer")
        .ok();

    // Assert
    assert_eq!(
        check["messages"][1]["text"],
        "a reply for whoever holds the words"
    );
    let read = office.staff.candor(&["read", &label]).ok().stdout;
    assert!(read.contains("sent from another computer"), "{read}");
    assert_eq!(office.labels(), vec![label]);
    assert!(files_in(&elsewhere).is_empty());
}
