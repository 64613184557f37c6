//! Known-answer tests over `docs/vectors/`: every case of every file goes through the crate's
//! own decoders and verifiers, as another implementation would run it. A valid case must be
//! accepted and give the outputs it lists (sealing and signing its inputs again gives its bytes);
//! an invalid case must be refused with the error its flag names, as age's `fail_*` vectors and
//! OpenMLS's `kat_*` tests do. Nothing here uses the generator's code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use candor_protocol::envelope::Direction;
use candor_protocol::pow::{PowKey, Solution};
use candor_protocol::request::{HEADERS, KEY_HEADER};
use candor_protocol::seal::{Opener, Sealer};
use candor_protocol::{
    CaseKeys, Codename, CodenameTypo, Envelope, Error, Fingerprint, Identity, ItemId,
    OfficeAddress, OfficeId, PowError, Quarter, RecordsKey, RequestAuth, RequestId, SignedCard,
    Signer, SigningPublicKey, SigningSecretKey, Tally, encoding, labels, padding,
};
use serde_json::Value;

/// One case's context: its file, group and test.
struct Case<'a> {
    file: &'a str,
    group: &'a Value,
    test: &'a Value,
}

impl Case<'_> {
    fn id(&self) -> String {
        format!("{} tcId {}", self.file, self.test["tcId"])
    }
    fn str(&self, field: &str) -> &str {
        self.test[field]
            .as_str()
            .or_else(|| self.group[field].as_str())
            .unwrap_or_else(|| panic!("{}: no string {field}", self.id()))
    }
    fn u64(&self, field: &str) -> u64 {
        self.test[field]
            .as_u64()
            .or_else(|| self.group[field].as_u64())
            .unwrap_or_else(|| panic!("{}: no number {field}", self.id()))
    }
    fn valid(&self) -> bool {
        match self.test["result"].as_str() {
            Some("valid") => true,
            Some("invalid") => false,
            other => panic!("{}: result {other:?}", self.id()),
        }
    }
}

/// Runs every case of `file` through `check`, and holds each to its `result`: a valid case must
/// pass, an invalid one must fail with an error that `expected` accepts for one of its flags.
fn run(
    file: &str,
    text: &str,
    check: impl Fn(&Case<'_>) -> Result<(), Error>,
    expected: impl Fn(&str, &Error) -> bool,
) {
    let doc: Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["schema"], "candor_vectors_v1", "{file}");
    let notes = doc["notes"].as_object().unwrap();
    let mut seen = 0u64;
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        for test in group["tests"].as_array().unwrap() {
            seen += 1;
            let case = Case { file, group, test };
            assert_eq!(test["tcId"].as_u64(), Some(seen), "{}", case.id());
            let flags: Vec<&str> = test["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            assert!(
                flags.iter().all(|f| notes.contains_key(*f)),
                "{}: a flag without a note",
                case.id()
            );
            match (case.valid(), check(&case)) {
                (true, Ok(())) => {}
                (false, Err(e)) if flags.iter().any(|f| expected(f, &e)) => {}
                (true, Err(e)) => failures.push(format!("{} refused: {e}", case.id())),
                (false, Err(e)) => {
                    failures.push(format!("{} refused for another reason: {e:?}", case.id()));
                }
                (false, Ok(())) => failures.push(format!("{} accepted", case.id())),
            }
        }
    }
    assert_eq!(doc["numberOfTests"].as_u64(), Some(seen), "{file}");
    assert!(seen > 0, "{file}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn unhex<const N: usize>(case: &Case<'_>, field: &str) -> [u8; N] {
    hex::decode(case.str(field)).unwrap().try_into().unwrap()
}

fn hex_of(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap().to_owned()
}

/// The identity whose keys a group lists under `field`.
fn identity(group: &Value, field: &str) -> Identity {
    let keys = &group[field];
    let mut secret = [0u8; 64];
    secret[..32].copy_from_slice(&hex::decode(hex_of(keys, "signingSeed")).unwrap());
    secret[32..].copy_from_slice(&hex::decode(hex_of(keys, "kemSecretKey")).unwrap());
    let identity = Identity::from_secret_bytes(&secret);
    assert_eq!(
        hex::encode(identity.kem().public_key().to_bytes()),
        hex_of(keys, "kemPublicKey")
    );
    assert_eq!(
        identity.fingerprint().to_string(),
        hex_of(keys, "fingerprint")
    );
    identity
}

#[test]
fn kat_codename() {
    run(
        "codename.json",
        include_str!("../../docs/vectors/codename.json"),
        |case| {
            let codename: Codename = case.str("words").parse()?;
            let office: Fingerprint = case.str("officeFingerprint").parse()?;
            assert_eq!(
                hex::encode(office.as_bytes()),
                case.str("officeFingerprintHex")
            );
            assert_eq!(codename.words().as_str(), case.str("normalizedWords"));
            let entropy: [u8; 16] = unhex(case, "entropy");
            assert_eq!(
                Codename::from_entropy(entropy).words().as_str(),
                case.str("normalizedWords")
            );
            let keys = codename.derive(&office);
            let hexed = |b: &[u8]| hex::encode(b);
            assert_eq!(
                hexed(keys.kem.to_bytes().as_ref()),
                case.str("caseKemSecretKey")
            );
            assert_eq!(
                hexed(&keys.kem.public_key().to_bytes()),
                case.str("caseKemPublicKey")
            );
            assert_eq!(
                hexed(keys.signing.to_seed().as_ref()),
                case.str("caseSigningSeed")
            );
            assert_eq!(
                hexed(&keys.signing.public_key().to_bytes()),
                case.str("caseSigningPublicKey")
            );
            assert_eq!(
                keys.mailbox.to_string(),
                case.str("mailboxId"),
                "{}",
                case.id()
            );
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "UnknownWord" | "ShortPrefix",
                    Error::CodenameTypo(CodenameTypo::UnknownWord { .. }),
                ) | ("Checksum", Error::CodenameTypo(CodenameTypo::Checksum))
                    | ("WordCount", Error::CodenameTypo(CodenameTypo::WordCount(_)))
            )
        },
    );
}

#[test]
fn kat_address() {
    run(
        "address.json",
        include_str!("../../docs/vectors/address.json"),
        |case| match case.group["type"].as_str().unwrap() {
            "FingerprintTest" => {
                let parsed: Fingerprint = case.str("fingerprint").parse()?;
                assert_eq!(hex::encode(parsed.as_bytes()), case.str("fingerprintHex"));
                let key: [u8; 32] = unhex(case, "signingPublicKey");
                assert_eq!(SigningPublicKey::from_bytes(&key)?.fingerprint(), parsed);
                Ok(())
            }
            "AddressTest" => {
                let parsed: OfficeAddress = case.str("address").parse()?;
                assert_eq!(parsed.office.to_string(), case.str("office"));
                assert_eq!(parsed.fingerprint.to_string(), case.str("fingerprint"));
                assert_eq!(parsed.relay.as_str(), case.str("relay"));
                Ok(())
            }
            "CardAtAddressTest" => {
                let address: OfficeAddress = case.str("address").parse()?;
                let card = SignedCard::from_json(case.str("signedCard").as_bytes())?
                    .verify_office_at(&address, case.u64("now"))?;
                assert_eq!(card.relay.as_str(), case.str("cardRelay"));
                Ok(())
            }
            other => panic!("unknown group type {other}"),
        },
        |flag, e| {
            matches!(
                (flag, e),
                ("RelayMismatch", Error::RelayMismatch { .. })
                    | (
                        "FingerprintMismatch" | "OfficeIdMismatch",
                        Error::CardMismatch
                    )
                    | (
                        "FingerprintLength"
                            | "FingerprintAlphabet"
                            | "NonCanonical"
                            | "Scheme"
                            | "Form"
                            | "OfficeId"
                            | "RelayUrl",
                        Error::Malformed { .. },
                    )
            )
        },
    );
}

#[test]
fn kat_card() {
    run(
        "card.json",
        include_str!("../../docs/vectors/card.json"),
        |case| {
            identity(case.group, "office");
            let address: OfficeAddress = case.str("address").parse()?;
            let card = SignedCard::from_json(case.str("signedCard").as_bytes())?
                .verify_office_at(&address, case.u64("now"))?;
            assert_eq!(card.serial, case.u64("serial"), "{}", case.id());
            assert_eq!(card.id.to_string(), case.str("id"));
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "ModifiedCard"
                        | "ModifiedSignature"
                        | "NonCanonicalS"
                        | "SmallOrderR"
                        | "WrongLabel"
                        | "WrongKey",
                    Error::BadSignature,
                ) | (
                    "UnknownField"
                        | "MissingField"
                        | "FieldRule"
                        | "ValidTooLong"
                        | "TrailingData"
                        | "SignatureLength",
                    Error::Malformed { .. },
                ) | (
                    "OldVersion" | "UnknownVersion",
                    Error::UnsupportedVersion { .. }
                ) | ("Expired", Error::CardExpired { .. })
                    | ("FingerprintMismatch", Error::CardMismatch)
            )
        },
    );
}

/// How `side` opens an envelope of the case in `direction`.
fn opener<'a>(
    side: &str,
    office: &'a Identity,
    case: &'a CaseKeys,
    direction: Direction,
) -> Option<Opener<'a>> {
    match side {
        "office" => Opener::office(
            office,
            case.kem.public_key(),
            case.signing.public_key(),
            direction,
        ),
        "visitor" => Opener::visitor(
            case,
            office.kem().public_key(),
            office.signing().public_key(),
            direction,
        ),
        other => panic!("unknown opener {other}"),
    }
}

/// Seals a valid case's `seal` inputs again, as its sender did.
fn reseal(seal: &Value, office: &Identity, case: &CaseKeys) -> Envelope {
    let key = |s: &Value| -> [u8; 32] {
        hex::decode(s.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let keep = seal["keepCopy"].as_bool().unwrap();
    let sealer = match seal["direction"].as_str().unwrap() {
        "to-office" => Sealer::visitor(case, office.kem().public_key(), keep),
        "to-visitor" => {
            assert!(keep, "an office reply always keeps the office's copy");
            Sealer::office(office, case.kem.public_key(), case.mailbox)
        }
        other => panic!("unknown direction {other}"),
    };
    let ikm = seal["ikmE"].as_array().unwrap();
    sealer
        .seal_deterministic(
            seal["body"].as_str().unwrap().as_bytes(),
            &key(&seal["contentKey"]),
            &[key(&ikm[0]), key(&ikm[1])],
        )
        .unwrap()
}

#[test]
fn kat_envelope() {
    run(
        "envelope.json",
        include_str!("../../docs/vectors/envelope.json"),
        |c| {
            let office = identity(c.group, "office");
            let codename: Codename = c.str("codename").parse().unwrap();
            let case = codename.derive(&office.fingerprint());
            assert_eq!(
                case.mailbox.to_string(),
                c.group["case"]["mailboxId"].as_str().unwrap()
            );
            let wire = c.str("envelope");
            let envelope = Envelope::from_json(wire.as_bytes())?;
            let body = opener(c.str("opener"), &office, &case, envelope.direction)
                .ok_or(Error::DecryptionFailed)?
                .open(&envelope)?;
            assert_eq!(body.as_slice(), c.str("body").as_bytes(), "{}", c.id());
            let seal = &c.test["seal"];
            assert!(
                seal.is_object(),
                "{}: a valid case lists its inputs",
                c.id()
            );
            let again = reseal(seal, &office, &case);
            assert_eq!(again.to_json(), wire.as_bytes(), "{}: sealed again", c.id());
            let framed = padding::padded_len(64 + body.len());
            assert_eq!(seal["framedLength"].as_u64(), Some(framed as u64));
            assert_eq!(envelope.ct.len(), framed + 16);
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "NoCopy"
                        | "ModifiedMailbox"
                        | "ModifiedDirection"
                        | "ModifiedStanza"
                        | "SwappedStanzas"
                        | "ModifiedCommit"
                        | "ModifiedCiphertext"
                        | "WrongRecipient"
                        | "WrongSenderKey"
                        | "WrongAuthor"
                        | "ReencryptedPayload",
                    Error::DecryptionFailed,
                ) | (
                    "NotPadded" | "UnknownField" | "StanzaCount" | "NonCanonicalBase64",
                    Error::Malformed { .. },
                ) | (
                    "OldVersion" | "UnknownVersion",
                    Error::UnsupportedVersion { .. }
                )
            )
        },
    );
}

#[test]
fn kat_request() {
    run(
        "request.json",
        include_str!("../../docs/vectors/request.json"),
        |case| {
            let seed: [u8; 32] = unhex(case, "signingSeed");
            let key = SigningSecretKey::from_seed(&seed);
            let public: [u8; 32] = unhex(case, "publicKey");
            assert_eq!(key.public_key().to_bytes(), public);
            let headers = case.test["headers"].as_object().unwrap();
            let auth = RequestAuth::from_headers(|name| headers.get(name)?.as_str())?;
            // The named key, where the case keeps it, is the group's key.
            if let Some(named) = headers.get(KEY_HEADER) {
                let named = RequestAuth::parse_key_header(named.as_str().unwrap())?;
                assert_eq!(named, public, "{}", case.id());
            }
            let verify = &case.test["verify"];
            let pk = if verify["otherKey"].as_bool().unwrap() {
                SigningPublicKey::from_bytes(&unhex(case, "otherPublicKey"))?
            } else {
                key.public_key()
            };
            auth.verify(
                &pk,
                verify["method"].as_str().unwrap(),
                verify["path"].as_str().unwrap(),
                verify["body"].as_str().unwrap().as_bytes(),
                verify["now"].as_u64().unwrap(),
                case.u64("window"),
            )?;
            // Signing what was signed again gives the same headers, over the listed input.
            let signed = &case.test["signed"];
            let again = RequestAuth::sign_with_id(
                &key,
                signed["signer"].as_str().unwrap().parse::<Signer>()?,
                signed["method"].as_str().unwrap(),
                signed["path"].as_str().unwrap(),
                signed["body"].as_str().unwrap().as_bytes(),
                signed["timestamp"].as_u64().unwrap(),
                signed["requestId"].as_str().unwrap().parse::<RequestId>()?,
            );
            let values = again.header_values();
            for (name, value) in HEADERS.iter().zip(&values) {
                assert_eq!(
                    headers[*name].as_str(),
                    Some(value.as_str()),
                    "{}",
                    case.id()
                );
            }
            let input = hex::decode(case.str("signingInput")).unwrap();
            key.public_key()
                .verify(labels::REQUEST, &input, &again.signature)
        },
        |flag, e| {
            matches!(
                (flag, e),
                ("Stale", Error::StaleRequest)
                    | (
                        "WrongPath"
                            | "WrongBodyDigest"
                            | "WrongMethod"
                            | "WrongKey"
                            | "WrongSigner"
                            | "WrongRequestId",
                        Error::BadSignature,
                    )
                    | ("MalformedHeader", Error::Malformed { .. })
            )
        },
    );
}

#[test]
fn kat_pow() {
    run(
        "pow.json",
        include_str!("../../docs/vectors/pow.json"),
        |case| {
            let key = PowKey::from_bytes(unhex(case, "key"));
            let solution: Solution =
                encoding::from_json("pow solution", case.str("solution").as_bytes())?;
            let context = hex::decode(case.str("context")).unwrap();
            let min = u8::try_from(case.u64("minDifficulty")).unwrap();
            solution.verify(&key, &context, case.u64("now"), min)?;
            let hash = hex::decode(case.str("hash")).unwrap();
            let zeros = hash
                .iter()
                .position(|b| *b != 0)
                .map_or(256, |i| i as u32 * 8 + hash[i].leading_zeros());
            assert!(
                zeros >= u32::from(solution.challenge.difficulty),
                "{}",
                case.id()
            );
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "BelowDifficulty" | "WrongContext",
                    Error::Pow(PowError::Insufficient)
                ) | ("TooEasy", Error::Pow(PowError::TooEasy))
                    | ("NotIssued", Error::Pow(PowError::NotIssued))
                    | ("Expired", Error::Pow(PowError::Expired))
                    | ("UnknownVersion", Error::UnsupportedVersion { .. })
                    | ("UnknownField", Error::Malformed { .. })
            )
        },
    );
}

#[test]
fn kat_tally() {
    run(
        "tally.json",
        include_str!("../../docs/vectors/tally.json"),
        |case| {
            let key = RecordsKey::from_bytes(&unhex(case, "recordsKey"));
            let office: OfficeId = case.str("officeId").parse()?;
            let sealed = hex::decode(case.str("sealed")).unwrap();
            let tally = Tally::open(&key, &office, &sealed)?;
            assert_eq!(
                sealed.len() as u64,
                case.u64("sealedLength"),
                "{}",
                case.id()
            );
            let plain = tally.encode();
            assert_eq!(
                hex::encode(plain.as_ref()),
                case.str("plaintext"),
                "{}",
                case.id()
            );
            let fields = &case.test["tally"];
            let ids = |v: &Value| -> Vec<ItemId> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().parse().unwrap())
                    .collect()
            };
            let expected = Tally::new(
                ids(&fields["categories"]),
                Quarter::new(
                    u16::try_from(fields["year"].as_u64().unwrap()).unwrap(),
                    u8::try_from(fields["quarter"].as_u64().unwrap()).unwrap(),
                )?,
                fields["constituency"].as_str().map(|c| c.parse().unwrap()),
                fields["outcome"].as_str().unwrap().parse()?,
            )?;
            assert_eq!(tally, expected, "{}", case.id());
            let resealed = expected.seal_with_nonce(&key, &office, unhex(case, "nonce"))?;
            assert_eq!(resealed, sealed, "{}", case.id());
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "ModifiedNonce"
                        | "ModifiedCiphertext"
                        | "WrongSize"
                        | "WrongOffice"
                        | "WrongRecordsKey",
                    Error::DecryptionFailed
                ) | ("UnknownVersion", Error::UnsupportedVersion { .. })
                    | (
                        "NonZeroPadding" | "UnsortedCategories",
                        Error::Malformed { .. }
                    )
            )
        },
    );
}

/// Hands HPKE the one `ikmE` a case gives, its only random input.
struct OneIkm(Option<[u8; 32]>);

impl candor_protocol::rand::TryRng for OneIkm {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        panic!("HPKE asked for a number, not its ikmE");
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        panic!("HPKE asked for a number, not its ikmE");
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.copy_from_slice(&self.0.take().expect("HPKE asked for a second ikmE"));
        Ok(())
    }
}

impl candor_protocol::rand::TryCryptoRng for OneIkm {}

#[test]
fn kat_read_marker() {
    use candor_protocol::marker::{Digest, MARKER_V2_LEN, MarkerKey, ReadMarker};
    use candor_protocol::seal::setup_sender;
    use candor_protocol::{Day, MailboxId};
    use hkdf::Hkdf;
    use sha2::Sha256;
    run(
        "read-marker.json",
        include_str!("../../docs/vectors/read-marker.json"),
        |case| {
            let office = if case.test.get("office").is_some() {
                identity(case.test, "office")
            } else {
                identity(case.group, "office")
            };
            let mut derived = [0u8; 32];
            Hkdf::<Sha256>::new(None, office.to_secret_bytes().as_ref())
                .expand(labels::READ_MARKER_KEY, &mut derived)
                .unwrap();
            if case.test.get("office").is_none() {
                assert_eq!(hex::encode(derived), case.str("markerKey"), "{}", case.id());
            }
            let mailbox =
                MailboxId::from_bytes(encoding::unb64_array("mailbox", case.str("mailboxId"))?);
            let key = MarkerKey::new(&office);
            let sealed = hex::decode(case.str("sealed")).unwrap();
            let marker = key.open(&mailbox, &sealed)?;
            let fields = &case.test["marker"];
            let digest = &fields["digest"];
            let expected = ReadMarker {
                read_up_to: fields["readUpTo"].as_u64().unwrap(),
                digest: (!digest.is_null()).then(|| Digest {
                    up_to: digest["upTo"].as_u64().unwrap(),
                    unread: u32::try_from(digest["unread"].as_u64().unwrap()).unwrap(),
                    categories: digest["categories"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap().parse().unwrap())
                        .collect(),
                    constituency: digest["constituency"].as_str().map(|c| c.parse().unwrap()),
                    urgent: digest["urgent"].as_bool().unwrap(),
                    last_day: digest["lastDay"]
                        .as_u64()
                        .map(|d| Day(u32::try_from(d).unwrap())),
                }),
            };
            assert_eq!(marker, expected, "{}", case.id());
            if sealed.len() == MARKER_V2_LEN {
                // Form 2 is never written again, but its `ikmE` reproduces it.
                assert!(marker.digest.is_none(), "{}", case.id());
                let own = office.kem().public_key();
                let info = [labels::READ_MARKER, mailbox.as_bytes()].concat();
                let mut rng = OneIkm(Some(unhex(case, "ikmE")));
                let (enc, mut ctx) = setup_sender(Some(office.kem()), &own, &info, &mut rng)?;
                let ct = ctx.seal(&expected.read_up_to.to_be_bytes(), b"")?;
                assert_eq!([enc.as_slice(), &ct].concat(), sealed, "{}", case.id());
                return Ok(());
            }
            assert_eq!(
                sealed.len() as u64,
                case.u64("sealedLength"),
                "{}",
                case.id()
            );
            let plain = expected.encode()?;
            assert_eq!(
                hex::encode(plain.as_ref()),
                case.str("plaintext"),
                "{}",
                case.id()
            );
            assert_eq!(ReadMarker::decode(plain.as_ref()).as_ref(), Ok(&expected));
            let resealed = key.seal_with_nonce(&mailbox, &expected, unhex(case, "nonce"))?;
            assert_eq!(resealed, sealed, "{}", case.id());
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "ModifiedNonce"
                        | "ModifiedCiphertext"
                        | "WrongSize"
                        | "WrongMailbox"
                        | "WrongOffice",
                    Error::DecryptionFailed
                ) | ("UnknownVersion", Error::UnsupportedVersion { .. })
                    | (
                        "BadFlag" | "NonZeroPadding" | "TooManyCategories",
                        Error::Malformed { .. }
                    )
            )
        },
    );
}

#[test]
fn kat_handoff() {
    use candor_protocol::handoff::{IdentityOpening, Party, Proposal, Revocation};
    run(
        "handoff.json",
        include_str!("../../docs/vectors/handoff.json"),
        |case| {
            let office = identity(case.group, "office");
            let codename: Codename = case.str("codename").parse()?;
            let keys = codename.derive(&office.fingerprint());
            if case.group["type"] == "RevocationTest" {
                let r: Revocation =
                    encoding::from_json("revocation", case.str("revocation").as_bytes())?;
                return match r.by {
                    Party::Visitor => r.verify(&keys.signing.public_key()),
                    Party::Office => r.verify(&office.signing().public_key()),
                };
            }
            let bytes = case.str("proposal").as_bytes();
            let sha = Proposal::sha256(bytes);
            assert_eq!(hex::encode(sha), case.str("sha256"), "{}", case.id());
            let p = Proposal::from_json(bytes)?;
            if p.case_signing_key()? != keys.signing.public_key()
                || p.office_signing_key()? != office.signing().public_key()
            {
                return Err(Error::Handoff("not the group's case or office"));
            }
            let consent: [u8; 64] = unhex(case, "consent");
            let agreement: [u8; 64] = unhex(case, "agreement");
            Proposal::verify_approval(&sha, Party::Visitor, &p.case_signing_key()?, &consent)?;
            Proposal::verify_approval(&sha, Party::Office, &p.office_signing_key()?, &agreement)?;
            let opening = case.test.get("identityOpening").map(|o| IdentityOpening {
                salt: hex::decode(hex_of(o, "salt")).unwrap().try_into().unwrap(),
                text: o["text"].as_str().unwrap().to_owned(),
            });
            match (&p.identity, &opening) {
                (Some(c), Some(o)) if o.opens(&p.id, c) => {}
                (None, None) => {}
                _ => return Err(Error::Handoff("the identity's opening does not open it")),
            }
            // A genuine case is the group's draft with only the consent's changes, and signing
            // its bytes again gives the listed signatures (Ed25519 is deterministic).
            let draft = Proposal::from_json(case.str("draft").as_bytes())?;
            assert!(p.is_consent_of(&draft), "{}", case.id());
            assert_eq!(
                Proposal::approve(bytes, Party::Visitor, &keys.signing),
                consent
            );
            assert_eq!(
                Proposal::approve(bytes, Party::Office, office.signing()),
                agreement
            );
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "ModifiedAfterConsent"
                        | "WrongRevocationKey"
                        | "ModifiedParty"
                        | "ModifiedId"
                        | "WrongConsentKey"
                        | "WrongAgreementKey"
                        | "SwappedLabels",
                    Error::BadSignature,
                ) | (
                    "WrongOpening"
                        | "ItemHash"
                        | "ForgedVisitorMessage"
                        | "CommitmentWithoutFlag"
                        | "OtherCase",
                    Error::Handoff(_),
                ) | ("OldVersion", Error::UnsupportedVersion { .. })
                    | ("UnknownField", Error::Malformed { .. })
            )
        },
    );
}

#[test]
fn kat_handoff_package() {
    use candor_protocol::handoff::{KeyShare, Notice, NoticeSeed, Package};
    use candor_protocol::{HandoffId, MailboxId};
    run(
        "handoff-package.json",
        include_str!("../../docs/vectors/handoff-package.json"),
        |case| {
            let office = identity(case.group, "office");
            let third = identity(case.group, "thirdParty");
            let codename: Codename = case.str("codename").parse()?;
            let keys = codename.derive(&office.fingerprint());
            let id = HandoffId::from_bytes(encoding::unb64_array("id", case.str("handoffId"))?);
            if case.group["type"] == "HandoffNoticeTest" {
                let notice: Notice = encoding::from_json("notice", case.str("notice").as_bytes())?;
                let opened = notice.open(third.kem()).ok_or(Error::DecryptionFailed)?;
                assert_eq!(opened.id, id, "{}", case.id());
                assert!(opened.case_kem == keys.kem.public_key(), "{}", case.id());
                assert!(
                    opened.office_kem == office.kem().public_key(),
                    "{}",
                    case.id()
                );
                let derived = opened.seed.keys();
                let ours = NoticeSeed::of_office(office.kem(), &id).keys();
                assert_eq!(derived.channel, ours.channel, "{}", case.id());
                assert_eq!(
                    hex::encode(derived.fetch.public_key().to_bytes()),
                    case.str("fetchKey")
                );
                assert_eq!(
                    hex::encode(derived.channel_key.public_key().to_bytes()),
                    case.str("channelKey")
                );
                let channel =
                    MailboxId::from_bytes(encoding::unb64_array("id", case.str("channelId"))?);
                assert_eq!(derived.channel, channel, "{}", case.id());
                // Sealing the same inputs again gives the same bytes.
                let again = Notice::seal_scripted(
                    &id,
                    &opened.seed,
                    (&opened.case_kem, &opened.office_kem),
                    &third.kem().public_key(),
                    &unhex(case, "ikmNotice"),
                )?;
                assert_eq!(again, notice, "{}", case.id());
                return Ok(());
            }
            let package: Package = encoding::from_json("package", case.str("package").as_bytes())?;
            let visitor: KeyShare =
                encoding::from_json("share", case.str("visitorShare").as_bytes())?;
            let office_share: KeyShare =
                encoding::from_json("share", case.str("officeShare").as_bytes())?;
            // A relabelled share fails here: each is opened under its own party's info.
            let k_v = visitor.open(&id, third.kem(), &keys.kem.public_key())?;
            let k_o = office_share.open(&id, third.kem(), &office.kem().public_key())?;
            assert_eq!(hex::encode(k_v.as_ref()), case.str("kV"), "{}", case.id());
            assert_eq!(hex::encode(k_o.as_ref()), case.str("kO"), "{}", case.id());
            assert_eq!(
                *package.office_key(&id, office.kem())?,
                *k_o,
                "{}",
                case.id()
            );
            let disclosure = package.open(&id, &k_v, &k_o)?;
            assert_eq!(
                serde_json::to_string(&disclosure).unwrap(),
                case.str("disclosure"),
                "{}",
                case.id()
            );
            let again = Package::seal_scripted(
                &disclosure,
                &id,
                &office.kem().public_key(),
                &unhex(case, "kV"),
                &unhex(case, "ikmOffice"),
            )?;
            assert_eq!(again, package, "{}", case.id());
            Ok(())
        },
        |flag, e| {
            matches!(
                (flag, e),
                (
                    "FlippedCiphertext"
                        | "OtherHandoff"
                        | "SwappedParty"
                        | "ImpostorSender"
                        | "OtherThirdParty",
                    Error::DecryptionFailed,
                )
            )
        },
    );
}
