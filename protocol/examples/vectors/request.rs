//! `request.json`: signed relay requests, each with its signing input, verified against
//! requests that differ from what was signed (`docs/protocol.md` §8).

use std::collections::BTreeMap;

use candor_protocol::request::{HEADERS, KEY_HEADER};
use candor_protocol::{Error, RequestAuth, RequestId, Signer, SigningSecretKey, labels};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fixtures::{self, hex};
use super::format::{Case, Group, VectorFile};

/// The accepted clock difference in every case.
const WINDOW: u64 = 120;

/// A request as signed.
struct Signed {
    signer: Signer,
    method: &'static str,
    path: String,
    body: &'static str,
    timestamp: u64,
    request_id: RequestId,
}

pub fn file() -> VectorFile {
    let case = fixtures::codename().derive(&fixtures::office().fingerprint());
    let key = &case.signing;
    let other = fixtures::impostor();
    let mailbox = case.mailbox.to_string();
    let append = Signed {
        signer: Signer::Case,
        method: "POST",
        path: format!("/v1/mailboxes/{mailbox}/envelopes"),
        body: "{\"v\":2}",
        timestamp: fixtures::NOW,
        request_id: RequestId::from_bytes(fixtures::bytes16("request/append")),
    };
    let fetch = Signed {
        signer: Signer::Case,
        method: "GET",
        path: format!("/v1/mailboxes/{mailbox}/envelopes?after=3"),
        body: "",
        timestamp: fixtures::NOW,
        request_id: RequestId::from_bytes(fixtures::bytes16("request/fetch")),
    };
    let mut group = Group::new("RequestTest")
        .with("signingSeed", hex(key.to_seed().as_ref()))
        .with("publicKey", hex(&key.public_key().to_bytes()))
        .with(
            "otherPublicKey",
            hex(&other.signing().public_key().to_bytes()),
        )
        .with("window", WINDOW);
    let at = |now: u64| {
        move |s: &Signed| Verify {
            method: s.method.to_owned(),
            path: s.path.clone(),
            body: s.body.to_owned(),
            now,
            other_key: false,
        }
    };
    let same = at(fixtures::NOW);
    let cases: Vec<(Case, &Signed, Verify, Option<Headers>)> = vec![
        (Case::valid("an append"), &append, same(&append), None),
        (
            Case::valid("a fetch with a query and no body"),
            &fetch,
            same(&fetch),
            None,
        ),
        (
            Case::valid("verified 120 seconds later, the edge of the window"),
            &append,
            at(fixtures::NOW + WINDOW)(&append),
            None,
        ),
        (
            Case::invalid("verified 121 seconds later", "Stale"),
            &append,
            at(fixtures::NOW + WINDOW + 1)(&append),
            None,
        ),
        (
            Case::invalid("verified 121 seconds earlier", "Stale"),
            &append,
            at(fixtures::NOW - WINDOW - 1)(&append),
            None,
        ),
        (
            Case::invalid("another mailbox's path", "WrongPath"),
            &append,
            Verify {
                path: append.path.replace(&mailbox[..4], "AAAA"),
                ..same(&append)
            },
            None,
        ),
        (
            Case::invalid("another query", "WrongPath"),
            &fetch,
            Verify {
                path: fetch.path.replace("after=3", "after=0"),
                ..same(&fetch)
            },
            None,
        ),
        (
            Case::invalid("another body", "WrongBodyDigest"),
            &append,
            Verify {
                body: "{\"v\":3}".to_owned(),
                ..same(&append)
            },
            None,
        ),
        (
            Case::invalid("another method", "WrongMethod"),
            &append,
            Verify {
                method: "PUT".to_owned(),
                ..same(&append)
            },
            None,
        ),
        (
            Case::invalid("verified under another key", "WrongKey"),
            &append,
            Verify {
                other_key: true,
                ..same(&append)
            },
            None,
        ),
        (
            Case::invalid("the signer header says office", "WrongSigner"),
            &append,
            same(&append),
            Some(Headers::Replace(HEADERS[0], "office".to_owned())),
        ),
        (
            Case::invalid("the request ID header changed", "WrongRequestId"),
            &append,
            same(&append),
            Some(Headers::Replace(
                HEADERS[2],
                RequestId::from_bytes(fixtures::bytes16("request/other")).to_string(),
            )),
        ),
        (
            Case::invalid("a negative timestamp", "MalformedHeader"),
            &append,
            same(&append),
            Some(Headers::Replace(HEADERS[1], "-5".to_owned())),
        ),
        (
            Case::invalid("a 15-byte request ID", "MalformedHeader"),
            &append,
            same(&append),
            Some(Headers::Replace(
                HEADERS[2],
                "AAAAAAAAAAAAAAAAAAAA".to_owned(),
            )),
        ),
        (
            Case::invalid("no signature header", "MalformedHeader"),
            &append,
            same(&append),
            Some(Headers::Remove(HEADERS[3])),
        ),
    ];
    for (case, signed, verify, headers) in cases {
        group = group.case(build(case, key, &other, signed, verify, headers));
    }
    VectorFile::new(
        "request.json",
        "candor-signed-request",
        &[
            "`signingInput` = signer code (1 case, 2 office) || u16be(len(method)) || method || \
             u16be(len(path)) || path || SHA-256(body) || u64be(timestamp) || the request ID's \
             16 raw bytes; `headers` carry Ed25519(\"candor/v1/request\" || signingInput) by \
             the group's key (docs/protocol.md section 8).",
            "Parse `headers`, then verify them against `verify` (method, path with its query, \
             body, the verifier's clock `now`; the group's `publicKey`, or `otherPublicKey` if \
             `verify.otherKey`) within the group's `window` seconds.",
            "`headers` also carry `candor-key`, the signing key named (the group's \
             `publicKey`, base64url): optional on the wire, and unsigned; a relay refuses a \
             request whose named key is not the registered one as it refuses a wrong key.",
        ],
    )
    .note(
        "Stale",
        "The timestamp is more than `window` seconds from the verifier's clock.",
    )
    .note(
        "WrongPath",
        "The request's path or query is not the one signed.",
    )
    .note("WrongBodyDigest", "The body is not the one signed.")
    .note("WrongMethod", "The method is not the one signed.")
    .note(
        "WrongKey",
        "Verified under another key than the one that signed.",
    )
    .note(
        "WrongSigner",
        "The signer header names another key than the one signed for.",
    )
    .note(
        "WrongRequestId",
        "The request ID header is not the one signed.",
    )
    .note("MalformedHeader", "A header is missing or does not parse.")
    .group(group)
}

/// What the verifier sees.
struct Verify {
    method: String,
    path: String,
    body: String,
    now: u64,
    other_key: bool,
}

/// A change to the headers after signing.
enum Headers {
    Replace(&'static str, String),
    Remove(&'static str),
}

fn build(
    case: Case,
    key: &SigningSecretKey,
    other: &candor_protocol::Identity,
    s: &Signed,
    verify: Verify,
    change: Option<Headers>,
) -> Case {
    let auth = RequestAuth::sign_with_id(
        key,
        s.signer,
        s.method,
        &s.path,
        s.body.as_bytes(),
        s.timestamp,
        s.request_id,
    );
    let input = signing_input(s);
    key.public_key()
        .verify(labels::REQUEST, &input, &auth.signature)
        .unwrap();
    let mut headers: BTreeMap<&str, String> =
        HEADERS.iter().copied().zip(auth.header_values()).collect();
    headers.insert(KEY_HEADER, RequestAuth::key_header(&key.public_key()));
    match change {
        Some(Headers::Replace(name, value)) => {
            headers.insert(name, value);
        }
        Some(Headers::Remove(name)) => {
            headers.remove(name);
        }
        None => {}
    }
    let pk = if verify.other_key {
        other.signing().public_key()
    } else {
        key.public_key()
    };
    let verified = RequestAuth::from_headers(|name| headers.get(name).map(String::as_str))
        .and_then(|a| {
            a.verify(
                &pk,
                &verify.method,
                &verify.path,
                verify.body.as_bytes(),
                verify.now,
                WINDOW,
            )
        });
    assert_eq!(verified.is_ok(), case.is_valid(), "{verified:?}");
    if let Err(e) = &verified {
        assert!(
            matches!(
                e,
                Error::StaleRequest | Error::BadSignature | Error::Malformed { .. }
            ),
            "{e}"
        );
    }
    let signed = json!({
        "signer": s.signer.to_string(),
        "method": s.method,
        "path": s.path,
        "body": s.body,
        "timestamp": s.timestamp,
        "requestId": s.request_id.to_string(),
    });
    let headers: serde_json::Map<String, Value> = headers
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    case.with("signed", signed)
        .with("signingInput", hex(&input))
        .with("headers", Value::Object(headers))
        .with(
            "verify",
            json!({
                "method": verify.method,
                "path": verify.path,
                "body": verify.body,
                "now": verify.now,
                "otherKey": verify.other_key,
            }),
        )
}

/// The signing input, written from `docs/protocol.md` §8 rather than taken from the crate, so
/// that the vector checks the documentation too.
fn signing_input(s: &Signed) -> Vec<u8> {
    let mut out = vec![match s.signer {
        Signer::Case => 1,
        Signer::Office => 2,
        Signer::ThirdParty => 3,
    }];
    for field in [s.method.as_bytes(), s.path.as_bytes()] {
        out.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(&Sha256::digest(s.body.as_bytes()));
    out.extend_from_slice(&s.timestamp.to_be_bytes());
    out.extend_from_slice(s.request_id.as_bytes());
    out
}
