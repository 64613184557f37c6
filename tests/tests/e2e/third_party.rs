//! A third party's keys and card (issue 16): `candor third-party init` makes them in an
//! encrypted keystore, `candor third-party card` prints the signed card and its fingerprint.

use candor_protocol::SignedCard;
use candor_tests::Party;

#[test]
fn init_makes_a_signed_card_that_states_the_mandatory_reporter_flag() {
    // Arrange
    let third = Party::new();

    // Act
    let created = third
        .candor(&[
            "--json",
            "third-party",
            "init",
            "--name",
            "Head of Chemistry",
            "--relay",
            "http://127.0.0.1:9",
            "--mandatory-reporter",
        ])
        .ok()
        .json();
    let printed = third.candor(&["third-party", "card"]).ok();
    let as_json = third.candor(&["--json", "third-party", "card"]).ok().json();

    // Assert: the card on stdout verifies and says what init was told.
    let signed = SignedCard::from_json(printed.stdout.trim().as_bytes()).unwrap();
    let card = signed.verify_third_party().unwrap();
    assert_eq!(card.name, "Head of Chemistry");
    assert!(card.mandatory_reporter);
    assert_eq!(card.relay.to_string(), "http://127.0.0.1:9");
    let fingerprint = card.fingerprint().unwrap().to_string();
    assert_eq!(created["fingerprint"], fingerprint);
    assert_eq!(as_json["fingerprint"], fingerprint);
    assert_eq!(as_json["mandatory_reporter"], true);
    assert!(printed.stderr.contains(&fingerprint), "{}", printed.stderr);
    // The keystore is encrypted: the secret key is not in it in the clear.
    let keystore = std::fs::read_to_string(third.home().join("third-party.key")).unwrap();
    assert!(keystore.contains("third-party-identity"), "{keystore}");
    assert!(!keystore.contains("Head of Chemistry"));
}

#[test]
fn init_refuses_existing_keys_a_bad_relay_and_an_empty_name() {
    let third = Party::new();
    let bad = third
        .candor(&["third-party", "init", "--name", "X", "--relay", "ftp://x"])
        .run()
        .expect_code(1);
    assert!(bad.stderr.contains("error: "), "{}", bad.stderr);
    let empty = third
        .candor(&[
            "third-party",
            "init",
            "--name",
            " ",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .run()
        .expect_code(1);
    assert!(empty.stderr.contains("pass --name"), "{}", empty.stderr);
    third
        .candor(&[
            "third-party",
            "init",
            "--name",
            "X",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();
    let again = third
        .candor(&[
            "third-party",
            "init",
            "--name",
            "Y",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .run()
        .expect_code(1);
    assert!(
        again.stderr.contains("already holds third-party keys"),
        "{}",
        again.stderr
    );
    // A card was never printed for the refused attempts: the first card stands.
    let card = third.candor(&["--json", "third-party", "card"]).ok().json();
    assert_eq!(card["name"], "X");
}

#[test]
fn card_without_init_says_what_to_do() {
    let third = Party::new();
    let run = third.candor(&["third-party", "card"]).run().expect_code(1);
    assert!(
        run.stderr.contains("candor third-party init"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_office_imports_a_card_after_the_fingerprint_check_and_keeps_the_list_encrypted() {
    // Arrange: a third party's card in a file, and an office.
    let third = Party::new();
    third
        .candor(&[
            "third-party",
            "init",
            "--name",
            "Head of Chemistry marker",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();
    let card = third.candor(&["third-party", "card"]).ok().stdout;
    let fingerprint = third.candor(&["--json", "third-party", "card"]).ok().json()["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let office = Party::new();
    office
        .candor(&[
            "office",
            "init",
            "--name",
            "Ombuds",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();
    let file = office.home().join("chem.card");
    std::fs::write(&file, &card).unwrap();
    let path = file.to_str().unwrap();

    // Act
    let unconfirmed = office
        .candor(&["office", "third-party", "add", path, "--as", "chem-head"])
        .run()
        .expect_code(1);
    let added = office
        .candor(&[
            "office",
            "third-party",
            "add",
            path,
            "--as",
            "chem-head",
            "--yes",
        ])
        .ok();
    let twice = office
        .candor(&[
            "office",
            "third-party",
            "add",
            path,
            "--as",
            "other",
            "--yes",
        ])
        .run()
        .expect_code(1);
    let listed = office
        .candor(&["--json", "office", "third-party", "list"])
        .ok()
        .json();

    // Assert
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );
    assert!(added.stderr.contains(&fingerprint), "{}", added.stderr);
    assert!(
        twice.stderr.contains("already imported"),
        "{}",
        twice.stderr
    );
    assert_eq!(listed[0]["short"], "chem-head");
    assert_eq!(listed[0]["fingerprint"], fingerprint);
    assert_eq!(listed[0]["mandatory_reporter"], false);
    let stored = std::fs::read(office.home().join("third-parties.key")).unwrap();
    assert!(
        !stored.windows(6).any(|w| w == b"marker"),
        "the list is in the clear"
    );
    // Remove it, and it is gone.
    office
        .candor(&["office", "third-party", "remove", "chem-head"])
        .ok();
    let after = office
        .candor(&["--json", "office", "third-party", "list"])
        .ok()
        .json();
    assert_eq!(after.as_array().unwrap().len(), 0);
    let gone = office
        .candor(&["office", "third-party", "remove", "chem-head"])
        .run()
        .expect_code(1);
    assert!(
        gone.stderr.contains("no third party called"),
        "{}",
        gone.stderr
    );
}

#[test]
fn a_card_that_does_not_verify_is_not_imported() {
    let office = Party::new();
    office
        .candor(&[
            "office",
            "init",
            "--name",
            "Ombuds",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();
    let file = office.home().join("bad.card");
    std::fs::write(&file, "{\"card\":\"e30\",\"signature\":\"AA\"}").unwrap();
    let run = office
        .candor(&[
            "office",
            "third-party",
            "add",
            file.to_str().unwrap(),
            "--as",
            "x",
            "--yes",
        ])
        .run()
        .expect_code(1);
    assert!(
        run.stderr.contains("candor third-party card"),
        "{}",
        run.stderr
    );
}
