//! The thread both sides read: the visitor re-reads their own words (unless they kept no copy),
//! a closed case stays readable for its grace period and takes no more messages, the unread
//! count follows `candor read`, the inbox opens only the cases that moved since it last listed
//! them, and a message too large for the relay is refused before any case exists.

use candor_protocol::{Codename, OfficeAddress};
use candor_tests::api::{Api, TestCase};
use candor_tests::{Party, Relay, message_file};

use crate::{Office, raise};

/// The JSON lengths of a case's envelopes, as the relay stores and serves them.
fn envelope_sizes(relay: &Relay, address: &str, codename: &str) -> Vec<usize> {
    let address: OfficeAddress = address.parse().unwrap();
    let codename: Codename = codename.parse().unwrap();
    let case = TestCase::from_keys(codename.derive(&address.fingerprint));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored = runtime
        .block_on(Api::new(&relay.url).envelopes(&case))
        .expect("the case exists");
    stored
        .iter()
        .map(|(_, env)| serde_json::to_vec(env).unwrap().len())
        .collect()
}

#[test]
fn the_visitor_rereads_their_words_unless_they_kept_no_copy_and_the_relay_cannot_tell() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Copy Ombuds", "copies");
    let kept = Party::new();
    let unkept = Party::new();

    // Act: the same words, with and without a copy.
    let kept_words = raise(&kept, &office.address, "KEPT-WORDS of the same length");
    let unkept_words = unkept
        .candor(&["raise", &office.address, "--yes", "--no-copy", "--json"])
        .stdin("GONE-WORDS of the same length")
        .ok()
        .json()["codename"]
        .as_str()
        .unwrap()
        .to_owned();
    let reread = |party: &Party, codename: &str| {
        party
            .candor(&["check", &office.address])
            .env("CANDOR_CODENAME", codename)
            .ok()
            .stdout
    };

    // Assert
    let shown = reread(&kept, &kept_words);
    assert!(shown.contains("KEPT-WORDS"), "{shown}");
    let shown = reread(&unkept, &unkept_words);
    assert!(!shown.contains("GONE-WORDS"), "{shown}");
    assert!(shown.contains("without keeping a copy"), "{shown}");
    // The office reads both.
    let labels = office.labels();
    let all: String = labels
        .iter()
        .map(|l| office.staff.candor(&["read", l]).ok().stdout)
        .collect();
    assert!(
        all.contains("KEPT-WORDS") && all.contains("GONE-WORDS"),
        "{all}"
    );
    // And the relay stores envelopes of one size either way.
    assert_eq!(
        envelope_sizes(&relay, &office.address, &kept_words),
        envelope_sizes(&relay, &office.address, &unkept_words)
    );
}

#[test]
fn a_closed_case_is_read_in_its_grace_period_and_takes_no_more_messages() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Closing Ombuds", "closing");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "please help");
    let label = office.labels().remove(0);
    let last = message_file(
        office.staff.home(),
        "last.txt",
        "LAST-WORD: we are closing this case; write again any time.",
    );

    // Act
    let closed = office
        .staff
        .candor(&[
            "close",
            &label,
            "--outcome",
            "resolved",
            "--message-file",
            last.to_str().unwrap(),
            "--yes",
            "--json",
        ])
        .ok()
        .json();
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    let refused = visitor
        .candor(&["send", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .stdin("one more thing")
        .run()
        .expect_code(2);

    // Assert
    assert_eq!(closed["last_message"], true);
    assert_eq!(check["closed"], true);
    assert_eq!(
        check["messages"][1]["text"],
        "LAST-WORD: we are closing this case; write again any time."
    );
    assert!(
        refused.stderr.contains("has closed this case"),
        "{}",
        refused.stderr
    );
    let read = office.staff.candor(&["read", &label]).ok().stdout;
    assert!(!read.contains("one more thing"), "{read}");
    // Closing twice is refused; deleting now stays possible.
    office
        .staff
        .candor(&[
            "close",
            &label,
            "--outcome",
            "resolved",
            "--no-message",
            "--yes",
        ])
        .run()
        .expect_code(1);
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
    assert!(office.labels().is_empty());
}

#[test]
fn the_unread_count_drops_after_read_and_counts_only_what_is_new() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Unread Ombuds", "unread");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "first");
    let unread = || {
        office.staff.candor(&["inbox", "--json"]).ok().json()["cases"][0]["unread"]
            .as_u64()
            .unwrap()
    };
    let label = office.labels().remove(0);
    let before = unread();

    // Act
    office.staff.candor(&["read", &label]).ok();
    let after_read = unread();
    for text in ["second", "third"] {
        visitor
            .candor(&["send", &office.address])
            .env("CANDOR_CODENAME", &codename)
            .stdin(text)
            .ok();
    }
    let after_two_more = unread();

    // Assert
    assert_eq!((before, after_read, after_two_more), (1, 0, 2));
    // Marking read moves neither the case in the inbox nor anything the visitor sees.
    office.staff.candor(&["read", &label]).ok();
    assert_eq!(unread(), 0);
    assert_eq!(office.labels(), vec![label]);
}

#[test]
fn an_oversize_message_is_refused_before_any_case_exists() {
    // Arrange: a relay that takes envelopes of 4 KiB at most.
    let relay = Relay::start_with(&[("CANDOR_MAX_ENVELOPE_BYTES", "4096")]);
    let office = Office::register(&relay, "Small Ombuds", "small");
    let visitor = Party::new();

    // Act
    let run = visitor
        .candor(&["raise", &office.address, "--yes"])
        .stdin(&"a long account of what happened. ".repeat(200))
        .run()
        .expect_code(1);

    // Assert
    assert!(
        run.stderr.contains("too long for this relay"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no case was opened"), "{}", run.stderr);
    assert!(!run.stdout.contains("codename"), "{}", run.stdout);
    assert!(office.labels().is_empty());
    // A message that fits goes through.
    raise(&visitor, &office.address, "short enough");
    assert_eq!(office.labels().len(), 1);
}

#[test]
fn check_says_when_no_reply_has_come_when_the_case_goes_and_what_remember_saved() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Waiting Ombuds", "waiting");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "anyone there?");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", office.address.as_str()];
        args.extend_from_slice(extra);
        visitor
            .candor(&args)
            .env("CANDOR_CODENAME", &codename)
            .ok()
            .stdout
    };

    // Act
    let waiting = check(&[]);
    let label = office.labels().remove(0);
    office
        .staff
        .candor(&["reply", &label])
        .stdin("we are here")
        .ok();
    let answered = check(&["--remember"]);

    // Assert
    assert!(
        waiting.contains("No reply yet")
            && waiting.contains("usually replies within 3 working days"),
        "{waiting}"
    );
    assert!(waiting.contains("the case is deleted about"), "{waiting}");
    assert!(!answered.contains("No reply yet"), "{answered}");
    assert!(
        answered.contains("remembered on this computer"),
        "{answered}"
    );
}

#[test]
fn the_inbox_opens_only_the_cases_that_moved_since_it_last_listed_them() {
    // Arrange: three cases, one urgent with categories and a constituency.
    let relay = Relay::start_with(&[("CANDOR_METRICS_LISTEN", "127.0.0.1:0")]);
    let office = Office::register(&relay, "Digest Ombuds", "digest");
    let urgent = Party::new();
    let codename = urgent
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--urgent",
            "--constituency",
            "student",
            "--category",
            "peer",
            "--json",
        ])
        .stdin("first, urgent")
        .ok()
        .json()["codename"]
        .as_str()
        .unwrap()
        .to_owned();
    for text in ["second case", "third case"] {
        raise(&Party::new(), &office.address, text);
    }
    // Requests that fetch envelopes, and requests that store read markers, of any kind.
    let fetched = || {
        relay.answered("GET", "/v1/mailboxes/{mailbox}/envelopes", 200)
            + relay.answered("POST", "/v1/offices/{office}/envelopes", 200)
    };
    let marked = || {
        relay.answered("PUT", "/v1/mailboxes/{mailbox}/marker", 204)
            + relay.answered("PUT", "/v1/offices/{office}/markers", 200)
    };
    let inbox = || office.staff.candor(&["inbox", "--json"]).ok().json()["cases"].clone();

    // Act: the first inbox opens every case in one batch and keeps a digest of each; the
    // second opens none.
    let first = inbox();
    let after_first = (fetched(), marked());
    let second = inbox();
    let after_second = (fetched(), marked());
    // A new message moves one case: only that one is fetched again.
    urgent
        .candor(&["send", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .stdin("more")
        .ok();
    let third = inbox();
    let after_third = (fetched(), marked());
    // Reading it stores its digest with the read position: the next inbox fetches nothing.
    let label = third[0]["case"].as_str().unwrap().to_owned();
    office.staff.candor(&["read", &label]).ok();
    let after_read = (fetched(), marked());
    let fourth = inbox();
    let after_fourth = (fetched(), marked());

    // Assert
    assert_eq!(
        after_first,
        (1, 1),
        "one batch fetches the three, one stores their digests"
    );
    assert_eq!(second, first);
    assert_eq!(
        after_second, after_first,
        "an unchanged inbox fetches nothing"
    );
    assert_eq!(after_third, (2, 2));
    assert_eq!(
        after_read,
        (4, 3),
        "read fetches the whole thread, to its end"
    );
    assert_eq!(after_fourth, after_read);
    let case = |cases: &serde_json::Value| {
        let c = &cases[0];
        (
            c["urgent"].as_bool().unwrap(),
            c["unread"].as_u64().unwrap(),
            c["messages"].as_u64().unwrap(),
            c["categories"].clone(),
            c["constituency"].clone(),
        )
    };
    let student = serde_json::json!("student");
    let peer = serde_json::json!(["peer"]);
    assert_eq!(case(&first), (true, 1, 1, peer.clone(), student.clone()));
    assert_eq!(case(&third), (true, 2, 2, peer.clone(), student.clone()));
    assert_eq!(case(&fourth), (true, 0, 2, peer, student));
    assert_eq!(fourth[0]["last_day"], first[0]["last_day"]);
    for later in [&third, &fourth] {
        assert_eq!(
            later.as_array().unwrap()[1..],
            first.as_array().unwrap()[1..],
            "the cases that did not move"
        );
    }
}
