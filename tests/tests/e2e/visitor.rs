//! The visitor's guarantees: typos are typos, the card is pinned by the address, destroy leaves
//! nothing, one codename gives separate cases at separate offices, and nothing is written to
//! disk unless asked.

use candor_protocol::api::{EnvelopePage, StoredEnvelope};
use candor_protocol::seal::Sealer;
use candor_protocol::{
    Codename, CodenameTypo, Day, Direction, Error, Identity, Message, OfficeCard, Policy,
    SignedCard,
};
use candor_tests::fake::FakeRelay;
use candor_tests::{Party, Relay, files_containing};

use crate::{Office, files_in, mailbox_of, raise};

#[test]
fn a_mistyped_codename_is_reported_as_a_typo() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Typo Ombuds", "typo");
    let codename = raise(&Party::new(), &office.address, "hello");
    let words: Vec<&str> = codename.split(' ').collect();

    // A word that is not a codename word at all.
    let mut unknown = words.clone();
    unknown[4] = "qqqq";
    // A real word in the wrong place, which only the checksum catches.
    let checksum_typo = (0..12)
        .flat_map(|i| (0..12).map(move |j| (i, j)))
        .map(|(i, j)| {
            let mut w = words.clone();
            w[i] = words[j];
            w.join(" ")
        })
        .find(|c| {
            matches!(
                c.parse::<Codename>(),
                Err(Error::CodenameTypo(CodenameTypo::Checksum))
            )
        })
        .expect("some swapped word breaks the checksum");

    for typo in [unknown.join(" "), checksum_typo, words[..11].join(" ")] {
        // Act
        let run = Party::new()
            .candor(&["check", &office.address])
            .env("CANDOR_CODENAME", &typo)
            .run()
            .expect_code(1);
        // Assert
        assert!(run.stderr.contains("typo"), "{}", run.stderr);
        assert!(!run.stderr.contains("no case"), "{}", run.stderr);
    }
}

fn card(identity: &Identity, relay: &str) -> OfficeCard {
    OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial: 1,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: "pinned".parse().unwrap(),
        name: "Pinned Ombuds".into(),
        relay: relay.parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "c".into(),
            exception: "e".into(),
            not_notice: "n".into(),
            retention: "r".into(),
        },
        retention_days: 30,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    }
}

#[test]
fn a_tampered_or_substituted_card_is_refused_with_exit_4() {
    let rng = &mut candor_protocol::rand::rng();
    let genuine = Identity::generate(rng);
    let impostor = Identity::generate(rng);
    // The address is fixed before we know the fake's port, so point it at a placeholder and
    // rewrite the relay part per fake.
    let address_at = |url: &str| card(&genuine, url).address().unwrap().to_string();

    // A genuine card whose bytes were changed after signing.
    let tampered = {
        let mut signed = card(&genuine, "http://127.0.0.1:1").sign(&genuine).unwrap();
        let text = String::from_utf8(signed.card.clone()).unwrap();
        signed.card = text.replace("Pinned Ombuds", "Pwned Ombuds").into_bytes();
        signed
    };
    // A well-signed card for the same office ID, by another key.
    let substituted = card(&impostor, "http://127.0.0.1:1")
        .sign(&impostor)
        .unwrap();

    for served in [tampered, substituted] {
        // Arrange
        let fake = FakeRelay::serving(SignedCard::to_json(&served));
        let visitor = Party::new();
        // Act
        let run = visitor
            .candor(&["raise", &address_at(&fake.url), "--yes"])
            .stdin("this must never be sent")
            .run()
            .expect_code(4);
        // Assert
        assert!(run.stderr.contains("does not match"), "{}", run.stderr);
        assert!(!run.stdout.contains("codename"), "{}", run.stdout);
        assert!(files_in(&visitor).is_empty());
    }
}

/// `candor check` as the visitor with `codename`, against a fake relay that serves the office's
/// genuine card and `envelopes` as the case's thread.
fn check_served(
    office: &Identity,
    codename: &Codename,
    envelopes: Vec<candor_protocol::Envelope>,
) -> candor_tests::Run {
    let case = codename.derive(&office.fingerprint());
    let page = EnvelopePage {
        next: envelopes.len() as u64,
        envelopes: (1..)
            .zip(envelopes)
            .map(|(seq, envelope)| StoredEnvelope { seq, envelope })
            .collect(),
        closed: false,
    };
    let fake = FakeRelay::routes_for(|url| {
        vec![
            (
                "/v1/offices/pinned".to_owned(),
                card(office, url).sign(office).unwrap().to_json(),
            ),
            (
                format!("/v1/mailboxes/{}/envelopes", case.mailbox),
                serde_json::to_vec(&page).unwrap(),
            ),
        ]
    });
    let address = card(office, &fake.url).address().unwrap().to_string();
    Party::new()
        .candor(&["check", &address])
        .env("CANDOR_CODENAME", codename.words().as_str())
        .run()
}

#[test]
fn a_forged_office_reply_is_refused_with_exit_4() {
    // Arrange: a relay (or a codename thief) slips a "reply" into the case, sealed with the case's
    // own KEM key and signed by some other key: it cannot be signed by the office.
    let rng = &mut candor_protocol::rand::rng();
    let office = Identity::generate(rng);
    let codename = Codename::generate(rng);
    let case = codename.derive(&office.fingerprint());
    let genuine = Message::text("GENUINE reply", Day(20_000))
        .seal(
            &candor_protocol::seal::Sealer::office(&office, case.kem.public_key(), case.mailbox),
            rng,
        )
        .unwrap();
    let thief = Identity::generate(rng);
    let forged = Message::text("FORGED: send us your name", Day(20_000))
        .seal(
            &Sealer {
                sender: &case.kem,
                recipient: case.kem.public_key(),
                own: case.kem.public_key(),
                keep_copy: true,
                author: thief.signing(),
                mailbox: case.mailbox,
                direction: Direction::ToVisitor,
            },
            rng,
        )
        .unwrap();
    // Act
    let run = check_served(&office, &codename, vec![genuine, forged]).expect_code(4);

    // Assert: the genuine reply is shown verified, the forged one is not shown, and the error
    // names it.
    assert!(run.stdout.contains("GENUINE reply"), "{}", run.stdout);
    assert!(!run.stdout.contains("FORGED"), "{}", run.stdout);
    assert!(run.stdout.contains("DOES NOT VERIFY"), "{}", run.stdout);
    assert!(
        run.stderr.contains("#2") && run.stderr.contains("forged"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_forged_you_wrote_from_the_office_s_side_is_refused_with_exit_4() {
    // Arrange: someone with the office's keys (a colleague gone rogue, or a thief of the office
    // keystore) writes a "visitor" message into the case. The office's KEM secret lets it seal
    // stanzas that claim the case key sent them to the office (key compromise impersonation),
    // but it cannot sign as the case, nor seal the visitor's own stanza as the case.
    let rng = &mut candor_protocol::rand::rng();
    let office = Identity::generate(rng);
    let codename = Codename::generate(rng);
    let case = codename.derive(&office.fingerprint());
    let genuine = Message::text("GENUINE words of mine", Day(20_000))
        .seal(
            &Sealer::visitor(&case, office.kem().public_key(), true),
            rng,
        )
        .unwrap();
    let forged = Message::text("FORGED: I withdraw my complaint", Day(20_000))
        .seal(
            &Sealer {
                sender: office.kem(),
                recipient: office.kem().public_key(),
                own: case.kem.public_key(),
                keep_copy: true,
                author: office.signing(),
                mailbox: case.mailbox,
                direction: Direction::ToOffice,
            },
            rng,
        )
        .unwrap();
    // Act
    let run = check_served(&office, &codename, vec![genuine, forged]).expect_code(4);

    // Assert: the visitor's own message is shown, the forgery is not, and the error names it.
    assert!(
        run.stdout.contains("GENUINE words of mine"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("FORGED"), "{}", run.stdout);
    assert!(run.stdout.contains("DOES NOT VERIFY"), "{}", run.stdout);
    assert!(
        run.stderr.contains("#2") && run.stderr.contains("forged"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wrong_fingerprint_in_the_address_is_refused_with_exit_4() {
    // Arrange: two genuine offices; an address naming one with the other's fingerprint.
    let relay = Relay::start();
    let a = Office::register(&relay, "Office A", "office-a");
    let b = Office::register(&relay, "Office B", "office-b");
    let fingerprint_b = b
        .address
        .split_once('.')
        .unwrap()
        .1
        .split_once('@')
        .unwrap()
        .0;
    let forged = format!("candor:office-a.{fingerprint_b}@{}", relay.url);

    // Act
    let run = Party::new()
        .candor(&["raise", &forged, "--yes"])
        .stdin("for office a")
        .run()
        .expect_code(4);

    // Assert: refused before anything was sent.
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    assert!(a.labels().is_empty() && b.labels().is_empty());
}

#[test]
fn destroy_leaves_nothing_on_the_relay() {
    // Arrange
    let mut relay = Relay::start();
    let office = Office::register(&relay, "Destroy Ombuds", "destroy");
    let visitor = Party::new();
    let codename = raise(&visitor, &office.address, "please forget this");
    assert_eq!(office.labels().len(), 1);

    // Without --yes and without a terminal, nothing happens.
    visitor
        .candor(&["destroy", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .run()
        .expect_code(1);
    assert_eq!(office.labels().len(), 1);

    // Act
    visitor
        .candor(&["destroy", &office.address, "--yes"])
        .env("CANDOR_CODENAME", &codename)
        .ok();

    // Assert: the relay answers "not found" to the case key, the office sees nothing, and the
    // store, checked offline, holds no mailbox and no envelope.
    let gone = visitor
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .run()
        .expect_code(2);
    assert!(gone.stderr.contains("404"), "{}", gone.stderr);
    assert!(office.labels().is_empty());
    relay.stop();
    let report = relay.check_store();
    assert!(report.contains(" 0 mailboxes, 0 envelopes"), "{report}");
    assert!(report.contains("every invariant holds"), "{report}");
}

#[test]
fn one_codename_gives_separate_cases_at_two_offices() {
    // Arrange
    let mut relay = Relay::start();
    let a = Office::register(&relay, "Office A", "office-a");
    let b = Office::register(&relay, "Office B", "office-b");
    let visitor = Party::new();
    let codename = raise(&visitor, &a.address, "for office a only");

    // Act: the same words at office B name no case there.
    let at_b = visitor
        .candor(&["send", &b.address])
        .env("CANDOR_CODENAME", &codename)
        .stdin("trying office b")
        .run()
        .expect_code(2);
    raise(&visitor, &b.address, "a separate concern for office b");

    // Assert: each office sees only its own case, under unrelated mailboxes.
    assert!(
        at_b.stderr.contains("no case for this codename"),
        "{}",
        at_b.stderr
    );
    let (labels_a, labels_b) = (a.labels(), b.labels());
    assert_eq!(labels_a.len(), 1);
    assert_eq!(labels_b.len(), 1);
    let at_a = mailbox_of(&codename, &a.address).to_string();
    let unrelated = mailbox_of(&codename, &b.address).to_string();
    assert_ne!(at_a, unrelated);
    let read_a = a.staff.candor(&["read", &labels_a[0]]).ok().stdout;
    assert!(read_a.contains("for office a only") && !read_a.contains("office b"));
    relay.stop();
    let report = relay.check_store();
    assert!(
        report.contains("2 offices, 2 mailboxes, 2 envelopes"),
        "{report}"
    );
}

#[test]
fn remember_keeps_only_an_encrypted_codename_until_forgotten() {
    // Arrange
    let relay = Relay::start();
    let office = Office::register(&relay, "Remember Ombuds", "remember");
    let visitor = Party::new();

    // Act
    let raised = visitor
        .candor(&["raise", &office.address, "--yes", "--remember", "--json"])
        .stdin("remember me")
        .ok()
        .json();
    let codename = raised["codename"].as_str().unwrap();
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env_remove("CANDOR_CODENAME")
        .ok()
        .json();

    // Assert: one file, holding neither the words nor the office in plaintext.
    assert_eq!(check["messages"][0]["readable"], true);
    let files = files_in(&visitor);
    assert_eq!(files.len(), 1, "{files:?}");
    let two_words = codename.split(' ').take(2).collect::<Vec<_>>().join(" ");
    for secret in [codename, two_words.as_str(), office.address.as_str()] {
        assert!(
            files_containing(visitor.home(), secret.as_bytes()).is_empty(),
            "{secret:?} is in the clear"
        );
    }
    visitor
        .candor(&["check", &office.address])
        .env("CANDOR_PASSPHRASE", "not the passphrase")
        .run()
        .expect_code(1);

    visitor.candor(&["forget", &office.address]).ok();
    let run = visitor
        .candor(&["check", &office.address])
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("CANDOR_CODENAME"), "{}", run.stderr);
    assert!(files_in(&visitor).is_empty());
}
