//! `pow.json`: proof-of-work challenges and solutions for opening a mailbox, checked by the
//! relay that issued them (`docs/protocol.md` §9).

use candor_protocol::pow::{Challenge, PowKey, Solution};
use candor_protocol::{Error, encoding, labels};
use sha2::{Digest, Sha256};

use super::fixtures::{self, hex};
use super::format::{Case, Group, VectorFile};

/// The relay's minimum difficulty in every case.
const MIN_DIFFICULTY: u8 = 8;

/// How long a challenge is valid.
const TTL: u64 = 300;

pub fn file() -> VectorFile {
    let key_bytes = fixtures::bytes32("pow/key");
    let key = PowKey::from_bytes(key_bytes);
    let mailbox = fixtures::codename()
        .derive(&fixtures::office().fingerprint())
        .mailbox;
    let context = mailbox.as_bytes().to_vec();
    let other_context = fixtures::bytes16("pow/another mailbox").to_vec();
    let issue = |difficulty: u8, name: &str| {
        Challenge::issue_with_random(
            &key,
            difficulty,
            fixtures::NOW,
            TTL,
            fixtures::bytes16(&format!("pow/{name}")),
        )
    };
    let challenge = issue(MIN_DIFFICULTY, "challenge");
    let solved = first_solution(&challenge, &context);
    let harder = first_solution(&issue(12, "harder"), &context);
    let at = fixtures::NOW + 10;
    let mut lowered = solved.clone();
    lowered.challenge.difficulty = 4;
    let lowered = first_solution(&lowered.challenge, &context);
    let other_key = PowKey::from_bytes(fixtures::bytes32("pow/another key"));
    let foreign = Challenge::issue_with_random(
        &other_key,
        MIN_DIFFICULTY,
        fixtures::NOW,
        TTL,
        fixtures::bytes16("pow/foreign"),
    );
    let cases: Vec<(Case, Solution, &[u8], u64)> = vec![
        (
            Case::valid("the first nonce that meets difficulty 8"),
            solved.clone(),
            &context,
            at,
        ),
        (
            Case::valid("difficulty 12, above the minimum"),
            harder,
            &context,
            at,
        ),
        (
            Case::valid("verified at the challenge's expiry"),
            solved.clone(),
            &context,
            fixtures::NOW + TTL,
        ),
        (
            Case::invalid(
                "a nonce whose hash has 7 leading zero bits: the most significant bit of byte 0 \
                 comes first",
                "BelowDifficulty",
            ),
            with_zero_bits(&challenge, &context, 7),
            &context,
            at,
        ),
        (
            Case::invalid(
                "a nonce whose hash starts with a one bit",
                "BelowDifficulty",
            ),
            with_zero_bits(&challenge, &context, 0),
            &context,
            at,
        ),
        (
            Case::invalid("the solution for another mailbox", "WrongContext"),
            solved.clone(),
            &other_context,
            at,
        ),
        (
            Case::invalid("a genuine challenge of difficulty 4", "TooEasy"),
            first_solution(&issue(4, "easy"), &context),
            &context,
            at,
        ),
        (
            Case::invalid("the difficulty lowered to 4 without the relay", "NotIssued"),
            lowered,
            &context,
            at,
        ),
        (
            Case::invalid("a challenge of another relay", "NotIssued"),
            first_solution(&foreign, &context),
            &context,
            at,
        ),
        (
            Case::invalid("verified a second after the expiry", "Expired"),
            solved.clone(),
            &context,
            fixtures::NOW + TTL + 1,
        ),
    ];
    let mut group = Group::new("PowTest")
        .with("key", hex(&key_bytes))
        .with("minDifficulty", MIN_DIFFICULTY)
        .with("mailboxId", encoding::b64(&context));
    for (case, solution, ctx, now) in cases {
        let verified = solution.verify(&key, ctx, now, MIN_DIFFICULTY);
        assert_eq!(verified.is_ok(), case.is_valid(), "{verified:?}");
        let text = String::from_utf8(serde_json::to_vec(&solution).unwrap()).unwrap();
        group = group.case(
            case.with("solution", text)
                .with("context", hex(ctx))
                .with("now", now)
                .with("hash", hex(&hash(&solution, ctx))),
        );
    }
    let json = String::from_utf8(serde_json::to_vec(&solved).unwrap()).unwrap();
    for (case, text) in [
        (
            Case::invalid("challenge version 2", "UnknownVersion"),
            json.replacen("{\"v\":1,", "{\"v\":2,", 1),
        ),
        (
            Case::invalid("an extra field", "UnknownField"),
            json.replacen("\"nonce\":", "\"tries\":1,\"nonce\":", 1),
        ),
    ] {
        assert_ne!(text, json);
        let verified = encoding::from_json::<Solution>("pow solution", text.as_bytes())
            .and_then(|s| s.verify(&key, &context, at, MIN_DIFFICULTY));
        assert!(
            matches!(
                verified,
                Err(Error::Malformed { .. } | Error::UnsupportedVersion { .. })
            ),
            "{verified:?}"
        );
        group = group.case(
            case.with("solution", text)
                .with("context", hex(&context))
                .with("now", at),
        );
    }
    VectorFile::new(
        "pow.json",
        "candor-proof-of-work",
        &[
            "`mac` = HMAC-SHA256(key, \"candor/v1/pow-challenge\" || random || difficulty (1 \
             byte) || u64be(expires)).",
            "`hash` = SHA-256(\"candor/v1/pow-solution\" || random || difficulty || \
             u64be(expires) || mac || context || u64be(nonce)); it must start with \
             `difficulty` zero bits, the most significant bit of byte 0 first.",
            "Parse `solution`, then verify it with the group's `key` for `context` (the 16 \
             bytes of the mailbox ID being opened) at `now`, refusing difficulties below \
             `minDifficulty` (docs/protocol.md section 9).",
        ],
    )
    .note(
        "BelowDifficulty",
        "The hash has fewer leading zero bits than the difficulty.",
    )
    .note("WrongContext", "A solution for another mailbox.")
    .note(
        "TooEasy",
        "A genuine challenge below the relay's minimum difficulty.",
    )
    .note(
        "NotIssued",
        "The MAC does not verify: the challenge was changed, or another relay issued it.",
    )
    .note("Expired", "Verified after the challenge's expiry.")
    .note(
        "UnknownVersion",
        "A challenge version this relay does not know.",
    )
    .note("UnknownField", "A field the format does not have.")
    .group(group)
}

fn first_solution(challenge: &Challenge, context: &[u8]) -> Solution {
    challenge.solve(context)
}

/// The first nonce whose hash has exactly `bits` leading zero bits.
fn with_zero_bits(challenge: &Challenge, context: &[u8], bits: u32) -> Solution {
    (0u64..)
        .map(|nonce| Solution {
            challenge: challenge.clone(),
            nonce,
        })
        .find(|s| leading_zero_bits(&hash(s, context)) == bits)
        .unwrap()
}

/// The solution's hash, written from `docs/protocol.md` §9 rather than taken from the crate.
fn hash(s: &Solution, context: &[u8]) -> [u8; 32] {
    let c = &s.challenge;
    let mut h = Sha256::new();
    h.update(labels::POW_SOLUTION);
    h.update(c.random);
    h.update([c.difficulty]);
    h.update(c.expires.to_be_bytes());
    h.update(c.mac);
    h.update(context);
    h.update(s.nonce.to_be_bytes());
    h.finalize().into()
}

fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &b in hash {
        if b != 0 {
            return bits + b.leading_zeros();
        }
        bits += 8;
    }
    bits
}
