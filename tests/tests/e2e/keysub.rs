//! A relay that lists a key of its own for a case, to read the office's reply or to plant
//! "visitor" messages: the mailbox ID is the hash of the case's keys, so the office's client
//! catches the substitution before it opens or seals anything.

use std::sync::atomic::Ordering;

use candor_protocol::KemSecretKey;
use candor_tests::mitm::Mitm;
use candor_tests::{Party, Relay};

use crate::{Office, raise};

/// Replaces every inbox entry's KEM key with `key`.
fn substitute_kem_keys(key: [u8; 32]) -> candor_tests::mitm::Rewrite {
    Box::new(move |body| {
        let mut page: serde_json::Value = serde_json::from_slice(body).unwrap();
        for entry in page["mailboxes"].as_array_mut().unwrap() {
            entry["kem_key"] = candor_protocol::encoding::b64(&key).into();
        }
        serde_json::to_vec(&page).unwrap()
    })
}

#[test]
fn a_relay_that_substitutes_case_keys_learns_no_reply() {
    // Arrange: the office and the visitor reach the real relay through the one in the middle.
    let relay = Relay::start();
    let attacker = KemSecretKey::generate(&mut candor_protocol::rand::rng());
    let mitm = Mitm::start(
        &relay.url,
        "/v1/offices/",
        substitute_kem_keys(attacker.public_key().to_bytes()),
    );
    let office = Office::register_at(&relay, &mitm.url, "Watched Ombuds", "watched");
    raise(
        &Party::new(),
        &office.address,
        "please keep this between us",
    );
    let label = office.labels().remove(0);
    mitm.rewriting.store(true, Ordering::Relaxed);
    let posts_before = posts_to_envelopes(&mitm);

    // Act
    let replied = office
        .staff
        .candor(&["reply", &label])
        .stdin("REPLY-TEXT that only the visitor may read")
        .run()
        .expect_code(4);
    let read = office.staff.candor(&["read", &label]).run().expect_code(4);
    let inbox = office.staff.candor(&["inbox"]).run().expect_code(4);

    // Assert: refused before anything was sealed or sent, and said why.
    assert!(
        replied.stderr.contains("not the case's own"),
        "{}",
        replied.stderr
    );
    assert!(
        read.stderr.contains("not the case's own"),
        "{}",
        read.stderr
    );
    assert!(!read.stdout.contains("please keep this"), "{}", read.stdout);
    assert!(
        inbox.stderr.contains("not the cases' own"),
        "{}",
        inbox.stderr
    );
    assert_eq!(posts_to_envelopes(&mitm), posts_before);
    // Control: the same relay in the middle, not rewriting, lets the reply through.
    mitm.rewriting.store(false, Ordering::Relaxed);
    office
        .staff
        .candor(&["reply", &label])
        .stdin("a reply through an honest relay")
        .ok();
    assert_eq!(posts_to_envelopes(&mitm), posts_before + 1);
}

fn posts_to_envelopes(mitm: &Mitm) -> usize {
    mitm.seen()
        .iter()
        .filter(|(method, path)| method == "POST" && path.ends_with("/envelopes"))
        .count()
}
