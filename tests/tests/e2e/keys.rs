//! Moving the office's keys between staff as a passphrase-encrypted bundle.

use candor_tests::{Party, Relay};

use crate::{Office, raise};

#[test]
fn a_colleague_imports_the_keys_and_answers_the_same_cases() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Shared Ombuds", "shared");
    let bundle = office.staff.home().join("keys.bundle");
    office
        .staff
        .candor(&["office", "export-keys", bundle.to_str().unwrap()])
        .env("CANDOR_BUNDLE_PASSPHRASE", "a bundle passphrase")
        .ok();
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "for whoever is on duty");
    let colleague = Party::new();

    // A wrong bundle passphrase is refused.
    colleague
        .candor(&["office", "import-keys", bundle.to_str().unwrap()])
        .env("CANDOR_BUNDLE_PASSPHRASE", "wrong bundle passphrase")
        .run()
        .expect_code(1);

    // Act
    colleague
        .candor(&["office", "import-keys", bundle.to_str().unwrap()])
        .env("CANDOR_BUNDLE_PASSPHRASE", "a bundle passphrase")
        .env("CANDOR_PASSPHRASE", "the colleague's own passphrase")
        .ok();
    let own = |args: &[&str]| {
        colleague
            .candor(args)
            .env("CANDOR_PASSPHRASE", "the colleague's own passphrase")
            .ok()
    };
    let address = own(&["office", "address"]).stdout;
    let inbox = own(&["inbox", "--json"]).json();
    let label = inbox["cases"][0]["case"].as_str().unwrap().to_owned();
    colleague
        .candor(&["reply", &label])
        .env("CANDOR_PASSPHRASE", "the colleague's own passphrase")
        .stdin("a colleague answers")
        .ok();
    // The colleague publishes an update with the shared keys.
    own(&["office", "publish", "--retention-days", "30"]);

    // Assert
    assert_eq!(address.trim(), office.address);
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    assert_eq!(check["messages"][1]["text"], "a colleague answers");
    // Each home reads the office's replies, whoever at the office wrote them.
    let first_home = office.staff.candor(&["read", &label]).ok().stdout;
    assert!(first_home.contains("a colleague answers"), "{first_home}");
    let second_home = own(&["read", &label]).stdout;
    assert!(second_home.contains("a colleague answers"), "{second_home}");
    assert!(
        second_home.contains("for whoever is on duty"),
        "{second_home}"
    );
    let newcomer = Party::new()
        .candor(&["raise", &office.address, "--yes"])
        .stdin("what is kept?")
        .ok();
    assert!(newcomer.stderr.contains("30 days"), "{}", newcomer.stderr);
    let bundle_bytes = std::fs::read(&bundle).unwrap();
    assert!(!String::from_utf8_lossy(&bundle_bytes).contains("Shared Ombuds"));
}
