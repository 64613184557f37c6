//! Writes a small seed corpus for the fuzz targets in `fuzz/`: one valid input per target, so
//! the fuzzers start from the real formats. Run from the repository root:
//! `cargo run -p candor-protocol --example fuzz_seeds -- fuzz/corpus`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use candor_protocol::card::{OfficeCard, Policy, ThirdPartyCard};
use candor_protocol::handoff::{
    CaseRef, Disclosure, Item, KeyShare, OfficeRef, Package, Party, Proposal, Revocation,
};
use candor_protocol::pow::{Challenge, PowKey};
use candor_protocol::request::HEADERS;
use candor_protocol::{
    Codename, Day, HandoffId, Identity, MailboxId, Message, RequestAuth, Signer,
};

fn write(root: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = root.join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let root = std::env::args().nth(1).expect("usage: fuzz_seeds DIR");
    let root = Path::new(&root);
    let rng = &mut rand::rng();

    let office = Identity::generate(rng);
    let card = OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial: 1,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: "ombuds".parse().unwrap(),
        name: "Seed Office".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        signing_key: office.signing().public_key().to_bytes(),
        kem_key: office.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "c".into(),
            exception: "e".into(),
            not_notice: "n".into(),
            retention: "r".into(),
        },
        retention_days: 90,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    };
    write(
        root,
        "card_address",
        "card.json",
        &card.sign(&office).unwrap().to_json(),
    );
    write(
        root,
        "card_address",
        "address.txt",
        card.address().unwrap().to_string().as_bytes(),
    );

    let codename = Codename::generate(rng);
    write(root, "codename", "words.txt", codename.words().as_bytes());

    let case = codename.derive(&office.fingerprint());
    let env = Message::text("seed", Day(20_000))
        .seal(
            &candor_protocol::seal::Sealer::visitor(&case, office.kem().public_key(), true),
            rng,
        )
        .unwrap();
    write(root, "envelope", "envelope.json", &env.to_json());

    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox);
    let auth = RequestAuth::sign(
        &case.signing,
        Signer::Case,
        "POST",
        &path,
        b"{}",
        1_800_000_000,
        rng,
    );
    let mut lines: Vec<String> = auth.header_values().to_vec();
    lines.extend(["POST".to_owned(), path, "{}".to_owned()]);
    assert_eq!(HEADERS.len(), 4);
    write(
        root,
        "request_signature",
        "request.txt",
        lines.join("\n").as_bytes(),
    );

    let third = Identity::generate(rng);
    let tp = ThirdPartyCard {
        v: 2,
        name: "Dept head".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        mandatory_reporter: false,
        signing_key: third.signing().public_key().to_bytes(),
        kem_key: third.kem().public_key().to_bytes(),
    };
    let proposal = Proposal {
        v: 2,
        id: HandoffId::random(rng),
        drafted_by: Party::Office,
        case: CaseRef {
            mailbox: case.mailbox,
            signing_key: case.signing.public_key().to_bytes(),
            kem_key: case.kem.public_key().to_bytes(),
        },
        office: OfficeRef {
            id: "seed-office".parse().unwrap(),
            signing_key: office.signing().public_key().to_bytes(),
            kem_key: office.kem().public_key().to_bytes(),
        },
        third_party: tp.sign(&third).unwrap(),
        purpose: "resolve".into(),
        items: vec![Item::text("item")],
        identity_included: false,
        identity: None,
        expires: Day(20_100),
    };
    let bytes = proposal.to_json();
    write(root, "handoff", "proposal.json", &bytes);
    let disclosure = Disclosure {
        v: 2,
        consent: Proposal::approve(&bytes, Party::Visitor, &case.signing),
        proposal: bytes,
        identity: None,
    };
    let (package, key) =
        Package::seal(&disclosure, &proposal.id, &office.kem().public_key(), rng).unwrap();
    let share = KeyShare::seal(
        &key,
        &proposal.id,
        Party::Visitor,
        &case.kem,
        &third.kem().public_key(),
        rng,
    )
    .unwrap();
    write(
        root,
        "handoff",
        "share.json",
        &serde_json::to_vec(&share).unwrap(),
    );
    write(
        root,
        "handoff",
        "package.json",
        &serde_json::to_vec(&package).unwrap(),
    );
    let revocation = Revocation::sign(proposal.id, Party::Office, office.signing());
    write(
        root,
        "handoff",
        "revocation.json",
        &serde_json::to_vec(&revocation).unwrap(),
    );

    let pow_key = PowKey::generate(rng);
    let challenge = Challenge::issue(&pow_key, 4, 1_800_000_000, 600, rng);
    let solution = challenge.solve(MailboxId::random(rng).as_bytes());
    write(
        root,
        "pow",
        "solution.json",
        &serde_json::to_vec(&solution).unwrap(),
    );
    println!("wrote seeds under {}", root.display());
}
