//! The command line's contract with scripts: usage errors exit 1 (not clap's 2, which means
//! "refused by the relay"), help exits 0, and a missing answer names its flag.

use candor_tests::{Party, Relay};

use crate::Office;

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let anyone = Party::new();
    for args in [
        &["--no-such-flag"][..],
        &["raise"],
        &["close", "abcd"],
        &["raise", "not-an-address"],
        &["inbox", "--proxy", "socks5://127.0.0.1:9050"],
        // Commands that never use the network take no proxy.
        &["office", "address", "--proxy", "socks5h://127.0.0.1:9050"],
        &["forget", "--proxy", "socks5h://127.0.0.1:9050"],
    ] {
        let run = anyone.candor(args).run().expect_code(1);
        assert!(!run.stderr.is_empty(), "{args:?} explained nothing");
    }
    anyone.candor(&["--help"]).ok();
    anyone.candor(&["raise", "--help"]).ok();
}

#[test]
fn issue_15_only_commands_that_reach_a_relay_offer_a_proxy() {
    let anyone = Party::new();
    let help = |args: &[&str]| anyone.candor(args).ok().stdout;
    for network in [
        &["inbox", "--help"][..],
        &["read", "--help"],
        &["reply", "--help"],
        &["close", "--help"],
        &["note", "--help"],
        &["raise", "--help"],
        &["check", "--help"],
        &["send", "--help"],
        &["destroy", "--help"],
        &["office", "publish", "--help"],
    ] {
        assert!(
            help(network).contains("--proxy"),
            "{network:?} offers no proxy"
        );
    }
    for offline in [
        &["office", "init", "--help"][..],
        &["office", "address", "--help"],
        &["office", "export-keys", "--help"],
        &["office", "import-keys", "--help"],
        &["forget", "--help"],
    ] {
        assert!(
            !help(offline).contains("--proxy"),
            "{offline:?} offers a proxy"
        );
    }
}

#[test]
fn office_help_documents_the_file_formats() {
    let anyone = Party::new();
    for command in ["init", "publish"] {
        let help = anyone.candor(&["office", command, "--help"]).ok().stdout;
        for part in [
            "confidentiality = ",
            "[[constituencies]]",
            "[[outcomes]]",
            "[[resources]]",
            "audience = [",
        ] {
            assert!(
                help.contains(part),
                "office {command} --help lacks {part}: {help}"
            );
        }
    }
}

#[test]
fn with_json_an_error_is_a_json_document_on_stdout_with_the_same_exit_code() {
    // Arrange: an office whose relay has gone away, and a usage error.
    let mut relay = Relay::start();
    let office = Office::register(&relay, "Gone Ombuds", "gone");
    relay.stop();
    let visitor = Party::new();

    // Act
    let unreachable = visitor
        .candor(&["check", &office.address, "--json"])
        .env(
            "CANDOR_CODENAME",
            candor_protocol::Codename::generate(&mut candor_protocol::rand::rng())
                .words()
                .as_str(),
        )
        .run()
        .expect_code(3);
    let usage = visitor.candor(&["raise", "--json"]).run().expect_code(1);

    // Assert: one JSON document each, whose exit matches the process's, and prose on stderr.
    let doc = unreachable.json();
    assert_eq!(doc["error"]["kind"], "unreachable", "{doc}");
    assert_eq!(doc["error"]["exit"], 3);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("office card"),
        "{doc}"
    );
    assert!(
        doc["error"]["causes"][0]
            .as_str()
            .unwrap()
            .contains("cannot reach the relay"),
        "{doc}"
    );
    assert!(
        unreachable.stderr.contains("error:"),
        "{}",
        unreachable.stderr
    );
    let doc = usage.json();
    assert_eq!(doc["error"]["kind"], "usage", "{doc}");
    assert_eq!(doc["error"]["exit"], 1);
}

#[test]
fn an_office_keystore_uses_real_argon2id_parameters_and_its_passphrase() {
    // Arrange: the real key-derivation cost, once.
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Slow Ombuds",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .env_remove("CANDOR_TEST_FAST_KDF")
        .ok();
    let keystore = std::fs::read_to_string(staff.home().join("office.key")).unwrap();
    let keystore: serde_json::Value = serde_json::from_str(&keystore).unwrap();

    // Act: unlock with a wrong passphrase; it fails before any network access.
    let wrong = staff
        .candor(&["inbox"])
        .env("CANDOR_PASSPHRASE", "not the passphrase")
        .run()
        .expect_code(1);

    // Assert
    assert_eq!(keystore["kdf"]["alg"], "argon2id");
    assert_eq!(keystore["kdf"]["m_kib"], 65536);
    assert_eq!(keystore["kdf"]["t"], 3);
    assert!(
        wrong.stderr.contains("passphrase is wrong"),
        "{}",
        wrong.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(staff.home().join("office.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the keystore is readable by others: {mode:o}"
        );
    }
}

#[test]
fn issue_20_a_keystore_with_test_only_parameters_is_refused_outside_the_test_mode() {
    // Arrange: a keystore made in the test-only fast mode (64 KiB, one pass), as a hostile
    // bundle or an office set up by a test build would carry.
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Cheap Ombuds",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();

    // Act: open it without the fast mode; it is refused before any network access.
    let refused = staff
        .candor(&["inbox"])
        .env_remove("CANDOR_TEST_FAST_KDF")
        .run()
        .expect_code(1);

    // Assert
    assert!(refused.stderr.contains("too cheap"), "{}", refused.stderr);
    assert!(
        !refused.stderr.contains("cannot reach"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_non_ascii_office_name_gives_a_readable_id() {
    // Arrange
    let staff = Party::new();

    // Act
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Ünïcode Øffice",
            "--relay",
            "http://127.0.0.1:9",
        ])
        .ok();
    let address = staff.candor(&["office", "address"]).ok().stdout;

    // Assert: transliterated, not stripped to "n-code-ffice".
    assert!(
        address.trim().starts_with("candor:unicode-office."),
        "{address}"
    );
}
