//! A relay that copies an office's genuine card (issue 19): the card is the office's own and its
//! signature verifies, but it names the office's relay, so a visitor given an address that names
//! the copying relay is refused before anything is sent, and the copying relay stores nothing.

use std::time::Duration;

use candor_protocol::api::RegisterOffice;
use candor_protocol::{OfficeAddress, SignedCard};
use candor_tests::{Party, Relay};

use crate::Office;

/// The office's card as its own relay serves it.
fn card_served_by(relay: &Relay, office: &str) -> SignedCard {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let body = http
        .get(format!("{}/v1/offices/{office}", relay.url))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .unwrap();
    SignedCard::from_json(&body).unwrap()
}

/// Registers `card` at `relay` with the relay's own invite, as its operator can.
fn register_copy(relay: &Relay, card: SignedCard) -> u16 {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let body = RegisterOffice {
        invite: relay.invite(),
        card,
    };
    http.post(format!("{}/v1/offices", relay.url))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn issue_19_a_genuine_card_served_from_another_relay_is_refused() {
    // Arrange: the office publishes on its relay; another relay's operator copies the card,
    // which its relay accepts because the card is genuine, and hands out an address that names
    // the copying relay with the office's own ID and fingerprint.
    let mut genuine = Relay::start();
    let mut copying = Relay::start();
    let office = Office::register(&genuine, "Genuine Ombuds", "genuine");
    let registered = register_copy(&copying, card_served_by(&genuine, "genuine"));
    let mut address: OfficeAddress = office.address.parse().unwrap();
    address.relay = copying.url.parse().unwrap();
    let visitor = Party::new();

    // Act
    let raise = visitor
        .candor(&["raise", &address.to_string(), "--yes", "--json"])
        .stdin("I saw the lab manager falsify the logs.")
        .run()
        .expect_code(4);
    let check = visitor
        .candor(&["check", &address.to_string()])
        .env("CANDOR_CODENAME", "abandon ".repeat(11) + "about")
        .run()
        .expect_code(4);
    // The same visitor reaches the office through the address it published.
    let through_office = visitor
        .candor(&["raise", &office.address, "--yes", "--json"])
        .stdin("I saw the lab manager falsify the logs.")
        .ok();

    // Assert: the copy was accepted by its relay, yet refused by the client, which names both
    // relays and sends nothing there.
    assert_eq!(registered, 201, "the copying relay took the genuine card");
    for refused in [&raise.stderr, &check.stderr] {
        assert!(
            refused.contains(&format!("names the relay {}", genuine.url))
                && refused.contains(&format!("that {} served", copying.url))
                && refused.contains("nothing was sent"),
            "{refused}"
        );
    }
    assert!(!raise.stdout.contains("codename"), "{}", raise.stdout);
    assert!(through_office.json()["codename"].is_string());
    copying.stop();
    let stored = copying.check_store();
    assert!(stored.contains("1 offices, 0 mailboxes"), "{stored}");
    genuine.stop();
    let stored = genuine.check_store();
    assert!(stored.contains("1 offices, 1 mailboxes"), "{stored}");
}
