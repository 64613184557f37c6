//! `tally.json`: sealed anonymous tallies, the office's only permanent record, sealed from given
//! records keys and nonces so that an implementation can reproduce them byte for byte, then
//! tampered, opened as another office, under another records key and at another size
//! (`docs/protocol.md` §6, Tallies).

use candor_protocol::tally::{SEALED_TALLY_LEN, TALLY_PLAIN_LEN};
use candor_protocol::{ItemId, OfficeId, Quarter, RecordsKey, Tally, labels};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use serde_json::json;
use sha2::Sha256;

use super::fixtures::{self, hex};
use super::format::{Case, Group, VectorFile};

/// The office every tally is sealed for: the card's ID in `card.json`.
const OFFICE: &str = "ombuds";

pub fn file() -> VectorFile {
    let key_bytes = fixtures::bytes32("tally/records-key");
    let key = RecordsKey::from_bytes(&key_bytes);
    let office: OfficeId = OFFICE.parse().unwrap();
    let mut group = Group::new("TallyTest")
        .with("recordsKey", hex(&key_bytes))
        .with("officeId", OFFICE)
        .with("tallyKey", hex(&tally_key(&key_bytes)))
        .with("sealedLength", SEALED_TALLY_LEN as u64);

    let full = tally(
        &["peer", "career", "harassment"],
        (2026, 4),
        Some("staff"),
        "resolved",
    );
    let bare = tally(&[], (2026, 1), None, "facilitated");
    let long = tally(
        &[&"c".repeat(32), &"b".repeat(32), &"a".repeat(32)],
        (9999, 4),
        Some(&"s".repeat(32)),
        &"o".repeat(32),
    );
    let genuine = seal(&full, &key, &office, "full");
    let mut cases = vec![
        valid(
            Case::valid("three categories, a constituency and an outcome"),
            &full,
            &key,
            &office,
            "full",
        ),
        valid(
            Case::valid("no category and no constituency").flag("Minimal"),
            &bare,
            &key,
            &office,
            "bare",
        ),
        valid(
            Case::valid("the longest tally: three categories and a constituency of 32 characters")
                .flag("Longest"),
            &long,
            &key,
            &office,
            "long",
        ),
    ];
    let tamper = |comment: &str, flag: &'static str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut sealed = genuine.clone();
        edit(&mut sealed);
        assert_ne!(sealed, genuine);
        (Case::invalid(comment, flag), sealed, key_bytes, OFFICE)
    };
    let mut invalid = vec![
        tamper("a bit of the nonce", "ModifiedNonce", &|s| s[3] ^= 0x20),
        tamper("a bit of the ciphertext", "ModifiedCiphertext", &|s| {
            s[24 + 40] ^= 0x01;
        }),
        tamper("a bit of the tag", "ModifiedCiphertext", &|s| {
            let last = s.len() - 1;
            s[last] ^= 0x80;
        }),
        tamper("one byte short", "WrongSize", &|s| {
            s.pop();
        }),
        tamper("one byte too many", "WrongSize", &|s| s.push(0)),
        tamper("the nonce alone", "WrongSize", &|s| s.truncate(24)),
        (
            Case::invalid("opened as another office", "WrongOffice"),
            genuine.clone(),
            key_bytes,
            "ombuds-law",
        ),
        (
            Case::invalid("opened under another records key", "WrongRecordsKey"),
            genuine.clone(),
            fixtures::bytes32("tally/another records key"),
            OFFICE,
        ),
    ];
    // Plaintexts the encoder never writes, sealed correctly: the opener must refuse what it
    // decrypts, not only what fails to authenticate.
    let mut plain = full.encode().to_vec();
    plain[0] = 2;
    invalid.push(raw(
        "plaintext version 2",
        "UnknownVersion",
        &plain,
        &key_bytes,
    ));
    let mut plain = full.encode().to_vec();
    plain[TALLY_PLAIN_LEN - 1] = 1;
    invalid.push(raw(
        "a non-zero byte in the padding",
        "NonZeroPadding",
        &plain,
        &key_bytes,
    ));
    let plain = swap_first_categories(&full);
    invalid.push(raw(
        "the categories out of order",
        "UnsortedCategories",
        &plain,
        &key_bytes,
    ));
    for (case, sealed, records_key, office_id) in invalid {
        cases.push(check(case, &sealed, &records_key, office_id));
    }
    for case in cases {
        group = group.case(case);
    }
    VectorFile::new(
        "tally.json",
        "candor-tally-v1",
        &[
            "`tallyKey` = HKDF-SHA256(salt = none, ikm = recordsKey, info = \
             \"candor/v1/tally-key\", 32 bytes).",
            "A sealed tally is nonce (24) || XChaCha20-Poly1305(tallyKey, nonce, plaintext, aad \
             = \"candor/v1/tally\" || officeId), always `sealedLength` bytes; the plaintext is \
             the 192-byte padded encoding of docs/protocol.md section 6 (Tallies).",
            "Open `sealed` with the case's `recordsKey` as office `officeId` (the group's when \
             the case gives none). A valid case opens to `plaintext`, which decodes to `tally`; \
             sealing `tally` again for the group's office under the group's key with `nonce` \
             gives `sealed` byte for byte.",
            "Every invalid case must be refused. Those that fail to authenticate \
             (ModifiedNonce, ModifiedCiphertext, WrongSize, WrongOffice, WrongRecordsKey) must \
             be refused with the one opaque decryption error.",
        ],
    )
    .note("Minimal", "A tally with only its quarter and outcome.")
    .note(
        "Longest",
        "The longest tally the format holds, in the last quarter it can name.",
    )
    .note("ModifiedNonce", "A bit of the nonce changed.")
    .note(
        "ModifiedCiphertext",
        "A bit of the ciphertext or its tag changed.",
    )
    .note(
        "WrongSize",
        "A sealed tally of another length than `sealedLength`.",
    )
    .note(
        "WrongOffice",
        "Opened as another office than the one it was sealed for.",
    )
    .note("WrongRecordsKey", "Opened under another records key.")
    .note(
        "UnknownVersion",
        "A plaintext version this client does not know.",
    )
    .note(
        "NonZeroPadding",
        "The plaintext's padding is not all zeros.",
    )
    .note(
        "UnsortedCategories",
        "The categories are not sorted and distinct.",
    )
    .group(group)
}

fn tally(
    categories: &[&str],
    (year, quarter): (u16, u8),
    constituency: Option<&str>,
    outcome: &str,
) -> Tally {
    Tally::new(
        categories.iter().map(|c| id(c)).collect(),
        Quarter::new(year, quarter).unwrap(),
        constituency.map(id),
        id(outcome),
    )
    .unwrap()
}

fn id(s: &str) -> ItemId {
    s.parse().unwrap()
}

fn nonce(name: &str) -> [u8; 24] {
    let mut out = [0; 24];
    out.copy_from_slice(&fixtures::bytes32(&format!("tally/{name}/nonce"))[..24]);
    out
}

fn seal(tally: &Tally, key: &RecordsKey, office: &OfficeId, name: &str) -> Vec<u8> {
    let sealed = tally.seal_with_nonce(key, office, nonce(name)).unwrap();
    assert_eq!(sealed.len(), SEALED_TALLY_LEN);
    sealed
}

/// A valid case: the tally, its inputs and its sealed bytes, checked against the crate.
fn valid(case: Case, tally: &Tally, key: &RecordsKey, office: &OfficeId, name: &str) -> Case {
    let sealed = seal(tally, key, office, name);
    assert_eq!(Tally::open(key, office, &sealed).as_ref(), Ok(tally));
    let fields = json!({
        "year": tally.quarter().year(),
        "quarter": tally.quarter().number(),
        "categories": tally.categories().iter().map(ItemId::as_str).collect::<Vec<_>>(),
        "constituency": tally.constituency().map(ItemId::as_str),
        "outcome": tally.outcome().as_str(),
    });
    case.with("tally", fields)
        .with("nonce", hex(&nonce(name)))
        .with("plaintext", hex(tally.encode().as_ref()))
        .with("sealed", hex(&sealed))
}

/// An invalid case: the crate must refuse it.
fn check(case: Case, sealed: &[u8], records_key: &[u8; 32], office: &str) -> Case {
    let key = RecordsKey::from_bytes(records_key);
    let opened = Tally::open(&key, &office.parse().unwrap(), sealed);
    assert!(opened.is_err(), "{opened:?}");
    let case = case.with("sealed", hex(sealed));
    let case = if *records_key == fixtures::bytes32("tally/records-key") {
        case
    } else {
        case.with("recordsKey", hex(records_key))
    };
    if office == OFFICE {
        case
    } else {
        case.with("officeId", office)
    }
}

/// `plain` sealed correctly for the group's office under `key`, written from
/// `docs/protocol.md` rather than with the crate's sealer (which only seals what it encodes).
fn raw(
    comment: &str,
    flag: &'static str,
    plain: &[u8],
    key: &[u8; 32],
) -> (Case, Vec<u8>, [u8; 32], &'static str) {
    let name = format!("raw/{flag}");
    let n = nonce(&name);
    let aad = [labels::TALLY_AAD, OFFICE.as_bytes()].concat();
    let ct = XChaCha20Poly1305::new(&Key::from(tally_key(key)))
        .encrypt(
            &XNonce::from(n),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .unwrap();
    let sealed = [n.as_slice(), &ct].concat();
    assert_eq!(sealed.len(), SEALED_TALLY_LEN);
    let case = Case::invalid(comment, flag).with("plaintext", hex(plain));
    (case, sealed, *key, OFFICE)
}

/// The tally key, written from `docs/protocol.md`.
fn tally_key(records_key: &[u8; 32]) -> [u8; 32] {
    let mut out = [0; 32];
    Hkdf::<Sha256>::new(None, records_key)
        .expand(labels::TALLY_KEY, &mut out)
        .unwrap();
    out
}

/// The encoding of `tally` with its first two categories' places exchanged.
fn swap_first_categories(tally: &Tally) -> Vec<u8> {
    let plain = tally.encode().to_vec();
    let cats = tally.categories();
    assert!(cats.len() >= 2);
    let (a, b) = (cats[0].as_str(), cats[1].as_str());
    // The categories come last, each length-prefixed: find the first two side by side.
    let needle = [
        &[a.len() as u8][..],
        a.as_bytes(),
        &[b.len() as u8],
        b.as_bytes(),
    ]
    .concat();
    let at = plain
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .unwrap();
    let swapped = [
        &[b.len() as u8][..],
        b.as_bytes(),
        &[a.len() as u8],
        a.as_bytes(),
    ]
    .concat();
    let mut out = plain;
    out[at..at + swapped.len()].copy_from_slice(&swapped);
    out
}
