//! What the office card carries, as the real binaries see it: a real 28-resource directory
//! publishes and reaches visitors; a visitor's constituency and categories and the ombuds'
//! outcome come from the card's lists or are refused with a clear message; and a client refuses
//! a card that is older than one it has seen, expired, or of the first format.

use std::path::PathBuf;

use candor_protocol::api::EnvelopePage;
use candor_protocol::card::OFFICE_CARD_VERSION;
use candor_protocol::{
    Choice, Codename, Day, Identity, OfficeCard, Policy, SignedCard, encoding, labels,
};
use candor_tests::fake::FakeRelay;
use candor_tests::{Party, Relay};

use crate::{Office, files_in};

/// The referral directory of a real department (see the file's header).
fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mit-dusp-resources.toml")
}

fn today() -> Day {
    Day::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

#[test]
fn a_card_with_the_28_resource_directory_publishes_and_reaches_visitors() {
    // Arrange: an office whose card carries the whole directory.
    let relay = Relay::start();
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Department Ombuds",
            "--id",
            "dusp",
            "--relay",
            &relay.url,
            "--resources",
            directory().to_str().unwrap(),
        ])
        .ok();

    // Act: register it, then a student raises an urgent concern.
    let published = staff
        .candor(&["office", "publish", "--invite", &relay.invite(), "--json"])
        .ok()
        .json();
    let address = staff.candor(&["office", "address"]).ok().stdout;
    let address = address.trim();
    let student = Party::new();
    let raise = student
        .candor(&[
            "raise",
            address,
            "--yes",
            "--urgent",
            "--constituency",
            "student",
            "--category",
            "peer",
            "--category",
            "career",
            "--json",
        ])
        .stdin("I need help today.")
        .ok();

    // Assert: the card the visitor verified is the directory, with free-text names, and the
    // urgent resources for a student are shown at once.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(staff.home().join("office-card.json")).unwrap())
            .unwrap();
    let resources = card["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 28);
    assert_eq!(
        resources[0]["name"],
        "Institute Discrimination & Harassment Response Office (IDHR)"
    );
    assert!(
        published["expires"].as_str().unwrap() > today().to_string().as_str(),
        "{published}"
    );
    let raised = raise.json();
    let urgent: Vec<&str> = raised["urgent_resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        urgent,
        [
            "dean-on-call",
            "mit-ems",
            "mit-police",
            "violence-prevention"
        ]
    );
    assert!(
        raise.stderr.contains("617-253-1212"),
        "the urgent resources were not shown: {}",
        raise.stderr
    );
    assert_eq!(raised["reply_within_days"], 3);

    // The ombuds sees both categories, and refers by ID to a resource with a long name.
    let office = Office {
        staff,
        address: address.to_owned(),
    };
    let case = office.staff.candor(&["inbox", "--json"]).ok().json()["cases"][0].clone();
    assert_eq!(case["categories"], serde_json::json!(["peer", "career"]));
    assert_eq!(case["constituency"], "student");
    let label = case["case"].as_str().unwrap().to_owned();
    office
        .staff
        .candor(&["reply", &label, "--refer", "idhr", "--refer", "irefs"])
        .stdin("Here are two offices that can help.")
        .ok();
    let check = student
        .candor(&["check", address])
        .env("CANDOR_CODENAME", raised["codename"].as_str().unwrap())
        .ok()
        .stdout;
    assert!(
        check.contains("Institute Discrimination & Harassment Response Office (IDHR)")
            && check.contains("irefs-contact@mit.edu"),
        "{check}"
    );
}

#[test]
fn a_constituency_category_or_outcome_not_on_the_card_is_refused_clearly() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Lists Ombuds", "lists");
    let visitor = Party::new();
    let refused = |args: &[&str]| {
        let mut all = vec!["raise", office.address.as_str(), "--yes"];
        all.extend_from_slice(args);
        visitor
            .candor(&all)
            .stdin("this must never be sent")
            .run()
            .expect_code(1)
            .stderr
    };

    // Act and assert: each refusal says what was wrong and what to pass instead.
    let who = refused(&["--constituency", "alumni"]);
    assert!(
        who.contains("no constituency alumni") && who.contains("postdoc (Postdoctoral scholar)"),
        "{who}"
    );
    let free_text = refused(&["--constituency", "PhD student in lab 4"]);
    assert!(free_text.contains("a-z, 0-9 and '-'"), "{free_text}");
    let what = refused(&["--category", "parking"]);
    assert!(
        what.contains("no category parking") && what.contains("peer (Peer"),
        "{what}"
    );
    let four = refused(&[
        "--category",
        "peer",
        "--category",
        "career",
        "--category",
        "values",
        "--category",
        "legal",
    ]);
    assert!(
        four.contains("at most 3") && four.contains("--category"),
        "{four}"
    );
    let twice = refused(&["--category", "peer", "--category", "peer"]);
    assert!(twice.contains("twice"), "{twice}");
    assert!(office.labels().is_empty(), "a refused raise opened a case");
    assert!(files_in(&visitor).is_empty());

    // The ombuds' outcome comes from the card too, and a refused close leaves the case.
    crate::raise(&visitor, &office.address, "a real concern");
    let label = office.labels().remove(0);
    let close = office
        .staff
        .candor(&["close", &label, "--outcome", "fired", "--yes"])
        .run()
        .expect_code(1)
        .stderr;
    assert!(
        close.contains("no outcome fired") && close.contains("resolved ("),
        "{close}"
    );
    assert_eq!(office.labels(), [label]);
}

/// A card of the office `identity` with `serial`, valid until `expires`, for a fake relay.
fn card(identity: &Identity, serial: u64, expires: Day) -> OfficeCard {
    OfficeCard {
        v: OFFICE_CARD_VERSION.into(),
        serial,
        expires,
        id: "pinned".parse().unwrap(),
        name: "Pinned Ombuds".into(),
        relay: "http://127.0.0.1:1".parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: format!("policy of card {serial}"),
            exception: "e".into(),
            not_notice: "n".into(),
            retention: "r".into(),
        },
        retention_days: 30,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    }
}

/// A fake relay serving the genuine card of `pinned` with `serial`, valid until `expires`, that
/// names the fake as its relay, and an empty case for `codename`.
fn fake_serving(office: &Identity, serial: u64, expires: Day, codename: &Codename) -> FakeRelay {
    let case = codename.derive(&office.fingerprint());
    let empty = EnvelopePage {
        envelopes: vec![],
        next: 0,
        closed: false,
    };
    FakeRelay::routes_for(|url| {
        let mut card = card(office, serial, expires);
        card.relay = url.parse().unwrap();
        vec![
            (
                "/v1/offices/pinned".to_owned(),
                card.sign(office).unwrap().to_json(),
            ),
            (
                format!("/v1/mailboxes/{}/envelopes", case.mailbox),
                serde_json::to_vec(&empty).unwrap(),
            ),
        ]
    })
}

fn address_at(office: &Identity, url: &str) -> String {
    let mut card = card(office, 1, today());
    card.relay = url.parse().unwrap();
    card.address().unwrap().to_string()
}

#[test]
fn a_visitor_who_has_seen_a_card_refuses_an_older_one() {
    // Arrange: the visitor remembers the case while the relay serves card 5.
    let rng = &mut candor_protocol::rand::rng();
    let office = Identity::generate(rng);
    let codename = Codename::generate(rng);
    let words = codename.words().to_string();
    let valid = today().plus(30);
    let visitor = Party::new();
    let fifth = fake_serving(&office, 5, valid, &codename);
    visitor
        .candor(&["check", &address_at(&office, &fifth.url), "--remember"])
        .env("CANDOR_CODENAME", &words)
        .ok();

    // Act: a relay serves the genuine, validly signed, but superseded card 4.
    let fourth = fake_serving(&office, 4, valid, &codename);
    let rolled_back = visitor
        .candor(&["check", &address_at(&office, &fourth.url)])
        .run()
        .expect_code(4);
    // A newer card is taken, and raises the bar.
    let sixth = fake_serving(&office, 6, valid, &codename);
    visitor
        .candor(&["check", &address_at(&office, &sixth.url)])
        .ok();
    let fifth_again = visitor
        .candor(&["check", &address_at(&office, &fifth.url)])
        .run()
        .expect_code(4);

    // Assert
    assert!(
        rolled_back.stderr.contains("card serial 4")
            && rolled_back.stderr.contains("already seen serial 5"),
        "{}",
        rolled_back.stderr
    );
    assert!(
        fifth_again.stderr.contains("already seen serial 6"),
        "{}",
        fifth_again.stderr
    );
}

#[test]
fn an_expired_card_is_refused_and_nothing_is_sent() {
    // Arrange: a genuine card whose last valid day was yesterday.
    let rng = &mut candor_protocol::rand::rng();
    let office = Identity::generate(rng);
    let yesterday = Day(today().0 - 1);
    let fake = FakeRelay::routes_for(|url| {
        let mut card = card(&office, 1, yesterday);
        card.relay = url.parse().unwrap();
        vec![("/".to_owned(), card.sign(&office).unwrap().to_json())]
    });
    let visitor = Party::new();

    // Act
    let run = visitor
        .candor(&["raise", &address_at(&office, &fake.url), "--yes"])
        .stdin("this must never be sent")
        .run()
        .expect_code(4);

    // Assert
    assert!(
        run.stderr
            .contains(&format!("the office card expired on {yesterday}")),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("codename"), "{}", run.stdout);
    assert!(files_in(&visitor).is_empty());
}

#[test]
fn a_card_of_the_first_format_is_refused_as_old() {
    // Arrange: a genuine, signed card as the first version of candor wrote it.
    let rng = &mut candor_protocol::rand::rng();
    let office = Identity::generate(rng);
    let old = format!(
        r#"{{"v":1,"serial":1,"id":"pinned","name":"Pinned Ombuds","relay":"http://127.0.0.1:1","signing_key":"{}","kem_key":"{}","policy":{{"confidentiality":"c","exception":"e","not_notice":"n","retention":"r"}},"retention_days":30,"categories":[],"resources":[]}}"#,
        encoding::b64(&office.signing().public_key().to_bytes()),
        encoding::b64(&office.kem().public_key().to_bytes()),
    )
    .into_bytes();
    let signed = SignedCard {
        signature: office.signing().sign(labels::OFFICE_CARD, &old),
        card: old,
    };
    let fake = FakeRelay::serving(signed.to_json());

    // Act
    let run = Party::new()
        .candor(&["raise", &address_at(&office, &fake.url), "--yes"])
        .stdin("this must never be sent")
        .run()
        .expect_code(4);

    // Assert
    assert!(
        run.stderr.contains("old format 1") && run.stderr.contains("publish its card again"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_office_home_of_the_first_format_keeps_its_address_and_republishes() {
    // Arrange: an office whose card file is rewritten in the first format, as an older candor
    // left it, with the same keys.
    let relay = Relay::start();
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Old Ombuds",
            "--id",
            "old",
            "--relay",
            &relay.url,
        ])
        .ok();
    let address = staff.candor(&["office", "address"]).ok().stdout;
    let path = staff.home().join("office-card.json");
    let mut card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let fields = card.as_object_mut().unwrap();
    for new in [
        "expires",
        "reply_within_days",
        "close_grace_days",
        "constituencies",
        "outcomes",
    ] {
        fields.remove(new);
    }
    fields.insert("v".into(), 1.into());
    fields.insert(
        "resources".into(),
        serde_json::json!([{"name": "counseling", "description": "d", "contact": "room 2",
            "confidential": true}]),
    );
    std::fs::write(&path, serde_json::to_vec(&card).unwrap()).unwrap();

    // Act
    let read = staff.candor(&["office", "address"]).ok();
    staff
        .candor(&["office", "publish", "--invite", &relay.invite()])
        .ok();
    let visitor = Party::new();
    crate::raise(&visitor, address.trim(), "the office still answers");

    // Assert: the same address, a note, and a card file of the current format.
    assert_eq!(read.stdout, address);
    assert!(read.stderr.contains("first format"), "{}", read.stderr);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["v"], u64::from(OFFICE_CARD_VERSION));
    assert_eq!(saved["resources"][0]["id"], "counseling");
    assert_eq!(saved["resources"][0]["contact"], "room 2");
    assert_eq!(
        staff.candor(&["inbox", "--json"]).ok().json()["cases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
