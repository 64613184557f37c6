//! `read-marker.json`: the office's read marker of form 3, sealed from a given office identity,
//! mailbox and nonces so that an implementation can reproduce it byte for byte, then tampered,
//! opened as another office and for another mailbox, cut to other sizes, and re-sealed from
//! plaintexts the encoder never writes; and one marker of form 2, which still opens for its read
//! position (`docs/protocol.md` §6, The office's read marker).

use core::convert::Infallible;

use candor_protocol::marker::{
    Digest, MARKER_LEN, MARKER_PLAIN_LEN, MARKER_V2_LEN, MarkerKey, ReadMarker,
};
use candor_protocol::{Day, Identity, ItemId, MailboxId, labels, seal};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::{TryCryptoRng, TryRng};
use serde_json::{Value, json};
use sha2::Sha256;

use super::fixtures::{self, b64, hex, keys_of};
use super::format::{Case, Group, VectorFile};

pub fn file() -> VectorFile {
    let office = fixtures::office();
    let mailbox = mailbox();
    let key = MarkerKey::new(&office);
    let marker_key = marker_key(&office);
    let mut group = Group::new("ReadMarkerTest")
        .with("office", keys_of(&office))
        .with("markerKey", hex(&marker_key))
        .with("mailboxId", b64(mailbox.as_bytes()))
        .with("sealedLength", MARKER_LEN as u64);

    let bare = ReadMarker {
        read_up_to: 7,
        digest: None,
    };
    let empty = ReadMarker {
        read_up_to: 0,
        digest: Some(Digest::default()),
    };
    let longest = ReadMarker {
        read_up_to: u64::MAX - 1,
        digest: Some(Digest {
            up_to: u64::MAX,
            unread: u32::MAX,
            categories: vec![
                id(&"c".repeat(32)),
                id(&"b".repeat(32)),
                id(&"a".repeat(32)),
            ],
            constituency: Some(id(&"s".repeat(32))),
            urgent: true,
            // The last day the format can name: 0xFFFFFFFF is "none".
            last_day: Some(Day(u32::MAX - 1)),
        }),
    };
    let no_day = ReadMarker {
        read_up_to: 5,
        digest: Some(Digest {
            up_to: 9,
            unread: 4,
            categories: vec![id("peer"), id("career"), id("harassment")],
            constituency: Some(id("staff")),
            urgent: false,
            last_day: None,
        }),
    };
    // The longest takes 160 bytes of the 192, as `ReadMarker::encode` says.
    let plain = longest.encode().unwrap();
    let padding = plain.iter().rev().take_while(|&&b| b == 0).count();
    assert_eq!(MARKER_PLAIN_LEN - padding, 160);

    let mut cases = vec![
        valid(
            Case::valid("a read position and no digest").flag("NoDigest"),
            &bare,
            &key,
            &marker_key,
            &mailbox,
            "bare",
        ),
        valid(
            Case::valid("a digest with nothing in it").flag("EmptyDigest"),
            &empty,
            &key,
            &marker_key,
            &mailbox,
            "empty",
        ),
        valid(
            Case::valid(
                "the longest digest: three categories and a constituency of 32 characters, \
                 urgent, the last day the format names, and the largest counters",
            )
            .flag("Longest"),
            &longest,
            &key,
            &marker_key,
            &mailbox,
            "longest",
        ),
        valid(
            Case::valid("a digest with no last day").flag("NoLastDay"),
            &no_day,
            &key,
            &marker_key,
            &mailbox,
            "no-day",
        ),
        form_two(&office, &key, &mailbox, 5),
    ];

    let genuine = seal(&no_day, &key, &mailbox, "no-day");
    let tamper = |comment: &str, flag: &'static str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut sealed = genuine.clone();
        edit(&mut sealed);
        assert_ne!(sealed, genuine);
        Invalid::new(Case::invalid(comment, flag), sealed)
    };
    let mut invalid = vec![
        tamper("a bit of the nonce", "ModifiedNonce", &|s| s[3] ^= 0x20),
        tamper("a bit of the ciphertext", "ModifiedCiphertext", &|s| {
            s[24 + 9] ^= 0x01;
        }),
        tamper("a bit of the tag", "ModifiedCiphertext", &|s| {
            let last = s.len() - 1;
            s[last] ^= 0x80;
        }),
        tamper("one byte short", "WrongSize", &|s| {
            s.pop();
        }),
        tamper("one byte too many", "WrongSize", &|s| s.push(0)),
        tamper(
            "cut to the length of form 2: it opens as neither form",
            "WrongSize",
            &|s| s.truncate(MARKER_V2_LEN),
        ),
        Invalid {
            mailbox: MailboxId::from_bytes(fixtures::bytes16("read-marker/another mailbox")),
            ..Invalid::new(
                Case::invalid("opened for another mailbox", "WrongMailbox"),
                genuine.clone(),
            )
        },
        Invalid {
            office: Some(fixtures::impostor()),
            ..Invalid::new(
                Case::invalid("opened as another office", "WrongOffice"),
                genuine.clone(),
            )
        },
    ];
    // Plaintexts the encoder never writes, sealed correctly: the opener must refuse what it
    // decrypts, not only what fails to authenticate.
    let edited = |marker: &ReadMarker, at: usize, value: u8| {
        let mut plain = marker.encode().unwrap().to_vec();
        assert_ne!(plain[at], value);
        plain[at] = value;
        plain
    };
    invalid.push(raw(
        "plaintext version 2",
        "UnknownVersion",
        &edited(&no_day, 0, 2),
        &marker_key,
        &mailbox,
    ));
    invalid.push(raw(
        "the digest flag 2",
        "BadFlag",
        &edited(&no_day, 9, 2),
        &marker_key,
        &mailbox,
    ));
    invalid.push(raw(
        "the urgent flag 2",
        "BadFlag",
        &edited(&no_day, 22, 2),
        &marker_key,
        &mailbox,
    ));
    invalid.push(raw(
        "a non-zero byte in the padding",
        "NonZeroPadding",
        &edited(&bare, MARKER_PLAIN_LEN - 1, 1),
        &marker_key,
        &mailbox,
    ));
    invalid.push(raw(
        "four categories",
        "TooManyCategories",
        &with_fourth_category(&no_day, "other"),
        &marker_key,
        &mailbox,
    ));
    for bad in invalid {
        cases.push(bad.check(&office, &mailbox));
    }
    for case in cases {
        group = group.case(case);
    }
    VectorFile::new(
        "read-marker.json",
        "candor-read-marker-v3",
        &[
            "`markerKey` = HKDF-SHA256(salt = none, ikm = the office identity's 64 secret bytes \
             (office.signingSeed || office.kemSecretKey), info = \"candor/v3/read-marker-key\", \
             32 bytes).",
            "A read marker of form 3 is nonce (24) || XChaCha20-Poly1305(markerKey, nonce, \
             plaintext, aad = \"candor/v3/read-marker\" || the mailbox ID's 16 bytes), always \
             `sealedLength` bytes; the plaintext is the 192-byte padded encoding of \
             docs/protocol.md section 6 (The office's read marker).",
            "Open `sealed` as the case's `office` (the group's when the case gives none) for \
             mailbox `mailboxId` (the case's, else the group's). A valid case of form 3 opens \
             to `plaintext`, which decodes to `marker`; sealing `marker` again with `nonce` \
             gives `sealed` byte for byte. Counters are JSON integers up to 2^64 - 1: read them \
             as unsigned 64-bit numbers, not as doubles.",
            "A FormTwo case is a 56-byte marker of form 2, enc (32) || SetupAuthS(pkR = office \
             KEM key, info = \"candor/v2/read-marker\" || mailbox ID, skS = office KEM key) \
             .Seal(aad = \"\", read position as 8 bytes big-endian), sealed with HPKE ikmE = \
             `ikmE`. It opens to `marker`: the read position and no digest. It is never \
             written, only opened.",
            "Every invalid case must be refused. Those that fail to authenticate \
             (ModifiedNonce, ModifiedCiphertext, WrongSize, WrongMailbox, WrongOffice) must be \
             refused with the one opaque decryption error.",
        ],
    )
    .note("NoDigest", "A read position with no digest.")
    .note(
        "EmptyDigest",
        "A digest of all zeros, no IDs and no last day.",
    )
    .note(
        "Longest",
        "The longest digest the format holds (160 bytes of plaintext), with the largest \
         counters and the last day it can name.",
    )
    .note("NoLastDay", "A digest whose last day is none (0xFFFFFFFF).")
    .note(
        "FormTwo",
        "A marker of form 2 (HPKE auth mode, 56 bytes), opened for its read position only.",
    )
    .note("ModifiedNonce", "A bit of the nonce changed.")
    .note(
        "ModifiedCiphertext",
        "A bit of the ciphertext or its tag changed.",
    )
    .note(
        "WrongSize",
        "A sealed marker of another length than `sealedLength` (and not form 2's 56 bytes \
         that open).",
    )
    .note(
        "WrongMailbox",
        "Opened for another mailbox than the one it was sealed for.",
    )
    .note(
        "WrongOffice",
        "Opened as another office than the one that sealed it.",
    )
    .note(
        "UnknownVersion",
        "A plaintext version this client does not know.",
    )
    .note(
        "BadFlag",
        "The digest flag or the urgent flag is neither 0 nor 1.",
    )
    .note(
        "NonZeroPadding",
        "The plaintext's padding is not all zeros.",
    )
    .note(
        "TooManyCategories",
        "A digest of more than three categories.",
    )
    .group(group)
}

fn id(s: &str) -> ItemId {
    s.parse().unwrap()
}

/// The mailbox every marker is sealed for: the vector case's, as in `codename.json`.
fn mailbox() -> MailboxId {
    fixtures::codename()
        .derive(&fixtures::office().fingerprint())
        .mailbox
}

fn nonce(name: &str) -> [u8; 24] {
    let mut out = [0; 24];
    out.copy_from_slice(&fixtures::bytes32(&format!("read-marker/{name}/nonce"))[..24]);
    out
}

fn seal(marker: &ReadMarker, key: &MarkerKey<'_>, mailbox: &MailboxId, name: &str) -> Vec<u8> {
    let sealed = key.seal_with_nonce(mailbox, marker, nonce(name)).unwrap();
    assert_eq!(sealed.len(), MARKER_LEN);
    sealed
}

/// The marker's fields as a case lists them.
fn fields(marker: &ReadMarker) -> Value {
    let digest = marker.digest.as_ref().map(|d| {
        json!({
            "upTo": d.up_to,
            "unread": d.unread,
            "urgent": d.urgent,
            "lastDay": d.last_day.map(|day| day.0),
            "constituency": d.constituency.as_ref().map(ItemId::as_str),
            "categories": d.categories.iter().map(ItemId::as_str).collect::<Vec<_>>(),
        })
    });
    json!({ "readUpTo": marker.read_up_to, "digest": digest })
}

/// A valid case of form 3: the marker, its nonce, plaintext and sealed bytes, checked against
/// the crate and against a sealer written from `docs/protocol.md` (which checks `markerKey`).
fn valid(
    case: Case,
    marker: &ReadMarker,
    key: &MarkerKey<'_>,
    marker_key: &[u8; 32],
    mailbox: &MailboxId,
    name: &str,
) -> Case {
    let sealed = seal(marker, key, mailbox, name);
    assert_eq!(key.open(mailbox, &sealed).as_ref(), Ok(marker));
    let plain = marker.encode().unwrap();
    assert_eq!(
        seal_raw(plain.as_ref(), marker_key, mailbox, nonce(name)),
        sealed
    );
    case.with("marker", fields(marker))
        .with("nonce", hex(&nonce(name)))
        .with("plaintext", hex(plain.as_ref()))
        .with("sealed", hex(&sealed))
}

/// The case of form 2: `read_up_to` sealed by the office to itself with HPKE auth mode, from a
/// given `ikmE`.
fn form_two(office: &Identity, key: &MarkerKey<'_>, mailbox: &MailboxId, read_up_to: u64) -> Case {
    let ikm_e = fixtures::bytes32("read-marker/form-2/ikmE");
    let own = office.kem().public_key();
    let info = [labels::READ_MARKER, mailbox.as_bytes()].concat();
    let mut rng = OneIkm(Some(ikm_e));
    let (enc, mut ctx) = seal::setup_sender(Some(office.kem()), &own, &info, &mut rng).unwrap();
    assert!(rng.0.is_none(), "HPKE did not take the ikmE");
    let sealed = [
        enc.as_slice(),
        &ctx.seal(&read_up_to.to_be_bytes(), b"").unwrap(),
    ]
    .concat();
    assert_eq!(sealed.len(), MARKER_V2_LEN);
    let marker = ReadMarker {
        read_up_to,
        digest: None,
    };
    assert_eq!(key.open(mailbox, &sealed), Ok(marker.clone()));
    Case::valid("a marker of form 2 gives its read position and no digest")
        .flag("FormTwo")
        .with("marker", fields(&marker))
        .with("ikmE", hex(&ikm_e))
        .with("sealed", hex(&sealed))
}

/// An invalid case, with the office and mailbox it is opened as when not the group's.
struct Invalid {
    case: Case,
    sealed: Vec<u8>,
    office: Option<Identity>,
    mailbox: MailboxId,
}

impl Invalid {
    fn new(case: Case, sealed: Vec<u8>) -> Self {
        Self {
            case,
            sealed,
            office: None,
            mailbox: mailbox(),
        }
    }

    /// The case, once the crate has refused it.
    fn check(self, group_office: &Identity, group_mailbox: &MailboxId) -> Case {
        let office = self.office.as_ref().unwrap_or(group_office);
        let opened = MarkerKey::new(office).open(&self.mailbox, &self.sealed);
        assert!(opened.is_err(), "{opened:?}");
        let mut case = self.case.with("sealed", hex(&self.sealed));
        if let Some(other) = &self.office {
            case = case.with("office", keys_of(other));
        }
        if self.mailbox != *group_mailbox {
            case = case.with("mailboxId", b64(self.mailbox.as_bytes()));
        }
        case
    }
}

/// `plain` sealed correctly for `mailbox` under `marker_key`, with the crate's sealer bypassed
/// (it only seals what it encodes).
fn raw(
    comment: &str,
    flag: &'static str,
    plain: &[u8],
    marker_key: &[u8; 32],
    mailbox: &MailboxId,
) -> Invalid {
    let sealed = seal_raw(plain, marker_key, mailbox, nonce(&format!("raw/{comment}")));
    assert_eq!(sealed.len(), MARKER_LEN);
    Invalid::new(
        Case::invalid(comment, flag).with("plaintext", hex(plain)),
        sealed,
    )
}

/// Form 3 sealing, written from `docs/protocol.md`.
fn seal_raw(plain: &[u8], marker_key: &[u8; 32], mailbox: &MailboxId, n: [u8; 24]) -> Vec<u8> {
    let aad = [labels::READ_MARKER_AAD, mailbox.as_bytes()].concat();
    let ct = XChaCha20Poly1305::new(&Key::from(*marker_key))
        .encrypt(
            &XNonce::from(n),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .unwrap();
    [n.as_slice(), &ct].concat()
}

/// The marker key, written from `docs/protocol.md`.
fn marker_key(office: &Identity) -> [u8; 32] {
    let mut out = [0; 32];
    Hkdf::<Sha256>::new(None, office.to_secret_bytes().as_ref())
        .expand(labels::READ_MARKER_KEY, &mut out)
        .unwrap();
    out
}

/// The encoding of `marker` (a digest of three categories) with a category count of 4 and a
/// fourth category, `extra`, written after the third.
fn with_fourth_category(marker: &ReadMarker, extra: &str) -> Vec<u8> {
    let digest = marker.digest.as_ref().unwrap();
    assert_eq!(digest.categories.len(), 3);
    let mut plain = marker.encode().unwrap().to_vec();
    // version, read_up_to, flag, up_to, unread, urgent, last_day: then the constituency.
    let constituency = 1 + 8 + 1 + 8 + 4 + 1 + 4;
    let count = constituency + 1 + digest.constituency.as_ref().map_or(0, |c| c.as_str().len());
    assert_eq!(plain[count], 3);
    plain[count] = 4;
    let end = count
        + 1
        + digest
            .categories
            .iter()
            .map(|c| 1 + c.as_str().len())
            .sum::<usize>();
    let fourth = [&[extra.len() as u8][..], extra.as_bytes()].concat();
    assert!(plain[end..end + fourth.len()].iter().all(|&b| b == 0));
    plain[end..end + fourth.len()].copy_from_slice(&fourth);
    plain
}

/// Hands out one given `ikmE`, HPKE's only random input, and nothing else.
struct OneIkm(Option<[u8; 32]>);

impl TryRng for OneIkm {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("HPKE asked for a number, not its ikmE");
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("HPKE asked for a number, not its ikmE");
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let ikm = self.0.take().expect("HPKE asked for a second ikmE");
        dst.copy_from_slice(&ikm);
        Ok(())
    }
}

impl TryCryptoRng for OneIkm {}
