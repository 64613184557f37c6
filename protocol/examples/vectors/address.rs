//! `address.json`: the fingerprint of an identity key, the office address in every malformed
//! form, and a genuine card checked against addresses that name its relay, or another
//! (`docs/protocol.md` §3).

use candor_protocol::{Error, Fingerprint, OfficeAddress};

use super::fixtures::{self, RELAY, hex};
use super::format::{Case, Group, VectorFile};

pub fn file() -> VectorFile {
    VectorFile::new(
        "address.json",
        "candor-office-address",
        &[
            "FingerprintTest: `fingerprint` = base32(SHA-256(\"candor/v1/fingerprint\" || \
             `signingPublicKey`)), lowercase, unpadded; parsing accepts upper case.",
            "AddressTest: parse `address` (candor:OFFICE-ID.FINGERPRINT@RELAY-URL); a valid \
             case gives its `office`, `fingerprint` and `relay` (without a trailing slash).",
            "CardAtAddressTest: verify `signedCard` against `address` on the day of `now`: \
             fingerprint, office ID, signature, then the relay rule (same scheme, host and port \
             without regard to case, an absent port read as the default, the same path).",
        ],
    )
    .note("UpperCase", "Upper-case base32, which a parser accepts.")
    .note("FingerprintLength", "A fingerprint that is not 52 base32 characters (32 bytes).")
    .note("FingerprintAlphabet", "A character outside the lowercase base32 alphabet a-z, 2-7.")
    .note("NonCanonical", "Base32 whose unused trailing bits are not zero.")
    .note("Scheme", "The address does not start with `candor:`.")
    .note("Form", "The address lacks the `.` between office ID and fingerprint, or the `@` before the relay.")
    .note("OfficeId", "The office ID is not 3 to 32 characters of a-z, 0-9 and '-'.")
    .note("RelayUrl", "The relay URL is not http(s)://HOST[:PORT][/PATH] without user info, query or fragment, or its host or port cannot be meant.")
    .note("RelayPath", "The relay URL has a path, which the address keeps.")
    .note("RelayNormalized", "The address writes the card's relay in another form of the same origin: case, an explicit default port, a trailing slash.")
    .note("RelayMismatch", "A genuine card whose `relay` is another relay than the address's: a copy served elsewhere.")
    .note("FingerprintMismatch", "A genuine card of another identity than the address's fingerprint.")
    .note("OfficeIdMismatch", "A genuine card of another office ID than the address's.")
    .group(fingerprints())
    .group(addresses())
    .group(cards_at_addresses())
}

fn fingerprints() -> Group {
    let office = fixtures::office();
    let fp = office.fingerprint().to_string();
    let mut group = Group::new("FingerprintTest").with(
        "signingPublicKey",
        hex(&office.signing().public_key().to_bytes()),
    );
    group = group.case(fingerprint(Case::valid("the office's fingerprint"), &fp));
    group = group.case(fingerprint(
        Case::valid("the same, in upper case").flag("UpperCase"),
        &fp.to_uppercase(),
    ));
    for (comment, flag, text) in [
        ("51 characters", "FingerprintLength", fp[..51].to_owned()),
        ("53 characters", "FingerprintLength", format!("{fp}a")),
        (
            "56 characters, 35 bytes",
            "FingerprintLength",
            format!("{fp}aaaa"),
        ),
        ("a digit 1", "FingerprintAlphabet", format!("1{}", &fp[1..])),
        (
            "padding",
            "FingerprintAlphabet",
            format!("{}====", &fp[..48]),
        ),
        ("trailing bits set", "NonCanonical", nonzero_tail(&fp)),
    ] {
        assert!(text.parse::<Fingerprint>().is_err(), "{text}");
        group = group.case(Case::invalid(comment, flag).with("fingerprint", text));
    }
    group
}

fn fingerprint(case: Case, text: &str) -> Case {
    let parsed: Fingerprint = text.parse().unwrap();
    assert_eq!(parsed, fixtures::office().fingerprint());
    case.with("fingerprint", text)
        .with("fingerprintHex", hex(parsed.as_bytes()))
}

/// The fingerprint with its last character's unused low bits set: 52 characters carry 260
/// bits, the last 4 unused.
fn nonzero_tail(fp: &str) -> String {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz234567";
    let last = fp.chars().last().unwrap();
    let value = ALPHABET.find(last).unwrap();
    let changed = ALPHABET.as_bytes()[value | 1] as char;
    format!("{}{changed}", &fp[..51])
}

fn addresses() -> Group {
    let fp = fixtures::office().fingerprint().to_string();
    let at = |relay: &str| format!("candor:ombuds.{fp}@{relay}");
    let mut group = Group::new("AddressTest");
    for (comment, flag, text, relay) in [
        ("a relay with a path", Some("RelayPath"), at(RELAY), RELAY),
        (
            "a relay with a port",
            None,
            at("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080",
        ),
        (
            "a trailing slash, which the relay URL drops",
            None,
            at("https://relay.example.edu/"),
            "https://relay.example.edu",
        ),
        (
            "an onion relay",
            None,
            at("http://abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx.onion"),
            "http://abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx.onion",
        ),
        (
            "an IPv6 relay",
            None,
            at("http://[::1]:8080"),
            "http://[::1]:8080",
        ),
        (
            "surrounding whitespace, which is trimmed",
            None,
            format!("  {}\n", at(RELAY)),
            RELAY,
        ),
    ] {
        let parsed: OfficeAddress = text.parse().unwrap();
        assert_eq!(parsed.relay.as_str(), relay);
        let mut case = Case::valid(comment);
        if let Some(flag) = flag {
            case = case.flag(flag);
        }
        group = group.case(
            case.with("address", text)
                .with("office", parsed.office.to_string())
                .with("fingerprint", parsed.fingerprint.to_string())
                .with("relay", relay),
        );
    }
    let malformed: Vec<(&str, &str, String)> = vec![
        ("no scheme", "Scheme", format!("ombuds.{fp}@{RELAY}")),
        (
            "another scheme",
            "Scheme",
            format!("candour:ombuds.{fp}@{RELAY}"),
        ),
        ("no @", "Form", format!("candor:ombuds.{fp}{RELAY}")),
        (
            "no . after the office ID",
            "Form",
            format!("candor:ombuds{fp}@{RELAY}"),
        ),
        (
            "an upper-case office ID",
            "OfficeId",
            format!("candor:Ombuds.{fp}@{RELAY}"),
        ),
        (
            "a two-letter office ID",
            "OfficeId",
            format!("candor:om.{fp}@{RELAY}"),
        ),
        (
            "a fingerprint cut short",
            "FingerprintLength",
            format!("candor:ombuds.{}@{RELAY}", &fp[..51]),
        ),
        ("an ftp relay", "RelayUrl", at("ftp://relay.example.edu")),
        ("user info", "RelayUrl", at("https://me@relay.example.edu")),
        ("a query", "RelayUrl", at("https://relay.example.edu/?a=1")),
        ("a fragment", "RelayUrl", at("https://relay.example.edu/#a")),
        ("an address cut short", "RelayUrl", at("http://127.0.0")),
        ("port 0", "RelayUrl", at("http://127.0.0.1:0")),
        ("an empty host", "RelayUrl", at("https://")),
        (
            "an empty path segment",
            "RelayUrl",
            at("https://relay.example.edu//candor"),
        ),
    ];
    for (comment, flag, text) in malformed {
        assert!(text.parse::<OfficeAddress>().is_err(), "{text}");
        group = group.case(Case::invalid(comment, flag).with("address", text));
    }
    group
}

fn cards_at_addresses() -> Group {
    let office = fixtures::office();
    let card = fixtures::card(&office);
    let signed = card.sign(&office).unwrap();
    let fp = office.fingerprint().to_string();
    let impostor = fixtures::impostor().fingerprint().to_string();
    let mut group = Group::new("CardAtAddressTest")
        .with("now", fixtures::NOW)
        .with("cardRelay", RELAY)
        .with("signedCard", String::from_utf8(signed.to_json()).unwrap());
    let cases: Vec<(Case, String)> = vec![
        (
            Case::valid("the address the card gives"),
            format!("candor:ombuds.{fp}@{RELAY}"),
        ),
        (
            Case::valid("upper-case host, explicit port 443, trailing slash")
                .flag("RelayNormalized"),
            format!("candor:ombuds.{fp}@https://Relay.Example.EDU:443/candor/"),
        ),
        (
            Case::invalid("another port", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.edu:8443/candor"),
        ),
        (
            Case::invalid("http instead of https", "RelayMismatch"),
            format!("candor:ombuds.{fp}@http://relay.example.edu/candor"),
        ),
        (
            Case::invalid("another host", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.org/candor"),
        ),
        (
            Case::invalid("no path", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.edu"),
        ),
        (
            Case::invalid("another path", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.edu/candor2"),
        ),
        (
            Case::invalid("the path in another case", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.edu/Candor"),
        ),
        (
            Case::invalid("the absolute host name", "RelayMismatch"),
            format!("candor:ombuds.{fp}@https://relay.example.edu./candor"),
        ),
        (
            Case::invalid("another identity's fingerprint", "FingerprintMismatch"),
            format!("candor:ombuds.{impostor}@{RELAY}"),
        ),
        (
            Case::invalid("another office ID", "OfficeIdMismatch"),
            format!("candor:ombuds2.{fp}@{RELAY}"),
        ),
    ];
    for (case, address) in cases {
        let parsed: OfficeAddress = address.parse().unwrap();
        let verified = signed.verify_office_at(&parsed, fixtures::NOW);
        if case.is_valid() {
            assert_eq!(verified.as_ref(), Ok(&card), "{address}");
        } else {
            assert!(
                matches!(
                    verified,
                    Err(Error::RelayMismatch { .. } | Error::CardMismatch)
                ),
                "{address}: {verified:?}"
            );
        }
        group = group.case(case.with("address", address));
    }
    group
}
