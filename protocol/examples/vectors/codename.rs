//! `codename.json`: twelve words to 16 bytes of entropy, and entropy and an office's
//! fingerprint to the case's keys and mailbox ID (`docs/protocol.md` §4).

use candor_protocol::{Codename, Error, Fingerprint};

use super::fixtures::{self, b64, hex};
use super::format::{Case, Group, VectorFile};

pub fn file() -> VectorFile {
    let office = fixtures::office().fingerprint();
    let mut derivation = Group::new("CodenameTest")
        .with("officeFingerprint", office.to_string())
        .with("officeFingerprintHex", hex(office.as_bytes()));
    for case in derivations(&office) {
        derivation = derivation.case(case);
    }
    let mut parsing = Group::new("CodenameTest")
        .with("officeFingerprint", office.to_string())
        .with("officeFingerprintHex", hex(office.as_bytes()));
    for case in typed_forms(&office) {
        parsing = parsing.case(case);
    }
    VectorFile::new(
        "codename.json",
        "candor-codename",
        &[
            "A codename is 12 BIP-39 English words: 128 bits of entropy and a 4-bit checksum.",
            "Parse `words` (any case, any whitespace, a word or its unique prefix of four or more \
             letters); a valid case gives `entropy` and, at the group's office, the case keys \
             and `mailboxId` (docs/protocol.md section 4).",
            "`normalizedWords` is the codename written back: lowercase words, single spaces.",
        ],
    )
    .note("Prefix", "Words are given by a unique prefix of at least four letters.")
    .note("Spacing", "Words are separated by other whitespace than one space, or surrounded by it.")
    .note("Case", "Words are in upper or mixed case.")
    .note("UnknownWord", "A word is neither in the list nor a unique prefix of four or more letters of one: a typo.")
    .note("ShortPrefix", "A prefix of fewer than four letters, which is refused even when it names one word.")
    .note("Checksum", "Every word is in the list, but the last 4 bits are not SHA-256(entropy)'s first 4: a typo.")
    .note("WordCount", "Not 12 words.")
    .group(derivation)
    .group(parsing)
}

/// Valid codenames from entropy, with everything derived from them.
fn derivations(office: &Fingerprint) -> Vec<Case> {
    let entropies: [(&str, [u8; 16]); 3] = [
        ("the vectors' codename", fixtures::bytes16("codename")),
        ("all-zero entropy", [0; 16]),
        ("all-one entropy", [0xff; 16]),
    ];
    entropies
        .into_iter()
        .map(|(what, entropy)| {
            let codename = Codename::from_entropy(entropy);
            let words = codename.words().to_string();
            derived(Case::valid(what), &words, &words, entropy, office)
        })
        .collect()
}

/// The vectors' codename typed in forgiving forms, and typos of it.
fn typed_forms(office: &Fingerprint) -> Vec<Case> {
    let entropy = fixtures::bytes16("codename");
    let words = Codename::from_entropy(entropy).words().to_string();
    let list: Vec<&str> = words.split(' ').collect();
    let prefixes: Vec<String> = list.iter().map(|w| w.chars().take(4).collect()).collect();
    let mut cases = vec![
        derived(
            Case::valid("four-letter prefixes").flag("Prefix"),
            &prefixes.join(" "),
            &words,
            entropy,
            office,
        ),
        derived(
            Case::valid("upper case, tabs, newlines and surrounding spaces")
                .flag("Case")
                .flag("Spacing"),
            &format!("  {}\n", words.to_uppercase().replace(' ', " \t\n ")),
            &words,
            entropy,
            office,
        ),
        derived(
            Case::valid("mixed: prefixes of five letters, whole words, mixed case")
                .flag("Prefix")
                .flag("Case"),
            &list
                .iter()
                .enumerate()
                .map(|(i, w)| match i % 3 {
                    0 => w.chars().take(5).collect::<String>(),
                    1 => w.to_string(),
                    _ => capitalize(w),
                })
                .collect::<Vec<_>>()
                .join(" "),
            &words,
            entropy,
            office,
        ),
    ];
    let mut typo = list.clone();
    typo[4] = "qwerty";
    cases.push(refused(
        Case::invalid("word 5 is not a word", "UnknownWord"),
        &typo.join(" "),
    ));
    let mut three = list.clone();
    let short: String = list[2].chars().take(3).collect();
    three[2] = &short;
    cases.push(refused(
        Case::invalid("word 3 given by three letters", "ShortPrefix"),
        &three.join(" "),
    ));
    cases.push(refused(
        Case::invalid("a comma after word 1", "UnknownWord"),
        &words.replacen(' ', ", ", 1),
    ));
    let (checksum, swapped) = checksum_typo(&list);
    cases.push(refused(
        Case::invalid(
            format!("word 12 replaced by {swapped}, another list word"),
            "Checksum",
        ),
        &checksum,
    ));
    cases.push(refused(
        Case::invalid("11 words", "WordCount"),
        &list[..11].join(" "),
    ));
    cases.push(refused(
        Case::invalid("13 words", "WordCount"),
        &format!("{words} abandon"),
    ));
    cases.push(refused(Case::invalid("no words", "WordCount"), ""));
    cases
}

fn derived(case: Case, typed: &str, words: &str, entropy: [u8; 16], office: &Fingerprint) -> Case {
    let parsed: Codename = typed.parse().unwrap();
    assert_eq!(parsed.words().as_str(), words);
    let keys = parsed.derive(office);
    case.with("words", typed)
        .with("normalizedWords", words)
        .with("entropy", hex(&entropy))
        .with("caseKemSecretKey", hex(keys.kem.to_bytes().as_ref()))
        .with("caseKemPublicKey", hex(&keys.kem.public_key().to_bytes()))
        .with("caseSigningSeed", hex(keys.signing.to_seed().as_ref()))
        .with(
            "caseSigningPublicKey",
            hex(&keys.signing.public_key().to_bytes()),
        )
        .with("mailboxId", b64(keys.mailbox.as_bytes()))
}

fn refused(case: Case, typed: &str) -> Case {
    let err = typed.parse::<Codename>().err().unwrap();
    assert!(matches!(err, Error::CodenameTypo(_)), "{typed}: {err}");
    case.with("words", typed)
}

/// The codename with its last word replaced by the first list word that breaks the checksum.
fn checksum_typo(list: &[&str]) -> (String, &'static str) {
    let words = bip39::Language::English.word_list();
    for w in words.iter().filter(|w| **w != list[11]) {
        let mut changed = list.to_vec();
        changed[11] = w;
        let text = changed.join(" ");
        if text.parse::<Codename>().is_err() {
            return (text, w);
        }
    }
    unreachable!("15 in 16 words break the checksum")
}

fn capitalize(w: &str) -> String {
    let mut chars = w.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
