//! What others write cannot drive the reader's terminal (issue 20, finding 5): a visitor's
//! message shown by `candor read`, and a relay's problem document shown in an
//! error, reach the screen with their control characters escaped.

use candor_protocol::{Identity, OfficeAddress};
use candor_tests::fake::FakeRelay;
use candor_tests::{Party, Relay};

use crate::Office;

/// A screen clear, a clipboard write (OSC 52), a window title change, a CSI as one C1
/// character and a bidi override that reverses the rest of the line.
const HOSTILE: &str = "Hello.\x1b[2J\x1b[Hwrite\x1b]52;c;cHduZWQ=\x07 title\x1b]0;pwned\x1b\\ \
                       c1\u{9b}8m hidden\n\u{202e}evil.exe\u{2066}";

/// The first character a terminal would act on rather than show, if any: C0 controls but
/// newline, DEL, C1 controls and bidi embeddings, overrides and isolates.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(
            c,
            '\0'..='\x09' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
    })
}

#[test]
fn issue_20_a_visitors_control_codes_reach_the_ombuds_escaped() {
    // Arrange: a visitor raises a concern whose text carries control codes. (A constituency is
    // an ID from the card since the card's lists landed, so one with control codes is refused.)
    let relay = Relay::start();
    let office = Office::register(&relay, "Screen Ombuds", "screen");
    let visitor = Party::new();
    visitor
        .candor(&[
            "raise",
            &office.address,
            "--yes",
            "--constituency",
            "staff\x1b[8m",
        ])
        .stdin(HOSTILE)
        .run()
        .expect_code(1);
    visitor
        .candor(&["raise", &office.address, "--yes"])
        .stdin(HOSTILE)
        .ok();
    let label = office.labels().remove(0);

    // Act
    let text = office.staff.candor(&["read", &label]).ok();
    let json = office.staff.candor(&["read", &label, "--json"]).ok();

    // Assert: nothing raw on the screen, every control visible as an escape.
    assert_eq!(raw_control(&text.stdout), None, "{:?}", text.stdout);
    for shown in [
        "\\x1b[2J",
        "\\x1b]52;c;",
        "\\x07",
        "\\x1b]0;pwned",
        "\\u{9b}8m",
        "\\u{202e}evil.exe",
        "\\u{2066}",
    ] {
        assert!(text.stdout.contains(shown), "{shown} in {}", text.stdout);
    }
    // JSON keeps the exact text, as escapes a terminal does not act on.
    assert_eq!(raw_control(&json.stdout), None, "{:?}", json.stdout);
    let messages = json.json()["messages"].clone();
    assert_eq!(messages[0]["text"], HOSTILE.trim());
}

#[test]
fn issue_20_a_relays_problem_document_reaches_the_user_escaped() {
    // Arrange: a relay that refuses everything with control codes in its problem.
    let problem = serde_json::json!({
        "type": "urn:candor:problem:not-found",
        "title": "Not found\x1b]0;pwned\x07",
        "status": 404,
        "detail": "\x1b[2J\u{202e}gone",
    });
    let fake = FakeRelay::refusing(404, serde_json::to_vec(&problem).unwrap());
    let identity = Identity::generate(&mut candor_protocol::rand::rng());
    let address = OfficeAddress {
        office: "screen".parse().unwrap(),
        fingerprint: identity.fingerprint(),
        relay: fake.url.parse().unwrap(),
    };

    // Act
    let run = Party::new()
        .candor(&["check", &address.to_string()])
        .run()
        .expect_code(2);

    // Assert
    assert_eq!(raw_control(&run.stderr), None, "{:?}", run.stderr);
    assert!(
        run.stderr.contains("Not found\\x1b]0;pwned\\x07")
            && run.stderr.contains("\\x1b[2J\\u{202e}gone"),
        "{}",
        run.stderr
    );
}
