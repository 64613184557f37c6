//! A relay behind a reverse proxy serves its API under a path prefix (issue 19): the office's
//! card names the relay with the prefix, and every request is signed over the full path.

use candor_tests::{Party, Relay};

use crate::{Office, raise};

#[test]
fn issue_19_a_relay_under_a_path_prefix_holds_a_whole_conversation() {
    // Arrange
    let relay = Relay::start_with(&[("CANDOR_PATH_PREFIX", "/candor")]);
    let relay_url = format!("{}/candor", relay.url);
    let office = Office::register_at(&relay, &relay_url, "Prefixed Ombuds", "prefixed");
    let visitor = Party::new();

    // Act
    let codename = raise(&visitor, &office.address, "Hello from behind a proxy.");
    let label = office.labels().remove(0);
    office
        .staff
        .candor(&["reply", &label])
        .stdin("We read you.")
        .ok();
    let thread = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    let at_root = visitor
        .candor(&["check", &office.address.replace("/candor", "")])
        .env("CANDOR_CODENAME", &codename)
        .run();

    // Assert
    assert!(
        office.address.ends_with(
            "@http://127.0.0.1:{}/candor"
                .replace("{}", &relay.port.to_string())
                .as_str()
        ),
        "{}",
        office.address
    );
    assert_eq!(thread["messages"][1]["text"], "We read you.", "{thread}");
    // The same relay without the prefix serves nothing: the address must name it whole.
    assert_ne!(at_root.code, Some(0), "{}", at_root.stderr);
}
